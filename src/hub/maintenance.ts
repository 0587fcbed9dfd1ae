/**
 * The hub's maintenance loop: expires lapsed leases, promotes failed tasks whose retry time has come and
 * marks silent runners offline. The store's `tasks-ready` signal then wakes waiting claims.
 *
 * A self-rescheduling timer: the next run is scheduled only after the current one ends, so runs never
 * overlap however slow the store is. Errors are logged, never thrown; the loop keeps going.
 */
import type { Logger } from '../core/logger.ts';
import type { Store } from '../store/store.ts';
import type { HubConfig } from './hub-config.ts';
import type { HubMetrics } from './metrics.ts';

/** A running maintenance loop. */
export interface Maintenance {
  /** Runs one pass now (after any pass in flight); never throws. */
  runOnce(): Promise<void>;
  /** Stops the loop and waits for the pass in flight, if any. */
  stop(): Promise<void>;
}

/** Options of {@link startMaintenance}. */
export interface MaintenanceOptions {
  store: Store;
  config: Pick<HubConfig, 'maintenanceIntervalMs' | 'runnerStaleAfterMs'>;
  logger: Logger;
  metrics?: HubMetrics;
}

/** Starts the maintenance loop; its first pass runs after one interval. */
export function startMaintenance(options: MaintenanceOptions): Maintenance {
  const { store, config, logger, metrics } = options;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  async function pass(): Promise<void> {
    try {
      const expired = await store.expireLeases();
      for (let index = 0; index < expired; index += 1) metrics?.recordAttemptEnd('lost');
      const promoted = await store.promoteRetries();
      const offline = await store.markStaleRunnersOffline(config.runnerStaleAfterMs);
      if (expired + promoted + offline > 0) {
        logger.info(
          { expiredLeases: expired, promotedRetries: promoted, runnersOffline: offline },
          'maintenance',
        );
      }
    } catch (error) {
      logger.error({ err: error }, 'maintenance pass failed');
    }
  }

  function runOnce(): Promise<void> {
    inFlight = inFlight.then(pass);
    return inFlight;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void runOnce().then(schedule);
    }, config.maintenanceIntervalMs);
    // why: the loop alone must not keep a process alive (the HTTP server does that while the hub runs).
    timer.unref();
  }

  schedule();
  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await inFlight;
    },
  };
}
