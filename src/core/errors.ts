/**
 * Warren's error classes: one base class with a machine-readable `code` and an optional `cause`,
 * and subclasses for the cases callers handle. The hub maps `code` to an HTTP status in one table
 * (`src/hub/http-status.ts`).
 */

/** Every error code Warren raises on purpose. */
export type WarrenErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'invalid_transition'
  | 'lease_lost'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'payload_too_large'
  | 'rate_limited'
  | 'unavailable'
  | 'executor_failed'
  | 'git_failed'
  | 'internal';

/** A field-level problem with an input, named so the user can fix it. */
export interface FieldIssue {
  /** Dotted path of the field, e.g. `successCriteria.0.command`; empty for the whole input. */
  field: string;
  /** Why the value was refused. */
  reason: string;
}

const errorMarker = Symbol.for('warren.error');

/** Base class of every deliberate Warren error. */
export class WarrenError extends Error {
  readonly [errorMarker] = true;
  readonly code: WarrenErrorCode;

  constructor(code: WarrenErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WarrenError';
    this.code = code;
  }

  /** True for any WarrenError, also across module copies (checked by a registered symbol). */
  static isInstance(error: unknown): error is WarrenError {
    return typeof error === 'object' && error !== null && errorMarker in error;
  }
}

/** An input failed validation; `issues` names each field and reason. */
export class InvalidInputError extends WarrenError {
  readonly issues: FieldIssue[];

  constructor(issues: FieldIssue[], options?: { cause?: unknown }) {
    super('invalid_input', formatIssues(issues), options);
    this.name = 'InvalidInputError';
    this.issues = issues;
  }
}

/** A task, attempt, runner, model endpoint, agent definition or skill that does not exist. */
export class NotFoundError extends WarrenError {
  readonly resource: 'task' | 'attempt' | 'runner' | 'endpoint' | 'route' | 'agent' | 'skill';
  readonly id: string;

  constructor(resource: NotFoundError['resource'], id: string) {
    super('not_found', `${resource} ${id} not found`);
    this.name = 'NotFoundError';
    this.resource = resource;
    this.id = id;
  }
}

/** A task with this id does not exist. */
export class TaskNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('task', id);
    this.name = 'TaskNotFoundError';
  }
}

/** A state change that the task or attempt state machine does not allow. */
export class InvalidTransitionError extends WarrenError {
  readonly from: string;
  readonly to: string;

  constructor(entity: 'task' | 'attempt', id: string, from: string, to: string, hint?: string) {
    super('invalid_transition', `${entity} ${id} cannot go from ${from} to ${to}${hint ? `: ${hint}` : ''}`);
    this.name = 'InvalidTransitionError';
    this.from = from;
    this.to = to;
  }
}

/**
 * The caller's lease is no longer valid: the lease expired and the task was claimed again, the task was
 * cancelled, or the token is wrong. The caller must stop working on the attempt (fencing).
 */
export class LeaseLostError extends WarrenError {
  readonly attemptId: string;
  /** Why the lease is gone, for logs; never contains the token. */
  readonly reason: 'expired' | 'cancelled' | 'finished' | 'wrong-token' | 'wrong-runner' | 'unknown-attempt';

  constructor(attemptId: string, reason: LeaseLostError['reason']) {
    super('lease_lost', `lease on attempt ${attemptId} is no longer held (${reason})`);
    this.name = 'LeaseLostError';
    this.attemptId = attemptId;
    this.reason = reason;
  }
}

/** The request conflicts with current state (for example a dedup key reused with different content). */
export class ConflictError extends WarrenError {
  constructor(message: string) {
    super('conflict', message);
    this.name = 'ConflictError';
  }
}

/** Missing or wrong credentials. */
export class UnauthorizedError extends WarrenError {
  constructor(message = 'missing or invalid token: pass "Authorization: Bearer <token>"') {
    super('unauthorized', message);
    this.name = 'UnauthorizedError';
  }
}

/** Valid credentials that may not do this. */
export class ForbiddenError extends WarrenError {
  constructor(message: string) {
    super('forbidden', message);
    this.name = 'ForbiddenError';
  }
}

/**
 * The caller spent its rate limit (`src/hub/rate-limits.ts`): the request was refused before any work, so
 * sending it again after `retryAfterSeconds` is always safe. Names who and what, never the token.
 */
export class RateLimitedError extends WarrenError {
  /** The kind of caller whose bucket is empty. */
  readonly principal: 'admin' | 'runner';
  /** The runner, when the caller is one. */
  readonly runnerId: string | undefined;
  /** The action refused, e.g. `task.create`. */
  readonly action: string;
  /** What the action costs in tokens. */
  readonly cost: number;
  /** Whole seconds until the bucket holds the cost again; at least 1 (what `Retry-After` says). */
  readonly retryAfterSeconds: number;

  constructor(details: {
    principal: 'admin' | 'runner';
    runnerId?: string;
    action: string;
    cost: number;
    retryAfterMs: number;
  }) {
    const retryAfterSeconds = Math.max(1, Math.ceil(details.retryAfterMs / 1_000));
    const who =
      details.principal === 'admin' ? 'the admin client' : `runner ${details.runnerId ?? '(unknown)'}`;
    super(
      'rate_limited',
      `${who} is over its rate limit: ${details.action} costs ${details.cost}; retry in ${retryAfterSeconds} s`,
    );
    this.name = 'RateLimitedError';
    this.principal = details.principal;
    this.runnerId = details.runnerId;
    this.action = details.action;
    this.cost = details.cost;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A dependency (database, hub) cannot be reached right now; retrying later may help. */
export class UnavailableError extends WarrenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
    this.name = 'UnavailableError';
  }
}

/** Joins field issues into one readable sentence. */
export function formatIssues(issues: FieldIssue[]): string {
  if (issues.length === 0) return 'invalid input';
  return issues.map((issue) => (issue.field ? `${issue.field}: ${issue.reason}` : issue.reason)).join('; ');
}
