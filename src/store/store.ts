/**
 * The Store: Warren's queue-level operations, independent of the database behind them.
 *
 * Every implementation (`createSqliteStore`, later `createPostgresStore`) passes the shared conformance
 * suite in `src/store/conformance/`. The interface has no connection or transaction types: each method
 * is one atomic operation.
 *
 * Invariants every implementation keeps:
 * - A task has at most one active attempt (leased, running or verifying), and a task is in a leased state
 *   exactly when it has one; its `currentAttemptId` names that attempt and is absent otherwise. An active
 *   attempt is always in the same state as its task.
 * - A call presenting a lease fence is refused with LeaseLostError unless the attempt is active, the
 *   token matches and the runner is the one that claimed it. A refused call changes nothing.
 * - Every state change and log entry appends an event in the same transaction as the change.
 * - A task's and an attempt's `usage` totals are always the sums of their ledger rows.
 * - Event ids strictly increase in commit order.
 */
import type { RetryPolicy } from '../core/backoff.ts';
import type { BreakerRecord } from '../core/circuit-breaker.ts';
import type { DependencyHealth, RunnerAgentPairing } from '../core/fleet-types.ts';
import type { ModelEndpoint } from '../core/model-endpoints.ts';
import type { UsageRecord, UsageRecordInput } from '../core/usage.ts';
import type {
  Attempt,
  AttemptError,
  EventType,
  Lane,
  LeaseFence,
  LogEntry,
  Runner,
  RoutedTaskSpec,
  RunnerStatus,
  Task,
  TaskResult,
  TaskState,
  VerificationRound,
  WarrenEvent,
} from '../core/types.ts';

/** Options common to every store factory. */
export interface StoreOptions {
  /** Current time in epoch ms. why: injectable so tests can drive lease expiry and retries without sleeping. */
  clock?: () => number;
  /** Spacing of automatic retries. */
  retryPolicy?: RetryPolicy;
  /** Source of randomness in [0,1) for backoff jitter. */
  random?: () => number;
}

/** Result of enqueueing: the task, and whether this call created it (false: dedup or idempotency hit). */
export interface EnqueueResult {
  task: Task;
  created: boolean;
}

/** Filters and paging for listing tasks. Results are newest first. */
export interface ListTasksQuery {
  states?: TaskState[];
  lane?: Lane;
  label?: string;
  repo?: string;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
  /** Page size, 1..500. */
  limit: number;
}

/** One page of results. */
export interface Page<Item> {
  items: Item[];
  /** Present when there are more items; pass it back as `cursor`. */
  nextCursor?: string;
}

/** One task the scheduler chose for this runner, with what to record on the attempt. */
export interface TaskAssignment {
  taskId: string;
  /** The agent definition that will run it; recorded on the attempt. */
  agent?: string;
  /**
   * The scheduler's decision and scorecards, recorded on the attempt as given (opaque to the store). At most
   * {@link MAX_ROUTING_BYTES} once serialized.
   */
  routing?: Record<string, unknown>;
  /**
   * Named concurrency limits (semaphores) the attempt holds while it is active. The task is skipped (left
   * queued) when one of them already has `limit` active holders. A key named twice counts once.
   */
  holds?: Array<{ key: string; limit: number }>;
}

/**
 * Most bytes of an attempt's `routing` record, serialized as JSON. why: the record rides on the attempt row
 * and on every read of it; 64 KiB holds the decision with a few dozen scorecards, and a bigger one means the
 * scheduler is recording far more than anyone will read.
 */
export const MAX_ROUTING_BYTES = 64 * 1024;

