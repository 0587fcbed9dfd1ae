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
import { createSqliteStore } from '../../src/store/index.ts';

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
}

/** The line the hub process prints once it listens. */
export interface HubProcessReady {
  url: string;
  port: number;
  adminToken: string;
  pid: number;
}

const settings = JSON.parse(process.env.WARREN_TEST_HUB ?? '{}') as HubProcessSettings;
const logger: Logger = settings.logFile
  ? createLogger({ level: 'info', destination: createWriteStream(settings.logFile, { flags: 'a' }) })
  : silentLogger;
await mkdir(settings.dataDir, { recursive: true });
const store = await createSqliteStore({
  filename: join(settings.dataDir, 'warren.db'),
  ...(settings.retryPolicy ? { retryPolicy: settings.retryPolicy } : {}),
});
const hub = await startHub({
  dataDir: settings.dataDir,
  port: settings.port,
  store,
  config: settings.config,
  logger,
});
const ready: HubProcessReady = { url: hub.url, port: hub.port, adminToken: hub.adminToken, pid: process.pid };
process.stdout.write(`${JSON.stringify(ready)}\n`);

process.once('SIGTERM', () => {
  void (async () => {
    await hub.close();
    await store.close();
    process.exit(0);
  })();
});
