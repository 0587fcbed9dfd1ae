/**
 * The statements of a claim with assignments (`ClaimRequest.assignments`): the scheduler has chosen the
 * tasks, in order, and each may take named holds (concurrency limits). A claim runs them in this order,
 * in one transaction, after the runner's own advisory lock when it has a `maxActive`:
 *
 * 1. {@link lockHoldsSql}: an advisory lock per hold key, in one fixed order.
 * 2. {@link lockAssignedTasksSql}: locks the assigned tasks that are still queued and that the runner can
 *    run, skipping those another transaction holds.
 * 3. {@link countHoldersSql}: how many active attempts hold each key now.
 * 4. The store picks, in assignment order, the tasks whose holds all have room, up to the runner's room.
 * 5. {@link claimAssignedTasksSql}: leases them, inserts their attempts and their holds, in one statement.
 *
 * Why it is shaped so:
 * - Holds are counted rows (`attempt_holds`, one per hold of an active attempt), and a count only stays
 *   true while nobody else adds to it. Every claim that takes a key first takes that key's transaction
 *   advisory lock, held to commit, so claims of one key take turns: each counts after the previous one
 *   committed (READ COMMITTED gives each statement a fresh snapshot). An attempt finishing deletes its
 *   rows without the lock: that only lowers a count, which can make a concurrent claim skip a task it
 *   could have taken, never take one too many.
 * - The locks are taken in order of their lock ids, so two claims needing overlapping keys cannot each hold
 *   one the other waits for. Ids are 64-bit hashes of the key (`hashtextextended`); keys that hash alike
 *   share a lock, which only serialises them more. The runner's lock (32-bit `hashtext`) comes first, in
 *   every claim; a clash between the two kinds at worst deadlocks, which PostgreSQL detects and the writer
 *   retries.
 * - The tasks are locked with `FOR UPDATE SKIP LOCKED`, like the fast claim (claim-tasks.sql.ts): a task
 *   another claim or a cancel holds right now is passed over, never waited for, and a task leased a moment
 *   ago fails the re-checked `state = 'queued'`. Tasks locked here but not claimed (no room, a full hold)
 *   stay queued and are released at commit.
 * - No task is claimed by a fast claim and an assigned claim at once: both lock the row first.
 */

/**
 * Takes the transaction advisory lock of each hold key, in lock-id order. Parameters: $1 text[] the keys.
 */
export const lockHoldsSql = `
SELECT pg_advisory_xact_lock(hold.lock_id)
FROM (
  SELECT DISTINCT hashtextextended('warren.hold.' || key, 0) AS lock_id FROM unnest($1::text[]) AS key
  ORDER BY lock_id
) AS hold
`;

/**
 * Locks the assigned tasks that are still queued and whose required capabilities the runner offers, and
 * answers them with their 1-based place in the assignments. Parameters: $1 text[] the task ids in order
 * (no id twice); $2 text[] the capabilities the runner offers. The tasks are found by id (`id = ANY`, the
 * unique index on id), however long the queue.
 */
export const lockAssignedTasksSql = `
SELECT task.seq, task.id, array_position($1::text[], task.id) AS position
FROM tasks AS task
WHERE task.id = ANY($1::text[]) AND task.state = 'queued' AND task.required_capabilities <@ $2::text[]
ORDER BY position
FOR UPDATE SKIP LOCKED
`;

/** Active holders of each key (keys with none are left out). Parameters: $1 text[] the keys. */
export const countHoldersSql = `
SELECT hold_key, COUNT(*)::integer AS count FROM attempt_holds WHERE hold_key = ANY($1::text[])
GROUP BY hold_key
`;

/**
 * Leases the chosen tasks (already locked by {@link lockAssignedTasksSql}), inserts their attempts with
 * what the scheduler decided, and their holds.
 *
 * Parameters:
 *   $1 bigint[]  the chosen tasks' seq, in claim order
 *   $2 bigint    now, epoch ms (the store clock)
 *   $3 text[]    the new attempt ids, same order
 *   $4 text[]    the sha256 hashes of the new lease tokens, same order
 *   $5 text      the runner id
 *   $6 bigint    the lease length, ms
 *   $7 text[]    each attempt's agent ('' for none), same order
 *   $8 text[]    each attempt's routing record as JSON (NULL for none), same order
 *   $9 text[]    each attempt's hold keys as a JSON array (NULL for none), same order
 *   $10 text[]   the hold keys of every attempt, flattened
 *   $11 text[]   the attempt id of each of those keys
 *
 * Returns the leased tasks (whole rows) with `claim_number`, their 1-based position in claim order. The
 * attempts and holds are inserted in the same statement (one round trip); the foreign key of a hold is
 * checked at the end of the statement, when its attempt is there.
 */
export const claimAssignedTasksSql = `
WITH chosen AS (
  SELECT seq, claim_number FROM unnest($1::bigint[]) WITH ORDINALITY AS chosen (seq, claim_number)
),
leased AS (
  UPDATE tasks AS task
  SET state = 'leased',
      attempt_count = task.attempt_count + 1,
      lease_epoch = task.lease_epoch + 1,
      current_attempt_id = ($3::text[])[chosen.claim_number],
      retry_at = NULL,
      state_reason = NULL,
      updated_at = $2::bigint
  FROM chosen
  WHERE task.seq = chosen.seq AND task.state = 'queued'
  RETURNING task.*, chosen.claim_number
),
attempt AS (
  INSERT INTO attempts (id, task_id, runner_id, number, state, lease_token_hash, fencing_token,
    lease_expires_at, verification, started_at, agent, routing, holds)
  SELECT leased.current_attempt_id, leased.id, $5, leased.attempt_count, 'leased',
    ($4::text[])[leased.claim_number], leased.lease_epoch, $2::bigint + $6::bigint, '[]', $2::bigint,
    ($7::text[])[leased.claim_number], ($8::text[])[leased.claim_number]::json,
    ($9::text[])[leased.claim_number]::json
  FROM leased
  RETURNING id
),
held AS (
  INSERT INTO attempt_holds (hold_key, attempt_id)
  SELECT hold.key, hold.attempt_id FROM unnest($10::text[], $11::text[]) AS hold (key, attempt_id)
  WHERE hold.attempt_id IN (SELECT id FROM attempt)
)
SELECT * FROM leased ORDER BY claim_number
`;