/** A runner asking for work. */
export interface ClaimRequest {
  runnerId: string;
  /** Capabilities the runner advertises; a task is eligible when its required capabilities are a subset. */
  capabilities: string[];
  /** Most tasks to claim in this call. */
  limit: number;
  /** Lease length for each new attempt. */
  leaseMs: number;
  /**
   * Most attempts the runner may hold at once (its slots). The claim counts the runner's active attempts
   * in the same transaction and takes no more than the room left. why: a check made before the claim
   * would race with the runner's other concurrent requests and overfill its slots.
   */
  maxActive?: number;
  /**
   * The tasks the scheduler chose, best first. When present, the claim takes only these, in this order,
   * each only if it is still queued, the runner offers its required capabilities and its holds have room,
   * up to `limit` and `maxActive`; others are skipped and stay queued, untouched. At most 256 entries.
   */
  assignments?: TaskAssignment[];
}

/** Which queued tasks to peek at (see `Store.listClaimCandidates`). */
export interface ClaimCandidatesQuery {
  /** Capabilities the runner offers; a task is a candidate when its required capabilities are a subset. */
  capabilities: string[];
  /** 1..256. */
  limit: number;
  /** Only tasks of this lane (lane fairness reads the head of a lane owed its share). */
  lane?: Lane;
}

/** A queued task a runner could claim, with what the scheduler weighs. */
export interface ClaimCandidate {
  id: string;
  /** What a runner must offer to claim it (see `Task.requiredCapabilities`). */
  requiredCapabilities: string[];
  /** The task's own `capabilities` field: what routing weighs offers against. */
  capabilities: string[];
  lane: Lane;
  priority: number;
  attemptCount: number;
  executor: string;
  repo: string;
  labels: string[];
  /** The runner of the task's latest attempt when that attempt failed or was lost. */
  previousFailedRunnerId?: string;
  /** When the task last changed (its `updatedAt`): since then it has been waiting in the queue. */
  queuedSince: string;
}

/** Which outcomes to read (see `Store.listPairingOutcomes`). */
export interface PairingOutcomesQuery {
  /** Most outcomes per pairing, 1..100. */
  limitPerPairing: number;
  /** Only these runners' pairings; all runners when absent. */
  runnerIds?: string[];
}

/** The recent outcomes of one runner-agent pairing. */
export interface PairingOutcomes {
  runnerId: string;
  /** The agent definition; absent for attempts run without one. */
  agent?: string;
  /** Newest first: succeeded → true, failed or lost → false. Cancelled attempts are left out. */
  outcomes: boolean[];
}

/** A claimed task, its new attempt and the secret lease token (only ever returned here). */
export interface Claim {
  task: Task;
  attempt: Attempt;
  leaseToken: string;
}

/** What a runner reports when an attempt succeeds. */
export interface AttemptSuccess {
  result: TaskResult;
  verification: VerificationRound[];
}

/** What a runner reports when an attempt fails. */
export interface AttemptFailure {
  error: AttemptError;
  verification: VerificationRound[];
  /** Branch and worktree kept for inspection, if any. */
  branch?: string;
  worktreePath?: string;
}

/** A phase change reported during an attempt. */
export interface AttemptPhase {
  phase: 'running' | 'verifying';
  message?: string;
  branch?: string;
  worktreePath?: string;
}

/** Fields to create a runner record. */
export interface NewRunner {
  name: string;
  capabilities: string[];
  slots: number;
  /** sha256 of the runner's token; the token itself is never stored. */
  tokenHash: string;
}

/** Fields a runner updates when it (re-)registers. */
export interface RunnerRegistration {
  capabilities?: string[];
  slots?: number;
  version?: string;
  hostname?: string;
  status?: RunnerStatus;
  /** The agent definitions it can run; replaces the stored list when given. */
  agents?: RunnerAgentPairing[];
}

/** What a runner heartbeat may report besides its presence. */
export interface RunnerHeartbeatOptions {
  /** The latest result of each dependency check; replaces the stored list when given. */
  dependencyHealth?: DependencyHealth[];
}

/** Which events to read. */
export interface ListEventsQuery {
  /** Return events with id greater than this. */
  afterId?: number;
  taskId?: string;
  attemptId?: string;
  types?: EventType[];
  /** 1..5000. */
  limit: number;
}

