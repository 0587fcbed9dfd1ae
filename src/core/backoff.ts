/**
 * Retry delays: exponential backoff with full jitter, capped.
 */

/** How retries are spaced. */
export interface RetryPolicy {
  /** Delay before the first retry, before jitter. */
  baseDelayMs: number;
  /** Upper bound of any delay. */
  maxDelayMs: number;
  /** Growth per attempt. */
  factor: number;
  /** Fraction of the delay that is randomised (0 = none, 1 = full jitter). */
  jitter: number;
}

/**
 * The default policy. why: 2 s, 4 s, 8 s ... capped at 5 minutes; half jitter keeps the order of retries
 * roughly predictable while still spreading a fleet's retries apart.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 2_000,
  maxDelayMs: 5 * 60_000,
  factor: 2,
  jitter: 0.5,
};

/**
 * The delay before retry number `failedAttempts` (1 after the first failure).
 * `random` returns a number in [0, 1); injectable for tests.
 */
export function computeRetryDelay(
  failedAttempts: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, failedAttempts - 1);
  const raw = Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** exponent);
  const jitterPart = raw * policy.jitter * random();
  return Math.max(0, Math.round(raw - jitterPart));
}
