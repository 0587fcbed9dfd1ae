/**
 * Migration 5: fleet routing. Runner pairings, dependency health and the `degraded` presence; the agent,
 * routing record and holds of an attempt; the holds of active attempts; pairing outcomes; breakers.
 */
import type { SqliteMigration } from './sqlite-migration.ts';

// why: written out (not generated from core) so that this migration stays exactly as released.
const runnerStatuses = `'online','degraded','draining','offline'`;
const finishedAttemptStates = `'succeeded','failed','lost'`;

/**
 * - `runners` is rebuilt: SQLite cannot change a CHECK constraint in place, and the status check must admit
 *   `degraded`. The new JSON columns `agents` and `dependency_health` start empty (`[]`) for every runner.
 *   No other table refers to `runners`, so dropping the old table breaks nothing.
 * - `attempts` gains `agent` (`''` for none), `routing` (a JSON object) and `holds` (a JSON array of hold
 *   keys); an attempt claimed without an assignment has no agent and NULL for the other two. why `''` and
 *   not NULL: none then sorts and compares like any agent, so the outcomes index needs no expression.
 * - `attempt_holds` has one row per hold of an active attempt, deleted when the attempt finishes, so that
 *   counting a key's holders is one short index range whatever the history. Releasing them names every
 *   key (the attempt's `holds`), so the primary key serves that too.
 * - `attempts_outcomes` serves listPairingOutcomes: finished attempts by runner, agent and finish time,
 *   newest first. Partial: a claim or heartbeat writes no entry; only a finishing attempt adds one.
 * - `breakers`: one circuit breaker record per key, as JSON.
 */
export const migration0005FleetRouting: SqliteMigration = {
  id: 5,
  name: 'fleet-routing',
  statements: [
    `CREATE TABLE runners_new (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      token_hash TEXT NOT NULL UNIQUE,
      capabilities TEXT NOT NULL CHECK (json_type(capabilities) = 'array'),
      slots INTEGER NOT NULL CHECK (slots >= 1),
      status TEXT NOT NULL CHECK (status IN (${runnerStatuses})),
      version TEXT,
      hostname TEXT,
      last_heartbeat_at INTEGER,
      created_at INTEGER NOT NULL,
      agents TEXT NOT NULL DEFAULT '[]' CHECK (json_type(agents) = 'array'),
      dependency_health TEXT NOT NULL DEFAULT '[]' CHECK (json_type(dependency_health) = 'array')
    ) STRICT`,
    `INSERT INTO runners_new (id, name, token_hash, capabilities, slots, status, version, hostname,
      last_heartbeat_at, created_at)
      SELECT id, name, token_hash, capabilities, slots, status, version, hostname, last_heartbeat_at, created_at
      FROM runners`,
    `DROP TABLE runners`,
    `ALTER TABLE runners_new RENAME TO runners`,
    `ALTER TABLE attempts ADD COLUMN agent TEXT NOT NULL DEFAULT ''`,
    `ALTER TABLE attempts ADD COLUMN routing TEXT CHECK (routing IS NULL OR json_type(routing) = 'object')`,
    `ALTER TABLE attempts ADD COLUMN holds TEXT CHECK (holds IS NULL OR json_type(holds) = 'array')`,
    `CREATE TABLE attempt_holds (
      hold_key TEXT NOT NULL,
      attempt_id TEXT NOT NULL REFERENCES attempts (id),
      PRIMARY KEY (hold_key, attempt_id)
    ) STRICT, WITHOUT ROWID`,
    `CREATE INDEX attempts_outcomes ON attempts (runner_id, agent, finished_at DESC, id DESC)
      WHERE state IN (${finishedAttemptStates})`,
    `CREATE TABLE breakers (
      key TEXT NOT NULL PRIMARY KEY,
      record TEXT NOT NULL CHECK (json_type(record) = 'object'),
      updated_at INTEGER NOT NULL
    ) STRICT`,
  ],
};
