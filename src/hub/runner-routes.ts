/**
 * The runner routes: the operator's runner management (`/v1/runners`), enrollment with the enrollment
 * token (`/v1/runners/enroll`) and a runner's own calls (`/v1/runner/register`, `/heartbeat` and the
 * long-poll `/claim`).
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
import { ConflictError, ForbiddenError, NotFoundError, UnauthorizedError } from '../core/errors.ts';
import { createSecretToken } from '../core/ids.ts';
import { parseInput } from '../core/parse-input.ts';
import { isActiveAttemptState } from '../core/task-state.ts';
import type { DependencyHealth } from '../core/fleet-types.ts';
import type { Runner, RunnerStatus } from '../core/types.ts';
import type { Store } from '../store/store.ts';
import type { AgentDefinitionRegistry } from './agent-definitions/create-agent-definition-registry.ts';
import { createBearerTokenCheck, hashToken } from './auth.ts';
import { requireRunner } from './authorize.ts';
import { claimForRunner } from './claim-for-runner.ts';
import type { HubDependencies } from './hub-dependencies.ts';
import type { HubEnv } from './hub-env.ts';
import { clientGoneSignalOf, requestHeaderOf } from './node-bindings.ts';
import { readJsonBody } from './read-json-body.ts';

/**
 * The enrollment route. It checks the enrollment token itself (the auth middleware lets it through), so
 * that machines holding only that shared secret can create their own runners.
 */
export const RUNNER_ENROLLMENT_PATH = '/v1/runners/enroll';

/** Registers `/v1/runners` (operator), `/v1/runners/enroll` and `/v1/runner/*` (runner) routes. */
export function registerRunnerRoutes(app: Hono<HubEnv>, dependencies: HubDependencies): void {
  const { store, auth, config, logger } = dependencies;
  const isEnrollmentToken = dependencies.enrollmentToken
    ? createBearerTokenCheck(dependencies.enrollmentToken)
    : undefined;

  app.post('/v1/runners', async (c) => {
    const request = parseInput(runnerCreateRequestSchema, await readJsonBody(c));
    const token = createSecretToken('wrn_runner');
    const runner = await store.createRunner({ ...request, tokenHash: hashToken(token) });
    const answer: RunnerCreated = { runner, token };
    return c.json(answer, 201);
  });

  // Creates the runner `name`, or replaces an offline runner of that name (a pod restarted under the same
  // name): the old record and its token go, a new one is made. A runner that is online or draining is
  // somebody else's: 409. The answer is that of `POST /v1/runners`.
  app.post(RUNNER_ENROLLMENT_PATH, async (c) => {
    if (!isEnrollmentToken) {
      throw new ForbiddenError(
        'runner enrollment is off on this hub: start the hub with WARREN_ENROLLMENT_TOKEN set, or create the runner with `warren runner add NAME`',
      );
    }
    if (!isEnrollmentToken(requestHeaderOf(c, 'authorization'))) {
      throw new UnauthorizedError(
        'missing or invalid enrollment token: pass "Authorization: Bearer <the hub\'s WARREN_ENROLLMENT_TOKEN>"',
      );
    }
    const request = parseInput(runnerCreateRequestSchema, await readJsonBody(c));
    const existing = (await store.listRunners()).find((runner) => runner.name === request.name);
    if (existing && existing.status !== 'offline') {
      throw new ConflictError(
        `runner "${request.name}" is ${existing.status}: pick another name, or stop that runner first (a runner that stops heartbeating is marked offline after ${config.runnerStaleAfterMs / 1_000} s)`,
      );
    }
    if (existing) {
      await store.deleteRunner(existing.id);
      auth.forgetRunner(existing.id);
    }
    const token = createSecretToken('wrn_runner');
    const runner = await store.createRunner({ ...request, tokenHash: hashToken(token) });
    logger.info(
      { runnerId: runner.id, name: runner.name, replaced: existing?.id },
      existing ? 'runner re-enrolled; the offline runner of that name was replaced' : 'runner enrolled',
    );
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
    const { dependencyHealth, ...request } = parseInput(runnerRegisterRequestSchema, await readJsonBody(c));
    let registered = await store.registerRunner(runner.id, { ...request, status: 'online' });
    if (dependencyHealth) {
      registered = await store.heartbeatRunner(runner.id, presenceOf('online', dependencyHealth), {
        dependencyHealth,
      });
    }
    dependencies.fleetView.invalidate();
    const warnings = await pairingWarnings(registered, dependencies.agentDefinitions);
    if (warnings.length > 0)
      logger.warn({ runnerId: runner.id, name: runner.name, warnings }, 'runner pairings');
    const answer: RunnerRegistered = {
      runner: registered,
      config: { leaseMs: config.leaseMs, heartbeatIntervalMs: config.heartbeatIntervalMs },
      ...(warnings.length > 0 ? { warnings } : {}),
    };
    return c.json(answer);
  });

  app.post('/v1/runner/heartbeat', async (c) => {
    const runner = requireRunner(c);
    const request = parseInput(runnerHeartbeatRequestSchema, await readJsonBody(c, {}));
    const updated = await store.heartbeatRunner(
      runner.id,
      presenceOf(request.status, request.dependencyHealth),
      request.dependencyHealth ? { dependencyHealth: request.dependencyHealth } : undefined,
    );
    // why: a flipped dependency check changes scores at once on this hub (others within the view's age).
    if (request.dependencyHealth && healthChanged(runner.dependencyHealth, request.dependencyHealth)) {
      dependencies.fleetView.invalidate();
    }
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

/** Whether any check's health differs between two reports. */
function healthChanged(before: readonly DependencyHealth[], after: readonly DependencyHealth[]): boolean {
  return (
    before.length !== after.length ||
    after.some((entry) => before.find((old) => old.name === entry.name)?.healthy !== entry.healthy)
  );
}

/**
 * The presence a heartbeat sets: `degraded` instead of `online` while a dependency check the runner runs is
 * failing (it still claims; pairings needing that check score 0).
 */
function presenceOf(
  status: 'online' | 'draining' | 'offline',
  dependencyHealth: readonly DependencyHealth[] | undefined,
): RunnerStatus {
  return status === 'online' && dependencyHealth?.some((check) => !check.healthy) ? 'degraded' : status;
}

/**
 * What a runner should hear about its pairings: agents the hub has no definition of (when it has
 * definitions at all), and agents whose executor the runner does not offer, which would never get a task.
 */
async function pairingWarnings(
  runner: Runner,
  registry: AgentDefinitionRegistry | undefined,
): Promise<string[]> {
  if (!registry || runner.agents.length === 0) return [];
  const definitions = await registry.list();
  const known = definitions.map((entry) => entry.definition.name);
  const warnings: string[] = [];
  for (const { agent } of runner.agents) {
    const entry = definitions.find((candidate) => candidate.definition.name === agent);
    if (!entry) {
      warnings.push(
        `pairing "${agent}": the hub has no agent definition of that name (it has ${known.length > 0 ? known.join(', ') : 'none'}); its tasks run without one, one at a time`,
      );
      continue;
    }
    const executor = `executor:${entry.definition.type}`;
    if (!runner.capabilities.includes(executor)) {
      warnings.push(
        `pairing "${agent}": the agent runs the ${entry.definition.type} executor, which this runner does not offer (${executor}), so it will get no tasks`,
      );
    }
  }
  return warnings;
}
