/**
 * The claim statement: the hot path of the whole queue, written out by hand.
 *
 * Parameters:
 *   $1 text[]   the capabilities the runner offers
 *   $2 integer  most tasks to claim (the runner's free slots, capped)
 *   $3 bigint   now, epoch ms (the store clock)
 *   $4 text[]   the new attempt ids, one per task that may be claimed, in claim order
 *   $5 text[]   the sha256 hashes of the new lease tokens, same order
 *   $6 text     the runner id
 *   $7 bigint   the lease length, ms
 *
 * Returns the claimed tasks (whole rows) with `claim_number`, their 1-based position in claim order.
 *
 * Why it is shaped so:
 * - `picked` reads the partial index `tasks_claim_order (lane_rank, priority DESC, seq) WHERE state =
 *   'queued'` from the front, which is exactly claim order (lane, then priority, then age), so there is no
 *   sort and the scan stops after $2 rows: a claim costs the same with a thousand or a million queued
 *   tasks (`bench/postgres-claim-1m.ts` prints the plan).
 * - `FOR UPDATE SKIP LOCKED`: concurrent claims, from any number of hubs, each lock the rows they pick and
 *   pass over rows another claim has locked, instead of queueing behind it or failing. No task is given
 *   to two claims, and no claim waits for another. A row whose state changed under us is re-checked
 *   against the WHERE clause after locking (PostgreSQL's EvalPlanQual), so a task leased a moment ago by
 *   another hub is not picked.
 * - The capability test (`required_capabilities <@ $1`: every required capability is one the runner
 *   offers) is a filter on that ordered scan. A runner that lacks the capabilities of the tasks at the
 *   front of the queue reads past them; with very mixed fleets a per-capability-set index would avoid
 *   that, at the cost of a claim per set (the SQLite store does it that way, see its claim-tasks.sql.ts).
 * - The window function that numbers the picked rows cannot sit in the locking query (PostgreSQL forbids
 *   FOR UPDATE with window functions), hence `numbered`.
 * - One statement picks, leases (attempt count and fencing epoch up by one) and inserts the attempts, so a
 *   claim is a single round trip; the attempt insert reads the lease's new values from `leased`.
 * - The partial unique index `attempts_one_active_per_task` would reject a second active attempt for a
 *   task even if this statement were wrong.
 */
export const claimTasksSql = `
WITH picked AS (
  SELECT seq, lane_rank, priority
  FROM tasks
  WHERE state = 'queued' AND required_capabilities <@ $1::text[]
  ORDER BY lane_rank, priority DESC, seq
  LIMIT $2
  FOR UPDATE SKIP LOCKED
),
numbered AS (
  SELECT seq, row_number() OVER (ORDER BY lane_rank, priority DESC, seq) AS claim_number
  FROM picked
),
leased AS (
  UPDATE tasks AS task
  SET state = 'leased',
      attempt_count = task.attempt_count + 1,
      lease_epoch = task.lease_epoch + 1,
      current_attempt_id = ($4::text[])[numbered.claim_number],
      retry_at = NULL,
      state_reason = NULL,
      updated_at = $3::bigint
  FROM numbered
  WHERE task.seq = numbered.seq
  RETURNING task.*, numbered.claim_number
),
attempt AS (
  INSERT INTO attempts (id, task_id, runner_id, number, state, lease_token_hash, fencing_token,
    lease_expires_at, verification, started_at)
  SELECT leased.current_attempt_id, leased.id, $6, leased.attempt_count, 'leased',
    ($5::text[])[leased.claim_number], leased.lease_epoch, $3::bigint + $7::bigint, '[]', $3::bigint
  FROM leased
)
SELECT * FROM leased ORDER BY claim_number
`;
