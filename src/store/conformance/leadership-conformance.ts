/**
 * The named-leadership part of the Store contract (`acquireLeadership`, `releaseLeadership`,
 * `getLeadership`), run by {@link runStoreConformance} for every backend.
 *
 * It speaks only the Store interface. Time comes from a fake clock the suite moves by hand, so expiry is
 * tested at the exact millisecond without sleeping.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../core/errors.ts';
import type { Leadership, Store } from '../store.ts';
import type { StoreConformanceOptions } from './run-store-conformance.ts';

// why: a fixed, round start time keeps expected ISO strings readable.
const startTime = Date.parse('2030-01-01T00:00:00.000Z');
// why: ten seconds, a round number far from anything else the suite adds to the clock.
const ttlMs = 10_000;

const iso = (epochMs: number): string => new Date(epochMs).toISOString();

/** Registers the leadership conformance tests for one backend. */
export function runLeadershipConformance(options: StoreConformanceOptions): void {
  describe(`Store conformance: ${options.name}: leaderships`, () => {
    let now = startTime;
    let store: Store;

    beforeEach(async () => {
      now = startTime;
      store = await options.createStore({ clock: () => now });
      await store.migrate();
    });

    afterEach(async () => {
      await store.close();
    });

    const acquire = (holder: string, name = 'maintenance', ttl = ttlMs): Promise<Leadership> =>
      store.acquireLeadership({ name, holder, ttlMs: ttl });

    it('gives a free leadership to the first caller, in term 1', async () => {
      expect(await store.getLeadership('maintenance')).toBeUndefined();
      const taken = await acquire('hub-a');
      const expected: Leadership = {
        name: 'maintenance',
        holder: 'hub-a',
        term: 1,
        acquiredAt: iso(startTime),
        expiresAt: iso(startTime + ttlMs),
      };
      expect(taken).toEqual(expected);
      expect(await store.getLeadership('maintenance')).toEqual(expected);
    });

    it('renews for the holder: same term and start, a later expiry', async () => {
      await acquire('hub-a');
      now += 4_000;
      const renewed = await acquire('hub-a');
      expect(renewed).toEqual({
        name: 'maintenance',
        holder: 'hub-a',
        term: 1,
        acquiredAt: iso(startTime),
        expiresAt: iso(now + ttlMs),
      });
      expect(await store.getLeadership('maintenance')).toEqual(renewed);
    });

    it('refuses another holder while the leadership is valid, answering with the current holder', async () => {
      const held = await acquire('hub-a');
      now += ttlMs - 1;
      expect(await acquire('hub-b')).toEqual(held);
      expect(await store.getLeadership('maintenance')).toEqual(held);
    });

    it('hands an expired leadership to the next caller in a new term', async () => {
      await acquire('hub-a');
      // Expired exactly at expiresAt.
      now += ttlMs;
      const taken = await acquire('hub-b');
      expect(taken).toEqual({
        name: 'maintenance',
        holder: 'hub-b',
        term: 2,
        acquiredAt: iso(now),
        expiresAt: iso(now + ttlMs),
      });
      now += 1;
      expect(await acquire('hub-a')).toEqual(taken);
    });

    it('gives a holder that comes back after its leadership lapsed a new term', async () => {
      await acquire('hub-a');
      now += ttlMs + 5_000;
      const again = await acquire('hub-a');
      expect(again).toEqual({
        name: 'maintenance',
        holder: 'hub-a',
        term: 2,
        acquiredAt: iso(now),
        expiresAt: iso(now + ttlMs),
      });
    });

    it('lets the holder release, after which anyone takes over at once in a new term', async () => {
      await acquire('hub-a');
      now += 1_000;
      expect(await store.releaseLeadership('maintenance', 'hub-a')).toBe(true);
      expect(await store.getLeadership('maintenance')).toMatchObject({
        holder: 'hub-a',
        term: 1,
        expiresAt: iso(now),
      });
      expect(await store.releaseLeadership('maintenance', 'hub-a')).toBe(false);
      const taken = await acquire('hub-b');
      expect(taken).toMatchObject({ holder: 'hub-b', term: 2, acquiredAt: iso(now) });

      // The releasing holder asking again is a takeover too, never a renewal of its old term.
      now += 1_000;
      expect(await store.releaseLeadership('maintenance', 'hub-b')).toBe(true);
      expect(await acquire('hub-a')).toMatchObject({ holder: 'hub-a', term: 3, acquiredAt: iso(now) });
    });

    it('refuses a release by anyone but the current, valid holder', async () => {
      expect(await store.releaseLeadership('maintenance', 'hub-a')).toBe(false);
      const held = await acquire('hub-a');
      expect(await store.releaseLeadership('maintenance', 'hub-b')).toBe(false);
      expect(await store.getLeadership('maintenance')).toEqual(held);
      now += ttlMs;
      expect(await store.releaseLeadership('maintenance', 'hub-a')).toBe(false);
      expect(await store.getLeadership('maintenance')).toEqual(held);
    });

    it('keeps names independent', async () => {
      const maintenance = await acquire('hub-a', 'maintenance');
      const webhooks = await acquire('hub-b', 'webhooks');
      expect(webhooks).toMatchObject({ name: 'webhooks', holder: 'hub-b', term: 1 });
      expect(await acquire('hub-b', 'maintenance')).toEqual(maintenance);
      expect(await store.releaseLeadership('maintenance', 'hub-a')).toBe(true);
      expect(await store.getLeadership('webhooks')).toEqual(webhooks);
      expect(await store.getLeadership('other')).toBeUndefined();
    });

    it('refuses a ttlMs that is not a positive number, changing nothing', async () => {
      for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
        const error = await acquire('hub-a', 'maintenance', bad).then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
        expect(error, String(bad)).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).issues.map((issue) => issue.field)).toEqual(['ttlMs']);
      }
      expect(await store.getLeadership('maintenance')).toBeUndefined();
      const held = await acquire('hub-a');
      await expect(acquire('hub-a', 'maintenance', 0)).rejects.toBeInstanceOf(InvalidInputError);
      expect(await store.getLeadership('maintenance')).toEqual(held);
    });

    it('gives a free leadership to exactly one of many concurrent callers', async () => {
      const holders = Array.from({ length: 10 }, (_, index) => `hub-${index}`);
      const answers = await Promise.all(holders.map((holder) => acquire(holder, 'contested')));
      const winners = answers.filter((answer, index) => answer.holder === holders[index]);
      expect(winners).toHaveLength(1);
      for (const answer of answers) expect(answer).toEqual(winners[0]);
      expect(winners[0]).toMatchObject({ name: 'contested', term: 1 });
      expect(await store.getLeadership('contested')).toEqual(winners[0]);
    });
  });
}
