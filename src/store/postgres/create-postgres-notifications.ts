/**
 * How a PostgreSQL store hears about writes made by other hubs: LISTEN on the schema's channel for
 * prompt wake-ups, and a slow poll of the event counter as a fallback for notifications lost while the
 * listening connection was down (NOTIFY is not queued for a listener that is not connected).
 */
import type pg from 'pg';
import type { Logger } from '../../core/logger.ts';
import type { StoreSignals } from '../create-store-signals.ts';
import type { PostgresPool } from './create-postgres-pool.ts';
import { quoteIdentifier } from './create-postgres-pool.ts';
import type { StoreNotification } from './create-postgres-writer.ts';

/** The running listener. */
export interface PostgresNotifications {
  /** Starts listening and polling (once; later calls do nothing). */
  start(): void;
  /** Notes events this store committed and announced itself, so the poll does not announce them again. */
  noteAnnounced(lastEventId: number): void;
  /** Whether the LISTEN connection is up now. */
  readonly listening: boolean;
  /** Stops listening and polling and closes the connection. */
  stop(): Promise<void>;
}

/** Options of {@link createPostgresNotifications}. */
export interface PostgresNotificationsOptions {
  pool: PostgresPool;
  channel: string;
  /** This store's instance id: its own notifications are skipped (it signalled locally already). */
  instanceId: string;
  signals: StoreSignals;
  /** The store's schema (names the listening connection). */
  schema: string;
  /** Spacing of the fallback poll of the event counter. */
  pollIntervalMs: number;
  logger?: Logger;
}

// why: a database restart takes seconds; retrying the LISTEN connection from 250 ms doubling to 5 s finds
// it back quickly without hammering a server that is down.
const reconnectInitialDelayMs = 250;
const reconnectMaxDelayMs = 5_000;

/**
 * The `application_name` of a store's listening connection, so operators (and tests) can find it in
 * `pg_stat_activity`.
 */
export function listenerApplicationName(schema: string): string {
  return `warren-listen:${schema}`.slice(0, 63);
}

/** Creates the listener (not started). */
export function createPostgresNotifications(options: PostgresNotificationsOptions): PostgresNotifications {
  const { pool, channel, instanceId, signals, pollIntervalMs, logger, schema } = options;
  let started = false;
  let stopped = false;
  let client: pg.Client | undefined;
  let listening = false;
  let reconnectDelayMs = reconnectInitialDelayMs;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  /** The highest event id this store has announced to its subscribers. */
  let lastSeenEventId = 0;

  function announce(lastEventId: number, tasksReady: boolean): void {
    if (tasksReady) signals.emit({ kind: 'tasks-ready' });
    if (lastEventId > lastSeenEventId) {
      lastSeenEventId = lastEventId;
      signals.emit({ kind: 'events', lastEventId });
    }
  }

  function onNotification(message: pg.Notification): void {
    if (message.channel !== channel || message.payload === undefined) return;
    let notification: StoreNotification;
    try {
      notification = JSON.parse(message.payload) as StoreNotification;
    } catch {
      return;
    }
    if (notification.source === instanceId) {
      lastSeenEventId = Math.max(lastSeenEventId, notification.lastEventId);
      return;
    }
    announce(notification.lastEventId, notification.tasksReady);
  }

  let pingInFlight = false;

  /**
   * Sends a trivial query on the LISTEN connection. why: a half-open connection (a network partition, a
   * peer that vanished) receives nothing and reports no error, so a listener could wait forever; the
   * query's timeout (the pool's query timeout) turns that silence into an error and a reconnect.
   */
  function pingListener(): void {
    const current = client;
    if (current === undefined || !listening || pingInFlight) return;
    pingInFlight = true;
    current.query('SELECT 1').then(
      () => {
        pingInFlight = false;
      },
      (error: unknown) => {
        pingInFlight = false;
        if (client === current) dropClient(error);
      },
    );
  }

  async function poll(): Promise<void> {
    pingListener();
    try {
      const [row] = await pool.query<{ last_id: number }>('SELECT last_id FROM event_counter');
      // why tasks-ready too: every change that makes a task claimable appends an event, so new events are
      // the cue to let parked claims look again.
      if (row !== undefined && row.last_id > lastSeenEventId) announce(row.last_id, true);
    } catch (error) {
      logger?.debug({ err: error }, 'polling the event counter failed');
    }
  }

  function schedulePoll(): void {
    if (stopped) return;
    pollTimer = setTimeout(() => {
      pollTimer = undefined;
      void poll().then(schedulePoll);
    }, pollIntervalMs);
    pollTimer.unref();
  }

  function scheduleReconnect(): void {
    if (stopped || reconnectTimer !== undefined) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void connect();
    }, reconnectDelayMs);
    reconnectTimer.unref();
    reconnectDelayMs = Math.min(reconnectDelayMs * 2, reconnectMaxDelayMs);
  }

  function dropClient(reason: unknown): void {
    const dropped = client;
    client = undefined;
    if (listening) logger?.warn({ err: reason }, 'lost the database notification connection; reconnecting');
    listening = false;
    if (dropped) {
      dropped.removeAllListeners('notification');
      void dropped.end().catch(() => undefined);
    }
    scheduleReconnect();
  }

  async function connect(): Promise<void> {
    if (stopped) return;
    let next: pg.Client;
    try {
      next = await pool.connectDedicated(listenerApplicationName(schema));
    } catch (error) {
      logger?.debug({ err: error }, 'could not open the database notification connection');
      scheduleReconnect();
      return;
    }
    if (stopped) {
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
    next.on('notification', onNotification);
    next.on('error', (error) => {
      if (client === next) dropClient(error);
    });
    next.on('end', () => {
      if (client === next) dropClient(new Error('connection ended'));
    });
    try {
      await next.query(`LISTEN ${quoteIdentifier(channel)}`);
    } catch (error) {
      if (client === next) dropClient(error);
      return;
    }
    listening = true;
    reconnectDelayMs = reconnectInitialDelayMs;
    // Whatever happened while we were not listening is caught up now.
    await poll();
  }

  return {
    start() {
      if (started) return;
      started = true;
      void connect();
      schedulePoll();
    },
    noteAnnounced(lastEventId) {
      lastSeenEventId = Math.max(lastSeenEventId, lastEventId);
    },
    get listening() {
      return listening;
    },
    async stop() {
      stopped = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      if (pollTimer) clearTimeout(pollTimer);
      const current = client;
      client = undefined;
      listening = false;
      if (current) await current.end().catch(() => undefined);
    },
  };
}
