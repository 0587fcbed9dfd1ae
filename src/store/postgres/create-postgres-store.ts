/**
 * The PostgreSQL store: Warren's queue on a PostgreSQL database that any number of hubs share.
 *
 * Every store call is one transaction on a pooled connection (`create-postgres-pool.ts`). Rows a call
 * changes are locked first (`SELECT ... FOR UPDATE`) and always in the same order: the runner (claims),
 * the hold keys (claims with assignments, claim-assigned-tasks.sql.ts), then tasks, then attempts, so
 * concurrent calls from different hubs wait for each other instead of interleaving; the rare deadlock
 * between two dependency cascades is retried by the writer. Claims use `FOR UPDATE SKIP LOCKED`
 * (claim-tasks.sql.ts) and never wait. One-active-per-key rules are partial unique indexes (one active
 * task per dedup key, one active attempt per task), so no interleaving of hubs can break them. Other hubs
 * hear about writes through LISTEN/NOTIFY, with polling as a fallback (create-postgres-notifications.ts).
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_RETRY_POLICY } from '../../core/backoff.ts';
import { ConflictError, LeaseLostError, TaskNotFoundError, WarrenError } from '../../core/errors.ts';
import { createId, createSecretToken } from '../../core/ids.ts';
import type { Logger } from '../../core/logger.ts';
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
import {
  LEASE_EXPIRED_ERROR,
  checkAssignments,
  checkLeaseMs,
  checkUsageRecords,
  copyAttemptError,
  type CheckedAssignment,
} from '../check-store-input.ts';
import { createStoreSignals } from '../create-store-signals.ts';
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
import { attemptFromRow } from '../rows/attempt-row.ts';
import { parseJsonColumn } from '../rows/parse-json-column.ts';
import type { AttemptRow } from '../rows/database-schema.ts';
import { taskFromRow } from '../rows/task-row.ts';
import type { Claim, ClaimRequest, EnqueueResult, Store, StoreOptions } from '../store.ts';
import { activeAttemptCondition, terminalTaskCondition } from './active-attempt-states.ts';
import {
  claimAssignedTasksSql,
  countHoldersSql,
  lockAssignedTasksSql,
  lockHoldsSql,
} from './claim-assigned-tasks.sql.ts';
import { claimTasksSql } from './claim-tasks.sql.ts';
import { createCompileOnlyPostgresKysely } from './compile-only-kysely.ts';
import { createPostgresEndpointOperations } from './create-postgres-endpoint-operations.ts';
import { createPostgresExportOperations } from './create-postgres-export-operations.ts';
import { createPostgresFleetOperations } from './create-postgres-fleet-operations.ts';
import { createPostgresLeadershipOperations } from './create-postgres-leadership-operations.ts';
import { createPostgresNotifications } from './create-postgres-notifications.ts';
import { createPostgresPool, quoteIdentifier } from './create-postgres-pool.ts';
import { createPostgresReads } from './create-postgres-reads.ts';
import { createPostgresRunnerOperations } from './create-postgres-runner-operations.ts';
import { createPostgresWriter, type PostgresWriteScope } from './create-postgres-writer.ts';
import { migratePostgres } from './migrate-postgres.ts';
import { postgresMigrations } from './migrations/postgres-migrations.ts';
import { RetryTransactionError, sqlStateOf } from './postgres-errors.ts';
import type { PostgresTaskRow } from './postgres-schema.ts';
import type { PostgresStoreContext } from './postgres-store-context.ts';

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions extends StoreOptions {
  /** `postgres://user:password@host:port/database`. */
  connectionString: string;
  /** Schema holding Warren's tables (created by `migrate()` when missing); default `public`. */
  schema?: string;
  /** Most pooled connections; default 10. */
  maxConnections?: number;
  /** Longest wait for a connection; default 5 s. */
  connectTimeoutMs?: number;
  /** Longest wait for one statement's answer before its connection is given up as dead; default 15 s. */
  queryTimeoutMs?: number;
  /**
   * How long the server keeps a transaction open when its client goes silent between statements (a hub cut
   * off by a partition), holding its locks; default 5 s.
   */
  idleInTransactionTimeoutMs?: number;
  /** Spacing of the fallback poll for other hubs' writes; default 1 s. */
  pollIntervalMs?: number;
  logger?: Logger;
}

