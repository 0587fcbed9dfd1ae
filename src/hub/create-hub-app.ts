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
import type { HubEnv } from './hub-env.ts';
import type { HubMetrics } from './metrics.ts';
import { requestHeaderOf } from './node-bindings.ts';
import { payloadTooLargeError } from './read-json-body.ts';
import { requestIdOf } from './request-id.ts';
import { registerRunnerRoutes } from './runner-routes.ts';
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
}

/** Routes whose bodies may be large (batches, log uploads, verification evidence). */
const bulkRoutePattern = /^\/v1\/(tasks\/batch|attempts\/[^/]+\/(logs|complete|fail))$/;

/** Creates the hub's Hono application. */
export function createHubApp(options: HubAppOptions): Hono<HubEnv> {
  const { store, auth, config, logger, metrics, endpointHealth } = options;
  const shutdownSignal = options.signal ?? new AbortController().signal;
  const claimWaiters = createClaimWaiters({
    countReady: async () =>
      (await store.countTasks())
        .filter((count) => count.state === 'queued')
        .reduce((total, count) => total + count.count, 0),
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

  const dependencies: HubDependencies = { ...options, claimWaiters, shutdownSignal };
  const app = new Hono<HubEnv>();
  const handleError = createErrorHandler(logger);
  app.onError(handleError);
  app.notFound((c) => handleError(new NotFoundError('route', `${c.req.method} ${c.req.path}`), c));

  app.use(recordRequests(metrics, logger));
  app.use('/v1/*', limitAndAuthenticate(config, auth));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const ready = !shutdownSignal.aborted && (await store.ping().catch(() => false));
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
  registerRunnerRoutes(app, dependencies);
  registerAttemptRoutes(app, dependencies);
  registerEventStreamRoute(app, dependencies);
  registerEndpointRoutes(app, dependencies);
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
 * Middleware of every `/v1/*` route: the body limit (413), then who is calling (401) and whether they may
 * (403). why: one middleware for both; each middleware layer costs every request.
 */
function limitAndAuthenticate(config: HubConfig, auth: HubAuth): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    limitBody(c, config);
    const principal = await auth.authenticate(requestHeaderOf(c, 'authorization'));
    if (!principal) throw new UnauthorizedError();
    if (!isAllowed(principal, c.req.path)) {
      throw new ForbiddenError('a runner token may only call /v1/runner/* and /v1/attempts/* routes');
    }
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
