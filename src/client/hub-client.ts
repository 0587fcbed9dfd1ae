import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type {
  AgentDefinitionDetail,
  AgentDefinitionList,
  attemptCompleteRequestSchema,
  AttemptEndResult,
  attemptFailRequestSchema,
  attemptHeartbeatRequestSchema,
  attemptLogsRequestSchema,
  attemptPhaseRequestSchema,
  attemptUsageRequestSchema,
  claimRequestSchema,
  ClaimedWork,
  ClaimResult,
  EndpointList,
  EndpointPut,
  EndpointWithHealth,
  runnerCreateRequestSchema,
  RunnerCreated,
  RunnerHeartbeatResult,
  RunnerRegistered,
  runnerHeartbeatRequestSchema,
  runnerRegisterRequestSchema,
  TaskDetail,
  TaskRouting,
  TaskList,
  TaskLogs,
} from '../core/api.ts';
import { computeRetryDelay, type RetryPolicy } from '../core/backoff.ts';
import {
  NotFoundError,
  RateLimitedError,
  TaskNotFoundError,
  UnavailableError,
  WarrenError,
} from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import type { ModelEndpointInput } from '../core/model-endpoints.ts';
import { sleep } from '../core/sleep.ts';
import type {
  Attempt,
  EventType,
  Lane,
  Runner,
  Task,
  TaskSpecInput,
  TaskState,
  WarrenEvent,
} from '../core/types.ts';
import { errorFromResponse } from './error-from-response.ts';
import {
  createFetchTransport,
  createNodeTransport,
  RequestTimeoutError,
  type HttpTransport,
} from './http-transport.ts';
import { parseEventStream } from './parse-event-stream.ts';
import { parseRetryAfter } from './parse-retry-after.ts';
import { describeNetworkError as networkReason } from '../core/describe-network-error.ts';

/** How the client retries calls that failed for reasons a retry can fix. */
export interface HubClientRetryOptions {
  /** Tries per call, the first included. */
  attempts: number;
  /** Delay before the first retry, before jitter. */
  baseDelayMs: number;
  /** Upper bound of any delay. */
  maxDelayMs: number;
}

/** Options of {@link createHubClient}. */
export interface HubClientOptions {
  /** The hub's base URL, e.g. `http://127.0.0.1:7700`. */
  baseUrl: string;
  /** Admin or runner token, sent as `Authorization: Bearer <token>`. */
  token: string;
  /**
   * The fetch to send every request with (tests inject one). Without it, calls go over `node:http(s)`
   * with a keep-alive agent of the client's own, and the event stream over the global fetch.
   */
  fetch?: typeof fetch;
  /** Retries of network errors and 502/503/504 answers, and of 429 answers after their `Retry-After`. */
  retry?: HubClientRetryOptions;
  /** Time limit of one ordinary request (the claim long poll gets its wait on top). */
  requestTimeoutMs?: number;
  logger?: Logger;
}

