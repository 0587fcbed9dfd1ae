/**
 * What every part of the Store conformance suite shares: the fake clock's start, the retry policy and
 * randomness the stores get, and opening stores that are closed after each test.
 */
import type { RetryPolicy } from '../../core/backoff.ts';
import type { LeaseFence } from '../../core/types.ts';
import type { Claim, Store, StoreOptions } from '../store.ts';

// why: a fixed, round start time keeps expected ISO strings readable; far from the epoch so that no
// subtraction in a test can go negative.
export const startTime = Date.parse('2030-01-01T00:00:00.000Z');
/** The suite's retry policy: small numbers so expected delays are easy to check by hand. */
export const retryPolicy: RetryPolicy = { baseDelayMs: 1_000, maxDelayMs: 60_000, factor: 2, jitter: 0.5 };
/** The suite's randomness: always the middle, so jittered delays are exact. */
export const random = (): number => 0.5;

/** An epoch time as the ISO string the store answers with. */
export const iso = (epochMs: number): string => new Date(epochMs).toISOString();

/** The lease fence of a claim, as its runner presents it. */
export function fenceOf(claim: Claim): LeaseFence {
  return { attemptId: claim.attempt.id, leaseToken: claim.leaseToken, runnerId: claim.attempt.runnerId };
}

/** Opens migrated stores on the suite's clock and closes every one of them at `closeAll()`. */
export function createStoreOpener(
  createStore: (storeOptions: StoreOptions) => Promise<Store>,
  clock: () => number,
): { open: (overrides?: Partial<StoreOptions>) => Promise<Store>; closeAll: () => Promise<void> } {
  let opened: Store[] = [];
  return {
    open: async (overrides = {}) => {
      const created = await createStore({ clock, retryPolicy, random, ...overrides });
      opened.push(created);
      await created.migrate();
      return created;
    },
    closeAll: async () => {
      for (const created of opened) await created.close();
      opened = [];
    },
  };
}
