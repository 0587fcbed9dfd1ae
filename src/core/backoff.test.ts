import { describe, expect, it } from 'vitest';
import { computeRetryDelay, DEFAULT_RETRY_POLICY, type RetryPolicy } from './backoff.ts';

const policy: RetryPolicy = { baseDelayMs: 1_000, maxDelayMs: 10_000, factor: 2, jitter: 0.5 };

describe('computeRetryDelay', () => {
  it('doubles per failed attempt without jitter', () => {
    const delays = [1, 2, 3, 4].map((attempt) => computeRetryDelay(attempt, policy, () => 0));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  it('is capped at the maximum', () => {
    expect(computeRetryDelay(20, policy, () => 0)).toBe(10_000);
  });

  it('takes at most the jitter fraction off the delay', () => {
    expect(computeRetryDelay(2, policy, () => 0.999_999)).toBe(1_000);
    expect(computeRetryDelay(2, policy, () => 0.5)).toBe(1_500);
  });

  it('spreads the retries of many tasks apart with the default policy', () => {
    let seed = 1;
    const random = (): number => {
      seed = (seed * 16_807) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    const delays = new Set(
      Array.from({ length: 50 }, () => computeRetryDelay(3, DEFAULT_RETRY_POLICY, random)),
    );
    expect(delays.size).toBeGreaterThan(40);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(4_000);
      expect(delay).toBeLessThanOrEqual(8_000);
    }
  });
});