// why: a hub serves long polls that hold no connection while parked, so ten connections carry hundreds
// of runners; several hubs times ten stays well under PostgreSQL's default max_connections of 100.
const defaultMaxConnections = 10;
// why: connecting on a LAN takes milliseconds; 5 s tells "the database is down" quickly enough for a
// request to fail with 503 while a client still waits for it.
const defaultConnectTimeoutMs = 5_000;
// why: Warren's statements take milliseconds; an answer missing for 15 s means a dead connection (a
// network partition leaves it half-open and silent), which is then destroyed and the call fails with 503.
const defaultQueryTimeoutMs = 15_000;
// why: a store call runs its statements back to back, so a transaction idle for 5 s has lost its client;
// the sooner the server ends it, the sooner the locks it holds (the event counter's above all) let other
// hubs write again. Short enough to ride out a partition of one hub, long enough for a stalled event loop.
const defaultIdleInTransactionTimeoutMs = 5_000;
// why: NOTIFY wakes other hubs within milliseconds; the poll only covers notifications lost while the
// listening connection was down, so once a second is plenty and costs one tiny query per hub.
const defaultPollIntervalMs = 1_000;
// why: the HTTP claim route allows at most 256 per call; a larger request is served up to this many.
const maxClaimLimit = 256;

/** The task columns a state change may touch. */
type MutableTaskColumns = Pick<
  PostgresTaskRow,
  | 'state_reason'
  | 'retry_at'
  | 'current_attempt_id'
  | 'result'
  | 'max_attempts'
  | 'attempt_count'
  | 'lease_epoch'
  | 'finished_at'
>;

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

/** An attempt that holds its lease. */
type ActiveAttemptRow = AttemptRow & { state: 'leased' | 'running' | 'verifying' };

/** A claimed task row, with its place in claim order. */
type ClaimedTaskRow = PostgresTaskRow & { claim_number: number };

const updateTaskSql = `UPDATE tasks SET state = $2, state_reason = $3, retry_at = $4, current_attempt_id = $5,
  result = $6, max_attempts = $7, attempt_count = $8, lease_epoch = $9, updated_at = $10, finished_at = $11
  WHERE seq = $1`;
const updateAttemptSql = `UPDATE attempts SET state = $2, lease_expires_at = $3, progress = $4, branch = $5,
  worktree_path = $6, error = $7, verification = $8, result = $9, finished_at = $10 WHERE id = $1`;

/**
 * Inserts a new task with the given columns. ON CONFLICT DO NOTHING: a clash on the idempotency key or
 * the active dedup key index means another call created the task first; the caller then answers that
 * task (see enqueueOne).
 */
function insertTaskSql(columns: readonly string[]): string {
  return `INSERT INTO tasks (${columns.join(', ')})
    VALUES (${columns.map((_, index) => `$${index + 1}`).join(', ')})
    ON CONFLICT DO NOTHING RETURNING *`;
}

