/**
 * The task routes: create (one or a batch), list, read, cancel, retry and read a task's logs. Creating a
 * task routes it (`routeTask`): complexity with its reason, executor and model selector, checked against
 * the model endpoints the hub has.
 */
import type { Hono } from 'hono';
import {
  cancelTaskRequestSchema,
  listTasksQuerySchema,
  taskBatchRequestSchema,
  taskLogsQuerySchema,
  TASK_DETAIL_USAGE_RECORDS,
  type TaskDetail,
  type TaskList,
  type TaskLogs,
} from '../core/api.ts';
import { InvalidInputError, TaskNotFoundError } from '../core/errors.ts';
import { parseInput } from '../core/parse-input.ts';
import { applyRoute, routeTask } from '../core/route-task.ts';
import {
  taskSpecSchema,
  type EventType,
  type RoutedTaskSpec,
  type Task,
  type TaskSpec,
} from '../core/types.ts';
import type { Store } from '../store/store.ts';
import type { HubDependencies } from './hub-dependencies.ts';
import type { HubEnv } from './hub-env.ts';
import { requestHeaderOf } from './node-bindings.ts';
import { readJsonBody } from './read-json-body.ts';

// why: an idempotency key is an opaque client string; 200 characters fits a UUID or a content hash with room.
const maxIdempotencyKeyLength = 200;
const logEventTypes: EventType[] = ['attempt.log', 'attempt.progress'];

/** Registers the `/v1/tasks` routes. */
export function registerTaskRoutes(
  app: Hono<HubEnv>,
  { store, config, endpointHealth }: HubDependencies,
): void {
  /** The spec with its route; InvalidInputError (fields prefixed) when it asks for a model no endpoint has. */
  function route(spec: TaskSpec, fieldPrefix = ''): RoutedTaskSpec {
    try {
      return applyRoute(
        spec,
        routeTask(spec, config.routing, endpointHealth.configuredSelectors(), (providers) =>
          endpointHealth.configuredSelectorsFor(providers),
        ),
      );
    } catch (error) {
      if (!(error instanceof InvalidInputError) || fieldPrefix === '') throw error;
      throw new InvalidInputError(
        error.issues.map((issue) => ({ ...issue, field: `${fieldPrefix}.${issue.field}` })),
        { cause: error },
      );
    }
  }

  app.post('/v1/tasks', async (c) => {
    const spec = route(parseInput(taskSpecSchema, await readJsonBody(c)));
    const idempotencyKey = idempotencyKeyOf(requestHeaderOf(c, 'idempotency-key'));
    const result = await store.enqueueTask(spec, idempotencyKey ? { idempotencyKey } : undefined);
    return c.json(result, result.created ? 201 : 200);
  });

  app.post('/v1/tasks/batch', async (c) => {
    const { tasks } = parseInput(taskBatchRequestSchema, await readJsonBody(c));
    const specs = tasks.map((task, index) =>
      route(parseInput(taskSpecSchema, task, `tasks.${index}`), `tasks.${index}`),
    );
    const idempotencyKey = idempotencyKeyOf(requestHeaderOf(c, 'idempotency-key'));
    const results = await store.enqueueTasks(specs, idempotencyKey ? { idempotencyKey } : undefined);
    return c.json({ results }, results.some((result) => result.created) ? 201 : 200);
  });

  app.get('/v1/tasks', async (c) => {
    const query = parseInput(listTasksQuerySchema, c.req.query());
    const page = await store.listTasks({
      states: query.state,
      lane: query.lane,
      label: query.label,
      repo: query.repo,
      cursor: query.cursor,
      limit: query.limit,
    });
    const answer: TaskList = { tasks: page.items };
    if (page.nextCursor) answer.nextCursor = page.nextCursor;
    return c.json(answer);
  });

  app.get('/v1/tasks/:id', async (c) => {
    const task = await getTaskOrThrow(store, c.req.param('id'));
    const [attempts, usageRecords] = await Promise.all([
      store.listAttempts(task.id),
      store.listUsage({ taskId: task.id, limit: TASK_DETAIL_USAGE_RECORDS }),
    ]);
    const answer: TaskDetail = { task, attempts, usageRecords };
    return c.json(answer);
  });

  app.post('/v1/tasks/:id/cancel', async (c) => {
    const { reason } = parseInput(cancelTaskRequestSchema, await readJsonBody(c, {}));
    return c.json({ task: await store.cancelTask(c.req.param('id'), reason) });
  });

  app.post('/v1/tasks/:id/retry', async (c) => {
    return c.json({ task: await store.retryTask(c.req.param('id')) });
  });

  app.get('/v1/tasks/:id/logs', async (c) => {
    const query = parseInput(taskLogsQuerySchema, c.req.query());
    const task = await getTaskOrThrow(store, c.req.param('id'));
    const events = await store.listEvents({
      taskId: task.id,
      types: logEventTypes,
      afterId: query.after,
      limit: query.limit,
    });
    const answer: TaskLogs = { events };
    return c.json(answer);
  });
}

async function getTaskOrThrow(store: Store, id: string): Promise<Task> {
  const task = await store.getTask(id);
  if (!task) throw new TaskNotFoundError(id);
  return task;
}

/** The `Idempotency-Key` header's value, or undefined when absent; throws InvalidInputError when malformed. */
function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = header.trim();
  if (key.length === 0 || key.length > maxIdempotencyKeyLength) {
    throw new InvalidInputError([
      { field: 'Idempotency-Key', reason: `header must be 1 to ${maxIdempotencyKeyLength} characters` },
    ]);
  }
  return key;
}
