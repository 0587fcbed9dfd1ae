/**
 * Circuit breakers follow attempt outcomes: each finished attempt an agent ran counts for that agent's breaker
 * and for its runner's. A probe that ended without a report (its lease expired, its task was
 * cancelled) is settled by {@link settleBreakerProbes} in the maintenance loop.
 */
import {
  breakerAfterOutcome,
  breakerAfterProbeLost,
  breakerKey,
  type BreakerPolicy,
} from '../core/circuit-breaker.ts';
import type { Logger } from '../core/logger.ts';
import type { Store } from '../store/store.ts';
import type { FleetView } from './fleet-view.ts';

/** What {@link recordBreakerOutcome} needs. */
export interface BreakerDependencies {
  store: Store;
  fleetView: FleetView;
  logger: Logger;
  breakerPolicy: BreakerPolicy;
  clock?: () => number;
}

/**
 * Counts a finished attempt on its breakers and in the fleet view. A success on breakers that have counted
 * nothing costs no write. Never throws: a breaker that misses an outcome is better than
 * a completion answered with an error (the runner would retry it into a 409).
 */
export async function recordBreakerOutcome(
  dependencies: BreakerDependencies,
  attemptId: string,
  runnerId: string,
  succeeded: boolean,
): Promise<void> {
  const { store, fleetView, logger } = dependencies;
  const now = (dependencies.clock ?? Date.now)();
  try {
    fleetView.noteFinished(runnerId);
    const snapshot = await fleetView.snapshot();
    // why: only runners with pairings take part in scoring by outcome; a plain runner's attempt needs no read.
    if (!snapshot.runners.some((runner) => runner.id === runnerId && runner.agents.length > 0)) return;
    const attempt = await store.getAttempt(attemptId);
    // why: breakers guard agent pairings, the units of fleet routing. An attempt no agent ran usually failed
    // for reasons of its own task (a failing test); tripping its runner's breaker would idle a plain runner
    // that may be the only one able to run the queue.
    if (!attempt || attempt.agent === undefined) return;
    const keys = [
      breakerKey('runner', attempt.runnerId),
      ...(attempt.agent === undefined ? [] : [breakerKey('agent', attempt.agent)]),
    ];
    for (const key of keys) {
      const before = snapshot.breakers.get(key);
      // why: a success on a breaker that has counted nothing is a no-op; skip the write.
      if (succeeded && (!before || (before.state === 'closed' && before.consecutiveFailures === 0))) continue;
      const after = await store.updateBreaker(key, (current) => {
        const next = breakerAfterOutcome(
          current,
          key,
          { attemptId, succeeded },
          dependencies.breakerPolicy,
          now,
        );
        return next === current ? undefined : next;
      });
      if (after && after.state !== before?.state) {
        logger.info(
          { breaker: key, from: before?.state ?? 'closed', to: after.state, attemptId },
          'circuit breaker changed',
        );
      }
    }
    // why: this hub's next decision must see this outcome in the pairing's success rate.
    fleetView.invalidate();
  } catch (error) {
    logger.warn({ err: error, attemptId }, 'recording an outcome on the circuit breakers failed');
  }
}

/**
 * Settles probes whose attempt ended without an outcome report: lost (the lease expired) counts as a
 * failure, cancelled lets another probe go. Clears probe reservations that lapsed unclaimed. Run by the
 * maintenance leader.
 */
export async function settleBreakerProbes(dependencies: BreakerDependencies): Promise<number> {
  const { store, fleetView } = dependencies;
  const now = (dependencies.clock ?? Date.now)();
  let settled = 0;
  for (const record of await store.listBreakers()) {
    const probeAttemptId = record.probeAttemptId;
    if (probeAttemptId === undefined) continue;
    if (record.probeReservedUntil !== undefined) {
      // A scheduler's reservation, not an attempt: its claim is under way, or it lapsed (its hub died).
      if (now < Date.parse(record.probeReservedUntil)) continue;
      await store.updateBreaker(record.key, (current) =>
        current?.probeAttemptId === probeAttemptId
          ? breakerAfterProbeLost(current, probeAttemptId, now)
          : undefined,
      );
      settled += 1;
      continue;
    }
    const attempt = await store.getAttempt(probeAttemptId);
    if (attempt && ['leased', 'running', 'verifying'].includes(attempt.state)) continue;
    await store.updateBreaker(record.key, (current) => {
      if (current?.probeAttemptId !== probeAttemptId) return undefined;
      if (!attempt || attempt.state === 'cancelled')
        return breakerAfterProbeLost(current, probeAttemptId, now);
      return breakerAfterOutcome(
        current,
        record.key,
        { attemptId: probeAttemptId, succeeded: attempt.state === 'succeeded' },
        dependencies.breakerPolicy,
        now,
      );
    });
    settled += 1;
  }
  if (settled > 0) fleetView.invalidate();
  return settled;
}
