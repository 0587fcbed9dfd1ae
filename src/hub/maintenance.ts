/**
 * The hub's maintenance loop: expires lapsed leases, promotes failed tasks whose retry time has come, marks
 * silent runners offline and runners that missed a heartbeat degraded. The store's `tasks-ready` signal
 * then wakes waiting claims.
 *
 * A self-rescheduling timer: the next run is scheduled only after the current one ends, so runs never
 * overlap however slow the store is. Errors are logged, never thrown; the loop keeps going. With several
 * hubs on one store, only the elected leader runs passes (`shouldRun`); each operation is one idempotent
 * transaction, so two hubs overlapping briefly during a handover cannot corrupt anything.
 */
import type { Logger } from '../core/logger.ts';
import type { Store } from '../store/store.ts';
import type { HubConfig } from './hub-config.ts';
import type { HubMetrics } from './metrics.ts';
import { settleBreakerProbes, type BreakerDependencies } from './record-breaker-outcome.ts';
import { startRepeating, type Repeating } from './start-repeating.ts';

/**
 * A running maintenance loop: `runOnce()` runs one pass now (after any pass in flight, unless `shouldRun`
 * says no; never throws), `stop()` ends the loop and waits for the pass in flight.
 */
export type Maintenance = Repeating;

/** Options of {@link startMaintenance}. */
export interface MaintenanceOptions {
  store: Store;
  config: Pick<HubConfig, 'maintenanceIntervalMs' | 'runnerStaleAfterMs' | 'runnerLateAfterMs'>;
  logger: Logger;
  metrics?: HubMetrics;
  /**
   * Asked at the start of every pass; the pass does nothing when it answers false. The hub passes "is this
   * hub the maintenance leader" so that only one hub of several sharing a store runs the passes. Default:
   * always run.
   */
  shouldRun?: () => boolean;
  /** With it, each pass also settles circuit-breaker probes whose attempts ended without a report. */
  breakers?: BreakerDependencies;
}

/** Starts the maintenance loop; its first pass runs after one interval. */
export function startMaintenance(options: MaintenanceOptions): Maintenance {
  const { store, config, logger, metrics, shouldRun, breakers } = options;

  async function pass(): Promise<void> {
    if (shouldRun && !shouldRun()) return;
    try {
      const expired = await store.expireLeases();
      for (let index = 0; index < expired; index += 1) metrics?.recordAttemptEnd('lost');
      const promoted = await store.promoteRetries();
      const offline = await store.markStaleRunnersOffline(config.runnerStaleAfterMs);
      const degraded = await store.markLateRunnersDegraded(config.runnerLateAfterMs);
      if (breakers) await settleBreakerProbes(breakers);
      if (expired + promoted + offline + degraded > 0) {
        logger.info(
          {
            expiredLeases: expired,
            promotedRetries: promoted,
            runnersOffline: offline,
            runnersDegraded: degraded,
          },
          'maintenance',
        );
      }
    } catch (error) {
      logger.error({ err: error }, 'maintenance pass failed');
    }
  }

  return startRepeating(pass, config.maintenanceIntervalMs);
}
