/**
 * What happens to a task after one of its attempts failed or lost its lease; shared by every backend so
 * that retry spacing and the dead-letter rule are the same everywhere.
 */
import { computeRetryDelay, type RetryPolicy } from '../core/backoff.ts';
import type { AttemptError } from '../core/types.ts';

/** The task's next state: `failed` until `retryAt` (epoch ms), or `dead`. */
export type FailureOutcome = { state: 'failed'; retryAt: number } | { state: 'dead' };

/**
 * Decides between another attempt and the dead letter. A retry needs a retryable error and attempts left
 * (`attemptCount < maxAttempts`); it waits the policy's backoff for `attemptCount` failures, or the
 * error's own `nextRetryDelayMs` when that is longer (a rate limit's retry-after beats our guess).
 */
export function decideAfterFailure(input: {
  attemptCount: number;
  maxAttempts: number;
  error: AttemptError;
  now: number;
  retryPolicy: RetryPolicy;
  random: () => number;
}): FailureOutcome {
  if (!input.error.retryable || input.attemptCount >= input.maxAttempts) return { state: 'dead' };
  const backoff = computeRetryDelay(input.attemptCount, input.retryPolicy, input.random);
  const delay = Math.max(backoff, input.error.nextRetryDelayMs ?? 0);
  return { state: 'failed', retryAt: input.now + delay };
}
