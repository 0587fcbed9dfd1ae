/**
 * The hub's HTTP application: every route of the wire contract in `src/core/api.ts`, with metrics, body
 * limits, authentication, request ids (made when needed) and the single error handler.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { ErrorBody } from '../core/api.ts';
import { NotFoundError, UnauthorizedError, ForbiddenError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Store } from '../store/store.ts';
import type { AgentDefinitionRegistry } from './agent-definitions/create-agent-definition-registry.ts';
import { registerAgentRoutes } from './agent-routes.ts';
import { registerAttemptRoutes } from './attempt-routes.ts';
import type { HubAuth } from './auth.ts';
import { isAllowed } from './authorize.ts';
import { createClaimWaiters } from './claim-waiters.ts';
import { createErrorHandler } from './create-error-handler.ts';
import type { EndpointHealthChecker } from './endpoint-health.ts';
import { registerEndpointRoutes } from './endpoint-routes.ts';
import { registerEventStreamRoute } from './event-stream-route.ts';
import type { HubConfig } from './hub-config.ts';
import type { HubDependencies } from './hub-dependencies.ts';
import { createFleetView, type FleetView } from './fleet-view.ts';
import { createLaneFairness } from './lane-fairness.ts';
import type { HubEnv } from './hub-env.ts';
import type { HubMetrics } from './metrics.ts';
import { requestHeaderOf } from './node-bindings.ts';
import { createRateLimiter, type RateLimiter } from './rate-limits.ts';
import { payloadTooLargeError } from './read-json-body.ts';
import { requestIdOf } from './request-id.ts';
import { registerRunnerRoutes, RUNNER_ENROLLMENT_PATH } from './runner-routes.ts';
import { registerRoutingRoutes } from './routing-routes.ts';
import { registerTaskRoutes } from './task-routes.ts';

/** Options of {@link createHubApp}. */
export interface HubAppOptions {
  store: Store;
  auth: HubAuth;
  config: HubConfig;
  logger: Logger;
  metrics: HubMetrics;
  /**
   * The model endpoints and their health. The app reads it and wakes parked claims when an endpoint comes
   * up; whoever made it starts and stops it (`startHub` does).
   */
  endpointHealth: EndpointHealthChecker;
  /** Aborting it shuts the app down: parked claims answer empty, event streams end, `/readyz` says 503. */
  signal?: AbortSignal;
  /**
   * The runner enrollment token: with it, `POST /v1/runners/enroll` creates runners (one per pod of a
   * Kubernetes Deployment, say). Undefined: enrollment is off and the route answers 403.
   */
  enrollmentToken?: string;
  /** The agent definitions (`GET /v1/agents`); whoever made the registry loads it (`startHub` does). */
  agentDefinitions?: AgentDefinitionRegistry;
  /** The scheduler's view of the fleet; made here when absent (`startHub` shares one with maintenance). */
  fleetView?: FleetView;
  /** Current time in epoch ms, for the rate limits (tests); default `Date.now`. */
  clock?: () => number;
}

/** Routes whose bodies may be large (batches, log uploads, verification evidence). */
const bulkRoutePattern = /^\/v1\/(tasks\/batch|attempts\/[^/]+\/(logs|complete|fail))$/;

/** Creates the hub's Hono application. */
export function createHubApp(options: HubAppOptions): Hono<HubEnv> {
  const { store, auth, config, logger, metrics, endpointHealth } = options;
  const shutdownSignal = options.signal ?? new AbortController().signal;
  const claimWaiters = createClaimWaiters({
    countReady: (upTo) => store.countQueuedTasks(upTo),
    logger,
  });
  const unsubscribe = store.subscribe((signal) => {
    if (signal.kind === 'tasks-ready') claimWaiters.notify();
  });
  // A task waiting for a model is claimable as soon as an endpoint offering it comes up.
  const unsubscribeHealth = endpointHealth.subscribe((change) => {
    if (change.to === 'up') claimWaiters.notify();
  });
  const shutDown = (): void => {
    unsubscribe();
    unsubscribeHealth();
    claimWaiters.close();
  };
  if (shutdownSignal.aborted) shutDown();
  else shutdownSignal.addEventListener('abort', shutDown, { once: true });

  const fleetView =
    options.fleetView ?? createFleetView({ store, outcomesPerPairing: config.fleet.outcomesPerPairing });
  const laneFairness = createLaneFairness(config.fleet.laneShares);
  const dependencies: HubDependencies = { ...options, claimWaiters, shutdownSignal, fleetView, laneFairness };
  const app = new Hono<HubEnv>();
  const handleError = createErrorHandler(logger);
  app.onError(handleError);
  app.notFound((c) => handleError(new NotFoundError('route', `${c.req.method} ${c.req.path}`), c));

  app.use(recordRequests(metrics, logger));
  const rateLimiter = config.rateLimits.enabled
    ? createRateLimiter({ config: config.rateLimits, metrics, clock: options.clock })
    : undefined;
  app.use('/v1/*', limitAndAuthenticate(config, auth, rateLimiter));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const ready = !shutdownSignal.aborted && (await pingWithin(store, readinessPingTimeoutMs));
    if (ready) return c.json({ status: 'ready' });
    const body: ErrorBody = {
      error: {
        code: 'unavailable',
        message: shutdownSignal.aborted ? 'hub is shutting down' : 'store is not answering',
      },
    };
    return c.json(body, 503);
  });
  app.get('/metrics', async (c) =>
    c.body(await metrics.render(), 200, { 'Content-Type': metrics.contentType }),
  );

  registerTaskRoutes(app, dependencies);
  registerRoutingRoutes(app, dependencies);
  registerRunnerRoutes(app, dependencies);
  registerAttemptRoutes(app, dependencies);
  registerEventStreamRoute(app, dependencies);
  registerEndpointRoutes(app, dependencies);
  registerAgentRoutes(app, dependencies);
  return app;
}

