/**
 * The claim queries: the hot path of the whole queue, written out by hand.
 *
 * Queued tasks are indexed by what they require first, then in claim order (migration 2):
 * `tasks_claim_order ON tasks (required_capabilities, lane_rank, priority DESC, seq) WHERE state = 'queued'`.
 * `required_capabilities` is a canonical JSON array (sorted, no duplicates), so tasks that need the same
 * things share one key. A claim then
 * 1. takes the distinct requirement sets that have queued tasks ({@link queuedCapabilitySetsSql}; the store
 *    keeps this short list in memory and refreshes it),
 * 2. keeps the sets the runner satisfies (each required capability is one the runner offers),
 * 3. reads the first `limit` tasks of each kept set in claim order ({@link claimTasksSql}), and
 * 4. merges them: lane (high first), then priority (higher first), then age (lower seq first).
 *
 * Why it is shaped so:
 * - Each step walks an index range in order and stops after `limit` rows: no sort over the queue, so a
 *   claim costs the same with 1,000 or 1,000,000 queued tasks.
 * - A runner never scans past tasks it cannot run. Filtering task by task on one ordered scan (a
 *   `json_each` subset test per row) would make a CPU-only runner read every queued GPU task ahead of the
 *   first task it can take, about 0.3 µs each: a quarter of a second per claim behind a million of them.
 * - `INDEXED BY` pins the plan: the planner would otherwise prefer another index and sort, and a dropped or
 *   renamed index becomes an error instead of a slow claim.
 * - No row locking is needed: every write goes through the store's single connection, one synchronous
 *   transaction at a time, so no other claim can see these rows before this one marks them leased.
 */

/**
 * The first `limit` queued tasks needing exactly `@required` (named parameter: a `required_capabilities`
 * value), in claim order, with what the claim needs of each. `limit` is inlined, not bound: with a bound
 * `LIMIT ?` SQLite plans for an unknown row count and the statement costs about twice as much. Limits are
 * few (1..256), so the statement cache stays small.
 */
export function claimTasksSql(limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new RangeError('claim limit must be a positive integer');
  return `
SELECT task.seq, task.id, task.attempt_count, task.lane_rank, task.priority
FROM tasks AS task INDEXED BY tasks_claim_order
WHERE task.state = 'queued' AND task.required_capabilities = @required
ORDER BY task.lane_rank, task.priority DESC, task.seq
LIMIT ${limit}
`;
}

/**
 * The distinct `required_capabilities` of queued tasks, without reading every queued task: a loose index
 * scan that jumps from one key to the next (one index seek per distinct set). No parameters.
 */
export const queuedCapabilitySetsSql = `
WITH RECURSIVE capability_set(value) AS (
  SELECT (SELECT MIN(required_capabilities) FROM tasks INDEXED BY tasks_claim_order WHERE state = 'queued')
  UNION ALL
  SELECT (
    SELECT MIN(required_capabilities) FROM tasks INDEXED BY tasks_claim_order
    WHERE state = 'queued' AND required_capabilities > capability_set.value
  )
  FROM capability_set
  WHERE capability_set.value IS NOT NULL
)
SELECT value FROM capability_set WHERE value IS NOT NULL
`;

/**
 * The first `@limit` queued tasks needing exactly `@required`, in claim order, with what the scheduler
 * weighs (listClaimCandidates): the same index walk as {@link claimTasksSql}, without claiming. The limit is
 * bound, not inlined: a peek is not the hot path, and one statement serves every limit. `last_attempt_id`
 * (the last of `attempt_ids`) is read only for tasks that have had attempts.
 */
export const claimCandidatesSql = `
SELECT task.seq, task.id, task.required_capabilities, task.capabilities, task.lane, task.lane_rank,
  task.priority, task.attempt_count, task.executor, task.repo, task.labels, task.updated_at,
  CASE WHEN task.attempt_count > 0 THEN json_extract(task.attempt_ids, '$[#-1]') END AS last_attempt_id
FROM tasks AS task INDEXED BY tasks_claim_order
WHERE task.state = 'queued' AND task.required_capabilities = @required
ORDER BY task.lane_rank, task.priority DESC, task.seq
LIMIT @limit
`;

/** {@link claimCandidatesSql} within one lane (`@lane_rank`): the same index walk, from that lane on. */
export const claimLaneCandidatesSql = claimCandidatesSql.replace(
  'AND task.required_capabilities = @required',
  'AND task.required_capabilities = @required AND task.lane_rank = @lane_rank',
);
