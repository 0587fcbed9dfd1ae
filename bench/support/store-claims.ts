/**
 * What the store-level claim benches (`store-claim`, `postgres-claim-1m`) enqueue, claim and complete: a
 * routed no-op task, an hour-long lease and a successful result, and one timed claim + completion.
 */
import { routedTaskSpec } from '../../src/store/testing/routed-task-spec.ts';
import type { AttemptSuccess, Store } from '../../src/store/index.ts';

/** The task the store benches enqueue: a shell no-op, routed by hand (no hub). */
export const noOpRoutedSpec = routedTaskSpec({
  title: 'no-op',
  repo: '/srv/repos/bench',
  executorInput: { run: 'true' },
  labels: ['bench'],
});

// why: an hour-long lease never expires during a run, so expiry never disturbs the figures.
export const BENCH_LEASE_MS = 60 * 60 * 1_000;

/** The result every claimed attempt is completed with. */
export const benchSuccess: AttemptSuccess = {
  result: {
    branch: 'warren/bench',
    baseBranch: 'main',
    baseSha: 'a'.repeat(40),
    changedFiles: [],
    pushed: false,
  },
  verification: [],
};

/** The runner a store bench claims as. */
export interface BenchRunner {
  runnerId: string;
  capabilities: string[];
}

/**
 * Claims one task for `runner` (`limit: 1`, plus `maxActive` when given) and completes it: the claim's ms
 * and the claim + completion's. Throws when the queue is empty.
 */
export async function claimAndComplete(
  store: Store,
  runner: BenchRunner,
  maxActive?: number,
): Promise<{ claimMs: number; totalMs: number }> {
  const started = performance.now();
  const claims = await store.claimTasks({
    ...runner,
    limit: 1,
    leaseMs: BENCH_LEASE_MS,
    ...(maxActive === undefined ? {} : { maxActive }),
  });
  const claimMs = performance.now() - started;
  const claim = claims[0];
  if (claim === undefined) throw new Error('the queue ran dry during the bench');
  await store.completeAttempt(
    { attemptId: claim.attempt.id, leaseToken: claim.leaseToken, runnerId: runner.runnerId },
    benchSuccess,
  );
  return { claimMs, totalMs: performance.now() - started };
}
