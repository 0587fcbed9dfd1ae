/**
 * The runner routes: the operator's runner management (`/v1/runners`) and a runner's own calls
 * (`/v1/runner/register`, `/heartbeat` and the long-poll `/claim`).
 */
import type { Hono } from 'hono';
import {
  claimRequestSchema,
  runnerCreateRequestSchema,
  runnerHeartbeatRequestSchema,
  runnerRegisterRequestSchema,
  type ClaimResult,
  type RunnerCreated,
  type RunnerHeartbeatResult,
  type RunnerRegistered,
} from '../core/api.ts';
import { NotFoundError } from '../core/errors.ts';
import { createSecretToken } from '../core/ids.ts';
import { parseInput } from '../core/parse-input.ts';
import { isActiveAttemptState } from '../core/task-state.ts';
import type { Store } from '../store/store.ts';
import { hashToken } from './auth.ts';
import { requireRunner } from './authorize.ts';
import { claimForRunner } from './claim-for-runner.ts';
import type { HubDependencies } from './hub-dependencies.ts';
import type { HubEnv } from './hub-env.ts';
import { clientGoneSignalOf } from './node-bindings.ts';
import { readJsonBody } from './read-json-body.ts';

/** Registers `/v1/runners` (operator) and `/v1/runner/*` (runner) routes. */
export function registerRunnerRoutes(app: Hono<HubEnv>, dependencies: HubDependencies): void {
  const { store, auth, config } = dependencies;

  app.post('/v1/runners', async (c) => {
    const request = parseInput(runnerCreateRequestSchema, await readJsonBody(c));
    const token = createSecretToken('wrn_runner');
    const runner = await store.createRunner({ ...request, tokenHash: hashToken(token) });
    const answer: RunnerCreated = { runner, token };
    return c.json(answer, 201);
  });

  app.get('/v1/runners', async (c) => c.json({ runners: await store.listRunners() }));

  app.delete('/v1/runners/:id', async (c) => {
    const id = c.req.param('id');
    const deleted = await store.deleteRunner(id);
    auth.forgetRunner(id);
    if (!deleted) throw new NotFoundError('runner', id);
    return c.body(null, 204);
  });

  app.post('/v1/runner/register', async (c) => {
    const runner = requireRunner(c);
    const request = parseInput(runnerRegisterRequestSchema, await readJsonBody(c));
    const answer: RunnerRegistered = {
      runner: await store.registerRunner(runner.id, { ...request, status: 'online' }),
      config: { leaseMs: config.leaseMs, heartbeatIntervalMs: config.heartbeatIntervalMs },
    };
    return c.json(answer);
  });

  app.post('/v1/runner/heartbeat', async (c) => {
    const runner = requireRunner(c);
    const request = parseInput(runnerHeartbeatRequestSchema, await readJsonBody(c, {}));
    const updated = await store.heartbeatRunner(runner.id, request.status);
    const answer: RunnerHeartbeatResult = {
      runner: updated,
      revokedAttemptIds: await revokedAttemptIds(store, runner.id, request.attemptIds),
    };
    return c.json(answer);
  });

  app.post('/v1/runner/claim', async (c) => {
    const runnerId = requireRunner(c).id;
    const request = parseInput(claimRequestSchema, await readJsonBody(c, {}));
    const { claims } = await claimForRunner(dependencies, runnerId, {
      limit: request.limit,
      waitMs: request.waitMs,
      // Called only if the claim parks: most claims answer at once and need no signal.
      signal() {
        return clientGoneSignalOf(c);
      },
    });
    const answer: ClaimResult = { claims };
    return c.json(answer);
  });
}

/** Of `attemptIds`, those the runner no longer holds: unknown, another runner's, or no longer active. */
async function revokedAttemptIds(store: Store, runnerId: string, attemptIds: string[]): Promise<string[]> {
  const unique = [...new Set(attemptIds)];
  const attempts = await Promise.all(unique.map((id) => store.getAttempt(id)));
  return unique.filter((_id, index) => {
    const attempt = attempts[index];
    return !attempt || attempt.runnerId !== runnerId || !isActiveAttemptState(attempt.state);
  });
}
