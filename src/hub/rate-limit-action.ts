/**
 * What a `/v1/*` request does, for the rate limits: every request is one action, chosen by its method and
 * path alone (the body is not read yet when the limit is checked), and each action has a cost.
 */

/** Every action the rate limits price, in the order the docs list them. */
export const RATE_LIMIT_ACTIONS = [
  'task.create',
  'task.createBatch',
  'task.read',
  'task.list',
  'event.stream',
  'runner.register',
  'runner.claim',
  'attempt.report',
  'endpoint.write',
  'admin.other',
] as const;

/** One priced action. */
export type RateLimitAction =
  /** `POST /v1/tasks`. */
  | 'task.create'
  /** `POST /v1/tasks/batch` (up to 1,000 tasks; priced as one request, since the body is not read yet). */
  | 'task.createBatch'
  /** `GET /v1/tasks/:id` and `GET /v1/tasks/:id/logs`. */
  | 'task.read'
  /** `GET /v1/tasks`. */
  | 'task.list'
  /** `GET /v1/events` (opening, or reopening, the event stream). */
  | 'event.stream'
  /** `POST /v1/runner/register`. */
  | 'runner.register'
  /** `POST /v1/runner/claim` (one long poll). */
  | 'runner.claim'
  /**
   * A runner's routine reports: `POST /v1/runner/heartbeat` and `POST /v1/attempts/:id/*` (heartbeat,
   * phase, logs, usage, complete, fail).
   */
  | 'attempt.report'
  /** `PUT` and `DELETE /v1/endpoints/:name`. */
  | 'endpoint.write'
  /** Everything else: runners, cancel and retry of tasks, the endpoint list, unknown routes. */
  | 'admin.other';

/** The action of a `/v1/*` request by its method and path (no query string). */
export function rateLimitActionOf(method: string, path: string): RateLimitAction {
  if (path.startsWith('/v1/attempts/')) return method === 'POST' ? 'attempt.report' : 'admin.other';
  if (path.startsWith('/v1/runner/') && method === 'POST') {
    switch (path) {
      case '/v1/runner/claim':
        return 'runner.claim';
      case '/v1/runner/heartbeat':
        return 'attempt.report';
      case '/v1/runner/register':
        return 'runner.register';
      default:
        return 'admin.other';
    }
  }
  if (path === '/v1/tasks') {
    if (method === 'POST') return 'task.create';
    if (method === 'GET') return 'task.list';
    return 'admin.other';
  }
  if (path.startsWith('/v1/tasks/')) {
    if (method === 'POST') return path === '/v1/tasks/batch' ? 'task.createBatch' : 'admin.other';
    return method === 'GET' ? 'task.read' : 'admin.other';
  }
  if (path === '/v1/events' && method === 'GET') return 'event.stream';
  if (path.startsWith('/v1/endpoints/') && (method === 'PUT' || method === 'DELETE')) return 'endpoint.write';
  return 'admin.other';
}
