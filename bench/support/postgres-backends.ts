/**
 * PostgreSQL helpers for benches: reaching the server, making and dropping a schema per run, and the CPU
 * time of the server processes (backends) that serve given client processes.
 *
 * Backend CPU: the server is shared (tests and other benches may use it at the same time), so its total
 * CPU says little. Instead the client processes' TCP connections to the server are found (their socket
 * inodes in `/proc/PID/fd`, matched in `/proc/PID/net/tcp`), their local ports looked up in
 * `pg_stat_activity.client_port`, and the backends' user + system time read from `/proc/BACKEND/stat`.
 * Linux only; elsewhere, or when `/proc` cannot be read, the figure is NaN. A backend whose connection
 * closed takes the CPU time it used since the last reading with it: read at the start and the end of each
 * phase at least (a store's pool keeps an idle connection 30 s).
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, readlink } from 'node:fs/promises';
import pg from 'pg';
import { onInterrupt } from './child-processes.ts';
import { processCpuMicros } from './process-stats.ts';

/** The URL benches use unless `WARREN_BENCH_POSTGRES_URL` says otherwise. */
export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** `WARREN_BENCH_POSTGRES_URL`, or the default. */
export function benchPostgresUrl(): string {
  return process.env.WARREN_BENCH_POSTGRES_URL ?? DEFAULT_POSTGRES_URL;
}

/** The URL without its password, for messages. */
export function describePostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

// why: a local server answers in milliseconds; 3 s says "not there" without making a skip slow.
const connectTimeoutMs = 3_000;

/** Connects a plain pg client, or answers why it could not. */
export async function connectPostgres(url: string): Promise<pg.Client | string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    return `PostgreSQL does not answer at ${describePostgresUrl(url)} (set WARREN_BENCH_POSTGRES_URL): ${
      error instanceof Error ? error.message : String(error)
    }`;
  }
}

/** A fresh schema name, `warren_bench_<random>`. */
export function freshSchemaName(suffix = ''): string {
  return `warren_bench_${randomBytes(5).toString('hex')}${suffix}`;
}

/**
 * Drops `schemas` (CASCADE) with `client` when `dropSchemas()` is called, and on Ctrl-C before that.
 * The schemas themselves are created by the stores' `migrate()`.
 */
export function dropSchemasLater(client: pg.Client, schemas: readonly string[]): () => Promise<void> {
  let dropped = false;
  const drop = async (): Promise<void> => {
    if (dropped) return;
    dropped = true;
    for (const schema of schemas) {
      await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    }
  };
  const forget = onInterrupt(drop);
  return async () => {
    forget();
    await drop();
  };
}

/**
 * Runs `work` on fresh schemas (`warren_bench_<random><suffix>`, one per suffix), then drops them (and on
 * Ctrl-C before that) and ends `admin`, the connection that drops them.
 */
export async function withFreshSchemas<Result>(
  admin: pg.Client,
  suffixes: readonly string[],
  work: (schemas: string[]) => Promise<Result>,
): Promise<Result> {
  const schemas = suffixes.map((suffix) => freshSchemaName(suffix));
  const dropSchemas = dropSchemasLater(admin, schemas);
  try {
    return await work(schemas);
  } finally {
    await dropSchemas();
    await admin.end();
  }
}

/** The local ports of `pid`'s TCP connections to `serverPort`. */
async function connectedLocalPorts(pid: number, serverPort: number): Promise<number[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined) inodes.add(inode);
  }
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // sl, local_address, rem_address, st, tx:rx, tr:when, retrnsmt, uid, timeout, inode
      const [local, remote, inode] = [fields[1], fields[2], fields[9]];
      if (!local || !remote || !inode || !inodes.has(inode)) continue;
      if (parseInt(remote.split(':')[1] ?? '', 16) !== serverPort) continue;
      ports.push(parseInt(local.split(':')[1] ?? '', 16));
    }
  }
  return ports;
}

/**
 * Makes a reader of the CPU time (µs) of the backends serving `clientPids`, through `client` (a
 * connection of the bench's own, itself not counted). The figure only grows: it is the sum over every
 * backend ever seen of its last reading, so take differences. NaN when `/proc` cannot be read.
 */
export function createBackendCpuReader(
  client: pg.Client,
  serverPort: number,
  clientPids: () => readonly number[],
): () => Promise<number> {
  const latestByBackend = new Map<number, number>();
  return async () => {
    try {
      const ports = (
        await Promise.all(clientPids().map((pid) => connectedLocalPorts(pid, serverPort)))
      ).flat();
      if (ports.length > 0) {
        const { rows } = await client.query<{ pid: number }>(
          'SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[])',
          [ports],
        );
        for (const row of rows) {
          const time = await processCpuMicros(row.pid);
          if (time !== undefined) latestByBackend.set(row.pid, time);
        }
      }
      let total = 0;
      for (const time of latestByBackend.values()) total += time;
      return total;
    } catch {
      return Number.NaN;
    }
  };
}
