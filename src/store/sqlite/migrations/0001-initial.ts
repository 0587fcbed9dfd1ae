/**
 * Migration 1: tasks, their dependencies, attempts, runners and the event log.
 */
import type { SqliteMigration } from './sqlite-migration.ts';

// why: the state lists are written out (not generated from core) so that this migration stays exactly as
// released even if the domain types change later; a change of states needs a new migration.
const taskStates = `'blocked','queued','leased','running','verifying','succeeded','failed','dead','cancelled'`;
const attemptStates = `'leased','running','verifying','succeeded','failed','lost','cancelled'`;

/** Creates the initial schema. */
export const migration0001Initial: SqliteMigration = {
  id: 1,
  name: 'initial',
  statements: [
    // seq is the rowid (INTEGER PRIMARY KEY), so every index ends in age order. AUTOINCREMENT: a seq is never
    // reused, even after the newest task is deleted, which keeps list cursors stable.
    // STRICT and the CHECKs make a bad value fail the write instead of landing in a row.
    `CREATE TABLE tasks (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      state TEXT NOT NULL CHECK (state IN (${taskStates})),
      lane TEXT NOT NULL CHECK (lane IN ('high','normal','low')),
      lane_rank INTEGER NOT NULL CHECK (lane_rank IN (0,1,2)),
      priority INTEGER NOT NULL,
      title TEXT NOT NULL,
      instructions TEXT NOT NULL,
      repo TEXT NOT NULL,
      base_branch TEXT,
      executor TEXT NOT NULL,
      executor_input TEXT NOT NULL CHECK (json_type(executor_input) = 'object'),
      capabilities TEXT NOT NULL CHECK (json_type(capabilities) = 'array'),
      complexity TEXT NOT NULL,
      success_criteria TEXT NOT NULL CHECK (json_type(success_criteria) = 'array'),
      depends_on TEXT NOT NULL CHECK (json_type(depends_on) = 'array'),
      dedup_key TEXT,
      max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
      timeout_ms INTEGER NOT NULL,
      labels TEXT NOT NULL CHECK (json_type(labels) = 'array'),
      required_capabilities TEXT NOT NULL CHECK (json_type(required_capabilities) = 'array'),
      idempotency_key TEXT UNIQUE,
      attempt_count INTEGER NOT NULL DEFAULT 0,
      lease_epoch INTEGER NOT NULL DEFAULT 0,
      retry_at INTEGER,
      current_attempt_id TEXT,
      attempt_ids TEXT NOT NULL CHECK (json_type(attempt_ids) = 'array'),
      history_event_ids TEXT NOT NULL CHECK (json_type(history_event_ids) = 'array'),
      result TEXT CHECK (result IS NULL OR json_type(result) = 'object'),
      state_reason TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      finished_at INTEGER
    ) STRICT`,
    // The claim scan: queued tasks only, in claim order (lane, priority desc, then age). A partial index stays
    // as small as the queue, so claiming costs the same at 1,000 or 1,000,000 tasks. required_capabilities
    // rides along so the capability check reads only the index (covering), never the table.
    `CREATE INDEX tasks_claim_order ON tasks (lane_rank, priority DESC, seq, required_capabilities)
      WHERE state = 'queued'`,
    // At most one active task per dedup key; terminal tasks release their key.
    `CREATE UNIQUE INDEX tasks_active_dedup_key ON tasks (dedup_key)
      WHERE dedup_key IS NOT NULL AND state NOT IN ('succeeded','dead','cancelled')`,
    // promoteRetries: failed tasks by retry time.
    `CREATE INDEX tasks_retry_at ON tasks (retry_at) WHERE state = 'failed'`,
    // Tasks in a state that few tasks are in, by state then age (seq is the rowid, the index's last key):
    // listTasks filtered by such a state, and the active tasks (leased, running, verifying), whose current
    // attempts are the only attempts expireLeases and the runners' attempt counts look at. Queued and
    // succeeded are left out: most tasks are in one of them, so a newest-first scan of the table finds them
    // quickly, and leaving them out spares every claim and completion two index writes.
    `CREATE INDEX tasks_uncommon_state ON tasks (state) WHERE state NOT IN ('queued','succeeded')`,
    `CREATE TABLE task_dependencies (
      task_id TEXT NOT NULL REFERENCES tasks (id),
      depends_on_id TEXT NOT NULL REFERENCES tasks (id),
      PRIMARY KEY (task_id, depends_on_id)
    ) STRICT, WITHOUT ROWID`,
    // Finding a task's dependents when it succeeds or dies.
    `CREATE INDEX task_dependencies_depends_on ON task_dependencies (depends_on_id, task_id)`,
    // Attempts, each written to exactly one b-tree. WITHOUT ROWID: the table itself is kept in id order, so
    // there is no separate id index. No index on task: a task's attempts are listed on its row
    // (tasks.attempt_ids), which the claim rewrites anyway. No index on state or lease expiry: an attempt is
    // active exactly when it is its task's current attempt and the task is leased, running or verifying,
    // so active attempts are found through tasks_uncommon_state. why: every index here would be one more
    // page written by every claim, heartbeat or completion, the hot path of the whole queue.
    // runner_id has no foreign key: attempts are history and outlive a deleted runner.
    `CREATE TABLE attempts (
      id TEXT NOT NULL PRIMARY KEY,
      task_id TEXT NOT NULL REFERENCES tasks (id),
      runner_id TEXT NOT NULL,
      number INTEGER NOT NULL,
      state TEXT NOT NULL CHECK (state IN (${attemptStates})),
      lease_token_hash TEXT NOT NULL,
      fencing_token INTEGER NOT NULL,
      lease_expires_at INTEGER NOT NULL,
      progress TEXT,
      branch TEXT,
      worktree_path TEXT,
      error TEXT CHECK (error IS NULL OR json_type(error) = 'object'),
      verification TEXT NOT NULL CHECK (json_type(verification) = 'array'),
      result TEXT CHECK (result IS NULL OR json_type(result) = 'object'),
      started_at INTEGER NOT NULL,
      finished_at INTEGER
    ) STRICT, WITHOUT ROWID`,
    `CREATE TABLE runners (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      token_hash TEXT NOT NULL UNIQUE,
      capabilities TEXT NOT NULL CHECK (json_type(capabilities) = 'array'),
      slots INTEGER NOT NULL CHECK (slots >= 1),
      status TEXT NOT NULL CHECK (status IN ('online','draining','offline')),
      version TEXT,
      hostname TEXT,
      last_heartbeat_at INTEGER,
      created_at INTEGER NOT NULL
    ) STRICT`,
    // id is the rowid, assigned by the store (the largest committed id plus one, see createSqliteWriter):
    // ids increase in commit order as long as the newest event is never deleted (event retention must keep
    // it).
    `CREATE TABLE events (
      id INTEGER PRIMARY KEY,
      type TEXT NOT NULL,
      task_id TEXT,
      attempt_id TEXT,
      runner_id TEXT,
      at INTEGER NOT NULL,
      data TEXT NOT NULL CHECK (json_type(data) = 'object')
    ) STRICT`,
    // A task's events are found two ways. Its own lifecycle events (created, task and attempt state
    // changes) are listed by id on the task row (tasks.history_event_ids), which every such change rewrites
    // anyway; everything else that names a task (logs, progress) is in this index. why: indexing the
    // lifecycle events too would add an index page to every claim and every completion, a sixth of their
    // cost, for a lookup the task row answers for free.
    `CREATE INDEX events_task ON events (task_id, id)
      WHERE task_id IS NOT NULL AND type NOT IN ('task.created','task.state','attempt.state')`,
  ],
};
