/**
 * The SQLite store's fixed statements, written out by hand (the dynamic ones, with optional filters, are
 * built with Kysely where they are used; the claim query has its own file, `claim-tasks.sql.ts`).
 *
 * Several statements repeat the condition of a partial index word for word: SQLite uses a partial index
 * only when the query's WHERE clause contains the index's condition, and it does not reason that, say,
 * `state IN ('leased')` implies `state NOT IN ('queued','succeeded')`. `sqlite-store.test.ts` checks the
 * plan of every statement here, so a reworded condition fails a test instead of scanning a table.
 */
import type { TaskRow } from '../rows/database-schema.ts';

/**
 * Event types found through `tasks.history_event_ids` rather than the events_task index; must match the
 * index's condition in migration 0001.
 */
export const taskHistoryEventTypes = `'task.created','task.state','attempt.state'`;

/** The condition of the events_task index, to repeat in queries that should use it. */
export const eventsTaskIndexCondition = `task_id IS NOT NULL AND type NOT IN (${taskHistoryEventTypes})`;

/** The condition of the tasks_uncommon_state index, to repeat in queries that should use it. */
export const uncommonStateIndexCondition = `state NOT IN ('queued','succeeded')`;

/**
 * Tasks (aliased `task`) with an active attempt, their `current_attempt_id`. The second term is the
 * tasks_uncommon_state condition, which lets SQLite use that index.
 */
const activeTaskCondition = `task.state IN ('leased','running','verifying') AND task.${uncommonStateIndexCondition}`;

const terminalTaskStates = `'succeeded','dead','cancelled'`;

/** Task columns written at insert, in order; all but `seq`, which SQLite assigns. */
const taskInsertColumns = [
  'id',
  'state',
  'lane',
  'lane_rank',
  'priority',
  'title',
  'instructions',
  'repo',
  'base_branch',
  'executor',
  'executor_input',
  'capabilities',
  'complexity',
  'complexity_reason',
  'model',
  'seniority',
  'budget',
  'grants',
  'fix_rounds',
  'success_criteria',
  'depends_on',
  'dedup_key',
  'max_attempts',
  'timeout_ms',
  'labels',
  'required_capabilities',
  'idempotency_key',
  'attempt_count',
  'lease_epoch',
  'retry_at',
  'current_attempt_id',
  'attempt_ids',
  'history_event_ids',
  'result',
  'state_reason',
  'created_at',
  'updated_at',
  'finished_at',
  'usage_input_tokens',
  'usage_output_tokens',
  'usage_cost_usd',
  'usage_calls',
] as const satisfies readonly (keyof TaskRow)[];
// Compile-time check that the list names every column but seq.
const everyTaskColumnListed: Exclude<keyof TaskRow, 'seq' | (typeof taskInsertColumns)[number]> extends never
  ? true
  : false = true;
void everyTaskColumnListed;

