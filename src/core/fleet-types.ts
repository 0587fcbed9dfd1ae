/**
 * What a runner tells the hub about the fleet routing can use: the agent definitions it can run (its
 * pairings, with the capabilities each offers and the health checks each needs) and the last result of
 * each dependency health check it runs. Plain, JSON-serialisable data; the store keeps both on the runner.
 */
import type { CapabilityOffer } from './routing-score.ts';

/** An agent definition a runner can run, with the capabilities the pairing offers and the health checks it needs. */
export interface RunnerAgentPairing {
  /** The agent definition's name, e.g. `gitops`. */
  agent: string;
  /** The capabilities the pairing offers, each with its base weight and whether it is preferred. */
  offers: CapabilityOffer[];
  /** Names of the dependency health checks the pairing needs (see {@link DependencyHealth}). */
  healthChecks: string[];
}

/** The last result of one dependency health check a runner runs. */
export interface DependencyHealth {
  /** The check's name, e.g. `argo`, as pairings name it in `healthChecks`. */
  name: string;
  /** Whether the check passed. */
  healthy: boolean;
  /** What the check reported, e.g. `HTTP 503`. */
  detail?: string;
  /** When the check ran (ISO time). */
  checkedAt: string;
}
