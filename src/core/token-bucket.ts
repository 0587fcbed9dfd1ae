/**
 * A token bucket: up to `capacity` tokens, refilled continuously at `refillPerSecond`; an action passes when
 * the bucket holds its cost, which is then taken. Pure: the time is always passed in (epoch ms), so the
 * same calls give the same answers.
 */
import { InvalidInputError, type FieldIssue } from './errors.ts';

/** The size and refill rate of a bucket. */
export interface TokenBucketOptions {
  /** Most tokens the bucket holds (the largest burst); a new bucket starts full. Positive. */
  capacity: number;
  /** Tokens added per second, continuously, up to `capacity`. Positive. */
  refillPerSecond: number;
}

/** The answer of {@link TokenBucket.take}. */
export type TakeResult =
  /** The cost was taken; `remaining` tokens are left (may be fractional). */
  | { allowed: true; remaining: number }
  /**
   * Nothing was taken. `retryAfterMs`: whole milliseconds until the bucket holds the cost, if nothing else
   * is taken meanwhile; `Infinity` when the cost is more than the capacity, which no wait fixes (the caller
   * reports that as a configuration error).
   */
  | { allowed: false; retryAfterMs: number };

/** One bucket. Times are epoch ms; a time earlier than the last one seen counts as no time passing. */
export interface TokenBucket {
  /** Takes `cost` tokens (0 or more) if the bucket holds them at `now`. */
  take(cost: number, now: number): TakeResult;
  /** The tokens held at `now`. */
  level(now: number): number;
  /** Whether the bucket is full at `now`: forgetting it then loses nothing, as a new bucket starts full. */
  isFull(now: number): boolean;
}

// why: refills are float sums; at the very millisecond `retryAfterMs` promised, the level may sit a few
// ulps under an integer cost. A billionth of a token is far below anything a cost can mean.
const tolerance = 1e-9;

/** Creates a full bucket at `now`; throws InvalidInputError naming `capacity` or `refillPerSecond`. */
export function createTokenBucket(options: TokenBucketOptions, now: number): TokenBucket {
  const { capacity, refillPerSecond } = options;
  const issues: FieldIssue[] = [];
  if (!(Number.isFinite(capacity) && capacity > 0)) {
    issues.push({ field: 'capacity', reason: 'must be a positive number of tokens' });
  }
  if (!(Number.isFinite(refillPerSecond) && refillPerSecond > 0)) {
    issues.push({ field: 'refillPerSecond', reason: 'must be a positive number of tokens per second' });
  }
  if (issues.length > 0) throw new InvalidInputError(issues);

  let tokens = capacity;
  let updatedAt = now;

  function refill(at: number): void {
    if (at > updatedAt) {
      tokens = Math.min(capacity, tokens + ((at - updatedAt) * refillPerSecond) / 1_000);
      updatedAt = at;
    }
  }

  /**
   * Whole ms from `updatedAt` until the bucket holds `cost`, checked with the very sum `refill` will make,
   * so that a take at that moment passes. why the nudge down: `(cost - tokens) * 1000 / rate` of an exact
   * 7 may come out as 7.000000000000001, whose ceiling would promise a millisecond too late.
   */
  function waitFor(cost: number): number {
    const exact = ((cost - tokens) * 1_000) / refillPerSecond;
    const wait = Math.max(1, Math.ceil(exact - 1e-6));
    return tokens + (wait * refillPerSecond) / 1_000 + tolerance >= cost ? wait : wait + 1;
  }

  return {
    take(cost, at) {
      if (!(Number.isFinite(cost) && cost >= 0)) {
        throw new InvalidInputError([{ field: 'cost', reason: 'must be a number of tokens, 0 or more' }]);
      }
      if (cost > capacity) return { allowed: false, retryAfterMs: Number.POSITIVE_INFINITY };
      refill(at);
      if (tokens + tolerance >= cost) {
        tokens = Math.max(0, tokens - cost);
        return { allowed: true, remaining: tokens };
      }
      return { allowed: false, retryAfterMs: waitFor(cost) };
    },
    level(at) {
      refill(at);
      return tokens;
    },
    isFull(at) {
      refill(at);
      return tokens >= capacity;
    },
  };
}