/** Options every call accepts. */
export interface RequestOptions {
  /** Aborts the call, including waits between retries; the call then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** `POST /v1/tasks` answer: the task, and whether this request created it. */
export interface TaskCreated {
  task: Task;
  created: boolean;
}

/** Filters of `GET /v1/tasks`. */
export interface ListTasksParameters {
  states?: TaskState[];
  lane?: Lane;
  label?: string;
  repo?: string;
  cursor?: string;
  limit?: number;
}

/** What to stream from `GET /v1/events`. */
export interface EventStreamOptions extends RequestOptions {
  /** Start after this event id (resume point); later reconnects resume after the last event received. */
  after?: number;
  taskId?: string;
  types?: EventType[];
}

/** A completion or failure request that also claims the runner's next work. */
export type AttemptEndAndClaimRequest<Schema extends z.ZodType> = z.input<Schema> & {
  claim: { limit: number };
};

/** The answer of `completeAndClaim` / `failAndClaim`: the finished attempt's task and the new claims. */
export interface AttemptEndAndClaimResult {
  task: Task;
  claims: ClaimedWork[];
}

/** The answer of a probe (`/healthz`, `/readyz`). Probes never throw. */
export interface ProbeResult {
  /** True for a 2xx answer. */
  ok: boolean;
  /** HTTP status; 0 when the hub could not be reached. */
  status: number;
  /** The answer's JSON body, or the reason the hub could not be reached. */
  body: unknown;
}

/** A typed client for every route of the hub's HTTP API (`src/core/api.ts`). */
export interface HubClient {
  /** The hub's base URL, without a trailing slash. */
  readonly baseUrl: string;
  /** Task routes (admin token). */
  readonly tasks: {
    /**
     * Creates a task. An Idempotency-Key is always sent (generated when not given), so the client's own
     * retries can never create the task twice.
     */
    create(spec: TaskSpecInput, options?: RequestOptions & { idempotencyKey?: string }): Promise<TaskCreated>;
    /** Creates up to 1000 tasks in one transaction, in order. */
    createBatch(specs: TaskSpecInput[], options?: RequestOptions): Promise<TaskCreated[]>;
    /** Lists tasks newest first. */
    list(parameters?: ListTasksParameters, options?: RequestOptions): Promise<TaskList>;
    /** The task and its attempts, or undefined when there is no such task. */
    get(taskId: string, options?: RequestOptions): Promise<TaskDetail | undefined>;
    /** Cancels a task; throws TaskNotFoundError or InvalidTransitionError. */
    cancel(taskId: string, options?: RequestOptions & { reason?: string }): Promise<Task>;
    /** Queues a dead, cancelled or failed task again. */
    retry(taskId: string, options?: RequestOptions): Promise<Task>;
    /** Why the task went where it went: each attempt's stored decision, and the one now if it is queued. */
    routing(taskId: string, options?: RequestOptions): Promise<TaskRouting>;
    /** A task's log and progress events. */
    logs(
      taskId: string,
      parameters?: { after?: number; limit?: number },
      options?: RequestOptions,
    ): Promise<WarrenEvent[]>;
  };
  /**
   * Streams events as they happen. Reconnects when the connection drops, resuming with `Last-Event-ID`
   * after the last event received, so no event is missed or repeated. Ends when the signal aborts;
   * throws UnavailableError when the hub stays unreachable through every retry.
   */
  events(options?: EventStreamOptions): AsyncIterable<WarrenEvent>;
  /** Runner records (admin token). */
  readonly runners: {
    /** Creates a runner; the answer holds its token, shown only once. */
    create(
      request: z.input<typeof runnerCreateRequestSchema>,
      options?: RequestOptions,
    ): Promise<RunnerCreated>;
    list(options?: RequestOptions): Promise<Runner[]>;
    delete(runnerId: string, options?: RequestOptions): Promise<void>;
  };
  /**
   * Enrolls a runner (`POST /v1/runners/enroll`): creates the runner `name`, or replaces an offline runner of
   * that name, and answers its token (shown only once). Made with the hub's enrollment token as `token`;
   * throws ConflictError when a live runner has the name and ForbiddenError when enrollment is off.
   */
  enrollRunner(
    request: z.input<typeof runnerCreateRequestSchema>,
    options?: RequestOptions,
  ): Promise<RunnerCreated>;
  /** The calling runner's own routes (runner token). */
  readonly runner: {
    register(
      request: z.input<typeof runnerRegisterRequestSchema>,
      options?: RequestOptions,
    ): Promise<RunnerRegistered>;
    heartbeat(
      request: z.input<typeof runnerHeartbeatRequestSchema>,
      options?: RequestOptions,
    ): Promise<RunnerHeartbeatResult>;
    /**
     * Long-polls for work: answers as soon as a task is claimed, or empty after `waitMs`. The request's
     * time limit is `waitMs` plus a margin.
     */
    claim(request: z.input<typeof claimRequestSchema>, options?: RequestOptions): Promise<ClaimedWork[]>;
  };
  /** Calls about one attempt, fenced by its lease token; a stale lease throws LeaseLostError. */
  readonly attempts: {
    heartbeat(
      attemptId: string,
      request: z.input<typeof attemptHeartbeatRequestSchema>,
      options?: RequestOptions,
    ): Promise<Attempt>;
    setPhase(
      attemptId: string,
      request: z.input<typeof attemptPhaseRequestSchema>,
      options?: RequestOptions,
    ): Promise<Attempt>;
    appendLogs(
      attemptId: string,
      request: z.input<typeof attemptLogsRequestSchema>,
      options?: RequestOptions,
    ): Promise<void>;
    /**
     * Adds model calls to the cost ledger (at most 1000 records per call); the hub adds them to the
     * attempt's and the task's usage totals.
     */
    recordUsage(
      attemptId: string,
      request: z.input<typeof attemptUsageRequestSchema>,
      options?: RequestOptions,
    ): Promise<void>;
    complete(
      attemptId: string,
      request: Omit<z.input<typeof attemptCompleteRequestSchema>, 'claim'>,
      options?: RequestOptions,
    ): Promise<Task>;
    fail(
      attemptId: string,
      request: Omit<z.input<typeof attemptFailRequestSchema>, 'claim'>,
      options?: RequestOptions,
    ): Promise<Task>;
    /**
     * Completes the attempt and, in the same request, claims up to `claim.limit` tasks for this runner
     * without waiting (capped by its free slots; none while it drains). Saves the runner a claim request.
     */
    completeAndClaim(
      attemptId: string,
      request: AttemptEndAndClaimRequest<typeof attemptCompleteRequestSchema>,
      options?: RequestOptions,
    ): Promise<AttemptEndAndClaimResult>;
    /** Fails the attempt and claims up to `claim.limit` tasks for this runner, as {@link completeAndClaim}. */
    failAndClaim(
      attemptId: string,
      request: AttemptEndAndClaimRequest<typeof attemptFailRequestSchema>,
      options?: RequestOptions,
    ): Promise<AttemptEndAndClaimResult>;
  };
  /** Model endpoints (admin token). API keys are never sent: only where runners and the hub find them. */
  readonly endpoints: {
    /** Every endpoint with its health, by name. */
    list(options?: RequestOptions): Promise<EndpointWithHealth[]>;
    /**
     * Creates or replaces the endpoint `name` (the body's `name` may be left out); throws
     * InvalidInputError naming the bad field.
     */
    put(
      name: string,
      endpoint: Omit<ModelEndpointInput, 'name'> & { name?: string },
      options?: RequestOptions,
    ): Promise<EndpointPut>;
    /** Deletes an endpoint; throws NotFoundError when there is none. */
    delete(name: string, options?: RequestOptions): Promise<void>;
  };
  /** Agent definitions (admin token), read by the hub from its definitions directory or Git repository. */
  readonly agents: {
    /** The definitions in use, the rejected files and the source's state. */
    list(options?: RequestOptions): Promise<AgentDefinitionList>;
    /** One definition with its skills, or undefined when the hub has no such agent. */
    get(name: string, options?: RequestOptions): Promise<AgentDefinitionDetail | undefined>;
  };
  /** `GET /healthz`: whether the hub process answers. */
  health(options?: RequestOptions): Promise<ProbeResult>;
  /** `GET /readyz`: whether the hub can serve (its store answers). */
  ready(options?: RequestOptions): Promise<ProbeResult>;
}

/**
 * Default retries. why: 5 tries spaced 0.5, 1, 2, 4 s (half jitter) ride out a hub restart of several
 * seconds without making a caller wait more than about 10 s for a hub that is really gone.
 */
const defaultRetry: HubClientRetryOptions = { attempts: 5, baseDelayMs: 500, maxDelayMs: 8_000 };
// why: the hub answers ordinary requests in milliseconds; 30 s only catches a connection that hangs.
const defaultRequestTimeoutMs = 30_000;
// why: the hub answers a claim after at most `waitMs`; 10 s covers its claim query and a slow network.
const claimTimeoutMarginMs = 10_000;
// why: statuses a proxy or a restarting hub answers with; the request may well succeed a moment later.
const retryableStatuses = new Set([502, 503, 504]);
// why: a 429 is refused before any work (the hub checks rate limits right after authentication), so every
// call may be sent again, after the `Retry-After` the answer names.
const rateLimitedStatus = 429;
// why: the hub's `Retry-After` is exact; up to a fifth more spreads a fleet refused in the same second, and
// never retries earlier than asked.
const rateLimitJitter = 0.2;
// why: with the default limits a wait is well under a second; a hub asking for more than a minute is
// configured far below this caller's load, and failing with its message beats a command (or a runner's
// report, whose lease lasts 30 s) hanging for minutes.
const maxRateLimitWaitMs = 60_000;

interface CallOptions extends RequestOptions {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** For LeaseLostError messages. */
  attemptId?: string;
}

/** A response that came back, with its parsed JSON body (undefined when empty). */
interface Answer {
  status: number;
  body: unknown;
}

/** A try that a retry may fix; `retryAfterMs` when the answer said how long to wait (a 429). */
interface RetryReason {
  retryReason: string;
  cause?: unknown;
  retryAfterMs?: number;
}

/**
 * Creates a client for a Warren hub.
 *
 * Any non-2xx answer throws the WarrenError subclass the hub raised (`LeaseLostError`,
 * `InvalidInputError` with its issues, `TaskNotFoundError`, ...). Network errors, timeouts and
 * 502/503/504 answers are retried with exponential backoff and jitter; when every try fails the call
 * throws UnavailableError naming the hub URL and what to check. A 429 (rate limited) is retried after its
 * `Retry-After` (plus up to a fifth, at most a minute); when every try is refused, or the hub asks for a
 * longer wait, the call throws the hub's RateLimitedError.
 */
export function createHubClient(options: HubClientOptions): HubClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetchImplementation = options.fetch ?? globalThis.fetch;
  const transport: HttpTransport = options.fetch
    ? createFetchTransport(baseUrl, options.fetch)
    : createNodeTransport(baseUrl);
  const retry = options.retry ?? defaultRetry;
  const policy: RetryPolicy = {
    baseDelayMs: retry.baseDelayMs,
    maxDelayMs: retry.maxDelayMs,
    factor: 2,
    jitter: 0.5,
  };
  const requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
  const logger = options.logger ?? silentLogger;
  const attempts = Math.max(1, retry.attempts);
  const authorization = `Bearer ${options.token}`;