/** Which ledger rows to read. Results are newest first. */
export interface ListUsageQuery {
  taskId?: string;
  attemptId?: string;
  /** 1..5000. */
  limit: number;
}

/** Result of upserting an endpoint: it as stored, and whether this call created it (false: replaced). */
export interface EndpointUpsert {
  endpoint: ModelEndpoint;
  created: boolean;
}

/** Count of tasks in one lane and state, for metrics. */
export interface TaskCount {
  lane: Lane;
  state: TaskState;
  count: number;
}

/** A change the store announces to subscribers (the hub wakes long polls and event streams with it). */
export type StoreSignal =
  /** Some task may have become claimable. */
  | { kind: 'tasks-ready' }
  /** New events were committed, up to and including `lastEventId`. */
  | { kind: 'events'; lastEventId: number };

/** Where a database's schema stands against the migrations this Warren knows. */
export interface MigrationStatus {
  /** Applied migrations, oldest first. */
  applied: Array<{ id: number; name: string; appliedAt: string }>;
  /** Known migrations not applied yet, in the order `migrate()` would apply them. */
  pending: Array<{ id: number; name: string }>;
  /** Ids applied by a newer Warren that this one does not know (then `migrate()` refuses to run). */
  unknown: number[];
}

/** What a hub asks for when it takes or renews a leadership (see `Store.acquireLeadership`). */
export interface LeadershipRequest {
  /** The role, e.g. `maintenance`: one holder per name. */
  name: string;
  /** Who asks: a hub's unique instance id. */
  holder: string;
  /** How long the leadership lasts from now unless renewed. */
  ttlMs: number;
}

/** A named leadership as it stands after a call: held by `holder` until `expiresAt`. */
export interface Leadership {
  name: string;
  holder: string;
  /**
   * Increases by one each time the leadership passes to a holder (a takeover, or the same holder coming
   * back after it lapsed); a renewal keeps it. Two holders never share a term.
   */
  term: number;
  /** When the current term began. */
  acquiredAt: string;
  /** When the leadership lapses unless renewed; after this anyone may take it. */
  expiresAt: string;
}

/**
 * One line of a `warren export` file: every record a store holds, in a form that does not depend on the
 * backend, so that an export from SQLite imports into PostgreSQL and back unchanged.
 *
 * Order in a file: `header` first, then endpoints, runners, tasks (oldest first, so dependencies come
 * before dependents), attempts, usage, events (by id), leaderships, breakers. Records of kinds a later
 * version added (breakers; the runner's `agents` and `dependencyHealth`, the attempt's `agent`, `routing`
 * and `holds`) may be missing from older files, which import with the defaults.
 */
export type ExportRecord =
  /** The first line: format version and where the data came from. */
  | {
      kind: 'header';
      format: 'warren-export';
      version: 1;
      dialect: 'sqlite' | 'postgres';
      exportedAt: string;
    }
  | { kind: 'endpoint'; endpoint: ModelEndpoint }
  /** A runner with its token hash (its token keeps working after the move). */
  | { kind: 'runner'; runner: Omit<Runner, 'activeAttempts'>; tokenHash: string }
  /** A task with the last fencing token it issued, so fencing stays monotonic after the move. */
  | { kind: 'task'; task: Task; leaseEpoch: number }
  /** An attempt with its lease token hash (a runner holding the lease keeps it after the move). */
  | { kind: 'attempt'; attempt: Attempt; leaseTokenHash: string }
  | { kind: 'usage'; record: UsageRecord }
  | { kind: 'event'; event: WarrenEvent }
  /** A named leadership (rarely useful after a move, kept for completeness). */
  | { kind: 'leadership'; leadership: Leadership }
  /** A circuit breaker, so that a pairing that keeps failing stays held back after the move. */
  | { kind: 'breaker'; breaker: BreakerRecord };

