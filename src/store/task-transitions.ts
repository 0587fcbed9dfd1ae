/**
 * The decisions of task and attempt changes that every backend makes the same way, as pure functions:
 * the state a new task starts in, the columns of a new task, whether a task may be retried, and the data
 * of lifecycle events. Backends read and write rows their own way around these.
 */
import { InvalidInputError, InvalidTransitionError, type FieldIssue } from '../core/errors.ts';
import {
  requiredCapabilitiesOf,
  type AttemptState,
  type RoutedTaskSpec,
  type TaskState,
} from '../core/types.ts';
import { laneRanks, type TaskRecordColumns } from './rows/task-row.ts';

/**
 * The state a new task starts in: `dead` when a parent is dead or cancelled (the first such parent names
 * the reason), else `blocked` while a parent is unfinished, else `queued`. Throws InvalidInputError naming
 * `<fieldPrefix>dependsOn.N` for each parent that does not exist.
 */
export function initialTaskState(
  dependsOn: readonly string[],
  stateOf: (taskId: string) => TaskState | undefined,
  fieldPrefix: string,
): { state: TaskState; stateReason: string | null } {
  const issues: FieldIssue[] = [];
  let state: TaskState = 'queued';
  let stateReason: string | null = null;
  for (const [index, parentId] of dependsOn.entries()) {
    const parentState = stateOf(parentId);
    if (parentState === undefined) {
      issues.push({ field: `${fieldPrefix}dependsOn.${index}`, reason: `task ${parentId} does not exist` });
    } else if (parentState === 'dead' || parentState === 'cancelled') {
      // The first dead parent names the reason; a dead parent outranks an unfinished one.
      if (state !== 'dead') stateReason = `dependency ${parentId} is ${parentState}`;
      state = 'dead';
    } else if (parentState !== 'succeeded' && state === 'queued') {
      state = 'blocked';
    }
  }
  if (issues.length > 0) throw new InvalidInputError(issues);
  return { state, stateReason };
}

/** The columns of a new task made from `spec`; usage totals and attempt counters start at zero. */
export function newTaskColumns(
  spec: RoutedTaskSpec,
  task: {
    id: string;
    state: TaskState;
    stateReason: string | null;
    idempotencyKey: string | undefined;
    now: number;
  },
): TaskRecordColumns {
  const { now } = task;
  return {
    id: task.id,
    state: task.state,
    lane: spec.lane,
    lane_rank: laneRanks[spec.lane],
    priority: spec.priority,
    title: spec.title,
    instructions: spec.instructions,
    repo: spec.repo,
    base_branch: spec.baseBranch ?? null,
    executor: spec.executor,
    executor_input: JSON.stringify(spec.executorInput),
    capabilities: JSON.stringify(spec.capabilities),
    complexity: spec.complexity,
    complexity_reason: spec.complexityReason,
    model: spec.model ?? null,
    seniority: spec.seniority ?? null,
    budget: spec.budget === undefined ? null : JSON.stringify(spec.budget),
    grants: JSON.stringify(spec.grants),
    fix_rounds: spec.fixRounds,
    success_criteria: JSON.stringify(spec.successCriteria),
    depends_on: JSON.stringify(spec.dependsOn),
    dedup_key: spec.dedupKey ?? null,
    max_attempts: spec.maxAttempts,
    timeout_ms: spec.timeoutMs,
    labels: JSON.stringify(spec.labels),
    required_capabilities: requiredCapabilitiesOf(spec),
    idempotency_key: task.idempotencyKey ?? null,
    attempt_count: 0,
    lease_epoch: 0,
    retry_at: null,
    current_attempt_id: null,
    result: null,
    state_reason: task.stateReason,
    created_at: now,
    updated_at: now,
    finished_at: task.state === 'dead' ? now : null,
    usage_input_tokens: 0,
    usage_output_tokens: 0,
    usage_cost_usd: 0,
    usage_calls: 0,
  };
}

/**
 * Where `retryTask` sends a task: `queued` when every parent succeeded, else `blocked`. Throws
 * InvalidTransitionError for a task that is not dead, cancelled or failed, or while a parent is dead or
 * cancelled (that one must be retried first).
 */
export function retryTarget(
  task: { id: string; state: TaskState },
  parents: ReadonlyArray<{ id: string; state: TaskState }>,
): 'queued' | 'blocked' {
  if (task.state !== 'dead' && task.state !== 'cancelled' && task.state !== 'failed') {
    throw new InvalidTransitionError(
      'task',
      task.id,
      task.state,
      'queued',
      'only dead, cancelled or failed tasks can be retried',
    );
  }
  const deadParent = parents.find((parent) => parent.state === 'dead' || parent.state === 'cancelled');
  if (deadParent !== undefined) {
    throw new InvalidTransitionError(
      'task',
      task.id,
      task.state,
      'queued',
      `dependency ${deadParent.id} is ${deadParent.state}; retry it first`,
    );
  }
  return parents.every((parent) => parent.state === 'succeeded') ? 'queued' : 'blocked';
}

/** The data of a `task.state` event. */
export function taskStateEventData(
  from: TaskState | null,
  to: TaskState,
  reason?: string,
): Record<string, unknown> {
  return reason === undefined ? { from, to } : { from, to, reason };
}

/** The data of an `attempt.state` event. */
export function attemptStateEventData(
  from: AttemptState | null,
  to: AttemptState,
  number: number,
  reason?: string,
): Record<string, unknown> {
  return reason === undefined ? { from, to, number } : { from, to, number, reason };
}
