/**
 * The SQLite store: Warren's queue on one SQLite file, for single-host deployments and tests.
 *
 * One better-sqlite3 connection does everything. Every write is one synchronous immediate transaction
 * (`createSqliteWriter`), so store calls are atomic and strictly ordered without row locks, and two claims
 * can never see the same queued row. Reads run directly on the same connection.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { DEFAULT_RETRY_POLICY } from '../../core/backoff.ts';
import {
  ConflictError,
  LeaseLostError,
  TaskNotFoundError,
  UnavailableError,
  WarrenError,
} from '../../core/errors.ts';
import { createId, createSecretToken } from '../../core/ids.ts';
import {
  assertAttemptTransition,
  assertTaskTransition,
  isActiveAttemptState,
} from '../../core/task-state.ts';
import {
  type AttemptError,
  type AttemptState,
  type LeaseFence,
  type RoutedTaskSpec,
  type TaskState,
} from '../../core/types.ts';
import { addUsage, emptyUsageTotals } from '../../core/usage.ts';
import { createStoreSignals } from '../create-store-signals.ts';
import {
  LEASE_EXPIRED_ERROR,
  checkAssignments,
  checkLeaseMs,
  checkUsageRecords,
  copyAttemptError,
  type CheckedAssignment,
} from '../check-store-input.ts';
import { decideAfterFailure } from '../decide-after-failure.ts';
import { compareMigrations } from '../migration-status.ts';
import {
  attemptStateEventData,
  initialTaskState,
  newTaskColumns,
  retryTarget,
  taskStateEventData,
} from '../task-transitions.ts';
import { hashLeaseToken, leaseTokenMatches } from '../lease-token.ts';
import type { Claim, ClaimRequest, EnqueueResult, Store, StoreOptions } from '../store.ts';
import { attemptFromRow } from '../rows/attempt-row.ts';
import { parseJsonColumn } from '../rows/parse-json-column.ts';
import { claimTasksSql, queuedCapabilitySetsSql } from './claim-tasks.sql.ts';
import { createCompileOnlyKysely, type SqliteQuery } from './compile-only-kysely.ts';
import { createQueuedCapabilitySets } from './create-queued-capability-sets.ts';
import { createSqliteEndpointOperations } from './create-sqlite-endpoint-operations.ts';
import { createSqliteExportOperations } from './create-sqlite-export-operations.ts';
import { createSqliteFleetOperations } from './create-sqlite-fleet-operations.ts';
import { createSqliteLeadershipOperations } from './create-sqlite-leadership-operations.ts';
import { createSqliteReads } from './create-sqlite-reads.ts';
import { createSqliteRunnerOperations } from './create-sqlite-runner-operations.ts';
import { createSqliteWriter, type WriteScope } from './create-sqlite-writer.ts';
import { createTaskStateCounts } from './create-task-state-counts.ts';
import type { AttemptRow, TaskRow } from '../rows/database-schema.ts';
import { migrateSqlite } from './migrate-sqlite.ts';
import { sqliteMigrations } from './migrations/sqlite-migrations.ts';
import { sqliteStatements } from './sqlite-statements.ts';
import type { SqliteStoreContext } from './sqlite-store-context.ts';
import { createStatementCache } from './statement-cache.ts';
import { taskFromRow } from '../rows/task-row.ts';

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions extends StoreOptions {
  /** Path of the database file (created when missing), or `:memory:` for a private in-memory database. */
  filename: string;
}

// why: at start the file may still be held by a hub that is shutting down, or briefly by a backup; waiting
// 5 s rides that out, and is still short enough to report a file that another live hub holds quickly.
const busyTimeoutMs = 5_000;
// why: 64 MiB of page cache keeps the claim index and the hot end of the tasks table in memory even with a
// million queued tasks; SQLite's default (2 MiB) would re-read pages from the OS on every claim.
const cacheSizeKibibytes = 64 * 1024;

// why: the HTTP claim route allows at most 256 per call; a larger request is served up to this many.
const maxClaimLimit = 256;

/** The task columns a state change may touch. */
type MutableTaskColumns = Pick<
  TaskRow,
  | 'state_reason'
  | 'retry_at'
  | 'current_attempt_id'
  | 'result'
  | 'max_attempts'
  | 'attempt_count'
  | 'lease_epoch'
  | 'finished_at'
>;

/** What the claim query returns for each task it picks. */
interface QueueHead {
  seq: number;
  id: string;
  attempt_count: number;
  lane_rank: number;
  priority: number;
}

