/**
 * The claim query: the hot path of the whole queue, written out by hand.
 *
 * Parameters:
 * - `@capabilities` (named): JSON array of the capabilities the runner advertises, e.g. `["executor:shell"]`.
 * - `limit` (argument of {@link claimTasksSql}): most tasks to return, an integer the caller has checked.
 *
 * Returns `seq`, `id` and `attempt_count` of up to `limit` eligible queued tasks in claim order: lane (high
 * first), then priority (higher first), then age (lower seq first). The caller leases each one in the same
 * transaction.
 *
 * Why it is shaped so:
 * - `INDEXED BY tasks_claim_order` walks the partial index of queued tasks, which is already in claim order
 *   (`lane_rank, priority DESC, seq`), and stops after `limit` matches: no sort, no temp b-tree, and the cost
 *   does not grow with the number of queued tasks. Without the hint SQLite's planner prefers the
 *   `(state, lane_rank)` index and then sorts every queued task, which is fine at 1,000 tasks and hopeless at
 *   1,000,000. The hint also turns a dropped or renamed index into an error instead of a slow plan.
 * - The index also holds `required_capabilities`, so the capability check reads only the index: a task
 *   that does not match is skipped without touching the table, which SQLite visits (a deferred seek) only
 *   for the few rows returned.
 * - The capability rule (the task's required capabilities are a subset of the runner's) is a `NOT EXISTS`
 *   over `json_each`, evaluated row by row on the ordered scan. The runner's list is a non-correlated
 *   subquery, so SQLite builds it once per statement. A runner that can run none of the tasks at the head of
 *   the queue scans past them (about 0.2 µs each); that is the price of strict claim order, paid only by
 *   that runner.
 * - The limit is inlined rather than bound: with a bound `LIMIT ?` SQLite plans for an unknown row count and
 *   the statement costs several times more. Limits are few (1..256), so the statement cache stays small.
 * - No row locking is needed: every write goes through the store's single connection, one synchronous
 *   transaction at a time, so no other claim can see these rows before this one marks them leased.
 */
export function claimTasksSql(limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new RangeError(`claim limit must be a positive integer`);
  return `
SELECT task.seq, task.id, task.attempt_count
FROM tasks AS task INDEXED BY tasks_claim_order
WHERE task.state = 'queued'
  AND NOT EXISTS (
    SELECT 1
    FROM json_each(task.required_capabilities) AS required
    WHERE required.value NOT IN (SELECT offered.value FROM json_each(@capabilities) AS offered)
  )
ORDER BY task.lane_rank, task.priority DESC, task.seq
LIMIT ${limit}
`;
}