/**
 * Connects to PostgreSQL and returns a Store on it. Call `migrate()` before anything else. pg is imported
 * lazily (in the pool), so a deployment on SQLite never loads it. No connection is made until the first
 * call; a database that is down makes calls fail with UnavailableError (HTTP 503), never crash the hub.
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const schema = options.schema ?? 'public';
  const clock = options.clock ?? Date.now;
  const retryPolicy = options.retryPolicy ?? DEFAULT_RETRY_POLICY;
  const random = options.random ?? Math.random;
  const pool = await createPostgresPool({
    connectionString: options.connectionString,
    schema,
    maxConnections: options.maxConnections ?? defaultMaxConnections,
    connectTimeoutMs: options.connectTimeoutMs ?? defaultConnectTimeoutMs,
    queryTimeoutMs: options.queryTimeoutMs ?? defaultQueryTimeoutMs,
    idleInTransactionTimeoutMs: options.idleInTransactionTimeoutMs ?? defaultIdleInTransactionTimeoutMs,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const signals = createStoreSignals();
  const instanceId = randomUUID();
  // One channel per schema, so stores on other schemas of the same database (tests) are not woken.
  const channel = `warren.${schema}`.slice(0, 63);
  const writer = createPostgresWriter({ pool, clock, signals, channel, instanceId, random });
  const notifications = createPostgresNotifications({
    pool,
    channel,
    instanceId,
    signals,
    schema,
    pollIntervalMs: options.pollIntervalMs ?? defaultPollIntervalMs,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  // This store's own commits are announced by the writer; the fallback poll must not announce them again.
  signals.subscribe((signal) => {
    if (signal.kind === 'events') notifications.noteAnnounced(signal.lastEventId);
  });
  const kysely = createCompileOnlyPostgresKysely();
  const context: PostgresStoreContext = {
    pool,
    writer,
    kysely,
    clock,
    selectAll: (query) => pool.query(query.sql, query.parameters),
  };

  async function lockTask(scope: PostgresWriteScope, id: string): Promise<PostgresTaskRow | undefined> {
    const [row] = await scope.client.query<PostgresTaskRow>('SELECT * FROM tasks WHERE id = $1 FOR UPDATE', [
      id,
    ]);
    return row;
  }

  async function requireTask(scope: PostgresWriteScope, id: string): Promise<PostgresTaskRow> {
    const row = await lockTask(scope, id);
    if (row === undefined) throw new TaskNotFoundError(id);
    return row;
  }

  /** Moves a task to `to` (checked against the state machine), writes it and appends `task.state`. */
  async function moveTask(
    scope: PostgresWriteScope,
    row: PostgresTaskRow,
    to: TaskState,
    changes: Partial<MutableTaskColumns>,
    event: { attemptId?: string | null; reason?: string } = {},
  ): Promise<PostgresTaskRow> {
    assertTaskTransition(row.id, row.state, to);
    const next: PostgresTaskRow = { ...row, ...changes, state: to, updated_at: scope.now };
    await scope.client.query(updateTaskSql, [
      next.seq,
      next.state,
      next.state_reason,
      next.retry_at,
      next.current_attempt_id,
      next.result,
      next.max_attempts,
      next.attempt_count,
      next.lease_epoch,
      next.updated_at,
      next.finished_at,
    ]);
    scope.addEvent({
      type: 'task.state',
      taskId: row.id,
      attemptId: event.attemptId ?? null,
      data: taskStateEventData(row.state, to, event.reason),
    });
    if (to === 'queued') scope.markTasksReady();
    return next;
  }

  /** Moves an attempt to `to` (checked), writes it and appends `attempt.state`. */
  async function moveAttempt(
    scope: PostgresWriteScope,
    row: AttemptRow,
    to: AttemptState,
    changes: Partial<MutableAttemptColumns>,
    reason?: string,
  ): Promise<AttemptRow> {
    assertAttemptTransition(row.id, row.state, to);
    const next: AttemptRow = { ...row, ...changes, state: to };
    await writeAttempt(scope, next);
    if (row.holds !== null && !isActiveAttemptState(to)) {
      // The attempt's hold keys are given, so the primary key of attempt_holds finds every row.
      await scope.client.query(
        'DELETE FROM attempt_holds WHERE hold_key = ANY($1::text[]) AND attempt_id = $2',
        [parseJsonColumn<string[]>(row.holds), row.id],
      );
    }
    scope.addEvent({
      type: 'attempt.state',
      taskId: row.task_id,
      attemptId: row.id,
      runnerId: row.runner_id,
      data: attemptStateEventData(row.state, to, row.number, reason),
    });
    return next;
  }

  async function writeAttempt(scope: PostgresWriteScope, row: AttemptRow): Promise<void> {
    await scope.client.query(updateAttemptSql, [
      row.id,
      row.state,
      row.lease_expires_at,
      row.progress,
      row.branch,
      row.worktree_path,
      row.error,
      row.verification,
      row.result,
      row.finished_at,
    ]);
  }

  /**
   * The attempt behind a lease fence, locked, or LeaseLostError; with `lockTask`, its task is locked
   * first (the lock order is task, then attempt). The token is checked first, so a caller without the
   * right token learns nothing about the attempt. A lease past its expiry is refused even before
   * expireLeases has ended it.
   */
  async function requireLease(
    scope: PostgresWriteScope,
    fence: LeaseFence,
    lockTaskToo: boolean,
  ): Promise<{ attempt: ActiveAttemptRow; task: PostgresTaskRow | undefined }> {
    let task: PostgresTaskRow | undefined;
    if (lockTaskToo) {
      const [owner] = await scope.client.query<{ task_id: string }>(
        'SELECT task_id FROM attempts WHERE id = $1',
        [fence.attemptId],
      );
      if (owner === undefined) throw new LeaseLostError(fence.attemptId, 'unknown-attempt');
      task = await lockTask(scope, owner.task_id);
    }
    const [row] = await scope.client.query<AttemptRow>('SELECT * FROM attempts WHERE id = $1 FOR UPDATE', [
      fence.attemptId,
    ]);
    if (row === undefined) throw new LeaseLostError(fence.attemptId, 'unknown-attempt');
    if (!leaseTokenMatches(fence.leaseToken, row.lease_token_hash)) {
      throw new LeaseLostError(fence.attemptId, 'wrong-token');
    }
    if (row.runner_id !== fence.runnerId) throw new LeaseLostError(fence.attemptId, 'wrong-runner');
    switch (row.state) {
      case 'leased':
      case 'running':
      case 'verifying':
        if (row.lease_expires_at < scope.now) throw new LeaseLostError(fence.attemptId, 'expired');
        return { attempt: row as ActiveAttemptRow, task }; // the case labels just checked the state
      case 'lost':
        throw new LeaseLostError(fence.attemptId, 'expired');
      case 'cancelled':
        throw new LeaseLostError(fence.attemptId, 'cancelled');
      case 'succeeded':
      case 'failed':
        throw new LeaseLostError(fence.attemptId, 'finished');
    }
  }

  /** The attempt when this exact fence already ended it with `outcome` (a retried report), else undefined. */
  async function findReplay(
    scope: PostgresWriteScope,
    fence: LeaseFence,
    outcome: 'succeeded' | 'failed',
  ): Promise<AttemptRow | undefined> {
    const [row] = await scope.client.query<AttemptRow>('SELECT * FROM attempts WHERE id = $1', [
      fence.attemptId,
    ]);
    if (row === undefined || row.state !== outcome || row.runner_id !== fence.runnerId) return undefined;
    return leaseTokenMatches(fence.leaseToken, row.lease_token_hash) ? row : undefined;
  }

  /** The blocked tasks waiting for `taskId`, locked, oldest first. */
  async function lockBlockedDependents(
    scope: PostgresWriteScope,
    taskId: string,
  ): Promise<PostgresTaskRow[]> {
    return scope.client.query<PostgresTaskRow>(
      `SELECT task.* FROM task_dependencies AS dependency
        JOIN tasks AS task ON task.id = dependency.task_id
        WHERE dependency.depends_on_id = $1 AND task.state = 'blocked'
        ORDER BY task.seq FOR UPDATE OF task`,
      [taskId],
    );
  }

  /**
   * Queues every blocked dependent of `taskId` whose parents have now all succeeded. Each dependent is
   * locked before its parents are counted, so of two parents finishing at once in two transactions, the
   * second to lock the dependent sees the first's commit.
   */
  async function unblockDependents(scope: PostgresWriteScope, taskId: string): Promise<void> {
    for (const dependent of await lockBlockedDependents(scope, taskId)) {
      const [unfinished] = await scope.client.query<{ count: number }>(
        `SELECT COUNT(*)::integer AS count FROM task_dependencies AS dependency
          JOIN tasks AS parent ON parent.id = dependency.depends_on_id
          WHERE dependency.task_id = $1 AND parent.state <> 'succeeded'`,
        [dependent.id],
      );
      if (unfinished?.count === 0) await moveTask(scope, dependent, 'queued', {});
    }
  }

  /** Kills every blocked task that depends, directly or through other blocked tasks, on `taskId`. */
  async function killBlockedDependents(
    scope: PostgresWriteScope,
    taskId: string,
    parentState: 'dead' | 'cancelled',
  ): Promise<void> {
    const pending: Array<{ parentId: string; parentState: 'dead' | 'cancelled' }> = [
      { parentId: taskId, parentState },
    ];
    for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
      for (const dependent of await lockBlockedDependents(scope, next.parentId)) {
        const reason = `dependency ${next.parentId} is ${next.parentState}`;
        await moveTask(
          scope,
          dependent,
          'dead',
          { state_reason: reason, finished_at: scope.now },
          { reason },
        );
        pending.push({ parentId: dependent.id, parentState: 'dead' });
      }
    }
  }

  /** After an attempt failed or was lost: the task waits for a retry, or dies (and its blocked dependents). */
  async function settleTaskAfterFailure(
    scope: PostgresWriteScope,
    task: PostgresTaskRow,
    error: AttemptError,
    attemptId: string,
  ): Promise<PostgresTaskRow> {
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
        { attemptId, reason: error.message },
      );
    }
    const dead = await moveTask(
      scope,
      task,
      'dead',
      { state_reason: error.message, retry_at: null, current_attempt_id: null, finished_at: scope.now },
      { attemptId, reason: error.message },
    );
    await killBlockedDependents(scope, task.id, 'dead');
    return dead;
  }

  async function findByKeys(
    scope: PostgresWriteScope,
    idempotencyKey: string | undefined,
    dedupKey: string | undefined,
  ): Promise<PostgresTaskRow | undefined> {
    if (idempotencyKey !== undefined) {
      const [row] = await scope.client.query<PostgresTaskRow>(
        'SELECT * FROM tasks WHERE idempotency_key = $1',
        [idempotencyKey],
      );
      if (row !== undefined) return row;
    }
    if (dedupKey !== undefined) {
      const [row] = await scope.client.query<PostgresTaskRow>(
        `SELECT * FROM tasks WHERE dedup_key = $1 AND NOT (${terminalTaskCondition})`,
        [dedupKey],
      );
      if (row !== undefined) return row;
    }
    return undefined;
  }

  /** Creates one task (or finds the one a dedup or idempotency key points at) inside a transaction. */
  async function enqueueOne(
    scope: PostgresWriteScope,
    spec: RoutedTaskSpec,
    idempotencyKey: string | undefined,
    fieldPrefix: string,
  ): Promise<EnqueueResult> {
    const existing = await findByKeys(scope, idempotencyKey, spec.dedupKey);
    if (existing !== undefined) return { task: taskFromRow(existing), created: false };

    let stateById = new Map<string, TaskState>();
    if (spec.dependsOn.length > 0) {
      // FOR SHARE: a parent finishing right now is waited for and then read as finished, and one that
      // finishes after this read waits for this transaction, then finds the new dependent to unblock.
      const parents = await scope.client.query<{ id: string; state: TaskState }>(
        'SELECT id, state FROM tasks WHERE id = ANY($1::text[]) ORDER BY seq FOR SHARE',
        [spec.dependsOn],
      );
      stateById = new Map(parents.map((parent) => [parent.id, parent.state]));
    }
    const { state, stateReason } = initialTaskState(
      spec.dependsOn,
      (parentId) => stateById.get(parentId),
      fieldPrefix,
    );
    const row = newTaskColumns(spec, {
      id: createId('tsk', scope.now),
      state,
      stateReason,
      idempotencyKey,
      now: scope.now,
    });
    const columns = Object.keys(row) as Array<keyof typeof row>;
    const inserted = await scope.client.query<PostgresTaskRow>(
      insertTaskSql(columns),
      columns.map((column) => row[column]),
    );
    if (inserted.length === 0) {
      // A concurrent call holding the same key committed first (the insert waited for it).
      const holder = await findByKeys(scope, idempotencyKey, spec.dedupKey);
      if (holder !== undefined) return { task: taskFromRow(holder), created: false };
      throw new RetryTransactionError('the key holder changed while enqueueing; trying again');
    }
    const task = taskFromRow(inserted[0]!);
    scope.addEvent({ type: 'task.created', taskId: task.id, data: { task } });
    scope.addEvent({
      type: 'task.state',
      taskId: task.id,
      data: taskStateEventData(null, state, stateReason ?? undefined),
    });
    if (spec.dependsOn.length > 0) {
      await scope.client.query(
        `INSERT INTO task_dependencies (task_id, depends_on_id)
          SELECT $1, parent FROM unnest($2::text[]) AS parent ON CONFLICT DO NOTHING`,
        [row.id, spec.dependsOn],
      );
    }
    if (state === 'queued') scope.markTasksReady();
    return { task, created: true };
  }

  /**
   * How many tasks the runner may claim now: `limit`, or what `maxActive` leaves after the attempts it
   * holds (zero or less: none). Claims of one runner take turns (an advisory lock on its id, held to commit), so two of its concurrent
   * requests cannot both see free slots and overfill them.
   */
  async function roomFor(scope: PostgresWriteScope, request: ClaimRequest, limit: number): Promise<number> {
    if (request.maxActive === undefined) return limit;
    await scope.client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `warren.runner.${request.runnerId}`,
    ]);
    const [active] = await scope.client.query<{ count: number }>(
      `SELECT COUNT(*)::integer AS count FROM attempts WHERE runner_id = $1 AND ${activeAttemptCondition}`,
      [request.runnerId],
    );
    return Math.min(limit, request.maxActive - (active?.count ?? 0));
  }

  /** The claim of a task a claim statement leased: its events and its attempt as inserted. */
  function claimOf(
    scope: PostgresWriteScope,
    row: ClaimedTaskRow,
    request: ClaimRequest,
    leaseToken: string,
    assignment: CheckedAssignment | undefined,
  ): Claim {
    const { claim_number: _claimNumber, ...taskRow } = row;
    const attemptId = row.current_attempt_id!;
    scope.addEvent({
      type: 'task.state',
      taskId: row.id,
      attemptId,
      data: '{"from":"queued","to":"leased"}',
    });
    scope.addEvent({
      type: 'attempt.state',
      taskId: row.id,
      attemptId,
      runnerId: request.runnerId,
      data: `{"from":null,"to":"leased","number":${row.attempt_count}}`,
    });
    const attempt: AttemptRow = {
      id: attemptId,
      task_id: row.id,
      runner_id: request.runnerId,
      number: row.attempt_count,
      state: 'leased',
      lease_token_hash: hashLeaseToken(leaseToken),
      fencing_token: row.lease_epoch,
      lease_expires_at: scope.now + Math.ceil(request.leaseMs),
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
    return { task: taskFromRow(taskRow), attempt: attemptFromRow(attempt), leaseToken };
  }

  /**
   * Claims the assigned tasks in their order: each one still queued, whose required capabilities the runner
   * offers and whose holds all have room, until `room` are taken (claim-assigned-tasks.sql.ts).
   */
  async function claimAssigned(
    scope: PostgresWriteScope,
    request: ClaimRequest,
    assignments: readonly CheckedAssignment[],
    room: number,
  ): Promise<Claim[]> {
    const keys = [...new Set(assignments.flatMap((assignment) => assignment.holds.map((hold) => hold.key)))];
    if (keys.length > 0) await scope.client.query(lockHoldsSql, [keys]);
    const open = await scope.client.query<{ seq: number; id: string; position: number }>(
      lockAssignedTasksSql,
      [assignments.map((assignment) => assignment.taskId), request.capabilities],
    );
    if (open.length === 0) return [];
    const holders = new Map<string, number>();
    if (keys.length > 0) {
      const counts = await scope.client.query<{ hold_key: string; count: number }>(countHoldersSql, [keys]);
      for (const count of counts) holders.set(count.hold_key, count.count);
    }
    const chosen: Array<{ seq: number; assignment: CheckedAssignment }> = [];
    for (const task of open) {
      if (chosen.length >= room) break;
      const assignment = assignments[task.position - 1]!;
      if (assignment.holds.some((hold) => (holders.get(hold.key) ?? 0) >= hold.limit)) continue;
      for (const hold of assignment.holds) holders.set(hold.key, (holders.get(hold.key) ?? 0) + 1);
      chosen.push({ seq: task.seq, assignment });
    }
    if (chosen.length === 0) return [];
    const attemptIds = chosen.map(() => createId('att', scope.now));
    const leaseTokens = chosen.map(() => createSecretToken('lease'));
    const heldKeys: string[] = [];
    const heldBy: string[] = [];
    for (const [index, { assignment }] of chosen.entries()) {
      for (const hold of assignment.holds) {
        heldKeys.push(hold.key);
        heldBy.push(attemptIds[index]!);
      }
    }
    const rows = await scope.client.query<ClaimedTaskRow>(claimAssignedTasksSql, [
      chosen.map((task) => task.seq),
      scope.now,
      attemptIds,
      leaseTokens.map(hashLeaseToken),
      request.runnerId,
      Math.ceil(request.leaseMs),
      chosen.map((task) => task.assignment.agent),
      chosen.map((task) => task.assignment.routing),
      chosen.map((task) => task.assignment.holdKeys),
      heldKeys,
      heldBy,
    ]);
    return rows.map((row) =>
      claimOf(
        scope,
        row,
        request,
        leaseTokens[row.claim_number - 1]!,
        chosen[row.claim_number - 1]!.assignment,
      ),
    );
  }

  const store: Store = {
    ...createPostgresReads(context),
    ...createPostgresRunnerOperations(context),
    ...createPostgresEndpointOperations(context),
    ...createPostgresLeadershipOperations(context),
    ...createPostgresExportOperations(context),
    ...createPostgresFleetOperations(context),
    dialect: 'postgres',

    async migrate() {
      await migratePostgres(pool, schema, postgresMigrations, clock());
    },

    async migrationStatus() {
      const [table] = await pool.query<{ exists: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS exists`, [
        `${quoteIdentifier(schema)}.schema_migrations`,
      ]);
      const rows = table?.exists
        ? await pool.query<{ id: number; name: string; applied_at: number }>(
            'SELECT id, name, applied_at FROM schema_migrations',
          )
        : [];
      return compareMigrations(rows, postgresMigrations);
    },

    async ping() {
      try {
        const [row] = await pool.query<{ one: number }>('SELECT 1 AS one');
        return row?.one === 1;
      } catch {
        return false;
      }
    },

    async close() {
      await notifications.stop();
      await pool.close();
    },

    subscribe(listener) {
      notifications.start();
      return signals.subscribe(listener);
    },

    async enqueueTask(spec, enqueueOptions) {
      return writer.write((scope) => enqueueOne(scope, spec, enqueueOptions?.idempotencyKey, ''));
    },

    async enqueueTasks(specs, enqueueOptions) {
      const key = enqueueOptions?.idempotencyKey;
      return writer.write(async (scope) => {
        const results: EnqueueResult[] = [];
        for (const [index, spec] of specs.entries()) {
          results.push(await enqueueOne(scope, spec, key && `${key}#${index}`, `${index}.`));
        }
        return results;
      });
    },

    async cancelTask(id, reason) {
      return writer.write(async (scope) => {
        const task = await requireTask(scope, id);
        assertTaskTransition(id, task.state, 'cancelled');
        const stateReason = reason ?? 'cancelled';
        let cancelledAttemptId: string | undefined;
        if (task.current_attempt_id !== null) {
          const [attempt] = await scope.client.query<AttemptRow>(
            `SELECT * FROM attempts WHERE id = $1 AND ${activeAttemptCondition} FOR UPDATE`,
            [task.current_attempt_id],
          );
          if (attempt !== undefined) {
            await moveAttempt(scope, attempt, 'cancelled', { finished_at: scope.now }, stateReason);
            cancelledAttemptId = attempt.id;
          }
        }
        const cancelled = await moveTask(
          scope,
          task,
          'cancelled',
          { state_reason: stateReason, retry_at: null, current_attempt_id: null, finished_at: scope.now },
          cancelledAttemptId === undefined
            ? { reason: stateReason }
            : { attemptId: cancelledAttemptId, reason: stateReason },
        );
        await killBlockedDependents(scope, id, 'cancelled');
        return taskFromRow(cancelled);
      });
    },

    async retryTask(id) {
      return writer.write(async (scope) => {
        const task = await requireTask(scope, id);
        const parents = await scope.client.query<{ id: string; state: TaskState }>(
          `SELECT parent.id, parent.state FROM task_dependencies AS dependency
            JOIN tasks AS parent ON parent.id = dependency.depends_on_id
            WHERE dependency.task_id = $1 ORDER BY parent.seq FOR SHARE OF parent`,
          [id],
        );
        const to = retryTarget(task, parents);
        // The active dedup key index decides whether the key is free: a savepoint keeps the transaction
        // usable after a clash, to name the holder.
        await scope.client.query('SAVEPOINT retry_task');
        try {
          const retried = await moveTask(scope, task, to, {
            state_reason: null,
            retry_at: null,
            finished_at: null,
            result: null,
            max_attempts: Math.max(task.max_attempts, task.attempt_count + 1),
          });
          return taskFromRow(retried);
        } catch (error) {
          if (sqlStateOf(error) !== '23505' || task.dedup_key === null) throw error;
          await scope.client.query('ROLLBACK TO SAVEPOINT retry_task');
          const holder = await findByKeys(scope, undefined, task.dedup_key);
          throw new ConflictError(
            `dedup key "${task.dedup_key}" is held by active task ${holder?.id ?? '(another task)'}`,
          );
        }
      });
    },

    async claimTasks(request) {
      if (!Number.isInteger(request.limit) || request.limit < 1) return [];
      checkLeaseMs(request.leaseMs);
      const limit = Math.min(request.limit, maxClaimLimit);
      if (request.assignments !== undefined) {
        const assignments = checkAssignments(request.assignments);
        return writer.write(async (scope) => {
          const room = await roomFor(scope, request, limit);
          return room <= 0 ? [] : claimAssigned(scope, request, assignments, room);
        });
      }
      return writer.write(async (scope) => {
        const room = await roomFor(scope, request, limit);
        if (room <= 0) return [];
        const attemptIds: string[] = [];
        const leaseTokens: string[] = [];
        for (let index = 0; index < room; index += 1) {
          attemptIds.push(createId('att', scope.now));
          leaseTokens.push(createSecretToken('lease'));
        }
        const rows = await scope.client.query<ClaimedTaskRow>(claimTasksSql, [
          request.capabilities,
          room,
          scope.now,
          attemptIds,
          leaseTokens.map(hashLeaseToken),
          request.runnerId,
          Math.ceil(request.leaseMs),
        ]);
        return rows.map((row) => claimOf(scope, row, request, leaseTokens[row.claim_number - 1]!, undefined));
      });
    },

    async heartbeatAttempt(fence, heartbeat) {
      checkLeaseMs(heartbeat.leaseMs);
      return writer.write(async (scope) => {
        const { attempt } = await requireLease(scope, fence, false);
        const next: AttemptRow = {
          ...attempt,
          lease_expires_at: scope.now + Math.ceil(heartbeat.leaseMs),
          progress: heartbeat.message ?? attempt.progress,
        };
        await writeAttempt(scope, next);
        if (heartbeat.message !== undefined) addProgressEvent(scope, attempt, heartbeat.message);
        return attemptFromRow(next);
      });
    },

    async setAttemptPhase(fence, phase) {
      return writer.write(async (scope) => {
        const { attempt, task } = await requireLease(scope, fence, true);
        const changes: Partial<MutableAttemptColumns> = {
          branch: phase.branch ?? attempt.branch,
          worktree_path: phase.worktreePath ?? attempt.worktree_path,
          progress: phase.message ?? attempt.progress,
        };
        let next: AttemptRow;
        if (attempt.state === phase.phase) {
          // A repeated report of the current phase (a retried HTTP call) only updates the details.
          next = { ...attempt, ...changes };
          await writeAttempt(scope, next);
        } else {
          next = await moveAttempt(scope, attempt, phase.phase, changes);
          await moveTask(scope, task!, phase.phase, {}, { attemptId: attempt.id });
        }
        if (phase.message !== undefined) addProgressEvent(scope, attempt, phase.message);
        return attemptFromRow(next);
      });
    },

    async appendAttemptLogs(fence, entries) {
      await writer.write(async (scope) => {
        const { attempt } = await requireLease(scope, fence, false);
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
      await writer.write(async (scope) => {
        const { attempt } = await requireLease(scope, fence, true);
        if (records.length > 0) {
          await scope.client.query(
            `INSERT INTO usage_records (attempt_id, task_id, runner_id, endpoint, model, input_tokens, output_tokens,
              cost_usd, at)
             SELECT $1, $2, $3, record.endpoint, record.model, record.input_tokens, record.output_tokens,
              record.cost_usd, $4
             FROM unnest($5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::double precision[])
              WITH ORDINALITY AS record (endpoint, model, input_tokens, output_tokens, cost_usd, position)
             ORDER BY record.position`,
            [
              attempt.id,
              attempt.task_id,
              attempt.runner_id,
              scope.now,
              records.map((record) => record.endpoint),
              records.map((record) => record.model),
              records.map((record) => record.inputTokens),
              records.map((record) => record.outputTokens),
              records.map((record) => record.costUsd),
            ],
          );
        }
        const added = addUsage(emptyUsageTotals(), records);
        const totals = [added.inputTokens, added.outputTokens, added.costUsd, added.calls];
        const addTotals = `SET usage_input_tokens = usage_input_tokens + $1, usage_output_tokens = usage_output_tokens + $2,
          usage_cost_usd = usage_cost_usd + $3, usage_calls = usage_calls + $4`;
        await scope.client.query(`UPDATE attempts ${addTotals} WHERE id = $5`, [...totals, attempt.id]);
        await scope.client.query(`UPDATE tasks ${addTotals} WHERE id = $5`, [...totals, attempt.task_id]);
      });
    },

    async completeAttempt(fence, success) {
      return writer.write(async (scope) => {
        const replayed = await findReplay(scope, fence, 'succeeded');
        if (replayed) return taskFromRow(await requireTask(scope, replayed.task_id));
        const { attempt, task } = await requireLease(scope, fence, true);
        if (task === undefined || task.state !== attempt.state) {
          throw new WarrenError(
            'internal',
            `task ${attempt.task_id} is not ${attempt.state} like its active attempt`,
          );
        }
        const result = JSON.stringify(success.result);
        await moveAttempt(scope, attempt, 'succeeded', {
          result,
          verification: JSON.stringify(success.verification),
          branch: attempt.branch ?? success.result.branch,
          finished_at: scope.now,
        });
        const succeeded = await moveTask(
          scope,
          task,
          'succeeded',
          { result, state_reason: null, retry_at: null, current_attempt_id: null, finished_at: scope.now },
          { attemptId: attempt.id },
        );
        await unblockDependents(scope, attempt.task_id);
        return taskFromRow(succeeded);
      });
    },

    async failAttempt(fence, failure) {
      return writer.write(async (scope) => {
        const replayed = await findReplay(scope, fence, 'failed');
        if (replayed) return taskFromRow(await requireTask(scope, replayed.task_id));
        const { attempt, task } = await requireLease(scope, fence, true);
        const error = copyAttemptError(failure.error);
        await moveAttempt(
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
        return taskFromRow(await settleTaskAfterFailure(scope, task!, error, attempt.id));
      });
    },

    async expireLeases() {
      return writer.write(async (scope) => {
        const expired = await scope.client.query<{ id: string; task_id: string }>(
          `SELECT id, task_id FROM attempts WHERE ${activeAttemptCondition} AND lease_expires_at < $1
            ORDER BY lease_expires_at, id`,
          [scope.now],
        );
        let count = 0;
        for (const candidate of expired) {
          // SKIP LOCKED: a task whose runner is reporting right now is left to that report (it may be a
          // completion just in time); if the lease is still lapsed, the next pass ends it.
          const [task] = await scope.client.query<PostgresTaskRow>(
            'SELECT * FROM tasks WHERE id = $1 FOR UPDATE SKIP LOCKED',
            [candidate.task_id],
          );
          if (task === undefined) continue;
          const [attempt] = await scope.client.query<AttemptRow>(
            `SELECT * FROM attempts WHERE id = $1 AND ${activeAttemptCondition} AND lease_expires_at < $2 FOR UPDATE`,
            [candidate.id, scope.now],
          );
          if (attempt === undefined) continue;
          await moveAttempt(
            scope,
            attempt,
            'lost',
            { error: JSON.stringify(LEASE_EXPIRED_ERROR), finished_at: scope.now },
            LEASE_EXPIRED_ERROR.message,
          );
          await settleTaskAfterFailure(scope, task, LEASE_EXPIRED_ERROR, attempt.id);
          count += 1;
        }
        return count;
      });
    },

    async promoteRetries() {
      return writer.write(async (scope) => {
        const due = await scope.client.query<PostgresTaskRow>(
          `SELECT * FROM tasks WHERE state = 'failed' AND retry_at <= $1 ORDER BY retry_at, seq
            FOR UPDATE SKIP LOCKED`,
          [scope.now],
        );
        for (const task of due) await moveTask(scope, task, 'queued', { retry_at: null, state_reason: null });
        return due.length;
      });
    },
  };
  return store;
}

/** Appends `attempt.progress`. */
function addProgressEvent(scope: PostgresWriteScope, attempt: AttemptRow, message: string): void {
  scope.addEvent({
    type: 'attempt.progress',
    taskId: attempt.task_id,
    attemptId: attempt.id,
    runnerId: attempt.runner_id,
    data: { message },
  });
}
