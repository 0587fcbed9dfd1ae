/**
 * Conversion between a `tasks` row and the domain Task.
 */
import { InvalidInputError } from '../../core/errors.ts';
import type { Budget, Lane, SuccessCriterion, Task, TaskResult } from '../../core/types.ts';
import type { TaskRow } from './database-schema.ts';
import { epochToIso } from './epoch-to-iso.ts';
import { parseJsonColumn } from './parse-json-column.ts';
import { usageTotalsFromRow } from './usage-record-row.ts';

/** Lane to `lane_rank`: the claim index sorts on the number, highest lane first. */
export const laneRanks: Readonly<Record<Lane, number>> = { high: 0, normal: 1, low: 2 };

/** The `lane_rank` of a lane given in a query; throws InvalidInputError (field `lane`) for an unknown one. */
export function laneRankOf(lane: string): number {
  if (!Object.hasOwn(laneRanks, lane)) {
    throw new InvalidInputError([
      { field: 'lane', reason: `must be one of ${Object.keys(laneRanks).join(', ')}` },
    ]);
  }
  return laneRanks[lane as Lane];
}

/**
 * The columns a task is read from: a `tasks` row of either backend. SQLite keeps `required_capabilities` as
 * a JSON array in text, PostgreSQL as a `text[]`; the bookkeeping columns only SQLite has are not needed.
 */
export type TaskRecordRow = Omit<TaskRow, 'attempt_ids' | 'history_event_ids' | 'required_capabilities'> & {
  required_capabilities: string | readonly string[];
};

/** The task columns both backends share, with `required_capabilities` as an array. */
export type TaskRecordColumns = Omit<
  TaskRow,
  'seq' | 'attempt_ids' | 'history_event_ids' | 'required_capabilities'
> & { required_capabilities: string[] };

/** The domain Task stored in `row`. Optional fields are absent (not undefined) when the column is null. */
export function taskFromRow(row: TaskRecordRow): Task {
  const task: Task = {
    id: row.id,
    title: row.title,
    instructions: row.instructions,
    repo: row.repo,
    executor: row.executor,
    executorInput: parseJsonColumn<Record<string, unknown>>(row.executor_input),
    capabilities: parseJsonColumn<string[]>(row.capabilities),
    complexity: row.complexity,
    complexityReason: row.complexity_reason,
    grants: parseJsonColumn<string[]>(row.grants),
    fixRounds: row.fix_rounds,
    lane: row.lane,
    priority: row.priority,
    successCriteria: parseJsonColumn<SuccessCriterion[]>(row.success_criteria),
    dependsOn: parseJsonColumn<string[]>(row.depends_on),
    maxAttempts: row.max_attempts,
    timeoutMs: row.timeout_ms,
    labels: parseJsonColumn<string[]>(row.labels),
    state: row.state,
    requiredCapabilities:
      typeof row.required_capabilities === 'string'
        ? parseJsonColumn<string[]>(row.required_capabilities)
        : [...row.required_capabilities],
    attemptCount: row.attempt_count,
    usage: usageTotalsFromRow(row),
    createdAt: epochToIso(row.created_at),
    updatedAt: epochToIso(row.updated_at),
  };
  if (row.base_branch !== null) task.baseBranch = row.base_branch;
  if (row.model !== null) task.model = row.model;
  if (row.seniority !== null) task.seniority = row.seniority;
  if (row.budget !== null) task.budget = parseJsonColumn<Budget>(row.budget);
  if (row.dedup_key !== null) task.dedupKey = row.dedup_key;
  if (row.state_reason !== null) task.stateReason = row.state_reason;
  if (row.retry_at !== null) task.retryAt = epochToIso(row.retry_at);
  if (row.current_attempt_id !== null) task.currentAttemptId = row.current_attempt_id;
  if (row.result !== null) task.result = parseJsonColumn<TaskResult>(row.result);
  if (row.idempotency_key !== null) task.idempotencyKey = row.idempotency_key;
  if (row.finished_at !== null) task.finishedAt = epochToIso(row.finished_at);
  return task;
}
