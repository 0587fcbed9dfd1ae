/**
 * Claiming work for one runner, shared by the long-poll `POST /v1/runner/claim` and by completions and
 * failures that ask for the runner's next work in the same request.
 */
import type { ClaimedWork } from '../core/api.ts';
import { modelProvidersOf } from '../core/executor-model-providers.ts';
import { resolveModelAssignment } from '../core/model-assignment.ts';
import {
  breakerAfterProbeClaimed,
  breakerAfterProbeLost,
  breakerAfterProbeReserved,
  breakerGate,
  breakerKey,
} from '../core/circuit-breaker.ts';
import { candidateLabel } from '../core/routing-score.ts';
import type { Runner } from '../core/types.ts';
import type { Claim, ClaimCandidate, Store, TaskAssignment } from '../store/store.ts';
import { chooseAssignments, type RoutingRecord } from './choose-assignments.ts';
import type { FleetSnapshot } from './fleet-view.ts';
import type { AvailableModels } from './endpoint-health.ts';
import { claimedAgentOf } from './claimed-agent-of.ts';
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

// why: a claim weighs at least this many queued tasks, so a few left to other runners do not hide work.
const minLookahead = 8;
// why: bounds the tasks read and weighed per claim (each against the fleet) whatever the runner's room.
const maxLookahead = 64;

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
  dependencies: Pick<
    HubDependencies,
    | 'store'
    | 'config'
    | 'metrics'
    | 'claimWaiters'
    | 'endpointHealth'
    | 'fleetView'
    | 'agentDefinitions'
    | 'laneFairness'
    | 'logger'
  >,
  runnerId: string,
  { limit, waitMs, signal }: ClaimForRunnerOptions,
): Promise<RunnerClaims> {
  const { store, metrics, claimWaiters } = dependencies;
  const startedAt = performance.now();
  let freeSlotsBefore = 0;
  let deferred = 0;
  const tryClaim = async (): Promise<ClaimedWork[] | undefined> => {
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
    const result = await claimRouted(dependencies, runner, Math.min(limit, freeSlots));
    deferred = result.deferred;
    return result.claims;
  };
  const claims = await claimWaiters.claim(tryClaim, {
    waitMs,
    // Made only when the request parks, after its first try.
    signal: () => {
      const clientGone = typeof signal === 'function' ? signal() : signal;
      if (deferred === 0) return clientGone ?? new AbortController().signal;
      // why: a runner that left tasks to a better candidate asks again soon, in case that one never takes
      // them (it filled up, or stopped claiming); otherwise it waits for new work as long as it asked.
      // Jittered (±25 %), so runners that deferred together do not come back together.
      const reconsiderMs = dependencies.config.fleet.reconsiderMs * (0.75 + 0.5 * Math.random());
      const reconsider = AbortSignal.timeout(Math.round(Math.min(waitMs, reconsiderMs)));
      return clientGone ? AbortSignal.any([clientGone, reconsider]) : reconsider;
    },
  });
  metrics.recordClaimWait((performance.now() - startedAt) / 1_000, claims.length > 0);
  return { claims, freeSlotsBefore };
}

/**
 * One claim try: the queued tasks this runner could run, weighed against the whole fleet; it takes those
 * where it is the best candidate (see `chooseAssignments`).
 */
async function claimRouted(
  {
    store,
    config,
    endpointHealth,
    fleetView,
    agentDefinitions,
    laneFairness,
    logger,
  }: Pick<
    HubDependencies,
    'store' | 'config' | 'endpointHealth' | 'fleetView' | 'agentDefinitions' | 'laneFairness' | 'logger'
  >,
  runner: Runner,
  room: number,
): Promise<{ claims: ClaimedWork[]; deferred: number }> {
  const models = endpointHealth.available();
  const capabilities = [
    ...new Set([
      ...runner.capabilities,
      ...models.capabilities,
      ...runner.agents.flatMap((pairing) => pairing.offers.map((offer) => offer.name)),
    ]),
  ];
  // why: look past tasks left to better candidates, but not so far that a claim reads the queue.
  const lookahead = Math.min(maxLookahead, Math.max(minLookahead, room * 4));
  const candidates = await store.listClaimCandidates({ capabilities, limit: lookahead });
  if (candidates.length === 0) return { claims: [], deferred: 0 };
  const promoted: ClaimCandidate[] = [];
  for (const lane of laneFairness.owed()) {
    // why: the head already shows the lane's first tasks when no higher lane has work.
    if (candidates[0]?.lane === lane) continue;
    const head = await store.listClaimCandidates({ capabilities, limit: minLookahead, lane });
    if (head.length === 0) laneFairness.noteNothingQueued(lane);
    promoted.push(...head);
  }
  const now = Date.now();
  const snapshot = await fleetView.snapshot();
  const { assignments, deferred } = chooseAssignments({
    snapshot,
    runner,
    candidates,
    promoted,
    modelCapabilities: models.capabilities,
    agentLimits: (name) => agentDefinitions?.limitsOf(name),
    concurrencyLimits: config.fleet.concurrencyLimits,
    room,
    now,
    maxDeferMs: config.fleet.maxDeferMs,
  });
  const probes = await reserveProbes(store, snapshot, runner.id, assignments, now);
  const admitted = assignments.filter((assignment) => !probes.refused.has(assignment.taskId));
  const left = deferred + probes.refused.size;
  if (admitted.length === 0) return { claims: [], deferred: left };
  let claimed: Claim[] = [];
  try {
    claimed = await store.claimTasks({
      runnerId: runner.id,
      capabilities,
      limit: room,
      leaseMs: config.leaseMs,
      // The store re-checks the room inside the claim: other requests of this runner may claim meanwhile.
      maxActive: runner.slots,
      assignments: admitted,
    });
  } finally {
    // why in finally: a claim that failed took nothing, and its reservations must not hold probes back.
    await settleProbeReservations(store, probes.reserved, claimed, now);
  }
  laneFairness.noteClaimed(claimed.map((claim) => claim.task.lane));
  if (claimed.length > 0) fleetView.noteClaimed(runner.id, claimed.length);
  const claims = claimed.map((claim) => withModel(claim, models));
  return {
    claims: agentDefinitions === undefined ? claims : await withAgents(claims, agentDefinitions, logger),
    deferred: left,
  };
}