/** The queue-level operations of Warren's storage. */
export interface Store {
  /** Which database this store uses. */
  readonly dialect: 'sqlite' | 'postgres';

  /** Applies pending numbered migrations. Safe to call on every start. */
  migrate(): Promise<void>;
  /** Applied and pending migrations, without changing anything (nothing applied yet on a new database). */
  migrationStatus(): Promise<MigrationStatus>;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  /** Releases connections. */
  close(): Promise<void>;
  /** Subscribes to change signals; returns the unsubscribe function. */
  subscribe(listener: (signal: StoreSignal) => void): () => void;

  /**
   * Creates a task. Dependencies must exist (InvalidInputError otherwise). When an active task holds the
   * same dedup key, or a task was created with the same idempotency key, returns it with `created: false`.
   * The new task is `blocked` while a dependency is unfinished, `dead` if one is dead or cancelled, else `queued`.
   * The spec comes routed (`routeTask`): the store keeps the route as given. Usage totals start at zero.
   */
  enqueueTask(spec: RoutedTaskSpec, options?: { idempotencyKey?: string }): Promise<EnqueueResult>;
  /**
   * Creates several tasks in one transaction, in order (later ones may depend on earlier ones). One invalid
   * spec fails the whole batch; its field issues are prefixed with its index (`2.dependsOn.0`). With an
   * idempotency key, task N of the batch gets the key `<key>#N`, so repeating the whole batch returns the
   * tasks the first call created.
   */
  enqueueTasks(specs: RoutedTaskSpec[], options?: { idempotencyKey?: string }): Promise<EnqueueResult[]>;
  /** The task, or undefined. */
  getTask(id: string): Promise<Task | undefined>;
  /**
   * Lists tasks newest first. An empty `states` means any state. Throws InvalidInputError for a cursor this
   * store did not make or a limit outside 1..500.
   */
  listTasks(query: ListTasksQuery): Promise<Page<Task>>;
  /**
   * Cancels a non-terminal task, revoking any active attempt's lease (its next call gets LeaseLostError).
   * Dependents that are blocked become dead, and theirs in turn. The reason defaults to `cancelled`.
   * Throws TaskNotFoundError or InvalidTransitionError.
   */
  cancelTask(id: string, reason?: string): Promise<Task>;
  /**
   * Puts a dead, cancelled or failed task back in the queue now (`blocked` while a dependency is still
   * unfinished), allowing at least one more attempt. Throws TaskNotFoundError; InvalidTransitionError for
   * other states or while a dependency is dead or cancelled (retry that one first); ConflictError when
   * another active task now holds the task's dedup key.
   */
  retryTask(id: string): Promise<Task>;

