/**
 * The one table from Warren error codes to HTTP statuses, used by the hub's single error handler.
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { WarrenErrorCode } from '../core/errors.ts';

/** HTTP status of every Warren error code. */
export const HTTP_STATUS_BY_CODE: Readonly<Record<WarrenErrorCode, ContentfulStatusCode>> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  invalid_transition: 409,
  lease_lost: 409,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  executor_failed: 500,
  git_failed: 500,
  internal: 500,
};

/** The HTTP status for a Warren error code. */
export function httpStatusOf(code: WarrenErrorCode): ContentfulStatusCode {
  return HTTP_STATUS_BY_CODE[code];
}
