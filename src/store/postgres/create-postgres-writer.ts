/**
 * The write path of the PostgreSQL store: one transaction per store call, events taken from the counter
 * and inserted at the very end of it, a NOTIFY for other hubs in the same commit, and signals to this
 * process's subscribers after it commits. Transactions the database aborted for a retryable reason
 * (deadlock, serialization failure) are run again.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { EventType } from '../../core/types.ts';
import type { StoreSignals } from '../create-store-signals.ts';
import type { PostgresClient, PostgresPool } from './create-postgres-pool.ts';
import { sqlStateOf } from './postgres-errors.ts';

/** An event to append in the current transaction. */
export interface NewPostgresEvent {
  type: EventType;
  taskId?: string | null;
  attemptId?: string | null;
  runnerId?: string | null;
  /** The event's data, or the same already serialized as a JSON object. */
  data: Record<string, unknown> | string;
}

/** What a write can do besides running statements. */
export interface PostgresWriteScope {
  /** The clock read once at the start of the attempt; every time the transaction writes is this one. */
  readonly now: number;
  /** The transaction's connection. */
  readonly client: PostgresClient;
  /** Appends an event, inserted at the end of the transaction with the next ids in commit order. */
  addEvent(event: NewPostgresEvent): void;
  /** Notes that some task became `queued`: subscribers here and on other hubs hear `tasks-ready`. */
  markTasksReady(): void;
}

/** Runs store writes. */
export interface PostgresWriter {
  /**
   * Runs `work` in one transaction and returns its result. `work` may be run more than once (after a
   * deadlock or serialization failure), so it must have no effects outside the transaction. If it throws,
   * everything is rolled back and no signal is sent.
   */
  write<Result>(work: (scope: PostgresWriteScope) => Promise<Result>): Promise<Result>;
}

/** The payload of a store notification: which store sent it, the last event id, whether tasks are ready. */
export interface StoreNotification {
  /** The sending store's instance id, so a store ignores its own notifications. */
  source: string;
  lastEventId: number;
  tasksReady: boolean;
}

/**
 * Appends events and announces them. Parameters: $1 how many; $2..$5 text[] of type, task, attempt and
 * runner ids; $6 the time; $7 text[] of JSON data; $8 the channel; $9 this store's instance id; $10 whether
 * tasks became ready. Returns the last id taken. The events are passed as arrays (one value per column),
 * so any number of them is one statement with ten parameters.
 */
const insertEventsSql = `
WITH counter AS (
  UPDATE event_counter SET last_id = last_id + $1::integer RETURNING last_id
),
inserted AS (
  INSERT INTO events (id, type, task_id, attempt_id, runner_id, at, data)
  SELECT counter.last_id - $1::integer + event.position, event.type, event.task_id, event.attempt_id,
    event.runner_id, $6::bigint, event.data::json
  FROM counter,
    unnest($2::text[], $3::text[], $4::text[], $5::text[], $7::text[])
      WITH ORDINALITY AS event (type, task_id, attempt_id, runner_id, data, position)
)
SELECT counter.last_id,
  pg_notify($8, json_build_object('source', $9::text, 'lastEventId', counter.last_id,
    'tasksReady', $10::boolean)::text)
FROM counter
`;
// why: deadlocks (two cascades locking the same tasks in different orders) and serialization failures are
// rare and clear on a retry; five tries with a short random pause ride out a burst without hiding a bug.
const maxTries = 5;
const retryBaseDelayMs = 5;
const retryableSqlStates = new Set(['40001', '40P01']);

/** Creates the writer. `channel` is the NOTIFY channel shared by every store on this schema. */
export function createPostgresWriter(options: {
  pool: PostgresPool;
  clock: () => number;
  signals: StoreSignals;
  channel: string;
  instanceId: string;
  random: () => number;
}): PostgresWriter {
  const { pool, clock, signals, channel, instanceId, random } = options;
  /**
   * Takes ids for `events`, inserts them and sends the notification, in one statement (one round trip).
   * why at the end of the transaction: the counter's row lock is held from here to the commit, so it
   * serialises only the tail of each transaction, and ids come out in commit order. The NOTIFY is
   * delivered only if and when the transaction commits, in commit order.
   */
  async function insertEventsAndNotify(
    client: PostgresClient,
    events: NewPostgresEvent[],
    now: number,
    tasksReady: boolean,
  ): Promise<number> {
    const [row] = await client.query<{ last_id: number }>(insertEventsSql, [
      events.length,
      events.map((event) => event.type),
      events.map((event) => event.taskId ?? null),
      events.map((event) => event.attemptId ?? null),
      events.map((event) => event.runnerId ?? null),
      now,
      events.map((event) => (typeof event.data === 'string' ? event.data : JSON.stringify(event.data))),
      channel,
      instanceId,
      tasksReady,
    ]);
    return row!.last_id;
  }

  async function writeOnce<Result>(
    work: (scope: PostgresWriteScope) => Promise<Result>,
  ): Promise<{ result: Result; lastEventId: number | undefined; tasksReady: boolean }> {
    const now = clock();
    let tasksReady = false;
    let lastEventId: number | undefined;
    const result = await pool.transaction(async (client) => {
      const events: NewPostgresEvent[] = [];
      const scope: PostgresWriteScope = {
        now,
        client,
        addEvent(event) {
          events.push(event);
        },
        markTasksReady() {
          tasksReady = true;
        },
      };
      const value = await work(scope);
      if (events.length > 0) {
        lastEventId = await insertEventsAndNotify(client, events, now, tasksReady);
      } else if (tasksReady) {
        const notification: StoreNotification = { source: instanceId, lastEventId: 0, tasksReady };
        await client.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify(notification)]);
      }
      return value;
    });
    return { result, lastEventId, tasksReady };
  }

  return {
    async write<Result>(work: (scope: PostgresWriteScope) => Promise<Result>): Promise<Result> {
      for (let attempt = 1; ; attempt += 1) {
        try {
          const outcome = await writeOnce(work);
          if (outcome.tasksReady) signals.emit({ kind: 'tasks-ready' });
          if (outcome.lastEventId !== undefined) {
            signals.emit({ kind: 'events', lastEventId: outcome.lastEventId });
          }
          return outcome.result;
        } catch (error) {
          const state = sqlStateOf(error);
          if (attempt >= maxTries || state === undefined || !retryableSqlStates.has(state)) throw error;
          await delay(retryBaseDelayMs * attempt * (1 + random()));
        }
      }
    },
  };
}
