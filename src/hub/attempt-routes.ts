/**
 * The attempt routes a runner calls while it works: heartbeat, phase, logs, usage, complete and fail. Each call
 * carries the attempt's lease token and is fenced by the store with the calling runner's id.
 */
import type { Context, Hono } from 'hono';
import {
  attemptCompleteRequestSchema,
  attemptFailRequestSchema,
  attemptHeartbeatRequestSchema,
  attemptLogsRequestSchema,
  attemptPhaseRequestSchema,
  attemptUsageRequestSchema,
  type AttemptEndResult,
} from '../core/api.ts';
import { InvalidInputError, LeaseLostError } from '../core/errors.ts';
import { ENDPOINT_OUTAGE_ERROR_KINDS } from '../core/model-endpoints.ts';
import type { Logger } from '../core/logger.ts';
import { parseInput } from '../core/parse-input.ts';
import type { LeaseFence, Task } from '../core/types.ts';
import type { Store } from '../store/store.ts';
import { claimForRunner } from './claim-for-runner.ts';
import type { HubDependencies } from './hub-dependencies.ts';
import type { HubEnv } from './hub-env.ts';
import { recordBreakerOutcome } from './record-breaker-outcome.ts';
import type { AttemptOutcome, HubMetrics } from './metrics.ts';
import { readJsonBody } from './read-json-body.ts';
import { timeOfId } from '../core/ids.ts';

/** Registers the `/v1/attempts/:id/*` routes. */
export function registerAttemptRoutes(app: Hono<HubEnv>, dependencies: HubDependencies): void {
  const { store, config, metrics, logger } = dependencies;
  const breakerDependencies = {
    store,
    logger,
    fleetView: dependencies.fleetView,
    breakerPolicy: config.fleet.breaker,
  };

  app.post('/v1/attempts/:id/heartbeat', async (c) => {
    const { leaseToken, message } = parseInput(attemptHeartbeatRequestSchema, await readJsonBody(c));
    const fence = await fenceOf(c, store, leaseToken);
    return c.json({ attempt: await store.heartbeatAttempt(fence, { leaseMs: config.leaseMs, message }) });
  });

  app.post('/v1/attempts/:id/phase', async (c) => {
    const { leaseToken, ...phase } = parseInput(attemptPhaseRequestSchema, await readJsonBody(c));
    const fence = await fenceOf(c, store, leaseToken);
    return c.json({ attempt: await store.setAttemptPhase(fence, phase) });
  });

  app.post('/v1/attempts/:id/logs', async (c) => {
    const { leaseToken, entries } = parseInput(attemptLogsRequestSchema, await readJsonBody(c));
    const fence = await fenceOf(c, store, leaseToken);
    await store.appendAttemptLogs(fence, entries);
    return c.body(null, 204);
  });

  app.post('/v1/attempts/:id/usage', async (c) => {
    const { leaseToken, records } = parseInput(attemptUsageRequestSchema, await readJsonBody(c));
    const fence = await fenceOf(c, store, leaseToken);
    await store.recordUsage(fence, records);
    metrics.recordUsage(records);
    return c.body(null, 204);
  });

  app.post('/v1/attempts/:id/complete', async (c) => {
    const { leaseToken, claim, ...success } = parseInput(attemptCompleteRequestSchema, await readJsonBody(c));
    refuseAdminClaim(c, claim);
    const fence = await fenceOf(c, store, leaseToken);
    const task = await store.completeAttempt(fence, success);
    await recordAttemptEnd({ store, metrics, logger }, fence.attemptId, task, 'succeeded');
    await recordBreakerOutcome(breakerDependencies, fence.attemptId, fence.runnerId, true);
    return c.json(await answerAttemptEnd(dependencies, fence.runnerId, task, claim));
  });

  app.post('/v1/attempts/:id/fail', async (c) => {
    const { leaseToken, claim, ...failure } = parseInput(attemptFailRequestSchema, await readJsonBody(c));
    refuseAdminClaim(c, claim);
    const fence = await fenceOf(c, store, leaseToken);
    const task = await store.failAttempt(fence, failure);
    // The model endpoint failed the attempt: check it now, so that the retry waits for a healthy one.
    if (task.model !== undefined && ENDPOINT_OUTAGE_ERROR_KINDS.includes(failure.error.kind)) {
      dependencies.endpointHealth.recheck(task.model);
    }
    await recordAttemptEnd({ store, metrics, logger }, fence.attemptId, task, 'failed');
    await recordBreakerOutcome(breakerDependencies, fence.attemptId, fence.runnerId, false);
    return c.json(await answerAttemptEnd(dependencies, fence.runnerId, task, claim));
  });
}

