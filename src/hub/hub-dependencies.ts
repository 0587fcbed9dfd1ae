/**
 * What the hub's route modules share: the store, auth, settings, logger, metrics, the endpoint checker and
 * the hub's lifetime.
 */
import type { Logger } from '../core/logger.ts';
import type { Store } from '../store/store.ts';
import type { AgentDefinitionRegistry } from './agent-definitions/create-agent-definition-registry.ts';
import type { HubAuth } from './auth.ts';
import type { ClaimWaiters } from './claim-waiters.ts';
import type { EndpointHealthChecker } from './endpoint-health.ts';
import type { FleetView } from './fleet-view.ts';
import type { LaneFairness } from './lane-fairness.ts';
import type { HubConfig } from './hub-config.ts';
import type { HubMetrics } from './metrics.ts';

/** Everything a route module needs. */
export interface HubDependencies {
  store: Store;
  auth: HubAuth;
  config: HubConfig;
  logger: Logger;
  metrics: HubMetrics;
  claimWaiters: ClaimWaiters;
  /** The model endpoints and their health: routing at task creation, model capabilities at claim time. */
  endpointHealth: EndpointHealthChecker;
  /** Aborted when the hub shuts down: long polls and event streams end. */
  shutdownSignal: AbortSignal;
  /** The secret of `POST /v1/runners/enroll`; undefined turns enrollment off. */
  enrollmentToken?: string;
  /** The scheduler's cached view of runners, outcomes and breakers. */
  fleetView: FleetView;
  /** This hub's lane credits: which lower lane is owed a claim. */
  laneFairness: LaneFairness;
  /** The agent definitions of the hub's `agents` setting; undefined when it has none. */
  agentDefinitions?: AgentDefinitionRegistry;
}
