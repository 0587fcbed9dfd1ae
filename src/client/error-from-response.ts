import type { ErrorBody } from '../core/api.ts';
import {
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  InvalidTransitionError,
  LeaseLostError,
  NotFoundError,
  RateLimitedError,
  TaskNotFoundError,
  UnauthorizedError,
  UnavailableError,
  WarrenError,
  type FieldIssue,
  type WarrenErrorCode,
} from '../core/errors.ts';
import { parseRetryAfter } from './parse-retry-after.ts';

/** What the client knows about the request whose answer was an error. */
export interface ErrorResponseContext {
  /** HTTP status of the answer. */
  status: number;
  /** The parsed body, when it was JSON. */
  body: unknown;
  /** `METHOD /path` of the request, for messages. */
  request: string;
  /** The attempt the request concerned, for LeaseLostError. */
  attemptId?: string;
  /** The answer's `Retry-After` header, for RateLimitedError. */
  retryAfter?: string;
}

const leaseLostReasons: ReadonlyArray<LeaseLostError['reason']> = [
  'expired',
  'cancelled',
  'finished',
  'wrong-token',
  'wrong-runner',
  'unknown-attempt',
];

const notFoundResources: ReadonlyArray<NotFoundError['resource']> = [
  'task',
  'attempt',
  'runner',
  'endpoint',
  'route',
  'agent',
  'skill',
];

/**
 * Rebuilds the WarrenError a hub answer `{ error: { code, message, issues } }` stands for, so callers
 * can catch `LeaseLostError`, `InvalidInputError` and the rest exactly as if the hub were in-process.
 * Answers without such a body get an error chosen by status.
 */
export function errorFromResponse(context: ErrorResponseContext): WarrenError {
  const parsed = readErrorBody(context.body);
  const code = parsed?.code ?? codeOfStatus(context.status);
  const message = parsed?.message ?? `hub answered ${context.request} with HTTP ${context.status}`;
  switch (code) {
    case 'invalid_input':
      return new InvalidInputError(parsed?.issues ?? [{ field: '', reason: message }]);
    case 'not_found':
      return notFoundError(message, context.request);
    case 'invalid_transition':
      return invalidTransitionError(message);
    case 'lease_lost':
      return leaseLostError(message, context.attemptId);
    case 'conflict':
      return new ConflictError(message);
    case 'unauthorized':
      return new UnauthorizedError(message);
    case 'forbidden':
      return new ForbiddenError(message);
    case 'unavailable':
      return new UnavailableError(message);
    case 'rate_limited':
      return rateLimitedError(message, context.retryAfter);
    case 'payload_too_large':
    case 'executor_failed':
    case 'git_failed':
    case 'internal':
      return new WarrenError(code, message);
  }
}

function readErrorBody(body: unknown): ErrorBody['error'] | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const error = body.error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message, issues } = error as Record<string, unknown>;
  if (typeof code !== 'string' || !isWarrenErrorCode(code)) return undefined;
  return {
    code,
    message: typeof message === 'string' ? message : code,
    issues: Array.isArray(issues) ? issues.filter(isFieldIssue) : undefined,
  };
}

function isWarrenErrorCode(code: string): code is WarrenErrorCode {
  return [
    'invalid_input',
    'not_found',
    'invalid_transition',
    'lease_lost',
    'conflict',
    'unauthorized',
    'forbidden',
    'payload_too_large',
    'rate_limited',
    'unavailable',
    'executor_failed',
    'git_failed',
    'internal',
  ].includes(code);
}

function isFieldIssue(value: unknown): value is FieldIssue {
  if (typeof value !== 'object' || value === null) return false;
  const issue = value as Record<string, unknown>;
  return typeof issue.field === 'string' && typeof issue.reason === 'string';
}

function codeOfStatus(status: number): WarrenErrorCode {
  if (status === 400) return 'invalid_input';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 413) return 'payload_too_large';
  if (status === 429) return 'rate_limited';
  if (status === 502 || status === 503 || status === 504) return 'unavailable';
  return 'internal';
}

/** The hub words it `task tsk_… not found`. */
function notFoundError(message: string, request: string): NotFoundError {
  const match = /^(\w+) (\S+) not found$/.exec(message);
  const resource = notFoundResources.find((candidate) => candidate === match?.[1]);
  if (match && resource) {
    return resource === 'task' ? new TaskNotFoundError(match[2]!) : new NotFoundError(resource, match[2]!);
  }
  const error = new NotFoundError('route', request);
  error.message = message;
  return error;
}

/** The hub words it `task tsk_… cannot go from a to b[: hint]`. */
function invalidTransitionError(message: string): WarrenError {
  const match = /^(task|attempt) (\S+) cannot go from (\w+) to (\w+)(?:: (.*))?$/s.exec(message);
  if (!match) return new WarrenError('invalid_transition', message);
  return new InvalidTransitionError(
    match[1] as 'task' | 'attempt',
    match[2]!,
    match[3]!,
    match[4]!,
    match[5],
  );
}

/** The hub words it `lease on attempt att_… is no longer held (reason)`. */
function leaseLostError(message: string, attemptId: string | undefined): LeaseLostError {
  const match = /^lease on attempt (\S+) is no longer held \(([\w-]+)\)$/.exec(message);
  const reason = leaseLostReasons.find((candidate) => candidate === match?.[2]);
  const error = new LeaseLostError(match?.[1] ?? attemptId ?? 'unknown', reason ?? 'expired');
  if (!reason) error.message = message;
  return error;
}

/**
 * The hub words it `runner run_… is over its rate limit: runner.claim costs 1; retry in 2 s` (or `the admin
 * client is …`); a 429 from anything else (a proxy) keeps its own message, and `Retry-After` wins.
 */
function rateLimitedError(message: string, retryAfter: string | undefined): RateLimitedError {
  const match =
    /^(?:the admin client|runner (\S+)) is over its rate limit: (\S+) costs ([\d.]+); retry in (\d+) s$/.exec(
      message,
    );
  const headerSeconds = parseRetryAfter(retryAfter);
  const error = new RateLimitedError({
    principal: match?.[1] === undefined ? 'admin' : 'runner',
    runnerId: match?.[1],
    action: match?.[2] ?? 'unknown',
    cost: Number(match?.[3] ?? 0),
    retryAfterMs: (headerSeconds ?? Number(match?.[4] ?? 1)) * 1_000,
  });
  if (!match) error.message = message;
  return error;
}