/**
 * The answer of a completion or failure already recorded: claims the runner's next work first when the
 * request asked (without waiting), and wakes parked claims that the freed slot may serve.
 */
async function answerAttemptEnd(
  dependencies: HubDependencies,
  runnerId: string,
  task: Task,
  claim: { limit: number } | undefined,
): Promise<AttemptEndResult> {
  if (!claim) {
    // A slot was freed: a claim parked while its runner was full may now take queued work.
    dependencies.claimWaiters.notify();
    return { task };
  }
  let claimed;
  try {
    claimed = await claimForRunner(dependencies, runnerId, { limit: claim.limit, waitMs: 0 });
  } catch (error) {
    // why: the attempt's end is recorded; failing the request would make the runner retry it into a 409.
    // It claims its next work with its next long poll instead.
    dependencies.logger.warn({ err: error, runnerId }, 'claiming after an attempt ended failed');
    dependencies.claimWaiters.notify();
    return { task, claims: [] };
  }
  const { claims, freeSlotsBefore } = claimed;
  // why: only this runner's parked claims can use its freed slot, and only when a slot is still free and
  // the claim stopped at its limit rather than for want of work. Otherwise waking the line would cost a
  // count of ready tasks and claim tries that find nothing. New work signals `tasks-ready` on its own.
  if (freeSlotsBefore > claims.length && claims.length >= claim.limit) dependencies.claimWaiters.notify();
  return { task, claims };
}

/**
 * Refuses `claim` from anyone but a runner. why: claims hold the runner's slots and hand out its lease tokens;
 * an admin finishing an attempt by hand must not take work on the runner's behalf.
 */
function refuseAdminClaim(c: Context<HubEnv>, claim: { limit: number } | undefined): void {
  if (claim && c.get('principal').kind !== 'runner') {
    throw new InvalidInputError([{ field: 'claim', reason: 'only a runner token may claim work' }]);
  }
}

/**
 * The lease fence of this call. A runner presents itself; the admin acts for the attempt's own runner
 * (the lease token still has to match).
 */
async function fenceOf(c: Context<HubEnv>, store: Store, leaseToken: string): Promise<LeaseFence> {
  const attemptId = c.req.param('id') ?? '';
  const principal = c.get('principal');
  if (principal.kind === 'runner') return { attemptId, leaseToken, runnerId: principal.runner.id };
  const attempt = await store.getAttempt(attemptId);
  if (!attempt) throw new LeaseLostError(attemptId, 'unknown-attempt');
  return { attemptId, leaseToken, runnerId: attempt.runnerId };
}

/**
 * Counts the finished attempt and how long it ran: from its start, which its id records (ids are made at
 * claim time), to the task's last change, which finishing the attempt made. why: reading the attempt back
 * for its times cost a store read per completion. An id in another format falls back to that read; a
 * failure to read only costs the duration.
 */
async function recordAttemptEnd(
  { store, metrics, logger }: { store: Store; metrics: HubMetrics; logger: Logger },
  attemptId: string,
  task: Task,
  outcome: AttemptOutcome,
): Promise<void> {
  const startedAt = timeOfId(attemptId);
  if (startedAt !== undefined) {
    const finishedAt = Date.parse(task.finishedAt ?? task.updatedAt);
    metrics.recordAttemptEnd(outcome, Math.max(0, finishedAt - startedAt) / 1_000);
    return;
  }
  try {
    const attempt = await store.getAttempt(attemptId);
    const finishedAt = attempt?.finishedAt ? Date.parse(attempt.finishedAt) : Date.now();
    const durationSeconds = attempt ? (finishedAt - Date.parse(attempt.startedAt)) / 1_000 : undefined;
    metrics.recordAttemptEnd(outcome, durationSeconds);
  } catch (error) {
    metrics.recordAttemptEnd(outcome);
    logger.warn({ err: error, attemptId }, 'reading a finished attempt for metrics failed');
  }
}
