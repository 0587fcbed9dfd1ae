/**
 * Telling apart PostgreSQL errors a caller should see as "the database is unavailable" (retry later) from
 * errors in the statement itself.
 */
import { UnavailableError, WarrenError } from '../../core/errors.ts';

/** Node socket error codes that mean the connection to the server failed or broke. */
const socketErrorCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** SQLSTATEs (besides class 08, connection exception) that mean the server cannot serve us right now. */
const unavailableSqlStates = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovering)
  '53300', // too_many_connections
]);

/** Messages pg uses for failures that carry no code. */
const unavailableMessages = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error',
  'Connection terminated unexpectedly',
  'Client was closed and is not queryable',
];

/** An error that makes the writer run the transaction again (SQLSTATE of a serialization failure). */
export class RetryTransactionError extends Error {
  readonly code = '40001';
}

/** The SQLSTATE of a pg error, if any. */
export function sqlStateOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = error.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * True when `error` means the database could not be reached or the connection broke (refused, reset,
 * timed out, server shutting down): the statement may or may not have run, and the connection must not
 * be reused.
 */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof UnavailableError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const code = 'code' in error ? error.code : undefined;
  if (typeof code === 'string') {
    if (socketErrorCodes.has(code) || unavailableSqlStates.has(code) || code.startsWith('08')) return true;
  }
  const message = error instanceof Error ? error.message : '';
  return unavailableMessages.some((known) => message.includes(known));
}

/**
 * The error a store call throws for `error`: Warren's own errors as they are, connection failures as
 * UnavailableError (HTTP 503) with a message that says what to check, anything else unchanged (a bug,
 * reported as 500). Never includes the connection string.
 */
export function toStoreError(error: unknown): unknown {
  if (error instanceof WarrenError) return error;
  if (isConnectionError(error)) {
    const detail = error instanceof Error ? error.message : String(error);
    return new UnavailableError(`database unavailable: ${detail}`, { cause: error });
  }
  return error;
}
