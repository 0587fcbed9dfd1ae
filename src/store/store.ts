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

/** The queue-level operations of Warren's storage. */
export interface Store {
  /** Which database this store uses. */
  readonly dialect: 'sqlite' | 'postgres';

  /** Applies pending numbered migrations. Safe to call on every start. */
  migrate(): Promise<void>;
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
   */
  claimTasks(request: ClaimRequest): Promise<Claim[]>;
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
  /** Records a heartbeat (and presence, default online). */
  heartbeatRunner(id: string, status?: RunnerStatus): Promise<Runner>;
  /** Marks runners whose last heartbeat is older than `staleAfterMs` as offline. Returns how many changed. */
  markStaleRunnersOffline(staleAfterMs: number): Promise<number>;
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
}
