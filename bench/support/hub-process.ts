/**
 * A Warren hub in a process of its own, so that the bench driving it never shares its event loop:
 * `startHub` on the given data directory, port 0, loopback, and the given log level (default silent), with
 * the rate limits off.
 * The store is the data directory's SQLite file, or with `--database-url` a PostgreSQL store on
 * `--schema` (several hub processes given the same URL and schema share one queue).
 *
 * IPC: sends `{ type: 'ready', url, adminToken }` once listening; answers `{ type: 'usage' }` with its CPU
 * time, event-loop utilisation and memory (`{ type: 'usage', collectGarbage: true }` runs a full garbage
 * collection first when the hub runs with `--expose-gc`); `{ type: 'stop' }` (or the bench going away)
 * closes the hub and exits, cleanly, so that `--cpu-prof` can write its profile.
 *
 * Usage: `node --import tsx bench/support/hub-process.ts --data-dir DIR [--log-level silent]
 *   [--database-url postgres://... [--schema NAME]]`.
 */
import { parseArgs } from 'node:util';
import { createLogger, startHub, type LogLevel } from '../../src/hub/index.ts';
import { createPostgresStore } from '../../src/store/index.ts';
import { exitWithParent, messageType } from './child-processes.ts';

/** The hub is listening. */
export interface HubReady {
  type: 'ready';
  url: string;
  adminToken: string;
}

/** The hub process's resource use since it started. */
export interface HubUsage {
  type: 'usage';
  /** CPU time, user + system, in µs. */
  cpuMicros: number;
  /** Time the event loop was busy, in ms (`performance.eventLoopUtilization().active`). */
  eventLoopActiveMs: number;
  /** `process.memoryUsage()` when asked (after a full collection when asked and possible), bytes. */
  memory: NodeJS.MemoryUsage;
  /** Whether a full garbage collection ran before `memory` was read (needs `--expose-gc`). */
  collectedGarbage: boolean;
}

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    'log-level': { type: 'string', default: 'silent' },
    'database-url': { type: 'string' },
    schema: { type: 'string' },
  },
});
const dataDir = values['data-dir'];
if (!dataDir) throw new Error('hub-process needs --data-dir');
const logger = createLogger({ level: values['log-level'] as LogLevel });

const store = values['database-url']
  ? await createPostgresStore({
      connectionString: values['database-url'],
      ...(values.schema === undefined ? {} : { schema: values.schema }),
      logger,
    })
  : undefined;
const hub = await startHub({
  dataDir,
  port: 0,
  logger,
  ...(store ? { store } : {}),
  // why off: the benches measure what the hub can do; rate limits are a policy that would cap the figures
  // at the configured rates (one admin token creates thousands of tasks a second here).
  config: { rateLimits: { enabled: false } },
});

let closing: Promise<void> | undefined;
// A store given to startHub is not closed by the hub: close it after.
const stop = (): Promise<void> => (closing ??= hub.close().finally(() => store?.close()));

exitWithParent(stop);
process.on('message', (message) => {
  const type = messageType(message);
  if (type === 'usage') {
    const collect =
      (message as { collectGarbage?: unknown }).collectGarbage === true ? globalThis.gc : undefined;
    collect?.();
    const cpu = process.cpuUsage();
    const usage: HubUsage = {
      type: 'usage',
      cpuMicros: cpu.user + cpu.system,
      eventLoopActiveMs: performance.eventLoopUtilization().active,
      memory: process.memoryUsage(),
      collectedGarbage: collect !== undefined,
    };
    process.send?.(usage);
  } else if (type === 'stop') {
    void stop().finally(() => process.exit(0));
  }
});

const ready: HubReady = { type: 'ready', url: hub.url, adminToken: hub.adminToken };
process.send?.(ready);
