/**
 * Keeping a hub's endpoint health checker in step with the endpoints in the store. why: hubs sharing one
 * database each keep their own checker; an endpoint added, changed or removed through one hub must reach
 * the others, or they would route claims by an endpoint list that is out of date.
 */
import type { Logger } from '../core/logger.ts';
import type { Store } from '../store/store.ts';
import type { EndpointHealthChecker } from './endpoint-health.ts';
import { startRepeating, type Repeating } from './start-repeating.ts';

/** A running sync loop: `runOnce()` reads the endpoints now, `stop()` ends the loop. */
export type EndpointSync = Repeating;

/**
 * Starts reading `store.listEndpoints()` every `intervalMs` and handing the list to the checker, which
 * keeps the health of unchanged endpoints and checks new or changed ones at once. A failed read (the
 * database away) is logged at debug level and tried again next time.
 */
export function startEndpointSync(options: {
  store: Store;
  endpointHealth: EndpointHealthChecker;
  intervalMs: number;
  logger: Logger;
}): EndpointSync {
  const { store, endpointHealth, intervalMs, logger } = options;
  async function read(): Promise<void> {
    try {
      const endpoints = await store.listEndpoints();
      endpointHealth.sync(endpoints);
    } catch (error) {
      logger.debug({ err: error }, 'reading the model endpoints failed; trying again later');
    }
  }

  return startRepeating(read, intervalMs);
}
