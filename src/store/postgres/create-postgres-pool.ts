/**
 * The PostgreSQL store's connections: a pg pool set up for Warren (numbers, JSON as text, the store's
 * schema, timeouts that notice a dead network), with one way to run a query and one way to run a
 * transaction. pg is imported here, lazily, so a deployment on SQLite never loads it.
 */
import type pg from 'pg';
import type { Logger } from '../../core/logger.ts';
import { isConnectionError, toStoreError } from './postgres-errors.ts';

/** A connection inside a transaction: run statements, get rows. */
export interface PostgresClient {
  /** Runs `sql` with `$1..$n` parameters and returns the rows. */
  query<Row>(sql: string, parameters?: readonly unknown[]): Promise<Row[]>;
}

/** Settings of {@link createPostgresPool}. */
export interface PostgresPoolOptions {
  connectionString: string;
  /** Schema for unqualified names (set as `search_path`). */
  schema: string;
  maxConnections: number;
  /** Longest wait for a connection (pool slot plus TCP and auth). */
  connectTimeoutMs: number;
  /** Longest wait for any one statement's answer before the connection is given up as dead. */
  queryTimeoutMs: number;
  /** How long the server keeps a transaction whose client has gone silent between statements. */
  idleInTransactionTimeoutMs: number;
  logger?: Logger;
}

/** The pool and its helpers. */
export interface PostgresPool {
  /** Runs one statement outside any explicit transaction. */
  query<Row>(sql: string, parameters?: readonly unknown[]): Promise<Row[]>;
  /**
   * Runs `work` between BEGIN and COMMIT on one connection. If `work` or the commit throws, the
   * transaction is rolled back (or, when the connection broke, abandoned: the server rolls it back) and
   * the error is rethrown, connection failures as UnavailableError.
   */
  transaction<Result>(work: (client: PostgresClient) => Promise<Result>): Promise<Result>;
  /** A dedicated connection outside the pool (for LISTEN), with the same settings. */
  connectDedicated(applicationName: string): Promise<pg.Client>;
  /** Closes every connection. */
  close(): Promise<void>;
}

// OIDs of the types whose parsing Warren changes. why: int8 (bigint) comes back as a string by default
// because it can exceed 2^53; Warren's bigints (epoch-ms times, ids, counters) never do. json/jsonb stay
// text, exactly as written, like SQLite's JSON columns, and are parsed by the row converters.
const int8Oid = 20;
const jsonOid = 114;
const jsonbOid = 3802;

/** Creates the pool (no connection is opened until the first query). */
export async function createPostgresPool(options: PostgresPoolOptions): Promise<PostgresPool> {
  const { default: pgModule } = await import('pg');
  const parseText = (value: string): string => value;
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary'): ((value: string) => unknown) => {
      if (oid === int8Oid) return (value: string) => Number(value);
      if (oid === jsonOid || oid === jsonbOid) return parseText;
      return pgModule.types.getTypeParser(oid, format) as (value: string) => unknown;
    }) as typeof pgModule.types.getTypeParser,
  };
  const connectionConfig: pg.ClientConfig = {
    connectionString: options.connectionString,
    types,
    application_name: 'warren',
    // The schema is quoted: it comes from configuration and may hold any characters.
    options: `-c search_path=${quoteIdentifier(options.schema)}`,
    connectionTimeoutMillis: options.connectTimeoutMs,
    query_timeout: options.queryTimeoutMs,
    // The server's side of the same limits. why: a client cut off by a network partition cannot roll back;
    // without these the server would keep its transaction open, row locks and all, until it noticed the
    // dead peer (hours, with default TCP keepalives). Every write takes the event counter's row lock at its
    // end, so one stranded transaction would stall the writes of every other hub.
    statement_timeout: options.queryTimeoutMs,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs,
    // why: a half-open connection (a dead peer, a network partition) otherwise looks alive until a query
    // times out; keepalives let the kernel notice idle dead connections too.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
  const pool = new pgModule.Pool({
    ...connectionConfig,
    max: options.maxConnections,
    // why: idle connections are closed after 30 s so a hub that was busy gives connections back to the
    // server; a new one costs a few milliseconds.
    idleTimeoutMillis: 30_000,
  });
  // why: an idle pooled connection that breaks (server restart, network cut) emits 'error' on the pool;
  // without a listener Node would crash the hub. The pool drops that connection by itself.
  pool.on('error', (error) => {
    options.logger?.warn({ err: error }, 'an idle database connection failed; it was dropped');
  });

  async function acquire(): Promise<pg.PoolClient> {
    try {
      return await pool.connect();
    } catch (error) {
      throw toStoreError(error);
    }
  }

  return {
    async query<Row>(sql: string, parameters: readonly unknown[] = []): Promise<Row[]> {
      try {
        const result = await pool.query(sql, parameters as unknown[]);
        return result.rows as Row[];
      } catch (error) {
        throw toStoreError(error);
      }
    },

    async transaction<Result>(work: (client: PostgresClient) => Promise<Result>): Promise<Result> {
      const client = await acquire();
      // why: a connection that breaks while checked out (between statements) emits 'error' on the client,
      // which would crash the process without a listener; the failure also surfaces in the next query.
      const onError = (): void => {};
      client.on('error', onError);
      let broken: Error | undefined;
      const wrapped: PostgresClient = {
        async query<Row>(sql: string, parameters: readonly unknown[] = []): Promise<Row[]> {
          const result = await client.query(sql, parameters as unknown[]);
          return result.rows as Row[];
        },
      };
      try {
        await client.query('BEGIN');
        const result = await work(wrapped);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (isConnectionError(error)) {
          broken = error instanceof Error ? error : new Error(String(error));
        } else {
          try {
            await client.query('ROLLBACK');
          } catch (rollbackError) {
            broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
          }
        }
        throw toStoreError(error);
      } finally {
        client.off('error', onError);
        // A connection in an unknown state (broken, or mid-statement after a timeout) is destroyed, never
        // handed to the next caller.
        client.release(broken);
      }
    },

    async connectDedicated(applicationName) {
      const client = new pgModule.Client({ ...connectionConfig, application_name: applicationName });
      try {
        await client.connect();
      } catch (error) {
        await client.end().catch(() => undefined);
        throw toStoreError(error);
      }
      return client;
    },

    async close() {
      await pool.end();
    },
  };
}

/** `name` as a quoted SQL identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
