/**
 * The single write path of the SQLite store: one synchronous transaction per store call, events buffered
 * and inserted in batches at the end of it, and signals sent after it commits.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { EventType } from '../../core/types.ts';
import type { StoreSignals } from '../create-store-signals.ts';
import type { StatementCache } from './statement-cache.ts';

/** An event to append in the current transaction. */
export interface NewEvent {
  type: EventType;
  taskId?: string | null;
  attemptId?: string | null;
  runnerId?: string | null;
  /**
   * The event's data, or the same already serialized as a JSON object. why: the claim and completion
   * events have fixed shapes, and writing their JSON directly skips a stringify on the hot path.
   */
  data: Record<string, unknown> | string;
}

/** What a write can do besides running statements. */
export interface WriteScope {
  /** The clock read once at the start of the transaction; every time the transaction writes is this one. */
  readonly now: number;
  /**
   * Appends an event and returns its id. Events are inserted before the transaction commits, in the order
   * added, with ids given here: the next after the largest committed one, so ids increase in commit order.
   */
  addEvent(event: NewEvent): number;
  /**
   * Notes that the transaction inserted events itself, with ids up to `lastEventId` (an import keeps the
   * ids it is given); events added after this call, in this transaction or later ones, get ids after it.
   * Call it before `addEvent` in the same transaction, whose buffered ids would otherwise collide.
   */
  noteInsertedEvents(lastEventId: number): void;
  /** Notes that some task became `queued`; subscribers hear `tasks-ready` after the commit. */
  markTasksReady(): void;
  /** Runs `action` after the transaction commits (never if it rolls back), before signals are sent. */
  afterCommit(action: () => void): void;
}

/** Runs store writes. */
export interface SqliteWriter {
  /**
   * Runs `work` in one immediate transaction and returns its result. `work` must be synchronous: nothing
   * else can run on the connection until it returns, which is what makes each store call atomic and keeps
   * two claims from ever seeing the same queued row. If `work` throws, everything it did is rolled back
   * and no signal is sent.
   */
  write<Result>(work: (scope: WriteScope) => Result): Result;
}

const eventColumnCount = 7;
// why: 100 rows is 700 bound parameters, far under SQLite's limit of 32,766, and a batch of 1,000 enqueued
// tasks (2,000 events) then needs 20 statements instead of 2,000.
const maxEventsPerInsert = 100;

/** Creates the writer for `database`. */
export function createSqliteWriter(options: {
  database: BetterSqlite3.Database;
  statements: StatementCache;
  clock: () => number;
  signals: StoreSignals;
}): SqliteWriter {
  const { database, statements, clock, signals } = options;
  const inTransaction = database.transaction((work: () => unknown) => work());
  const insertSqlByRowCount: string[] = [];

  function insertEventsSql(rowCount: number): string {
    let sql = insertSqlByRowCount[rowCount];
    if (sql === undefined) {
      const row = `(${new Array<string>(eventColumnCount).fill('?').join(', ')})`;
      sql = `INSERT INTO events (id, type, task_id, attempt_id, runner_id, at, data) VALUES ${new Array<string>(rowCount).fill(row).join(', ')}`;
      insertSqlByRowCount[rowCount] = sql;
    }
    return sql;
  }

  /** Inserts the buffered events (flattened, seven values each). */
  function insertEvents(values: unknown[]): void {
    const total = values.length / eventColumnCount;
    for (let start = 0; start < total; start += maxEventsPerInsert) {
      const count = Math.min(maxEventsPerInsert, total - start);
      const chunk =
        count === total ? values : values.slice(start * eventColumnCount, (start + count) * eventColumnCount);
      statements.get(insertEventsSql(count)).run(chunk);
    }
  }

  /**
   * The largest event id committed so far; read once, then kept here. why: ids are assigned before the
   * insert so that a task row can record the ids of its own events in the same statement that changes it.
   * This is safe because the store is the only writer of its file (it holds an exclusive lock).
   */
  let lastCommittedEventId: number | undefined;

  return {
    write<Result>(work: (scope: WriteScope) => Result): Result {
      const now = clock();
      const eventValues: unknown[] = [];
      lastCommittedEventId ??= statements
        .get('SELECT COALESCE(MAX(id), 0) FROM events')
        .pluck()
        .get() as number;
      let lastEventId = lastCommittedEventId;
      let tasksReady = false;
      const afterCommit: Array<() => void> = [];
      const scope: WriteScope = {
        now,
        addEvent(event) {
          lastEventId += 1;
          eventValues.push(
            lastEventId,
            event.type,
            event.taskId ?? null,
            event.attemptId ?? null,
            event.runnerId ?? null,
            now,
            typeof event.data === 'string' ? event.data : JSON.stringify(event.data),
          );
          return lastEventId;
        },
        noteInsertedEvents(insertedUpTo) {
          lastEventId = Math.max(lastEventId, insertedUpTo);
        },
        markTasksReady() {
          tasksReady = true;
        },
        afterCommit(action) {
          afterCommit.push(action);
        },
      };
      const result = inTransaction.immediate(() => {
        const value = work(scope);
        insertEvents(eventValues);
        return value;
      }) as Result;
      const addedEvents = lastEventId > lastCommittedEventId;
      lastCommittedEventId = lastEventId;
      for (const action of afterCommit) action();
      if (tasksReady) signals.emit({ kind: 'tasks-ready' });
      if (addedEvents) signals.emit({ kind: 'events', lastEventId });
      return result;
    },
  };
}
