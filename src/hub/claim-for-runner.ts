/**
 * Claiming work for one runner, shared by the long-poll `POST /v1/runner/claim` and by completions and
 * failures that ask for the runner's next work in the same request.
 */
import type { ClaimedWork } from '../core/api.ts';
import { modelProvidersOf } from '../core/executor-model-providers.ts';
import { resolveModelAssignment } from '../core/model-assignment.ts';
import type { Claim } from '../store/store.ts';
import type { AvailableModels } from './endpoint-health.ts';
import type { ClaimWaitOptions } from './claim-waiters.ts';
import type { HubDependencies } from './hub-dependencies.ts';

/** Options of {@link claimForRunner}. */
export interface ClaimForRunnerOptions {
  /** Most tasks to claim; capped by the runner's free slots. */
  limit: number;
  /** How long to wait for work when none is claimable now; 0 answers at once. */
  waitMs: number;
  /** Aborts the wait (the client went away); see {@link ClaimWaitOptions.signal}. */
  signal?: ClaimWaitOptions['signal'];
}

/** What {@link claimForRunner} claimed, and the room the runner had for it. */
export interface RunnerClaims {
  claims: ClaimedWork[];
  /** The runner's free slots when its last try began; 0 when it is draining, deleted or full. */
  freeSlotsBefore: number;
}

/**
 * Claims up to `limit` tasks for the runner with the capabilities of its record and the hub's lease,
 * waiting up to `waitMs` for work. Answers empty for a draining or deleted runner (without waiting) and
 * for a runner with no free slot. Records the wait in `warren_claim_wait_seconds`.
 *
 * Model capabilities: each try adds to the runner's capabilities the `model:` capabilities of every model
 * of every endpoint that is up (`model:<endpoint>/<model>` and `model:<tier>`), so a task with a model
 * selector is claimed only while a model it may use is reachable; such a claim comes with its
 * `model` assignment, resolved against the same snapshot of healthy endpoints.
 */
export async function claimForRunner(
  {
    store,
    config,
    metrics,
    claimWaiters,
    endpointHealth,
  }: Pick<HubDependencies, 'store' | 'config' | 'metrics' | 'claimWaiters' | 'endpointHealth'>,
  runnerId: string,
  { limit, waitMs, signal }: ClaimForRunnerOptions,
): Promise<RunnerClaims> {
  const startedAt = performance.now();
  let freeSlotsBefore = 0;
  const claims = await claimWaiters.claim(
    async () => {
      // why: read each try (not the token cache's copy): free slots and draining must be current.
      const runner = await store.getRunner(runnerId);
      // why: a draining runner finishes what it holds and must get nothing new, without waiting.
      if (!runner || runner.status === 'draining') {
        freeSlotsBefore = 0;
        return undefined;
      }
      const freeSlots = runner.slots - runner.activeAttempts;
      freeSlotsBefore = Math.max(0, freeSlots);
      if (freeSlots <= 0) return [];
      const models = endpointHealth.available();
      const claimed = await store.claimTasks({
        runnerId,
        capabilities:
          models.capabilities.length === 0
            ? runner.capabilities
            : [...runner.capabilities, ...models.capabilities],
        limit: Math.min(limit, freeSlots),
        leaseMs: config.leaseMs,
        // The store re-checks the room inside the claim: other requests of this runner may claim meanwhile.
        maxActive: runner.slots,
      });
      return claimed.map((claim) => withModel(claim, models));
    },
    { waitMs, signal },
  );
  metrics.recordClaimWait((performance.now() - startedAt) / 1_000, claims.length > 0);
  return { claims, freeSlotsBefore };
}

/** The claim as the runner receives it: with its model assignment when the task has a selector. */
function withModel(claim: Claim, models: AvailableModels): ClaimedWork {
  if (claim.task.model === undefined) return claim;
  // A CLI agent gets only a model of a provider it speaks.
  const providers = modelProvidersOf(claim.task.executor);
  const endpoints = providers
    ? models.endpoints.filter((endpoint) => providers.includes(endpoint.provider))
    : models.endpoints;
  const model = resolveModelAssignment(claim.task.model, endpoints);
  return model === undefined ? claim : { ...claim, model };
}
