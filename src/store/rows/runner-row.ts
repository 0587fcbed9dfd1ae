/**
 * Conversion between a `runners` row and the domain Runner, and the copies of runner-reported fleet data
 * that go into a row.
 */
import type { DependencyHealth, RunnerAgentPairing } from '../../core/fleet-types.ts';
import type { Runner } from '../../core/types.ts';
import type { RunnerRow } from './database-schema.ts';
import { epochToIso } from './epoch-to-iso.ts';
import { parseJsonColumn } from './parse-json-column.ts';

/** The domain Runner stored in `row`; `activeAttempts` is derived by the caller's query. */
export function runnerFromRow(row: RunnerRow, activeAttempts: number): Runner {
  const runner: Runner = {
    id: row.id,
    name: row.name,
    capabilities: parseJsonColumn<string[]>(row.capabilities),
    slots: row.slots,
    status: row.status,
    createdAt: epochToIso(row.created_at),
    agents: parseJsonColumn<RunnerAgentPairing[]>(row.agents),
    dependencyHealth: parseJsonColumn<DependencyHealth[]>(row.dependency_health),
    activeAttempts,
  };
  if (row.version !== null) runner.version = row.version;
  if (row.hostname !== null) runner.hostname = row.hostname;
  if (row.last_heartbeat_at !== null) runner.lastHeartbeatAt = epochToIso(row.last_heartbeat_at);
  return runner;
}

/**
 * The `agents` column of `pairings`: only the known fields of each, so that nothing else a caller attached
 * ends up in a row and every pairing reads back exactly as stored.
 */
export function agentsColumnOf(pairings: readonly RunnerAgentPairing[]): string {
  return JSON.stringify(
    pairings.map((pairing) => ({
      agent: pairing.agent,
      offers: pairing.offers.map((offer) => ({
        name: offer.name,
        weight: offer.weight,
        preferred: offer.preferred,
      })),
      healthChecks: [...pairing.healthChecks],
    })),
  );
}

/** The `dependency_health` column of `results`, known fields only (see {@link agentsColumnOf}). */
export function dependencyHealthColumnOf(results: readonly DependencyHealth[]): string {
  return JSON.stringify(
    results.map((result) => ({
      name: result.name,
      healthy: result.healthy,
      ...(result.detail === undefined ? {} : { detail: result.detail }),
      checkedAt: result.checkedAt,
    })),
  );
}
