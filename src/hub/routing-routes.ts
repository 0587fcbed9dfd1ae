/**
 * `GET /v1/tasks/:id/routing` (admin): why a task went where it went. For each attempt, the decision the
 * scheduler stored on it; for a queued task, the decision the scheduler would make now.
 */
import type { Hono } from 'hono';
import type { TaskRouting } from '../core/api.ts';
import { TaskNotFoundError } from '../core/errors.ts';
import type { Attempt } from '../core/types.ts';
import { decideTask, type RoutingRecord } from './choose-assignments.ts';
import type { HubDependencies } from './hub-dependencies.ts';
import type { HubEnv } from './hub-env.ts';

/** Registers the routing explanation route. */
export function registerRoutingRoutes(app: Hono<HubEnv>, dependencies: HubDependencies): void {
  const { store, endpointHealth, fleetView, agentDefinitions, config } = dependencies;

  app.get('/v1/tasks/:id/routing', async (c) => {
    const id = c.req.param('id');
    const task = await store.getTask(id);
    if (!task) throw new TaskNotFoundError(id);
    const attempts = await store.listAttempts(task.id);
    const answer: TaskRouting = {
      task,
      attempts: attempts.map((attempt) => ({
        attemptId: attempt.id,
        number: attempt.number,
        runnerId: attempt.runnerId,
        state: attempt.state,
        ...(attempt.agent === undefined ? {} : { agent: attempt.agent }),
        ...(attempt.routing === undefined ? {} : { routing: attempt.routing as unknown as RoutingRecord }),
      })),
    };
    if (task.state === 'queued') {
      const now = Date.now();
      const decision = decideTask(
        {
          requiredCapabilities: task.requiredCapabilities,
          capabilities: task.capabilities,
          executor: task.executor,
          ...previousFailure(attempts),
        },
        {
          snapshot: await fleetView.snapshot(),
          modelCapabilities: endpointHealth.available().capabilities,
          agentLimits: (name) => agentDefinitions?.limitsOf(name),
          concurrencyLimits: config.fleet.concurrencyLimits,
          now,
        },
      );
      answer.now = {
        decidedAt: new Date(now).toISOString(),
        taskCapabilities: task.capabilities,
        winner: decision.winner
          ? `${decision.winner.agent ? `${decision.winner.agent}@` : ''}${decision.winner.runnerName}`
          : '',
        reason: decision.reason,
        cards: decision.cards,
      };
    }
    return c.json(answer);
  });
}

/** The runner of the latest attempt when it failed or was lost. */
function previousFailure(attempts: Attempt[]): { previousFailedRunnerId?: string } {
  const last = attempts.at(-1);
  return last && (last.state === 'failed' || last.state === 'lost')
    ? { previousFailedRunnerId: last.runnerId }
    : {};
}