/** Claim order: lane (high first), then priority (higher first), then age. */
function compareClaimOrder(left: QueueHead, right: QueueHead): number {
  return left.lane_rank - right.lane_rank || right.priority - left.priority || left.seq - right.seq;
}

/** An attempt that holds its lease. */
type ActiveAttemptRow = AttemptRow & { state: 'leased' | 'running' | 'verifying' };

/** The attempt columns a call may touch. */
type MutableAttemptColumns = Pick<
  AttemptRow,
  | 'lease_expires_at'
  | 'progress'
  | 'branch'
  | 'worktree_path'
  | 'error'
  | 'verification'
  | 'result'
  | 'finished_at'
>;

/**
 * Opens (creating if needed) the SQLite database at `options.filename` and returns a Store on it. Call
 * `migrate()` before anything else. better-sqlite3 is imported here, lazily, so that a deployment that
 * never uses SQLite never loads the native module.
 */
export async function createSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const { default: openDatabase } = await import('better-sqlite3');
  const database: BetterSqlite3.Database = new openDatabase(options.filename, { timeout: busyTimeoutMs });
  try {
    database.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // why EXCLUSIVE: this store must be the only process using its file (the task counts, the next event id
    // and the signals to subscribers live in this process), so it takes the lock at first use and keeps it:
    // a second hub on the same file fails here instead of silently interleaving. Set before WAL so that the
    // WAL index lives in this process's memory: no -shm file, and no file locking on every transaction
    // (about a tenth of the cost of a claim and completion).
    database.pragma('locking_mode = EXCLUSIVE');
    // why WAL: a commit is one append to the log; NORMAL: in WAL mode a crash of the process loses nothing
    // and a power cut can lose only the last commits, never corrupt the file.
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    database.pragma(`cache_size = -${cacheSizeKibibytes}`);
    // Takes the lock now (the pragmas above are lazy), so a file in use is reported by the factory.
    database.prepare('SELECT COUNT(*) FROM sqlite_schema').get();
  } catch (error) {
    database.close();
    if (isSqliteBusy(error)) {
      throw new UnavailableError(
        `database ${options.filename} is in use by another process (is another Warren hub running on it?)`,
        { cause: error },
      );
    }
    throw error;
  }

  const clock = options.clock ?? Date.now;
  const retryPolicy = options.retryPolicy ?? DEFAULT_RETRY_POLICY;
  const random = options.random ?? Math.random;
  const statements = createStatementCache(database);
  const signals = createStoreSignals();
  const writer = createSqliteWriter({ database, statements, clock, signals });
  const claimSqlByLimit: string[] = [];
  const kysely = createCompileOnlyKysely();
  const taskStateCounts = createTaskStateCounts(() =>
    selectAll<{ state: TaskState; lane_rank: number; count: number }>(
      kysely
        .selectFrom('tasks')
        .select(['state', 'lane_rank'])
        .select((expression) => expression.fn.countAll<number>().as('count'))
        .groupBy(['state', 'lane_rank'])
        .compile(),
    ),
  );

  const queuedCapabilitySets = createQueuedCapabilitySets(
    () => statement(queuedCapabilitySetsSql).pluck().all() as string[],
  );

  /** Notes a task that became queued: claimers are told, and its requirement set is claimable. */
  function markQueued(scope: WriteScope, row: Pick<TaskRow, 'required_capabilities'>): void {
    scope.markTasksReady();
    scope.afterCommit(() => queuedCapabilitySets.add(row.required_capabilities));
  }

  /** Updates the task counts once the current transaction has committed. */
  function countMove(scope: WriteScope, laneRank: number, from: TaskState | null, to: TaskState): void {
    scope.afterCommit(() => taskStateCounts.move(laneRank, from, to));
  }

  function statement(sqlText: string): BetterSqlite3.Statement {
    return statements.get(sqlText);
  }

  function selectAll<Row>(query: SqliteQuery): Row[] {
    return statement(query.sql).all(...query.parameters) as Row[];
  }

  function findTaskRow(id: string): TaskRow | undefined {
    return statement(sqliteStatements.selectTaskById).get(id) as TaskRow | undefined;
  }

  function requireTaskRow(id: string): TaskRow {
    const row = findTaskRow(id);
    if (row === undefined) throw new TaskNotFoundError(id);
    return row;
  }

  /**
   * Moves a task to `to` (checked against the state machine), appends `task.state` and writes the task,
   * recording the event (and the attempt's, when the change goes with one) in its history.
   */
  function moveTask(
    scope: WriteScope,
    row: TaskRow,
    to: TaskState,
    changes: Partial<MutableTaskColumns>,
    event: { attemptId?: string | null; attemptEventId?: number; reason?: string } = {},
  ): TaskRow {
    assertTaskTransition(row.id, row.state, to);
    const eventId = scope.addEvent({
      type: 'task.state',
      taskId: row.id,
      attemptId: event.attemptId ?? null,
      data: taskStateEventData(row.state, to, event.reason),
    });
    const history =
      event.attemptEventId === undefined
        ? appendEventIds(row.history_event_ids, eventId)
        : appendEventIds(row.history_event_ids, event.attemptEventId, eventId);
    const next: TaskRow = {
      ...row,
      ...changes,
      state: to,
      updated_at: scope.now,
      history_event_ids: history,
    };
    statement(sqliteStatements.updateTask).run(next);
    if (to === 'queued') markQueued(scope, row);
    countMove(scope, row.lane_rank, row.state, to);
    return next;
  }

  /**
   * Moves an attempt to `to` (checked), writes it and appends `attempt.state`. Returns the event id, which
   * the caller passes to the moveTask that always follows, so the event lands in the task's history.
   */
  function moveAttempt(
    scope: WriteScope,
    row: AttemptRow,
    to: AttemptState,
    changes: Partial<MutableAttemptColumns>,
    reason?: string,
  ): { row: AttemptRow; eventId: number } {
    assertAttemptTransition(row.id, row.state, to);
    const next: AttemptRow = { ...row, ...changes, state: to };
    statement(sqliteStatements.updateAttempt).run(next);
    if (!isActiveAttemptState(to)) releaseHolds(row);
    const eventId = scope.addEvent({
      type: 'attempt.state',
      taskId: row.task_id,
      attemptId: row.id,
      runnerId: row.runner_id,
      data: attemptStateEventData(row.state, to, row.number, reason),
    });
    return { row: next, eventId };
  }

  /**
   * The attempt behind a lease fence, or LeaseLostError. The token is checked first, so a caller without
   * the right token learns nothing about the attempt. A lease past its expiry is refused even before
   * expireLeases has ended it: the runner's time is up either way.
   */
  function requireLease(fence: LeaseFence, now: number): ActiveAttemptRow {
    const row = statement(sqliteStatements.selectAttemptById).get(fence.attemptId) as AttemptRow | undefined;
    if (row === undefined) throw new LeaseLostError(fence.attemptId, 'unknown-attempt');
    if (!leaseTokenMatches(fence.leaseToken, row.lease_token_hash)) {
      throw new LeaseLostError(fence.attemptId, 'wrong-token');
    }
    if (row.runner_id !== fence.runnerId) throw new LeaseLostError(fence.attemptId, 'wrong-runner');
    switch (row.state) {
      case 'leased':
      case 'running':
      case 'verifying':
        if (row.lease_expires_at < now) throw new LeaseLostError(fence.attemptId, 'expired');
        return row as ActiveAttemptRow; // the case labels just checked the state
      case 'lost':
        throw new LeaseLostError(fence.attemptId, 'expired');
      case 'cancelled':
        throw new LeaseLostError(fence.attemptId, 'cancelled');
      case 'succeeded':
      case 'failed':
        throw new LeaseLostError(fence.attemptId, 'finished');
    }
  }

  /**
   * The attempt when this exact fence already ended it with `outcome`, else undefined. why: a runner whose
   * complete or fail answer was lost retries the call; only the lease holder could have ended the attempt
   * so, so repeating the same report must answer as before instead of refusing it as a lost lease.
   */
  function findReplay(fence: LeaseFence, outcome: 'succeeded' | 'failed'): AttemptRow | undefined {
    const row = statement(sqliteStatements.selectAttemptById).get(fence.attemptId) as AttemptRow | undefined;
    if (row === undefined || row.state !== outcome || row.runner_id !== fence.runnerId) return undefined;
    return leaseTokenMatches(fence.leaseToken, row.lease_token_hash) ? row : undefined;
  }

  /** Queues every blocked dependent of `taskId` whose parents have now all succeeded. */
  function unblockDependents(scope: WriteScope, taskId: string): void {
    const dependents = statement(sqliteStatements.selectBlockedDependents).all(taskId) as TaskRow[];
    for (const dependent of dependents) {
      const unfinished = statement(sqliteStatements.countUnfinishedParents)
        .pluck()
        .get(dependent.id) as number;
      if (unfinished === 0) moveTask(scope, dependent, 'queued', {});
    }
  }

  /**
   * Kills every blocked task that depends, directly or through other blocked tasks, on `taskId`, which has
   * just died or been cancelled. Each one's reason names the parent it was waiting for.
   */
  function killBlockedDependents(scope: WriteScope, taskId: string, parentState: 'dead' | 'cancelled'): void {
    const pending: Array<{ parentId: string; parentState: 'dead' | 'cancelled' }> = [
      { parentId: taskId, parentState },
    ];
    for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
      const dependents = statement(sqliteStatements.selectBlockedDependents).all(next.parentId) as TaskRow[];
      for (const dependent of dependents) {
        moveTask(
          scope,
          dependent,
          'dead',
          { state_reason: `dependency ${next.parentId} is ${next.parentState}`, finished_at: scope.now },
          { reason: `dependency ${next.parentId} is ${next.parentState}` },
        );
        pending.push({ parentId: dependent.id, parentState: 'dead' });
      }
    }
  }

  /** After an attempt failed or was lost: the task waits for a retry, or dies (and its blocked dependents). */
  function settleTaskAfterFailure(
    scope: WriteScope,
    task: TaskRow,
    error: AttemptError,
    attempt: { attemptId: string; attemptEventId: number },
  ): TaskRow {
    const outcome = decideAfterFailure({
      attemptCount: task.attempt_count,
      maxAttempts: task.max_attempts,
      error,
      now: scope.now,
      retryPolicy,
      random,
    });
    if (outcome.state === 'failed') {
      return moveTask(
        scope,
        task,
        'failed',
        { retry_at: outcome.retryAt, state_reason: error.message, current_attempt_id: null },
        { ...attempt, reason: error.message },
      );
    }
    const dead = moveTask(
      scope,
      task,
      'dead',
      { state_reason: error.message, retry_at: null, current_attempt_id: null, finished_at: scope.now },
      { ...attempt, reason: error.message },
    );
    killBlockedDependents(scope, task.id, 'dead');
    return dead;
  }

  /** Creates one task (or finds the one a dedup or idempotency key points at) inside a transaction. */
  function enqueueOne(
    scope: WriteScope,
    spec: RoutedTaskSpec,
    idempotencyKey: string | undefined,
    fieldPrefix: string,
  ): EnqueueResult {
    if (idempotencyKey !== undefined) {
      const existing = statement(sqliteStatements.selectTaskByIdempotencyKey).get(idempotencyKey) as
        TaskRow | undefined;
      if (existing !== undefined) return { task: taskFromRow(existing), created: false };
    }
    if (spec.dedupKey !== undefined) {
      const existing = statement(sqliteStatements.selectActiveTaskByDedupKey).get(spec.dedupKey) as
        TaskRow | undefined;
      if (existing !== undefined) return { task: taskFromRow(existing), created: false };
    }

    const { state, stateReason } = initialTaskState(
      spec.dependsOn,
      (parentId) =>
        statement(sqliteStatements.selectTaskStateById).pluck().get(parentId) as TaskState | undefined,
      fieldPrefix,
    );
    const { now } = scope;
    const columns = newTaskColumns(spec, {
      id: createId('tsk', now),
      state,
      stateReason,
      idempotencyKey,
      now,
    });
    const row: Omit<TaskRow, 'seq'> = {
      ...columns,
      // Canonical JSON (sorted, no duplicates): tasks needing the same set share one claim index key.
      required_capabilities: JSON.stringify(columns.required_capabilities),
      attempt_ids: '[]',
      history_event_ids: '[]',
    };
    // The task as it will read back (seq is not part of it), for the task.created event and the answer.
    const task = taskFromRow({ ...row, seq: 0 });
    const createdEventId = scope.addEvent({ type: 'task.created', taskId: task.id, data: { task } });
    const stateEventId = scope.addEvent({
      type: 'task.state',
      taskId: task.id,
      data: taskStateEventData(null, state, stateReason ?? undefined),
    });
    row.history_event_ids = `[${createdEventId},${stateEventId}]`;
    statement(sqliteStatements.insertTask).run(row);
    for (const parentId of spec.dependsOn) statement(sqliteStatements.insertDependency).run(row.id, parentId);
    if (state === 'queued') markQueued(scope, row);
    countMove(scope, row.lane_rank, null, state);
    return { task, created: true };
  }

  /**
   * How many tasks the runner may claim now: `limit`, or what `maxActive` leaves after the attempts it
   * holds (zero or less: none). Call inside the claim's transaction, so that the count cannot go stale.
   */
  function roomFor(request: ClaimRequest, limit: number): number {
    if (request.maxActive === undefined) return limit;
    const active = statement(sqliteStatements.countActiveAttemptsOfRunner)
      .pluck()
      .get(request.runnerId) as number;
    return Math.min(limit, request.maxActive - active);
  }

  /**
   * Leases a queued task to the runner: the task row with its two events, and a new attempt (recording
   * what the assignment decided, and taking its holds, when there is one).
   */
  function leaseTask(
    scope: WriteScope,
    candidate: Pick<TaskRow, 'seq' | 'id' | 'attempt_count'>,
    request: ClaimRequest,
    assignment: CheckedAssignment | undefined,
  ): Claim {
    const attemptId = createId('att', scope.now);
    const number = candidate.attempt_count + 1;
    const taskEventId = scope.addEvent({
      type: 'task.state',
      taskId: candidate.id,
      attemptId,
      data: '{"from":"queued","to":"leased"}',
    });
    const attemptEventId = scope.addEvent({
      type: 'attempt.state',
      taskId: candidate.id,
      attemptId,
      runnerId: request.runnerId,
      data: `{"from":null,"to":"leased","number":${number}}`,
    });
    const task = statement(sqliteStatements.leaseTask).get({
      attempt_id: attemptId,
      now: scope.now,
      task_event_id: taskEventId,
      attempt_event_id: attemptEventId,
      seq: candidate.seq,
    }) as TaskRow;
    assertTaskTransition(task.id, 'queued', 'leased');
    countMove(scope, task.lane_rank, 'queued', 'leased');
    const leaseToken = createSecretToken('lease');
    const attempt: AttemptRow = {
      id: attemptId,
      task_id: task.id,
      runner_id: request.runnerId,
      number: task.attempt_count,
      state: 'leased',
      lease_token_hash: hashLeaseToken(leaseToken),
      fencing_token: task.lease_epoch,
      lease_expires_at: scope.now + request.leaseMs,
      progress: null,
      branch: null,
      worktree_path: null,
      error: null,
      verification: '[]',
      result: null,
      started_at: scope.now,
      finished_at: null,
      usage_input_tokens: 0,
      usage_output_tokens: 0,
      usage_cost_usd: 0,
      usage_calls: 0,
      agent: assignment?.agent ?? '',
      routing: assignment?.routing ?? null,
      holds: assignment?.holdKeys ?? null,
    };
    if (assignment === undefined) {
      statement(sqliteStatements.insertAttempt).run(
        attempt.id,
        attempt.task_id,
        attempt.runner_id,
        attempt.number,
        attempt.lease_token_hash,
        attempt.fencing_token,
        attempt.lease_expires_at,
        attempt.started_at,
      );
    } else {
      statement(sqliteStatements.insertAssignedAttempt).run(
        attempt.id,
        attempt.task_id,
        attempt.runner_id,
        attempt.number,
        attempt.lease_token_hash,
        attempt.fencing_token,
        attempt.lease_expires_at,
        attempt.started_at,
        attempt.agent,
        attempt.routing,
        attempt.holds,
      );
      for (const hold of assignment.holds) {
        statement(sqliteStatements.insertAttemptHold).run(hold.key, attempt.id);
      }
    }
    return { task: taskFromRow(task), attempt: attemptFromRow(attempt), leaseToken };
  }

  /**
   * Claims the assigned tasks in their order: each one still queued, whose required capabilities the runner
   * offers and whose holds all have room, until `room` are taken. The rest stay as they are. why no locking:
   * every write runs on this one connection, one synchronous transaction at a time, so the holder counts
   * read here cannot change before the claim commits.
   */
  function claimAssigned(
    scope: WriteScope,
    request: ClaimRequest,
    assignments: readonly CheckedAssignment[],
    room: number,
  ): Claim[] {
    const offered = new Set(request.capabilities);
    const claims: Claim[] = [];
    for (const assignment of assignments) {
      if (claims.length >= room) break;
      const task = findTaskRow(assignment.taskId);
      if (task === undefined || task.state !== 'queued') continue;
      const required = parseJsonColumn<string[]>(task.required_capabilities);
      if (!required.every((capability) => offered.has(capability))) continue;
      const full = assignment.holds.some(
        (hold) => (statement(sqliteStatements.countHolders).pluck().get(hold.key) as number) >= hold.limit,
      );
      if (full) continue;
      claims.push(leaseTask(scope, task, request, assignment));
    }
    return claims;
  }

  /** Releases the holds of an attempt that has just finished. */
  function releaseHolds(attempt: Pick<AttemptRow, 'id' | 'holds'>): void {
    if (attempt.holds !== null) statement(sqliteStatements.deleteAttemptHolds).run(attempt.holds, attempt.id);
  }

  const context: SqliteStoreContext = { writer, statement, selectAll, kysely };
  const store: Store = {
    ...createSqliteReads(context, taskStateCounts),
    ...createSqliteRunnerOperations(context),
    ...createSqliteEndpointOperations(context),
    ...createSqliteLeadershipOperations(context),
    ...createSqliteExportOperations(context, { counts: taskStateCounts, queuedCapabilitySets }),
    ...createSqliteFleetOperations(context, queuedCapabilitySets),
    dialect: 'sqlite',

    async migrate() {
      migrateSqlite(database, sqliteMigrations, clock());
    },

    async migrationStatus() {
      const hasTable =
        statement("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'").get() !==
        undefined;
      const rows = hasTable
        ? (statement('SELECT id, name, applied_at FROM schema_migrations').all() as Array<{
            id: number;
            name: string;
            applied_at: number;
          }>)
        : [];
      return compareMigrations(rows, sqliteMigrations);
    },

    async ping() {
      try {
        return statement(sqliteStatements.ping).pluck().get() === 1;
      } catch {
        return false;
      }
    },

    async close() {
      if (database.open) database.close();
    },

    subscribe(listener) {
      return signals.subscribe(listener);
    },

    async enqueueTask(spec, enqueueOptions) {
      return writer.write((scope) => enqueueOne(scope, spec, enqueueOptions?.idempotencyKey, ''));
    },

    async enqueueTasks(specs, enqueueOptions) {
      const key = enqueueOptions?.idempotencyKey;
      return writer.write((scope) =>
        specs.map((spec, index) => enqueueOne(scope, spec, key && `${key}#${index}`, `${index}.`)),
      );
    },

    async cancelTask(id, reason) {
      return writer.write((scope) => {
        const task = requireTaskRow(id);
        assertTaskTransition(id, task.state, 'cancelled');
        const stateReason = reason ?? 'cancelled';
        let attemptEventId: number | undefined;
        if (task.current_attempt_id !== null) {
          const attempt = statement(sqliteStatements.selectAttemptById).get(task.current_attempt_id) as
            AttemptRow | undefined;
          if (attempt !== undefined && isActiveAttemptState(attempt.state)) {
            attemptEventId = moveAttempt(
              scope,
              attempt,
              'cancelled',
              { finished_at: scope.now },
              stateReason,
            ).eventId;
          }
        }
        const cancelled = moveTask(
          scope,
          task,
          'cancelled',
          { state_reason: stateReason, retry_at: null, current_attempt_id: null, finished_at: scope.now },
          attemptEventId === undefined
            ? { reason: stateReason }
            : { attemptId: task.current_attempt_id, attemptEventId, reason: stateReason },
        );
        killBlockedDependents(scope, id, 'cancelled');
        return taskFromRow(cancelled);
      });
    },

    async retryTask(id) {
      return writer.write((scope) => {
        const task = requireTaskRow(id);
        const parents = statement(sqliteStatements.selectParentStates).all(id) as Array<{
          id: string;
          state: TaskState;
        }>;
        const to = retryTarget(task, parents);
        if (task.dedup_key !== null && task.state !== 'failed') {
          const holder = statement(sqliteStatements.selectActiveTaskByDedupKey).get(task.dedup_key) as
            TaskRow | undefined;
          if (holder !== undefined) {
            throw new ConflictError(`dedup key "${task.dedup_key}" is held by active task ${holder.id}`);
          }
        }
        const retried = moveTask(scope, task, to, {
          state_reason: null,
          retry_at: null,
          finished_at: null,
          result: null,
          max_attempts: Math.max(task.max_attempts, task.attempt_count + 1),
        });
        return taskFromRow(retried);
      });
    },

    async claimTasks(request) {
      if (!Number.isInteger(request.limit) || request.limit < 1) return [];
      checkLeaseMs(request.leaseMs);
      const limit = Math.min(request.limit, maxClaimLimit);
      if (request.assignments !== undefined) {
        const assignments = checkAssignments(request.assignments);
        return writer.write((scope) => claimAssigned(scope, request, assignments, roomFor(request, limit)));
      }
      const offered = new Set(request.capabilities);
      let claimSql = claimSqlByLimit[limit];
      if (claimSql === undefined) claimSql = claimSqlByLimit[limit] = claimTasksSql(limit);
      const claimStatement = statement(claimSql);
      return writer.write((scope) => {
        const room = roomFor(request, limit);
        if (room <= 0) return [];
        // The head of each requirement set the runner satisfies, merged in claim order (claim-tasks.sql.ts).
        let candidates: QueueHead[] = [];
        const sets = queuedCapabilitySets.eligible(offered);
        for (const required of sets) {
          const head = claimStatement.all({ required }) as QueueHead[];
          if (head.length === 0) queuedCapabilitySets.remove(required);
          candidates = candidates.length === 0 ? head : candidates.concat(head);
        }
        if (sets.length > 1) candidates = candidates.sort(compareClaimOrder);
        if (candidates.length > room) candidates = candidates.slice(0, room);
        return candidates.map((candidate) => leaseTask(scope, candidate, request, undefined));
      });
    },

    async heartbeatAttempt(fence, heartbeat) {
      checkLeaseMs(heartbeat.leaseMs);
      return writer.write((scope) => {
        const attempt = requireLease(fence, scope.now);
        const next: AttemptRow = {
          ...attempt,
          lease_expires_at: scope.now + heartbeat.leaseMs,
          progress: heartbeat.message ?? attempt.progress,
        };
        statement(sqliteStatements.updateAttempt).run(next);
        if (heartbeat.message !== undefined) addProgressEvent(scope, attempt, heartbeat.message);
        return attemptFromRow(next);
      });
    },

    async setAttemptPhase(fence, phase) {
      return writer.write((scope) => {
        const attempt = requireLease(fence, scope.now);
        const changes: Partial<MutableAttemptColumns> = {
          branch: phase.branch ?? attempt.branch,
          worktree_path: phase.worktreePath ?? attempt.worktree_path,
          progress: phase.message ?? attempt.progress,
        };
        let next: AttemptRow;
        if (attempt.state === phase.phase) {
          // A repeated report of the current phase (a retried HTTP call) only updates the details.
          next = { ...attempt, ...changes };
          statement(sqliteStatements.updateAttempt).run(next);
        } else {
          const task = requireTaskRow(attempt.task_id);
          const moved = moveAttempt(scope, attempt, phase.phase, changes);
          next = moved.row;
          moveTask(scope, task, phase.phase, {}, { attemptId: attempt.id, attemptEventId: moved.eventId });
        }
        if (phase.message !== undefined) addProgressEvent(scope, attempt, phase.message);
        return attemptFromRow(next);
      });
    },

    async appendAttemptLogs(fence, entries) {
      writer.write((scope) => {
        const attempt = requireLease(fence, scope.now);
        for (const entry of entries) {
          scope.addEvent({
            type: 'attempt.log',
            taskId: attempt.task_id,
            attemptId: attempt.id,
            runnerId: attempt.runner_id,
            data: { stream: entry.stream, text: entry.text },
          });
        }
      });
    },

    async recordUsage(fence, records) {
      checkUsageRecords(records);
      writer.write((scope) => {
        const attempt = requireLease(fence, scope.now);
        for (const record of records) {
          statement(sqliteStatements.insertUsageRecord).run(
            attempt.id,
            attempt.task_id,
            attempt.runner_id,
            record.endpoint,
            record.model,
            record.inputTokens,
            record.outputTokens,
            record.costUsd,
            scope.now,
          );
        }
        const added = addUsage(emptyUsageTotals(), records);
        const totals = [added.inputTokens, added.outputTokens, added.costUsd, added.calls];
        statement(sqliteStatements.addAttemptUsage).run(...totals, attempt.id);
        statement(sqliteStatements.addTaskUsage).run(...totals, attempt.task_id);
      });
    },

    async completeAttempt(fence, success) {
      return writer.write((scope) => {
        const replayed = findReplay(fence, 'succeeded');
        if (replayed) return taskFromRow(requireTaskRow(replayed.task_id));
        const attempt = requireLease(fence, scope.now);
        // An active attempt's task is in the same state as the attempt (leased, running or verifying).
        const from: TaskState = attempt.state;
        assertAttemptTransition(attempt.id, attempt.state, 'succeeded');
        assertTaskTransition(attempt.task_id, from, 'succeeded');
        const result = JSON.stringify(success.result);
        statement(sqliteStatements.completeAttempt).run(
          result,
          JSON.stringify(success.verification),
          attempt.branch ?? success.result.branch,
          scope.now,
          attempt.id,
        );
        releaseHolds(attempt);
        // States are fixed words and the number an integer, so the JSON is written directly.
        const attemptEventId = scope.addEvent({
          type: 'attempt.state',
          taskId: attempt.task_id,
          attemptId: attempt.id,
          runnerId: attempt.runner_id,
          data: `{"from":"${attempt.state}","to":"succeeded","number":${attempt.number}}`,
        });
        const taskEventId = scope.addEvent({
          type: 'task.state',
          taskId: attempt.task_id,
          attemptId: attempt.id,
          data: `{"from":"${from}","to":"succeeded"}`,
        });
        const task = statement(sqliteStatements.completeTask).get(
          result,
          scope.now,
          scope.now,
          attemptEventId,
          taskEventId,
          attempt.task_id,
          from,
        ) as TaskRow | undefined;
        if (task === undefined) {
          throw new WarrenError('internal', `task ${attempt.task_id} is not ${from} like its active attempt`);
        }
        countMove(scope, task.lane_rank, from, 'succeeded');
        unblockDependents(scope, attempt.task_id);
        return taskFromRow(task);
      });
    },

    async failAttempt(fence, failure) {
      return writer.write((scope) => {
        const replayed = findReplay(fence, 'failed');
        if (replayed) return taskFromRow(requireTaskRow(replayed.task_id));
        const attempt = requireLease(fence, scope.now);
        const task = requireTaskRow(attempt.task_id);
        const error = copyAttemptError(failure.error);
        const { eventId } = moveAttempt(
          scope,
          attempt,
          'failed',
          {
            error: JSON.stringify(error),
            verification: JSON.stringify(failure.verification),
            branch: failure.branch ?? attempt.branch,
            worktree_path: failure.worktreePath ?? attempt.worktree_path,
            finished_at: scope.now,
          },
          error.message,
        );
        return taskFromRow(
          settleTaskAfterFailure(scope, task, error, { attemptId: attempt.id, attemptEventId: eventId }),
        );
      });
    },

    async expireLeases() {
      return writer.write((scope) => {
        const expired = statement(sqliteStatements.selectExpiredAttempts).all(scope.now) as AttemptRow[];
        for (const attempt of expired) {
          const task = requireTaskRow(attempt.task_id);
          const { eventId } = moveAttempt(
            scope,
            attempt,
            'lost',
            { error: JSON.stringify(LEASE_EXPIRED_ERROR), finished_at: scope.now },
            LEASE_EXPIRED_ERROR.message,
          );
          settleTaskAfterFailure(scope, task, LEASE_EXPIRED_ERROR, {
            attemptId: attempt.id,
            attemptEventId: eventId,
          });
        }
        return expired.length;
      });
    },

    async promoteRetries() {
      // Belt and braces for the in-memory list of claimable requirement sets: this runs every few seconds
      // and costs one index seek per set, so any drift could strand tasks for a moment at most.
      queuedCapabilitySets.reload();
      return writer.write((scope) => {
        const due = statement(sqliteStatements.selectDueRetries).all(scope.now) as TaskRow[];
        for (const task of due) moveTask(scope, task, 'queued', { retry_at: null, state_reason: null });
        return due.length;
      });
    },
  };
  return store;
}

/** `ids` appended to a JSON array of event ids, without parsing it. */
function appendEventIds(history: string, ...ids: number[]): string {
  return history === '[]' ? `[${ids.join(',')}]` : `${history.slice(0, -1)},${ids.join(',')}]`;
}

/** True for SQLite's "database is locked" errors. */
function isSqliteBusy(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/** Appends `attempt.progress`. */
function addProgressEvent(scope: WriteScope, attempt: AttemptRow, message: string): void {
  scope.addEvent({
    type: 'attempt.progress',
    taskId: attempt.task_id,
    attemptId: attempt.id,
    runnerId: attempt.runner_id,
    data: { message },
  });
}