  /** `path` with the query's non-empty values, as a path relative to the base URL. */
  const pathOf = (path: string, query?: CallOptions['query']): string => {
    if (!query) return path;
    const parameters = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== '') parameters.set(name, String(value));
    }
    const search = parameters.toString();
    return search === '' ? path : `${path}?${search}`;
  };

  /** One try: the answer, or a reason to retry. Throws only when the caller aborted. */
  async function tryOnce(call: CallOptions): Promise<Answer | RetryReason> {
    const headers: Record<string, string> = {
      authorization,
      accept: 'application/json',
      ...call.headers,
    };
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const answer = await transport({
        method: call.method,
        path: pathOf(call.path, call.query),
        headers,
        body,
        timeoutMs: call.timeoutMs ?? requestTimeoutMs,
        signal: call.signal,
      });
      let parsed: unknown;
      if (answer.text !== '') {
        try {
          parsed = JSON.parse(answer.text);
        } catch {
          parsed = answer.text;
        }
      }
      if (retryableStatuses.has(answer.status)) {
        return {
          retryReason: `HTTP ${answer.status}`,
          cause: errorFromResponse({ ...describe(call), status: answer.status, body: parsed }),
        };
      }
      if (answer.status === rateLimitedStatus) {
        const seconds = parseRetryAfter(answer.retryAfter);
        const cause = errorFromResponse({
          ...describe(call),
          status: answer.status,
          body: parsed,
          retryAfter: answer.retryAfter,
        });
        return {
          retryReason: `HTTP 429: ${cause.message}`,
          cause,
          ...(seconds === undefined ? {} : { retryAfterMs: seconds * 1_000 }),
        };
      }
      return { status: answer.status, body: parsed };
    } catch (error) {
      if (call.signal?.aborted) throw abortReason(call.signal);
      if (error instanceof RequestTimeoutError) return { retryReason: error.message, cause: error };
      return { retryReason: networkReason(error), cause: error };
    }
  }

  function describe(call: CallOptions) {
    return { request: `${call.method} ${call.path}`, attemptId: call.attemptId };
  }

  async function send(call: CallOptions): Promise<Answer> {
    let lastReason = '';
    let lastCause: unknown;
    for (let number = 1; number <= attempts; number += 1) {
      if (call.signal?.aborted) throw abortReason(call.signal);
      const outcome = await tryOnce(call);
      if (!('retryReason' in outcome)) return outcome;
      lastReason = outcome.retryReason;
      lastCause = outcome.cause;
      if (outcome.retryAfterMs !== undefined && outcome.retryAfterMs > maxRateLimitWaitMs) {
        throw rateLimitFailure(outcome.cause, call, number);
      }
      if (number === attempts) break;
      const delayMs =
        outcome.retryAfterMs === undefined
          ? computeRetryDelay(number, policy)
          : Math.min(
              maxRateLimitWaitMs,
              Math.round(outcome.retryAfterMs * (1 + rateLimitJitter * Math.random())),
            );
      logger.warn(
        {
          hub: baseUrl,
          request: `${call.method} ${call.path}`,
          try: number,
          of: attempts,
          delayMs,
          reason: lastReason,
        },
        'hub request failed; retrying',
      );
      await sleepOrThrow(delayMs, call.signal);
    }
    if (lastCause instanceof RateLimitedError) throw rateLimitFailure(lastCause, call, attempts);
    throw new UnavailableError(
      `cannot reach the Warren hub at ${baseUrl} (${call.method} ${call.path} failed ${attempts} time${attempts === 1 ? '' : 's'}, last: ${lastReason}); check that the hub is running, that the URL is right and that this machine can reach it`,
      { cause: lastCause },
    );
  }

  /** The hub's RateLimitedError, its message saying how often the call was refused and what to change. */
  function rateLimitFailure(cause: unknown, call: CallOptions, tries: number): unknown {
    if (!(cause instanceof RateLimitedError)) return cause;
    cause.message = `${cause.message} (${call.method} ${call.path} refused ${tries} time${tries === 1 ? '' : 's'} by the hub at ${baseUrl}; its limits are the rateLimits hub settings)`;
    return cause;
  }

  /** Sends the call and returns the 2xx body; throws the hub's error otherwise. */
  async function call<Result>(callOptions: CallOptions): Promise<Result> {
    const answer = await send(callOptions);
    if (answer.status >= 200 && answer.status < 300) return answer.body as Result;
    throw errorFromResponse({ ...describe(callOptions), status: answer.status, body: answer.body });
  }

  async function probe(path: string, requestOptions: RequestOptions | undefined): Promise<ProbeResult> {
    const outcome = await tryOnce({ method: 'GET', path, signal: requestOptions?.signal });
    if ('retryReason' in outcome) {
      const cause = outcome.cause;
      if (WarrenError.isInstance(cause)) return { ok: false, status: 503, body: { error: cause.message } };
      return { ok: false, status: 0, body: { error: `cannot reach ${baseUrl}: ${outcome.retryReason}` } };
    }
    return { ok: outcome.status >= 200 && outcome.status < 300, status: outcome.status, body: outcome.body };
  }

  async function* streamEvents(streamOptions: EventStreamOptions = {}): AsyncGenerator<WarrenEvent> {
    const { signal } = streamOptions;
    let lastEventId = streamOptions.after;
    let failures = 0;
    let serverRetryMs: number | undefined;
    let lastReason = '';
    while (!signal?.aborted) {
      // The wait a 429 answer asks for before the next connection.
      let waitAtLeastMs = 0;
      const connection = new AbortController();
      const onAbort = () => connection.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const headers: Record<string, string> = {
          authorization,
          accept: 'text/event-stream',
        };
        if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId);
        const path = pathOf('/v1/events', {
          after: lastEventId,
          taskId: streamOptions.taskId,
          types: streamOptions.types?.join(','),
        });
        const response = await fetchImplementation(baseUrl + path, {
          method: 'GET',
          headers,
          signal: connection.signal,
        });
        if (!response.ok || !response.body) {
          const text = await response.text().catch(() => '');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // Not JSON; keep the text.
          }
          const retryAfter = response.headers.get('retry-after') ?? undefined;
          const error = errorFromResponse({
            request: 'GET /v1/events',
            status: response.status,
            body,
            retryAfter,
          });
          const rateLimited = response.status === rateLimitedStatus;
          if (!retryableStatuses.has(response.status) && !rateLimited) throw error;
          if (rateLimited) waitAtLeastMs = (parseRetryAfter(retryAfter) ?? 0) * 1_000;
          lastReason = rateLimited ? `HTTP 429: ${error.message}` : `HTTP ${response.status}`;
        } else {
          failures = 0;
          for await (const message of parseEventStream(response.body)) {
            if (message.retry !== undefined) serverRetryMs = message.retry;
            if (message.id !== undefined && /^\d+$/.test(message.id)) lastEventId = Number(message.id);
            if (message.data === '') continue;
            const event = toWarrenEvent(message.data, message.event, lastEventId);
            if (!event) {
              logger.warn({ hub: baseUrl, event: message.event }, 'skipping an event that is not valid JSON');
              continue;
            }
            lastEventId = event.id;
            yield event;
          }
          lastReason = 'the stream ended';
        }
      } catch (error) {
        if (signal?.aborted) return;
        if (WarrenError.isInstance(error)) throw error;
        lastReason = networkReason(error);
      } finally {
        signal?.removeEventListener('abort', onAbort);
        connection.abort();
      }
      if (signal?.aborted) return;
      failures += 1;
      if (failures >= attempts) {
        throw new UnavailableError(
          `lost the event stream of the Warren hub at ${baseUrl} and could not reconnect after ${attempts} tries (last: ${lastReason}); check that the hub is running and reachable`,
        );
      }
      const delayMs = Math.max(serverRetryMs ?? 0, waitAtLeastMs, computeRetryDelay(failures, policy));
      logger.warn(
        { hub: baseUrl, delayMs, reason: lastReason, lastEventId },
        'event stream dropped; reconnecting',
      );
      try {
        await sleepOrThrow(delayMs, signal);
      } catch {
        return;
      }
    }
  }

  return {
    baseUrl,
    tasks: {
      create: (spec, requestOptions) =>
        call<TaskCreated>({
          method: 'POST',
          path: '/v1/tasks',
          body: spec,
          headers: { 'idempotency-key': requestOptions?.idempotencyKey ?? randomUUID() },
          signal: requestOptions?.signal,
        }),
      createBatch: async (specs, requestOptions) => {
        const answer = await call<{ results: TaskCreated[] }>({
          method: 'POST',
          path: '/v1/tasks/batch',
          body: { tasks: specs },
          // why: lets a hub that supports it recognise the client's own retry of the same batch.
          headers: { 'idempotency-key': randomUUID() },
          signal: requestOptions?.signal,
        });
        return answer.results;
      },
      list: (parameters = {}, requestOptions) =>
        call<TaskList>({
          method: 'GET',
          path: '/v1/tasks',
          query: {
            state: parameters.states?.join(','),
            lane: parameters.lane,
            label: parameters.label,
            repo: parameters.repo,
            cursor: parameters.cursor,
            limit: parameters.limit,
          },
          signal: requestOptions?.signal,
        }),
      get: async (taskId, requestOptions) => {
        const path = `/v1/tasks/${encodeURIComponent(taskId)}`;
        const answer = await send({ method: 'GET', path, signal: requestOptions?.signal });
        if (answer.status >= 200 && answer.status < 300) return answer.body as TaskDetail;
        const error = errorFromResponse({ request: `GET ${path}`, status: answer.status, body: answer.body });
        if (error instanceof TaskNotFoundError) return undefined;
        throw error;
      },
      cancel: async (taskId, requestOptions) => {
        const answer = await call<{ task: Task }>({
          method: 'POST',
          path: `/v1/tasks/${encodeURIComponent(taskId)}/cancel`,
          body: requestOptions?.reason === undefined ? {} : { reason: requestOptions.reason },
          signal: requestOptions?.signal,
        });
        return answer.task;
      },
      retry: async (taskId, requestOptions) => {
        const answer = await call<{ task: Task }>({
          method: 'POST',
          path: `/v1/tasks/${encodeURIComponent(taskId)}/retry`,
          body: {},
          signal: requestOptions?.signal,
        });
        return answer.task;
      },
      routing: (taskId, requestOptions) =>
        call<TaskRouting>({
          method: 'GET',
          path: `/v1/tasks/${encodeURIComponent(taskId)}/routing`,
          signal: requestOptions?.signal,
        }),
      logs: async (taskId, parameters = {}, requestOptions) => {
        const answer = await call<TaskLogs>({
          method: 'GET',
          path: `/v1/tasks/${encodeURIComponent(taskId)}/logs`,
          query: { after: parameters.after, limit: parameters.limit },
          signal: requestOptions?.signal,
        });
        return answer.events;
      },
    },
    events: (streamOptions) => streamEvents(streamOptions),
    runners: {
      create: (request, requestOptions) =>
        call<RunnerCreated>({
          method: 'POST',
          path: '/v1/runners',
          body: request,
          signal: requestOptions?.signal,
        }),
      list: async (requestOptions) => {
        const answer = await call<{ runners: Runner[] }>({
          method: 'GET',
          path: '/v1/runners',
          signal: requestOptions?.signal,
        });
        return answer.runners;
      },
      delete: async (runnerId, requestOptions) => {
        await call<undefined>({
          method: 'DELETE',
          path: `/v1/runners/${encodeURIComponent(runnerId)}`,
          signal: requestOptions?.signal,
        });
      },
    },
    // why retrying a lost answer is safe: the runner made by the first try never registered, so it is
    // offline, and the retry replaces it.
    enrollRunner: (request, requestOptions) =>
      call<RunnerCreated>({
        method: 'POST',
        path: '/v1/runners/enroll',
        body: request,
        signal: requestOptions?.signal,
      }),
    runner: {
      register: (request, requestOptions) =>
        call<RunnerRegistered>({
          method: 'POST',
          path: '/v1/runner/register',
          body: request,
          signal: requestOptions?.signal,
        }),
      heartbeat: (request, requestOptions) =>
        call<RunnerHeartbeatResult>({
          method: 'POST',
          path: '/v1/runner/heartbeat',
          body: request,
          signal: requestOptions?.signal,
        }),
      claim: async (request, requestOptions) => {
        // why: the hub's own default wait is 30 s; the client must not give up before the hub answers.
        const waitMs = request.waitMs ?? 30_000;
        const answer = await call<ClaimResult>({
          method: 'POST',
          path: '/v1/runner/claim',
          body: request,
          timeoutMs: waitMs + claimTimeoutMarginMs,
          signal: requestOptions?.signal,
        });
        return answer.claims;
      },
    },
    attempts: {
      heartbeat: async (attemptId, request, requestOptions) =>
        (await attemptCall<{ attempt: Attempt }>(attemptId, 'heartbeat', request, requestOptions)).attempt,
      setPhase: async (attemptId, request, requestOptions) =>
        (await attemptCall<{ attempt: Attempt }>(attemptId, 'phase', request, requestOptions)).attempt,
      appendLogs: async (attemptId, request, requestOptions) => {
        await attemptCall<undefined>(attemptId, 'logs', request, requestOptions);
      },
      recordUsage: async (attemptId, request, requestOptions) => {
        await attemptCall<undefined>(attemptId, 'usage', request, requestOptions);
      },
      complete: async (attemptId, request, requestOptions) =>
        (await attemptCall<AttemptEndResult>(attemptId, 'complete', request, requestOptions)).task,
      fail: async (attemptId, request, requestOptions) =>
        (await attemptCall<AttemptEndResult>(attemptId, 'fail', request, requestOptions)).task,
      completeAndClaim: async (attemptId, request, requestOptions) =>
        withClaims(await attemptCall<AttemptEndResult>(attemptId, 'complete', request, requestOptions)),
      failAndClaim: async (attemptId, request, requestOptions) =>
        withClaims(await attemptCall<AttemptEndResult>(attemptId, 'fail', request, requestOptions)),
    },
    endpoints: {
      list: async (requestOptions) => {
        const answer = await call<EndpointList>({
          method: 'GET',
          path: '/v1/endpoints',
          signal: requestOptions?.signal,
        });
        return answer.endpoints;
      },
      put: (name, endpoint, requestOptions) =>
        call<EndpointPut>({
          method: 'PUT',
          path: `/v1/endpoints/${encodeURIComponent(name)}`,
          body: endpoint,
          signal: requestOptions?.signal,
        }),
      delete: async (name, requestOptions) => {
        await call<undefined>({
          method: 'DELETE',
          path: `/v1/endpoints/${encodeURIComponent(name)}`,
          signal: requestOptions?.signal,
        });
      },
    },
    agents: {
      list: (requestOptions) =>
        call<AgentDefinitionList>({ method: 'GET', path: '/v1/agents', signal: requestOptions?.signal }),
      get: async (name, requestOptions) => {
        const path = `/v1/agents/${encodeURIComponent(name)}`;
        const answer = await send({ method: 'GET', path, signal: requestOptions?.signal });
        if (answer.status >= 200 && answer.status < 300) return answer.body as AgentDefinitionDetail;
        const error = errorFromResponse({ request: `GET ${path}`, status: answer.status, body: answer.body });
        if (error instanceof NotFoundError && error.resource === 'agent') return undefined;
        throw error;
      },
    },
    health: (requestOptions) => probe('/healthz', requestOptions),
    ready: (requestOptions) => probe('/readyz', requestOptions),
  };

  function attemptCall<Result>(
    attemptId: string,
    action: 'heartbeat' | 'phase' | 'logs' | 'usage' | 'complete' | 'fail',
    body: unknown,
    requestOptions: RequestOptions | undefined,
  ): Promise<Result> {
    return call<Result>({
      method: 'POST',
      path: `/v1/attempts/${encodeURIComponent(attemptId)}/${action}`,
      body,
      attemptId,
      signal: requestOptions?.signal,
    });
  }
}

/** The answer of a completion or failure that asked to claim; `claims` is always a list. */
function withClaims({ task, claims }: AttemptEndResult): AttemptEndAndClaimResult {
  return { task, claims: claims ?? [] };
}

function toWarrenEvent(
  data: string,
  eventName: string,
  lastEventId: number | undefined,
): WarrenEvent | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const event = parsed as Partial<WarrenEvent>;
  if (typeof event.id === 'number' && typeof event.type === 'string') return event as WarrenEvent;
  // A server that sends only the data object: rebuild the envelope from the SSE fields.
  if (lastEventId === undefined) return undefined;
  return {
    id: lastEventId,
    type: eventName as EventType,
    at: new Date().toISOString(),
    data: parsed as Record<string, unknown>,
  };
}

/** The signal's reason when it is an Error, else an AbortError. */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('The operation was aborted.', 'AbortError');
}

/** Waits `delayMs`; rejects with the signal's reason when it aborts. */
async function sleepOrThrow(delayMs: number, signal: AbortSignal | undefined): Promise<void> {
  await sleep(delayMs, signal);
  if (signal?.aborted) throw abortReason(signal);
}
