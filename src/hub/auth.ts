/**
 * Who is calling: the hub's admin token and runner tokens, resolved from `Authorization: Bearer <token>`.
 *
 * Tokens are never kept: the admin token's sha256 is held in memory and runner tokens' sha256 are stored
 * with their runner. Lookups of runner tokens are cached briefly so that a busy runner does not cost one
 * database read per request.
 */
import { timingSafeEqual } from 'node:crypto';
import { sha256 } from '../core/sha256.ts';
import type { Runner } from '../core/types.ts';
import type { Store } from '../store/store.ts';

/** The authenticated caller of a request. */
export type Principal =
  /** The operator: may call every route. */
  | { kind: 'admin' }
  /** A runner: may call the runner and attempt routes, as itself. */
  | { kind: 'runner'; runner: Runner };

/** Resolves bearer tokens to principals. */
export interface HubAuth {
  /** The principal for an `Authorization` header value, or undefined when it names no one. */
  authenticate(authorization: string | undefined): Promise<Principal | undefined>;
  /** Drops cached lookups of a runner (call after deleting it so its token stops working at once). */
  forgetRunner(runnerId: string): void;
}

/** Options of {@link createHubAuth}. */
export interface HubAuthOptions {
  store: Store;
  /** The admin token; only its hash is kept. */
  adminToken: string;
  /** How long a runner token lookup is cached. */
  cacheTtlMs?: number;
  /** Current time in epoch ms (tests). */
  clock?: () => number;
}

// why: 5 s bounds how long a runner deleted through another hub keeps working, at one read per 5 s per runner.
const defaultCacheTtlMs = 5_000;
// why: unknown tokens are cached too (so guessing costs no database reads); the cap bounds that memory.
const maxCacheEntries = 10_000;

/** The sha256 (hex) of a token: what the store keeps instead of the token. */
export function hashToken(token: string): string {
  return sha256(token).toString('hex');
}

/** Creates the hub's token resolver. */
export function createHubAuth(options: HubAuthOptions): HubAuth {
  const { store } = options;
  const clock = options.clock ?? Date.now;
  const cacheTtlMs = options.cacheTtlMs ?? defaultCacheTtlMs;
  const adminDigest = sha256(options.adminToken);
  const cache = new Map<string, { runner: Runner | undefined; expiresAt: number }>();

  async function findRunner(tokenHash: string): Promise<Runner | undefined> {
    const now = clock();
    const cached = cache.get(tokenHash);
    if (cached && cached.expiresAt > now) return cached.runner;
    const runner = await store.findRunnerByTokenHash(tokenHash);
    if (cache.size >= maxCacheEntries) cache.clear();
    cache.set(tokenHash, { runner, expiresAt: now + cacheTtlMs });
    return runner;
  }

  return {
    async authenticate(authorization) {
      const token = bearerTokenOf(authorization);
      if (!token) return undefined;
      const digest = sha256(token);
      if (timingSafeEqual(digest, adminDigest)) return { kind: 'admin' };
      const runner = await findRunner(digest.toString('hex'));
      return runner ? { kind: 'runner', runner } : undefined;
    },
    forgetRunner(runnerId) {
      for (const [tokenHash, entry] of cache) {
        if (entry.runner?.id === runnerId) cache.delete(tokenHash);
      }
    },
  };
}

/**
 * A check of `Authorization: Bearer <token>` against one fixed secret (the runner enrollment token). Only the
 * secret's sha256 is kept, and digests are compared in constant time, so the answer takes as long wherever
 * a guess differs.
 */
export function createBearerTokenCheck(secret: string): (authorization: string | undefined) => boolean {
  const expected = sha256(secret);
  return (authorization) => {
    const token = bearerTokenOf(authorization);
    return token !== undefined && timingSafeEqual(sha256(token), expected);
  };
}

function bearerTokenOf(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match?.[1];
}
