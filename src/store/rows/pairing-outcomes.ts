/**
 * The answer of `listPairingOutcomes`, built the same way by every backend.
 */
import type { AttemptState } from '../../core/types.ts';
import type { PairingOutcomes } from '../store.ts';

/** One finished attempt of a pairing: its runner, its agent (`''` for none) and its state. */
export interface PairingOutcomeRow {
  runner_id: string;
  agent_key: string;
  state: AttemptState;
}

/**
 * Groups rows into pairings, keeping each pairing's rows in the order given (newest first), and orders
 * the pairings by {@link comparePairings}. Succeeded is true; failed and lost are false.
 */
export function pairingOutcomesOf(rows: Iterable<PairingOutcomeRow>): PairingOutcomes[] {
  const byPairing = new Map<string, PairingOutcomes>();
  for (const row of rows) {
    const key = `${row.runner_id}\u0000${row.agent_key}`;
    let pairing = byPairing.get(key);
    if (pairing === undefined) {
      pairing = {
        runnerId: row.runner_id,
        ...(row.agent_key === '' ? {} : { agent: row.agent_key }),
        outcomes: [],
      };
      byPairing.set(key, pairing);
    }
    pairing.outcomes.push(row.state === 'succeeded');
  }
  return [...byPairing.values()].sort(comparePairings);
}

/** By runner id, then agent (none first), comparing code units so that every backend agrees. */
export function comparePairings(left: PairingOutcomes, right: PairingOutcomes): number {
  return compareText(left.runnerId, right.runnerId) || compareText(left.agent ?? '', right.agent ?? '');
}

function compareText(left: string, right: string): number {
  if (left === right) return 0;
  return left < right ? -1 : 1;
}
