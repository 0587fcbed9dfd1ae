/**
 * An executor context for tests and benches: a task, a worktree, a minimal environment and no-op hooks.
 */
import { silentLogger } from '../../core/logger.ts';
import type { ExecutorContext } from '../spec.ts';
import { createTestTask } from './create-test-task.ts';

/** A context running in `worktreePath` (also its HOME); `overrides` replace any field. */
export function createTestContext(
  worktreePath: string,
  overrides: Partial<ExecutorContext> = {},
): ExecutorContext {
  return {
    task: createTestTask(),
    attempt: { id: 'att_test', number: 1 },
    worktreePath,
    abortSignal: new AbortController().signal,
    timeoutMs: 60_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: worktreePath, LANG: 'C.UTF-8' },
    heartbeat: () => undefined,
    emit: () => undefined,
    logger: silentLogger,
    ...overrides,
  };
}
