/**
 * A hub in its own process, for crash tests: `node --import tsx test/support/hub-process.ts`.
 *
 * Settings come as one JSON object in the `WARREN_TEST_HUB` environment variable
 * ({@link HubProcessSettings}). When the hub listens it prints one JSON line on stdout
 * ({@link HubProcessReady}); SIGTERM closes it and exits 0. SIGKILL is what the tests use to crash it.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RetryPolicy } from '../../src/core/backoff.ts';
import { silentLogger, type Logger } from '../../src/core/logger.ts';
import { createLogger } from '../../src/hub/create-logger.ts';
import type { HubConfig } from '../../src/hub/hub-config.ts';
import { startHub } from '../../src/hub/start-hub.ts';
import { createPostgresStore, createSqliteStore, type DatabaseLocation } from '../../src/store/index.ts';

/** What the test asks of the hub process. */
export interface HubProcessSettings {
  dataDir: string;
  /** 0 picks a free port; a restart passes the port of the previous run. */
  port: number;
  config?: Partial<HubConfig>;
  /** Spacing of automatic task retries; short in tests so a lost lease is retried promptly. */
  retryPolicy?: RetryPolicy;
  /** JSON log lines go here (info level); without it the hub logs nothing. */
  logFile?: string;
  /** The store: default the SQLite file in `dataDir`; a PostgreSQL location for tests of many hubs. */
  database?: DatabaseLocation;
  /** Settings of a PostgreSQL store (timeouts, polling) beyond its location. */
  postgres?: {
    queryTimeoutMs?: number;
    connectTimeoutMs?: number;
    idleInTransactionTimeoutMs?: number;
    pollIntervalMs?: number;
  };
  /** Shared admin token of hubs on one database; default the data dir's. */
  adminToken?: string;
}

/** The line the hub process prints once it listens. */
export interface HubProcessReady {
  url: string;
  port: number;
  adminToken: string;
  pid: number;
  /** The hub's instance id (its leadership holder on PostgreSQL). */
  instanceId: string;
}

const settings = JSON.parse(process.env.WARREN_TEST_HUB ?? '{}') as HubProcessSettings;
const logger: Logger = settings.logFile
  ? createLogger({ level: 'info', destination: createWriteStream(settings.logFile, { flags: 'a' }) })
  : silentLogger;
await mkdir(settings.dataDir, { recursive: true });
const retry = settings.retryPolicy ? { retryPolicy: settings.retryPolicy } : {};
const store =
  settings.database?.dialect === 'postgres'
    ? await createPostgresStore({
        connectionString: settings.database.url,
        ...(settings.database.schema === undefined ? {} : { schema: settings.database.schema }),
        ...settings.postgres,
        ...retry,
        logger,
      })
    : await createSqliteStore({ filename: join(settings.dataDir, 'warren.db'), ...retry });
const hub = await startHub({
  dataDir: settings.dataDir,
  port: settings.port,
  store,
  config: settings.config,
  logger,
  ...(settings.adminToken === undefined ? {} : { adminToken: settings.adminToken }),
});
const ready: HubProcessReady = {
  url: hub.url,
  port: hub.port,
  adminToken: hub.adminToken,
  pid: process.pid,
  instanceId: hub.instanceId,
};
// why before the ready line: a test may send SIGTERM as soon as it reads that line, and a SIGTERM that
// came before the handler would kill the process outright instead of closing the hub.
process.once('SIGTERM', () => {
  void (async () => {
    await hub.close();
    await store.close();
    process.exit(0);
  })();
});
process.stdout.write(`${JSON.stringify(ready)}\n`);
