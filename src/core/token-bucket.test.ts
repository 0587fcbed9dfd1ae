import { describe, expect, it } from 'vitest';
import { InvalidInputError } from './errors.ts';
import { createTokenBucket } from './token-bucket.ts';

const start = 1_700_000_000_000;

describe('createTokenBucket', () => {
  it('starts full and takes costs until empty', () => {
    const bucket = createTokenBucket({ capacity: 10, refillPerSecond: 2 }, start);
    expect(bucket.isFull(start)).toBe(true);
    expect(bucket.take(4, start)).toEqual({ allowed: true, remaining: 6 });
    expect(bucket.take(6, start)).toEqual({ allowed: true, remaining: 0 });
    expect(bucket.isFull(start)).toBe(false);
  });

  it('says exactly how long until the cost is there, and passes at that moment', () => {
    const bucket = createTokenBucket({ capacity: 10, refillPerSecond: 2 }, start);
    bucket.take(10, start);
    // 3 tokens at 2 per second: 1.5 s.
    expect(bucket.take(3, start)).toEqual({ allowed: false, retryAfterMs: 1_500 });
    expect(bucket.take(3, start + 1_499)).toEqual({ allowed: false, retryAfterMs: 1 });
    expect(bucket.take(3, start + 1_500)).toEqual({ allowed: true, remaining: 0 });
  });

  it('refills continuously, never over capacity', () => {
    const bucket = createTokenBucket({ capacity: 100, refillPerSecond: 40 }, start);
    bucket.take(100, start);
    expect(bucket.level(start + 250)).toBe(10);
    expect(bucket.take(7, start + 500)).toEqual({ allowed: true, remaining: 13 });
    expect(bucket.level(start + 60_000)).toBe(100);
    expect(bucket.isFull(start + 60_000)).toBe(true);
  });

  it('rounds a fractional wait up to the next whole millisecond', () => {
    const bucket = createTokenBucket({ capacity: 1, refillPerSecond: 3 }, start);
    bucket.take(1, start);
    // 1 token at 3 per second: 333.33 ms.
    expect(bucket.take(1, start)).toEqual({ allowed: false, retryAfterMs: 334 });
    expect(bucket.take(1, start + 333)).toEqual({ allowed: false, retryAfterMs: 1 });
    expect(bucket.take(1, start + 334).allowed).toBe(true);
  });

  it('keeps its promise when the float sums land a hair under the cost', () => {
    const bucket = createTokenBucket({ capacity: 1, refillPerSecond: 100 }, start);
    bucket.take(0.7, start);
    // 0.3 left: 0.7 more at 100 per second is 7 ms, though 0.3 + 0.7 is not exactly 1 in floats.
    expect(bucket.take(1, start)).toEqual({ allowed: false, retryAfterMs: 7 });
    expect(bucket.take(1, start + 7).allowed).toBe(true);
  });

  it('refuses a cost above the capacity for ever, and takes a cost of 0 from an empty bucket', () => {
    const bucket = createTokenBucket({ capacity: 5, refillPerSecond: 1 }, start);
    expect(bucket.take(6, start)).toEqual({ allowed: false, retryAfterMs: Number.POSITIVE_INFINITY });
    expect(bucket.level(start)).toBe(5);
    bucket.take(5, start);
    expect(bucket.take(0, start)).toEqual({ allowed: true, remaining: 0 });
  });

  it('counts a clock going backwards as no time passing', () => {
    const bucket = createTokenBucket({ capacity: 10, refillPerSecond: 10 }, start);
    bucket.take(10, start + 1_000);
    expect(bucket.level(start)).toBe(0);
    expect(bucket.level(start + 1_100)).toBe(1);
  });

  it('refuses bad sizes and costs, naming the field', () => {
    const fieldsOf = (call: () => unknown): string[] => {
      try {
        call();
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidInputError);
        return (error as InvalidInputError).issues.map((issue) => issue.field);
      }
      return [];
    };
    expect(fieldsOf(() => createTokenBucket({ capacity: 0, refillPerSecond: Number.NaN }, start))).toEqual([
      'capacity',
      'refillPerSecond',
    ]);
    const bucket = createTokenBucket({ capacity: 1, refillPerSecond: 1 }, start);
    expect(fieldsOf(() => bucket.take(-1, start))).toEqual(['cost']);
  });
});
