/**
 * A stored-looking task for executor tests, built from a spec the way the hub would store it.
 */
import { emptyUsageTotals } from '../../core/usage.ts';
import { requiredCapabilitiesOf, taskSpecSchema, type Task, type TaskSpecInput } from '../../core/types.ts';

/** A running task from `spec` (defaults: a title, a repo path and the `shell` executor), with `overrides`. */
export function createTestTask(spec: Partial<TaskSpecInput> = {}, overrides: Partial<Task> = {}): Task {
  const parsed = taskSpecSchema.parse({ title: 'executor test', repo: '/tmp/repo', ...spec });
  const now = new Date().toISOString();
  const executor = parsed.executor ?? 'shell';
  const routed = {
    ...parsed,
    executor,
    complexity: parsed.complexity ?? 'standard',
    complexityReason: 'given by the test',
    ...(parsed.model !== undefined ? { model: parsed.model } : {}),
  };
  return {
    ...routed,
    id: 'tsk_01J00000000000000000000000',
    state: 'running',
    requiredCapabilities: requiredCapabilitiesOf(routed),
    usage: emptyUsageTotals(),
    attemptCount: 1,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}
