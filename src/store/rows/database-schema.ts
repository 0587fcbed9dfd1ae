/**
 * The SQLite schema as TypeScript types: one interface per table, named after the table, with snake_case
 * columns exactly as migrations create them. Kysely checks queries against {@link Database}; the row
 * types are what `SELECT *` returns through better-sqlite3.
 *
 * Conventions: times are epoch-ms integers; JSON columns hold `JSON.stringify` of validated domain values
 * and are typed `string` here because that is what the driver returns.
 */
import type { Generated } from 'kysely';
import type {
  AttemptState,
  Complexity,
  EventType,
  Lane,
  RunnerStatus,
  Seniority,
  TaskState,
} from '../../core/types.ts';

/** The usage total columns of `tasks` and `attempts` (migration 3). */
export interface UsageColumns {
  usage_input_tokens: number;
  usage_output_tokens: number;
  /** Dollars, a double. */
  usage_cost_usd: number;
  usage_calls: number;
}

/** A row of `tasks`. */
export interface TaskRow extends UsageColumns {
  /** Insertion order; the rowid. Orders tasks by age and backs the list cursor. */
  seq: number;
  id: string;
  state: TaskState;
  lane: Lane;
  /** 0 high, 1 normal, 2 low: the lane as a number so the claim index sorts it. */
  lane_rank: number;
  priority: number;
  title: string;
  instructions: string;
  repo: string;
  base_branch: string | null;
  executor: string;
  /** JSON object. */
  executor_input: string;
  /** JSON array of strings. */
  capabilities: string;
  complexity: Complexity;
  /** Why routing settled on the complexity (and route). */
  complexity_reason: string;
  /** The model selector, for executors that call models. */
  model: string | null;
  seniority: Seniority | null;
  /** JSON Budget. */
  budget: string | null;
  /** JSON array of strings. */
  grants: string;
  fix_rounds: number;
  /** JSON array of success criteria. */
  success_criteria: string;
  /** JSON array of task ids, as given (order kept); `task_dependencies` holds the same edges for joins. */
  depends_on: string;
  dedup_key: string | null;
  max_attempts: number;
  timeout_ms: number;
  /** JSON array of strings. */
  labels: string;
  /** JSON array of strings, sorted: `capabilities` plus `executor:<executor>`. */
  required_capabilities: string;
  idempotency_key: string | null;
  attempt_count: number;
  /** Incremented on every claim; the new attempt's fencing token. */
  lease_epoch: number;
  retry_at: number | null;
  current_attempt_id: string | null;
  /** JSON array of the ids of this task's attempts, oldest first (the attempts table has no task index). */
  attempt_ids: string;
  /**
   * JSON array of the ids of this task's lifecycle events (`task.created`, `task.state`, and `attempt.state`
   * of its attempts), oldest first; the events_task index holds only the task's other events.
   */
  history_event_ids: string;
  /** JSON TaskResult. */
  result: string | null;
  state_reason: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

/** A row of `task_dependencies`: `task_id` waits for `depends_on_id`. */
export interface TaskDependencyRow {
  task_id: string;
  depends_on_id: string;
}

/** A row of `attempts`. */
export interface AttemptRow extends UsageColumns {
  id: string;
  task_id: string;
  runner_id: string;
  number: number;
  state: AttemptState;
  /** sha256 of the lease token (`hashLeaseToken`); the token itself is never stored. */
  lease_token_hash: string;
  fencing_token: number;
  lease_expires_at: number;
  progress: string | null;
  branch: string | null;
  worktree_path: string | null;
  /** JSON AttemptError. */
  error: string | null;
  /** JSON array of verification rounds. */
  verification: string;
  /** JSON TaskResult. */
  result: string | null;
  started_at: number;
  finished_at: number | null;
  /** The agent definition that ran it, `''` for none (migration 5). */
  agent: string;
  /** JSON object: the scheduler's routing record, as given. */
  routing: string | null;
  /** JSON array of the hold keys it takes while active (their rows are in `attempt_holds`). */
  holds: string | null;
}

/** A row of `attempt_holds`: an active attempt holding a named concurrency limit. */
export interface AttemptHoldRow {
  hold_key: string;
  attempt_id: string;
}

/** A row of `breakers`: one circuit breaker. */
export interface BreakerRow {
  key: string;
  /** JSON BreakerRecord. */
  record: string;
  updated_at: number;
}

/** A row of `runners`. */
export interface RunnerRow {
  id: string;
  name: string;
  token_hash: string;
  /** JSON array of strings. */
  capabilities: string;
  slots: number;
  status: RunnerStatus;
  version: string | null;
  hostname: string | null;
  last_heartbeat_at: number | null;
  created_at: number;
  /** JSON array of RunnerAgentPairing (migration 5). */
  agents: string;
  /** JSON array of DependencyHealth. */
  dependency_health: string;
}

/** A row of `events`. */
export interface EventRow {
  id: number;
  type: EventType;
  task_id: string | null;
  attempt_id: string | null;
  runner_id: string | null;
  at: number;
  /** JSON object. */
  data: string;
}

/** A row of `usage_records`: one model call in the cost ledger. */
export interface UsageRecordRow {
  id: number;
  attempt_id: string;
  task_id: string;
  runner_id: string;
  endpoint: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  at: number;
}

/** A row of `model_endpoints`. */
export interface ModelEndpointRow {
  name: string;
  /** JSON ModelEndpoint, as validated. */
  definition: string;
  created_at: number;
  updated_at: number;
}

/** A row of `schema_migrations`: one per applied migration. */
export interface SchemaMigrationRow {
  id: number;
  name: string;
  applied_at: number;
}

/** The whole database, for Kysely. */
export interface Database {
  tasks: Omit<TaskRow, 'seq'> & { seq: Generated<number> };
  task_dependencies: TaskDependencyRow;
  attempts: AttemptRow;
  attempt_holds: AttemptHoldRow;
  breakers: BreakerRow;
  runners: RunnerRow;
  events: Omit<EventRow, 'id'> & { id: Generated<number> };
  usage_records: Omit<UsageRecordRow, 'id'> & { id: Generated<number> };
  model_endpoints: ModelEndpointRow;
  schema_migrations: SchemaMigrationRow;
}
