/**
 * The hub's single error handler: turns any thrown error into `{ error: { code, message, issues? } }` with
 * the status from the one table in `http-status.ts`.
 */
import type { ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ErrorBody } from '../core/api.ts';
import { InvalidInputError, RateLimitedError, WarrenError, type WarrenErrorCode } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { HubEnv } from './hub-env.ts';
import { httpStatusOf } from './http-status.ts';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.ts';

/** What a 5xx answer says instead of the error's own message, which may name internals. */
const serverErrorMessages: Partial<Record<WarrenErrorCode, string>> = {
  unavailable: 'the hub cannot reach its store right now; retry later',
  executor_failed: 'executor failed',
  internal: 'internal error',
};

/**
 * Creates the `onError` handler; 5xx errors are logged in full and answered with a generic message. Every
 * error answer carries the request id in `X-Request-Id`.
 */
export function createErrorHandler(logger: Logger): ErrorHandler<HubEnv> {
  return (error, c) => {
    const warrenError = toWarrenError(error);
    const status = httpStatusOf(warrenError.code);
    const body: ErrorBody = { error: { code: warrenError.code, message: warrenError.message } };
    if (warrenError instanceof InvalidInputError) body.error.issues = warrenError.issues;
    const requestId = requestIdOf(c);
    if (status >= 500) {
      logger.error(
        { err: error, requestId, method: c.req.method, path: c.req.path },
        'request failed with a server error',
      );
      body.error.message = `${serverErrorMessages[warrenError.code] ?? 'internal error'} (request id ${requestId})`;
    }
    const headers: Record<string, string> = { [REQUEST_ID_HEADER]: requestId };
    // why: clients (runners, scripts, proxies) that honour Retry-After back off instead of hammering a hub
    // whose database is away; 2 s matches how quickly a restarted database or a healed network comes back.
    if (status === 503) headers['Retry-After'] = '2';
    if (warrenError instanceof RateLimitedError)
      headers['Retry-After'] = String(warrenError.retryAfterSeconds);
    return c.json(body, status, headers);
  };
}

function toWarrenError(error: unknown): WarrenError {
  if (WarrenError.isInstance(error)) return error;
  if (error instanceof HTTPException) {
    const code = codeOfStatus(error.status);
    if (code) return new WarrenError(code, error.message || `HTTP ${error.status}`, { cause: error });
  }
  return new WarrenError('internal', 'internal error', { cause: error });
}

function codeOfStatus(status: number): WarrenErrorCode | undefined {
  switch (status) {
    case 400:
      return 'invalid_input';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 429:
      return 'rate_limited';
    case 503:
      return 'unavailable';
    default:
      return undefined;
  }
}