/**
 * The claims, each whose attempt has an agent with that agent's definition and skills (see
 * `claimedAgentOf`). Never throws: the leases are taken, so a claim is never lost over its agent.
 */
async function withAgents(
  claims: ClaimedWork[],
  registry: NonNullable<HubDependencies['agentDefinitions']>,
  logger: HubDependencies['logger'],
): Promise<ClaimedWork[]> {
  // why: the common claim has no agent; it costs one property read per claim and no await.
  if (!claims.some((claim) => claim.attempt.agent !== undefined)) return claims;
  return Promise.all(
    claims.map(async (claim): Promise<ClaimedWork> => {
      const name = claim.attempt.agent;
      if (name === undefined) return claim;
      try {
        const agent = await claimedAgentOf(registry, name, logger);
        return agent === undefined ? claim : { ...claim, agent };
      } catch (error) {
        logger.error(
          { agent: name, attemptId: claim.attempt.id, err: error },
          "could not attach the agent's definition to a claim; the attempt goes without it",
        );
        return claim;
      }
    }),
  );
}

// why: a reservation covers only the claim transaction that follows it (milliseconds); if its hub dies in
// between, the breaker lets another probe go after this long.
const probeReservationMs = 10_000;

/** A probe reserved on some breakers for the task of an assignment, under one name. */
interface ProbeReservation {
  name: string;
  keys: string[];
}

/**
 * Reserves, before the claim, the half-open breakers whose one probe an assignment is (its chosen card is a
 * probe). An assignment whose reservation another claim holds (another hub, deciding from the same view, or
 * an earlier assignment of this claim) is refused and left queued: a breaker lets exactly one probe through.
 */
async function reserveProbes(
  store: Store,
  snapshot: FleetSnapshot,
  runnerId: string,
  assignments: TaskAssignment[],
  now: number,
): Promise<{ reserved: Map<string, ProbeReservation>; refused: Set<string> }> {
  const reserved = new Map<string, ProbeReservation>();
  const refused = new Set<string>();
  for (const assignment of assignments) {
    const record = assignment.routing as unknown as RoutingRecord | undefined;
    const chosen = record?.cards.find((card) => candidateLabel(card) === record.winner);
    if (!chosen?.probe) continue;
    const name = `reserved:${runnerId}:${assignment.taskId}`;
    const keys = [
      breakerKey('runner', runnerId),
      ...(assignment.agent === undefined ? [] : [breakerKey('agent', assignment.agent)]),
    ].filter((key) => breakerGate(snapshot.breakers.get(key), now).admits === 'probe');
    const taken: string[] = [];
    for (const key of keys) {
      const after = await store.updateBreaker(key, (current) =>
        current ? breakerAfterProbeReserved(current, name, now, probeReservationMs) : undefined,
      );
      if (after?.probeAttemptId !== name) break;
      taken.push(key);
    }
    if (taken.length === keys.length) {
      reserved.set(assignment.taskId, { name, keys });
      continue;
    }
    refused.add(assignment.taskId);
    await releaseProbe(store, name, taken, now);
  }
  return { reserved, refused };
}

/** Turns each reservation whose task the claim took into its attempt, and releases the others. */
async function settleProbeReservations(
  store: Store,
  reserved: Map<string, ProbeReservation>,
  claimed: Claim[],
  now: number,
): Promise<void> {
  for (const [taskId, { name, keys }] of reserved) {
    const attempt = claimed.find((claim) => claim.task.id === taskId)?.attempt;
    if (!attempt) {
      await releaseProbe(store, name, keys, now);
      continue;
    }
    for (const key of keys) {
      await store.updateBreaker(key, (current) =>
        current ? breakerAfterProbeClaimed(current, attempt.id, now, name) : undefined,
      );
    }
  }
}

/** Frees the breakers `keys` of the reservation `name`, so that another probe may go. */
async function releaseProbe(store: Store, name: string, keys: string[], now: number): Promise<void> {
  for (const key of keys) {
    await store.updateBreaker(key, (current) =>
      current?.probeAttemptId === name ? breakerAfterProbeLost(current, name, now) : undefined,
    );
  }
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