/** Middleware counting and timing every request by its route pattern, and logging it at debug level. */
function recordRequests(metrics: HubMetrics, logger: Logger): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    const startedAt = performance.now();
    await next();
    const durationSeconds = (performance.now() - startedAt) / 1_000;
    const matched = routePath(c, -1);
    // why: unmatched paths are labelled as one series so that scanners cannot create unbounded series.
    const route = matched.endsWith('*') ? 'unmatched' : matched;
    metrics.recordHttpRequest({ method: c.req.method, route, status: c.res.status, durationSeconds });
    if (isDebugEnabled(logger)) {
      logger.debug(
        { requestId: requestIdOf(c), method: c.req.method, route, status: c.res.status, durationSeconds },
        'request',
      );
    }
  };
}

/**
 * Middleware of every `/v1/*` route: the body limit (413), then who is calling (401), whether they may
 * (403) and whether their rate limit allows it (429). why: one middleware for all; each middleware layer
 * costs every request.
 */
function limitAndAuthenticate(
  config: HubConfig,
  auth: HubAuth,
  rateLimiter: RateLimiter | undefined,
): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    limitBody(c, config);
    // why: enrollment is authenticated by the enrollment token, which names no principal; the route checks it.
    if (c.req.method === 'POST' && c.req.path === RUNNER_ENROLLMENT_PATH) return next();
    const principal = await auth.authenticate(requestHeaderOf(c, 'authorization'));
    if (!principal) throw new UnauthorizedError();
    if (!isAllowed(principal, c.req.path)) {
      throw new ForbiddenError('a runner token may only call /v1/runner/* and /v1/attempts/* routes');
    }
    rateLimiter?.charge(principal, c.req.method, c.req.path);
    c.set('principal', principal);
    await next();
  };
}

/**
 * Sets the route's body limit (bulk routes get the larger one) for `readJsonBody`, which enforces it on
 * the bytes read, and refuses a declared `Content-Length` over it at once (413).
 */
function limitBody(c: Context<HubEnv>, config: HubConfig): void {
  const maxBytes = bulkRoutePattern.test(c.req.path) ? config.bulkBodyLimitBytes : config.bodyLimitBytes;
  const declared = requestHeaderOf(c, 'content-length');
  if (declared !== undefined && Number(declared) > maxBytes) throw payloadTooLargeError(maxBytes);
  c.set('bodyLimitBytes', maxBytes);
}

/**
 * Whether debug lines are written. why: the request line needs a request id, which is only made when
 * used; pino says whether the level is on, other loggers are assumed to want everything.
 */
function isDebugEnabled(logger: Logger): boolean {
  const levels = logger as Partial<{ isLevelEnabled(level: string): boolean }>;
  return typeof levels.isLevelEnabled === 'function' ? levels.isLevelEnabled('debug') : true;
}

// why: a readiness probe must answer within its own timeout (Kubernetes' default is 1 s, and the manifests
// set 3 s); a database that hangs (a half-open connection) would otherwise hold the probe until the store's
// own timeouts, and the probe would fail as a timeout instead of an answer.
const readinessPingTimeoutMs = 2_000;

/** Whether the store answers a ping within `timeoutMs`; false when it fails, hangs or is slower. */
async function pingWithin(store: Store, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([store.ping().catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