  /**
   * Atomically picks up to `limit` queued tasks the runner can run (lane, then priority, then age) and
   * creates an attempt with a fresh lease for each. Never gives one task to two callers. A limit below 1
   * claims nothing; an implementation may cap large limits (SQLite: 256).
   *
   * With `assignments`, takes only the assigned tasks instead, in their order (see
   * {@link ClaimRequest.assignments}), recording each one's agent, routing record and holds on its attempt.
   * Holds are counted in the same transaction as the claim and serialised per key, so concurrent claims
   * from any number of hubs never put more than `limit` active attempts on a key. Throws InvalidInputError
   * naming `assignments.N.<field>` for a routing record over {@link MAX_ROUTING_BYTES}, a hold without a
   * key or with a limit that is not a positive integer, or more than 256 assignments.
   */
  claimTasks(request: ClaimRequest): Promise<Claim[]>;
  /**
   * Queued tasks whose required capabilities are a subset of `capabilities` (and of `lane`, when given), in
   * claim order (lane, priority, age), at most `limit`, without claiming them. Throws InvalidInputError for a
   * limit outside 1..256 or an unknown lane.
   */
  listClaimCandidates(query: ClaimCandidatesQuery): Promise<ClaimCandidate[]>;
  /**
   * The last `limitPerPairing` finished attempts (succeeded, failed or lost; cancelled ones say nothing
   * about the work and are left out) of each runner-agent pairing, newest first by finish time (ties by
   * attempt id), grouped by runner id then agent (none first). Throws InvalidInputError for a limit outside
   * 1..100.
   */
  listPairingOutcomes(query: PairingOutcomesQuery): Promise<PairingOutcomes[]>;
  /** Extends the lease by `leaseMs` from now, optionally recording progress. */
  heartbeatAttempt(fence: LeaseFence, options: { leaseMs: number; message?: string }): Promise<Attempt>;
  /**
   * Moves the attempt (and its task) into `running` or `verifying` (`verifying` → `running` for a fix
   * round). Reporting the phase the attempt is already in only updates branch, worktree path and progress,
   * so a retried request is harmless.
   */
  setAttemptPhase(fence: LeaseFence, phase: AttemptPhase): Promise<Attempt>;
  /** Appends log entries to the event stream. */
  appendAttemptLogs(fence: LeaseFence, entries: LogEntry[]): Promise<void>;
  /**
   * Appends one ledger row per record (attempt, task, runner, endpoint, model, tokens, cost, time) and adds
   * them to the attempt's and the task's usage totals (each record is one call), all in one transaction.
   * Fenced like the other attempt calls. Throws InvalidInputError (field `records.N.<field>`) for a
   * negative or fractional token count or a negative or non-finite cost, and changes nothing.
   */
  recordUsage(fence: LeaseFence, records: UsageRecordInput[]): Promise<void>;
  /**
   * Ends the attempt as succeeded and the task as succeeded; unblocks dependents. Repeating the call with
   * the same fence after it succeeded answers the task again and changes nothing (a lost answer is safe to
   * retry); any other call on a finished attempt gets LeaseLostError.
   */
  completeAttempt(fence: LeaseFence, success: AttemptSuccess): Promise<Task>;
  /**
   * Ends the attempt as failed. The task goes to `failed` with a retry time (backoff) when the error is
   * retryable and attempts remain, else to `dead` (and its blocked dependents die too). Like
   * completeAttempt, a repeat with the same fence after the failure answers the task and changes nothing.
   */
  failAttempt(fence: LeaseFence, failure: AttemptFailure): Promise<Task>;
  /** The attempt, or undefined. */
  getAttempt(id: string): Promise<Attempt | undefined>;
  /** A task's attempts, oldest first. */
  listAttempts(taskId: string): Promise<Attempt[]>;

  /** Ends attempts whose lease expired as `lost`, failing their tasks as retryable. Returns how many. */
  expireLeases(): Promise<number>;
  /** Moves `failed` tasks whose retry time has come to `queued`. Returns how many. */
  promoteRetries(): Promise<number>;

  /** Creates a runner, `offline` until it registers. Throws ConflictError when the name or token is taken. */
  createRunner(runner: NewRunner): Promise<Runner>;
  /** The runner holding this token hash, or undefined. */
  findRunnerByTokenHash(tokenHash: string): Promise<Runner | undefined>;
  /** The runner, or undefined. */
  getRunner(id: string): Promise<Runner | undefined>;
  /** Updates what a runner advertises and records a heartbeat. */
  registerRunner(id: string, registration: RunnerRegistration): Promise<Runner>;
  /**
   * Records a heartbeat (and presence, default online), and replaces the runner's dependency health when
   * `options.dependencyHealth` is given.
   */
  heartbeatRunner(id: string, status?: RunnerStatus, options?: RunnerHeartbeatOptions): Promise<Runner>;
  /** Marks runners whose last heartbeat is older than `staleAfterMs` as offline. Returns how many changed. */
  markStaleRunnersOffline(staleAfterMs: number): Promise<number>;
  /**
   * Marks online runners whose last heartbeat is older than `lateAfterMs` (a missed heartbeat) as degraded;
   * their next heartbeat sets their presence again. Returns how many changed.
   */
  markLateRunnersDegraded(lateAfterMs: number): Promise<number>;
  /** Every runner, by name. */
  listRunners(): Promise<Runner[]>;
  /** Deletes a runner record (its token stops working); false when there was none. Its attempts stay. */
  deleteRunner(id: string): Promise<boolean>;