/** Every fixed statement, by what it does. */
export const sqliteStatements = {
  selectTaskById: 'SELECT * FROM tasks WHERE id = ?',
  selectTaskStateById: 'SELECT state FROM tasks WHERE id = ?',
  selectTaskByIdempotencyKey: 'SELECT * FROM tasks WHERE idempotency_key = ?',
  // Written exactly as the partial index's condition so that SQLite uses tasks_active_dedup_key.
  selectActiveTaskByDedupKey: `SELECT * FROM tasks WHERE dedup_key = ? AND state NOT IN (${terminalTaskStates})`,
  insertTask: `INSERT INTO tasks (${taskInsertColumns.join(', ')}) VALUES (${taskInsertColumns.map((column) => `@${column}`).join(', ')})`,
  updateTask: `UPDATE tasks SET state = @state, state_reason = @state_reason, retry_at = @retry_at,
    current_attempt_id = @current_attempt_id, result = @result, max_attempts = @max_attempts,
    attempt_count = @attempt_count, lease_epoch = @lease_epoch, updated_at = @updated_at,
    finished_at = @finished_at, history_event_ids = @history_event_ids WHERE seq = @seq`,
  insertDependency: 'INSERT OR IGNORE INTO task_dependencies (task_id, depends_on_id) VALUES (?, ?)',
  selectBlockedDependents: `SELECT task.* FROM task_dependencies AS dependency
    JOIN tasks AS task ON task.id = dependency.task_id
    WHERE dependency.depends_on_id = ? AND task.state = 'blocked' ORDER BY task.seq`,
  selectParentStates: `SELECT parent.id, parent.state FROM task_dependencies AS dependency
    JOIN tasks AS parent ON parent.id = dependency.depends_on_id WHERE dependency.task_id = ?`,
  countUnfinishedParents: `SELECT COUNT(*) FROM task_dependencies AS dependency
    JOIN tasks AS parent ON parent.id = dependency.depends_on_id
    WHERE dependency.task_id = ? AND parent.state <> 'succeeded'`,
  // Hot path of claimTasks: lease one claimed row, record its two events, and read it back, in one statement.
  leaseTask: `UPDATE tasks SET state = 'leased', attempt_count = attempt_count + 1, lease_epoch = lease_epoch + 1,
    current_attempt_id = @attempt_id, attempt_ids = json_insert(attempt_ids, '$[#]', @attempt_id),
    retry_at = NULL, state_reason = NULL, updated_at = @now,
    history_event_ids = json_insert(history_event_ids, '$[#]', @task_event_id, '$[#]', @attempt_event_id)
    WHERE seq = @seq AND state = 'queued' RETURNING *`,
  // Hot path of completeAttempt. The expected current state is a parameter, so a task that is not where
  // its active attempt says it is changes nothing and is reported.
  completeTask: `UPDATE tasks SET state = 'succeeded', result = ?, state_reason = NULL, retry_at = NULL,
    current_attempt_id = NULL, finished_at = ?, updated_at = ?,
    history_event_ids = json_insert(history_event_ids, '$[#]', ?, '$[#]', ?)
    WHERE id = ? AND state = ? RETURNING *`,
  completeAttempt: `UPDATE attempts SET state = 'succeeded', result = ?, verification = ?, branch = ?, finished_at = ?
    WHERE id = ?`,
  selectDueRetries: `SELECT * FROM tasks WHERE state = 'failed' AND retry_at <= ? ORDER BY retry_at, seq`,
  selectAttemptById: 'SELECT * FROM attempts WHERE id = ?',
  selectAttemptsByTask: `SELECT attempt.* FROM json_each((SELECT attempt_ids FROM tasks WHERE id = ?)) AS entry
    JOIN attempts AS attempt ON attempt.id = entry.value ORDER BY attempt.number`,
  insertAttempt: `INSERT INTO attempts (id, task_id, runner_id, number, state, lease_token_hash, fencing_token,
    lease_expires_at, verification, started_at) VALUES (?, ?, ?, ?, 'leased', ?, ?, ?, '[]', ?)`,
  // An attempt of a claim with assignments: what the scheduler decided rides along.
  insertAssignedAttempt: `INSERT INTO attempts (id, task_id, runner_id, number, state, lease_token_hash,
    fencing_token, lease_expires_at, verification, started_at, agent, routing, holds)
    VALUES (?, ?, ?, ?, 'leased', ?, ?, ?, '[]', ?, ?, ?, ?)`,
  insertAttemptHold: 'INSERT INTO attempt_holds (hold_key, attempt_id) VALUES (?, ?)',
  // The attempt's hold keys (its `holds` column) are given, so the primary key finds every row.
  deleteAttemptHolds: `DELETE FROM attempt_holds
    WHERE hold_key IN (SELECT value FROM json_each(?)) AND attempt_id = ?`,
  countHolders: 'SELECT COUNT(*) FROM attempt_holds WHERE hold_key = ?',
  updateAttempt: `UPDATE attempts SET state = @state, lease_expires_at = @lease_expires_at, progress = @progress,
    branch = @branch, worktree_path = @worktree_path, error = @error, verification = @verification,
    result = @result, finished_at = @finished_at WHERE id = @id`,
  selectExpiredAttempts: `SELECT attempt.* FROM tasks AS task
    JOIN attempts AS attempt ON attempt.id = task.current_attempt_id
    WHERE ${activeTaskCondition} AND attempt.lease_expires_at < ? ORDER BY attempt.lease_expires_at, attempt.id`,
  selectRunnerById: 'SELECT * FROM runners WHERE id = ?',
  selectRunnerByName: 'SELECT * FROM runners WHERE name = ?',
  selectRunnerByTokenHash: 'SELECT * FROM runners WHERE token_hash = ?',
  selectRunners: 'SELECT * FROM runners ORDER BY name',
  selectStaleRunners: `SELECT * FROM runners WHERE status <> 'offline'
    AND (last_heartbeat_at IS NULL OR last_heartbeat_at < ?) ORDER BY name`,
  selectLateRunners: `SELECT * FROM runners WHERE status = 'online' AND last_heartbeat_at < ? ORDER BY name`,
  insertRunner: `INSERT INTO runners (id, name, token_hash, capabilities, slots, status, version, hostname,
    last_heartbeat_at, created_at, agents, dependency_health) VALUES (@id, @name, @token_hash, @capabilities,
    @slots, @status, @version, @hostname, @last_heartbeat_at, @created_at, @agents, @dependency_health)`,
  updateRunner: `UPDATE runners SET capabilities = @capabilities, slots = @slots, status = @status,
    version = @version, hostname = @hostname, last_heartbeat_at = @last_heartbeat_at, agents = @agents,
    dependency_health = @dependency_health WHERE id = @id`,
  deleteRunner: 'DELETE FROM runners WHERE id = ?',
  countActiveAttemptsOfRunner: `SELECT COUNT(*) FROM tasks AS task
    JOIN attempts AS attempt ON attempt.id = task.current_attempt_id
    WHERE ${activeTaskCondition} AND attempt.runner_id = ?`,
  countActiveAttemptsByRunner: `SELECT attempt.runner_id, COUNT(*) AS count FROM tasks AS task
    JOIN attempts AS attempt ON attempt.id = task.current_attempt_id
    WHERE ${activeTaskCondition} GROUP BY attempt.runner_id`,
  lastEventId: 'SELECT COALESCE(MAX(id), 0) FROM events',
  insertUsageRecord: `INSERT INTO usage_records (attempt_id, task_id, runner_id, endpoint, model, input_tokens,
    output_tokens, cost_usd, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  addAttemptUsage: `UPDATE attempts SET usage_input_tokens = usage_input_tokens + ?,
    usage_output_tokens = usage_output_tokens + ?, usage_cost_usd = usage_cost_usd + ?,
    usage_calls = usage_calls + ? WHERE id = ?`,
  addTaskUsage: `UPDATE tasks SET usage_input_tokens = usage_input_tokens + ?,
    usage_output_tokens = usage_output_tokens + ?, usage_cost_usd = usage_cost_usd + ?,
    usage_calls = usage_calls + ? WHERE id = ?`,
  selectUsage: 'SELECT * FROM usage_records ORDER BY id DESC LIMIT ?',
  selectUsageByTask: 'SELECT * FROM usage_records WHERE task_id = ? ORDER BY id DESC LIMIT ?',
  selectUsageByAttempt: `SELECT * FROM usage_records WHERE task_id = ? AND attempt_id = ?
    ORDER BY id DESC LIMIT ?`,
  selectEndpointByName: 'SELECT * FROM model_endpoints WHERE name = ?',
  selectEndpoints: 'SELECT * FROM model_endpoints ORDER BY name',
  insertEndpoint: `INSERT INTO model_endpoints (name, definition, created_at, updated_at)
    VALUES (?, ?, ?, ?)`,
  updateEndpoint: 'UPDATE model_endpoints SET definition = ?, updated_at = ? WHERE name = ?',
  deleteEndpoint: 'DELETE FROM model_endpoints WHERE name = ?',
  selectAttemptTaskId: 'SELECT task_id FROM attempts WHERE id = ?',
  ping: 'SELECT 1',
} as const;
