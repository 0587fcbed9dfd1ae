/**
 * The hub's rate limits: one token bucket per principal (each runner, keyed by its id, and the admin
 * client), charged the cost of each `/v1/*` request's action right after authentication, before any work.
 * An empty bucket refuses the request with RateLimitedError (429 with `Retry-After`).
 *
 * Buckets live in this hub's memory: hubs sharing a database limit each principal separately, so behind a
 * load balancer over N hubs a principal gets up to N times its limit.
 */
import { RateLimitedError, WarrenError } from '../core/errors.ts';
import { createTokenBucket, type TokenBucket } from '../core/token-bucket.ts';
import type { Principal } from './auth.ts';
import type { HubMetrics } from './metrics.ts';
import { rateLimitActionOf } from './rate-limit-action.ts';
import type { RateLimitConfig } from './rate-limit-config.ts';

/** Charges requests to their principal's bucket. */
export interface RateLimiter {
  /**
   * Charges the cost of the request's action (by `method` and `path`) to `principal`'s bucket; throws
   * RateLimitedError when the bucket does not hold it (nothing is taken then).
   */
  charge(principal: Principal, method: string, path: string): void;
  /** How many buckets are held (at most `maxBuckets`). */
  readonly size: number;
}

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** Sizes and costs; `enabled` is the caller's business (a disabled hub makes no limiter). */
  config: RateLimitConfig;
  /** Counts refusals in `warren_rate_limited_total`. */
  metrics?: Pick<HubMetrics, 'recordRateLimited'>;
  /** Current time in epoch ms (tests); default `Date.now`. */
  clock?: () => number;
  /** Most buckets held at once; default {@link DEFAULT_MAX_BUCKETS}. */
  maxBuckets?: number;
}

/**
 * Default bound on the buckets held. why 10,000: one bucket per runner plus the admin client; a hub with
 * more runners than this is far past what one hub serves. A bucket is a few hundred bytes, so the bound
 * caps the memory at a few MB even if runners come and go without end.
 */
export const DEFAULT_MAX_BUCKETS = 10_000;

// why a tenth: when the map is full, evicting makes room for a tenth of the bound at once, so the sweep over
// every bucket runs at most once per that many new principals, not once per request.
const evictionFraction = 0.1;

/**
 * Creates a rate limiter. Buckets are created full on a principal's first request. When `maxBuckets` are
 * held, full buckets are forgotten first (a full bucket is what a new one would be, so nothing is lost),
 * then the least recently used (whose principal may then burst once more).
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { config, metrics } = options;
  const clock = options.clock ?? Date.now;
  const maxBuckets = Math.max(1, options.maxBuckets ?? DEFAULT_MAX_BUCKETS);
  // Insertion order is recency of use: a bucket is moved to the end each time it is charged.
  const buckets = new Map<string, TokenBucket>();

  function makeRoom(now: number): void {
    const target = maxBuckets - Math.max(1, Math.floor(maxBuckets * evictionFraction));
    for (const [key, bucket] of buckets) {
      if (buckets.size <= target) return;
      if (bucket.isFull(now)) buckets.delete(key);
    }
    for (const key of buckets.keys()) {
      if (buckets.size <= target) return;
      buckets.delete(key);
    }
  }

  function bucketOf(key: string, principal: Principal['kind'], now: number): TokenBucket {
    let bucket = buckets.get(key);
    if (bucket) {
      buckets.delete(key);
    } else {
      if (buckets.size >= maxBuckets) makeRoom(now);
      bucket = createTokenBucket(config[principal], now);
    }
    buckets.set(key, bucket);
    return bucket;
  }

  return {
    charge(principal, method, path) {
      const action = rateLimitActionOf(method, path);
      const cost = config.costs[action];
      const now = clock();
      // why the id, never the token: the key lives in memory and may show up in a heap dump.
      const key = principal.kind === 'admin' ? 'admin' : `runner:${principal.runner.id}`;
      const answer = bucketOf(key, principal.kind, now).take(cost, now);
      if (answer.allowed) return;
      if (answer.retryAfterMs === Number.POSITIVE_INFINITY) {
        // The config check refuses such costs; reaching this is a bug, answered 500.
        throw new WarrenError(
          'internal',
          `rate limit cost of ${action} (${cost}) is more than the ${principal.kind} capacity`,
        );
      }
      metrics?.recordRateLimited(principal.kind, action);
      throw new RateLimitedError({
        principal: principal.kind,
        runnerId: principal.kind === 'runner' ? principal.runner.id : undefined,
        action,
        cost,
        retryAfterMs: answer.retryAfterMs,
      });
    },
    get size() {
      return buckets.size;
    },
  };
}