  /**
   * Reads ledger rows newest first, of one task, one attempt, or all. Throws InvalidInputError for a limit
   * outside 1..5000.
   */
  listUsage(query: ListUsageQuery): Promise<UsageRecord[]>;

  /**
   * Creates or replaces the model endpoint of this name. The endpoint comes validated
   * (`modelEndpointSchema`) and reads back exactly as given.
   */
  upsertEndpoint(endpoint: ModelEndpoint): Promise<EndpointUpsert>;
  /** Deletes a model endpoint; false when there was none. */
  deleteEndpoint(name: string): Promise<boolean>;
  /** Every model endpoint, by name. */
  listEndpoints(): Promise<ModelEndpoint[]>;

  /** Reads events in id order. Throws InvalidInputError for a limit outside 1..5000. */
  listEvents(query: ListEventsQuery): Promise<WarrenEvent[]>;
  /** The highest event id, 0 when none. */
  lastEventId(): Promise<number>;
  /** Task counts grouped by lane and state; lanes and states with no task are left out. */
  countTasks(): Promise<TaskCount[]>;
  /**
   * How many tasks are queued, counting no further than `upTo` (the answer is at most `upTo`). why: waking
   * parked claims only needs to know whether there are at least as many ready tasks as waiters, and an
   * exact count of a large queue costs a scan.
   */
  countQueuedTasks(upTo: number): Promise<number>;

  /**
   * Takes the named leadership for `holder` when nobody holds it or the holder's time has run out, or
   * renews it (a new `expiresAt`, same term) when `holder` holds it. Returns the leadership as it stands
   * after the call: `holder` is the caller's exactly when the caller now holds it. Atomic: two callers
   * racing for a free leadership never both get it. Throws InvalidInputError for a `ttlMs` that is not a
   * positive number.
   */
  acquireLeadership(request: LeadershipRequest): Promise<Leadership>;
  /** Gives the leadership up now, if `holder` holds it; false otherwise. */
  releaseLeadership(name: string, holder: string): Promise<boolean>;
  /** The named leadership as recorded (possibly expired), or undefined when nobody ever held it. */
  getLeadership(name: string): Promise<Leadership | undefined>;

  /** Every circuit breaker record, by key. */
  listBreakers(): Promise<BreakerRecord[]>;
  /**
   * Reads the breaker `key` (undefined when there is none), applies `update` and stores what it returns,
   * atomically: concurrent updates of one key, from any number of hubs, each apply to the result of the
   * one before. `update` must be synchronous and pure (it may run more than once); returning undefined
   * changes nothing. Returns the record as it stands after the call. Throws InvalidInputError when the
   * returned record is malformed or names another key.
   */
  updateBreaker(
    key: string,
    update: (current: BreakerRecord | undefined) => BreakerRecord | undefined,
  ): Promise<BreakerRecord | undefined>;

  /**
   * Every record the store holds, in export-file order (see {@link ExportRecord}), the header first, read
   * in pages so memory stays flat however big the store is. Runs outside a transaction: export a store
   * that no hub is writing to for an exact copy.
   */
  exportRecords(): AsyncIterable<ExportRecord>;
  /**
   * Inserts records of an export (in file order, any batch size, header lines ignored) into this store,
   * keeping their ids, times and event ids, in one transaction per call. Throws ConflictError when a record
   * already exists here (imports go into an empty store) and InvalidInputError naming `N.<field>` for a
   * record that is not well formed, changing nothing either way. After the last batch, new events continue
   * after the highest imported event id.
   */
  importRecords(records: ExportRecord[]): Promise<void>;
}
