/**
 * PostgreSQL migration 2: fleet routing (SQLite's migration 5). Runner pairings, dependency health and the
 * `degraded` presence; the agent, routing record and holds of an attempt; the holds of active attempts;
 * pairing outcomes; breakers.
 */
import type { PostgresMigration } from './postgres-migration.ts';

// why: written out (not generated from core) so that this migration stays exactly as released.
const runnerStatuses = `'online','degraded','draining','offline'`;
const finishedAttemptStates = `'succeeded','failed','lost'`;

/**
 * - The runner status check admits `degraded` (migration 1 named it `runners_status_check`, PostgreSQL's
 *   name for a column's CHECK). `agents` and `dependency_health` start empty (`[]`) for every runner.
 * - `attempts` gains `agent` (`''` for none), `routing` (a JSON object) and `holds` (a JSON array of hold
 *   keys); an attempt claimed without an assignment has no agent and NULL for the other two. why `''` and
 *   not NULL: the planner has statistics for a plain column, not for an expression such as
 *   `COALESCE(agent, '')` in a partial index, and without them it reads a pairing's whole history and
 *   sorts it instead of taking the newest few from the index.
 * - `attempt_holds` has one row per hold of an active attempt, deleted when the attempt finishes, so that
 *   counting a key's holders is one short index range whatever the history. Releasing them names every
 *   key (the attempt's `holds`), so the primary key serves that too.
 * - `attempts_outcomes` serves listPairingOutcomes: finished attempts by runner, agent and finish time,
 *   newest first.
 * - `breakers`: one circuit breaker record per key, as JSON.
 */
export const postgresMigration0002FleetRouting: PostgresMigration = {
  id: 2,
  name: 'fleet-routing',
  statements: [
    `ALTER TABLE runners DROP CONSTRAINT runners_status_check,
      ADD CONSTRAINT runners_status_check CHECK (status IN (${runnerStatuses})),
      ADD COLUMN agents json NOT NULL DEFAULT '[]',
      ADD COLUMN dependency_health json NOT NULL DEFAULT '[]'`,
    `ALTER TABLE attempts ADD COLUMN agent text NOT NULL DEFAULT '', ADD COLUMN routing json,
      ADD COLUMN holds json`,
    `CREATE TABLE attempt_holds (
      hold_key text NOT NULL,
      attempt_id text NOT NULL REFERENCES attempts (id),
      PRIMARY KEY (hold_key, attempt_id)
    )`,
    `CREATE INDEX attempts_outcomes ON attempts (runner_id, agent, finished_at DESC, id DESC)
      WHERE state IN (${finishedAttemptStates})`,
    `CREATE TABLE breakers (
      key text PRIMARY KEY,
      record json NOT NULL,
      updated_at bigint NOT NULL
    )`,
  ],
};
