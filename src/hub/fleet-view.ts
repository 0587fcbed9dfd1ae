/**
 * The scheduler's view of the fleet: every runner with its pairings and dependency health, each pairing's
 * recent outcomes and the circuit breakers, read from the store and cached for a moment.
 *
 * why a cache: one claim may weigh a task against every runner of the fleet; reading a thousand runners'
 * records and histories per claim would cost more than the claim. The view is at most `maxAgeMs` old, and
 * this hub drops it at once after an outcome it records, so its own next decision sees that outcome. Other
 * hubs see it within `maxAgeMs`.
 */
import type { BreakerRecord } from '../core/circuit-breaker.ts';
import type { Runner } from '../core/types.ts';
import type { Store } from '../store/store.ts';

/** One snapshot of the fleet. */
export interface FleetSnapshot {
  /** When it was read (epoch ms). */
  readAt: number;
  runners: Runner[];
  /** Recent outcomes, newest first, by {@link pairingKey}. */
  outcomes: Map<string, boolean[]>;
  /** Breaker records by key (`runner:<id>`, `agent:<name>`). */
  breakers: Map<string, BreakerRecord>;
}

/** A cached, refreshable {@link FleetSnapshot}. */
export interface FleetView {
  /** The snapshot, read again when older than `maxAgeMs`; concurrent callers share one read. */
  snapshot(): Promise<FleetSnapshot>;
  /** Drops the cached snapshot: the next call reads the store (after an outcome or a registration). */
  invalidate(): void;
  /**
   * Counts attempts a runner just claimed in the cached snapshot, so that decisions until the next read see
   * it busy. why: cheaper than a fleet read after every claim, which a busy queue makes hundreds a second.
   */
  noteClaimed(runnerId: string, count: number): void;
  /** Counts an attempt a runner just finished in the cached snapshot (its slot is free again). */
  noteFinished(runnerId: string): void;
}

/** Options of {@link createFleetView}. */
export interface FleetViewOptions {
  store: Store;
  clock?: () => number;
  /** How old a snapshot may be. Default 250 ms. */
  maxAgeMs?: number;
  /** Outcomes kept per pairing. */
  outcomesPerPairing: number;
}

// why: a quarter second bounds how stale another hub's outcomes look, at four fleet reads a second at most.
const defaultMaxAgeMs = 250;

/** The key of a runner-agent pairing in {@link FleetSnapshot.outcomes}. */
export function pairingKey(runnerId: string, agent: string | undefined): string {
  return agent === undefined ? runnerId : `${runnerId}\u0000${agent}`;
}

/** Creates a fleet view over the store. */
export function createFleetView(options: FleetViewOptions): FleetView {
  const { store } = options;
  const clock = options.clock ?? Date.now;
  const maxAgeMs = options.maxAgeMs ?? defaultMaxAgeMs;
  let current: FleetSnapshot | undefined;
  let reading: Promise<FleetSnapshot> | undefined;
  let generation = 0;

  async function read(): Promise<FleetSnapshot> {
    const readAt = clock();
    const [runners, outcomes, breakers] = await Promise.all([
      store.listRunners(),
      store.listPairingOutcomes({ limitPerPairing: options.outcomesPerPairing }),
      store.listBreakers(),
    ]);
    return {
      readAt,
      runners,
      outcomes: new Map(outcomes.map((entry) => [pairingKey(entry.runnerId, entry.agent), entry.outcomes])),
      breakers: new Map(breakers.map((record) => [record.key, record])),
    };
  }

  return {
    async snapshot() {
      if (current && clock() - current.readAt < maxAgeMs) return current;
      if (!reading) {
        const started = generation;
        const thisRead = read().finally(() => {
          if (reading === thisRead) reading = undefined;
        });
        reading = thisRead;
        const snapshot = await thisRead;
        // why: a snapshot read across an invalidation may predate the outcome that caused it.
        if (started === generation) current = snapshot;
        return snapshot;
      }
      return reading;
    },
    invalidate() {
      generation += 1;
      current = undefined;
      reading = undefined;
    },
    noteClaimed(runnerId, count) {
      const runner = current?.runners.find((candidate) => candidate.id === runnerId);
      if (runner) runner.activeAttempts += count;
    },
    noteFinished(runnerId) {
      const runner = current?.runners.find((candidate) => candidate.id === runnerId);
      if (runner && runner.activeAttempts > 0) runner.activeAttempts -= 1;
    },
  };
}
