/**
 * The attempt states that hold a lease, as SQL: repeated word for word in queries so that PostgreSQL
 * matches the partial indexes of migration 1 (`attempts_active_lease`, `attempts_active_runner`).
 */

/** `state IN (...)` of the active attempt states. */
export const activeAttemptCondition = `state IN ('leased','running','verifying')`;

/** Task states that release a dedup key, as in the `tasks_active_dedup_key` index. */
export const terminalTaskCondition = `state IN ('succeeded','dead','cancelled')`;
