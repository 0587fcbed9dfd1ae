/**
 * A Warren hub in a process of its own, so that the bench driving it never shares its event loop:
 * `startHub` on the given data directory, port 0, loopback, and the given log level (default silent).
 *
 * IPC: sends `{ type: 'ready', url, adminToken }` once listening; answers `{ type: 'usage' }` with its CPU
 * time and event-loop utilisation; `{ type: 'stop' }` (or the bench going away) closes the hub and exits,
 * cleanly, so that `--cpu-prof` can write its profile.
 *
 * Usage: `node --import tsx bench/support/hub-process.ts --data-dir DIR [--log-level silent]`.
 */
import { parseArgs } from 'node:util';
import { createLogger, startHub, type LogLevel } from '../../src/hub/index.ts';
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
}

const { values } = parseArgs({
  options: { 'data-dir': { type: 'string' }, 'log-level': { type: 'string', default: 'silent' } },
});
const dataDir = values['data-dir'];
if (!dataDir) throw new Error('hub-process needs --data-dir');

const hub = await startHub({
  dataDir,
  port: 0,
  logger: createLogger({ level: values['log-level'] as LogLevel }),
});

let closing: Promise<void> | undefined;
const stop = (): Promise<void> => (closing ??= hub.close());

exitWithParent(stop);
process.on('message', (message) => {
  const type = messageType(message);
  if (type === 'usage') {
    const cpu = process.cpuUsage();
    const usage: HubUsage = {
      type: 'usage',
      cpuMicros: cpu.user + cpu.system,
      eventLoopActiveMs: performance.eventLoopUtilization().active,
    };
    process.send?.(usage);
  } else if (type === 'stop') {
    void stop().finally(() => process.exit(0));
  }
});

const ready: HubReady = { type: 'ready', url: hub.url, adminToken: hub.adminToken };
process.send?.(ready);
