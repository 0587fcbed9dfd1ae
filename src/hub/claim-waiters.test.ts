import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import { createClaimWaiters, type ClaimWaiters } from './claim-waiters.ts';

/** A queue of numbered work items that attempts take from, recording who tried when. */
function createWorkQueue() {
  const items: number[] = [];
  const tries: string[] = [];
  return {
    items,
    tries,
    attemptFor(name: string, limit = 1) {
      return async () => {
        tries.push(name);
        return items.splice(0, limit);
      };
    },
  };
}

function nextTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await nextTick();
}

describe('createClaimWaiters', () => {
  let waiters: ClaimWaiters | undefined;
  afterEach(() => waiters?.close());

  it('answers at once when work is there, without parking', async () => {
    const work = createWorkQueue();
    work.items.push(1);
    waiters = createClaimWaiters({ countReady: async () => work.items.length, logger: silentLogger });
    await expect(waiters.claim(work.attemptFor('a'), { waitMs: 10_000 })).resolves.toEqual([1]);
    expect(waiters.size).toBe(0);
  });

  it('keeps waking parked waiters after a waiter leaves while the ready count is being read', async () => {
    const work = createWorkQueue();
    let releaseCount: (() => void) | undefined;
    let countsStarted = 0;
    waiters = createClaimWaiters({
      countReady: async () => {
        countsStarted += 1;
        // The first count is slow (a database round trip); later ones answer at once.
        if (countsStarted === 1) await new Promise<void>((resolve) => (releaseCount = resolve));
        return work.items.length;
      },
      logger: silentLogger,
    });
    const leaving = new AbortController();
    const first = waiters.claim(work.attemptFor('leaving'), { waitMs: 10_000, signal: leaving.signal });
    const second = waiters.claim(work.attemptFor('staying'), { waitMs: 10_000 });
    await until(() => work.tries.length === 2);

    work.items.push(1, 2);
    waiters.notify();
    await until(() => releaseCount !== undefined);
    // The first waiter's client goes away while the round is counting.
    leaving.abort();
    await expect(first).resolves.toEqual([]);
    releaseCount!();
    await expect(second).resolves.toEqual([1]);

    // Later signals still wake waiters: no round is stuck on a turn nobody will end.
    const third = waiters.claim(work.attemptFor('third'), { waitMs: 10_000 });
    await expect(third).resolves.toEqual([2]);
    const fourth = waiters.claim(work.attemptFor('fourth'), { waitMs: 60_000 });
    await until(() => work.tries.includes('fourth'));
    work.items.push(3);
    waiters.notify();
    // Woken by the signal, not by its wait running out (a minute): a stuck round would never wake it.
    const notWoken = new Promise((resolve) =>
      setTimeout(() => resolve('not woken within 2 s'), 2_000).unref(),
    );
    await expect(Promise.race([fourth, notWoken])).resolves.toEqual([3]);
  });

  it('wakes parked waiters in arrival order, only as many as items are ready', async () => {
    const work = createWorkQueue();
    waiters = createClaimWaiters({ countReady: async () => work.items.length, logger: silentLogger });
    const first = waiters.claim(work.attemptFor('first'), { waitMs: 10_000 });
    const second = waiters.claim(work.attemptFor('second'), { waitMs: 10_000 });
    const third = waiters.claim(work.attemptFor('third'), { waitMs: 10_000 });
    await until(() => work.tries.length === 3);
    work.tries.length = 0;

    work.items.push(7);
    waiters.notify();
    await expect(first).resolves.toEqual([7]);
    await until(() => waiters!.size === 2);
    // Only one item was ready: only the first waiter was woken; the others did not retry.
    expect(work.tries).toEqual(['first']);

    work.items.push(8, 9);
    waiters.notify();
    await expect(second).resolves.toEqual([8]);
    await expect(third).resolves.toEqual([9]);
    expect(work.tries).toEqual(['first', 'second', 'third']);
  });

  it('gives the next waiter a turn when the woken one cannot take the work', async () => {
    const work = createWorkQueue();
    waiters = createClaimWaiters({ countReady: async () => work.items.length, logger: silentLogger });
    const picky = waiters.claim(
      async () => {
        work.tries.push('picky');
        return [];
      },
      { waitMs: 10_000 },
    );
    const able = waiters.claim(work.attemptFor('able'), { waitMs: 10_000 });
    await until(() => work.tries.length === 2);
    work.tries.length = 0;

    work.items.push(1);
    waiters.notify();
    await expect(able).resolves.toEqual([1]);
    expect(work.tries).toEqual(['picky', 'able']);
    waiters.close();
    await expect(picky).resolves.toEqual([]);
  });

  it('retries a waiter woken while its first attempt was running', async () => {
    const work = createWorkQueue();
    waiters = createClaimWaiters({ countReady: async () => work.items.length, logger: silentLogger });
    let releaseFirstAttempt: () => void = () => undefined;
    let calls = 0;
    const result = waiters.claim(
      async () => {
        calls += 1;
        if (calls === 1) {
          // The first attempt read an empty queue; the item lands (and is signalled) before it returns.
          await new Promise<void>((resolve) => (releaseFirstAttempt = resolve));
          return [];
        }
        return work.items.splice(0, 1);
      },
      { waitMs: 10_000 },
    );
    await until(() => calls === 1);
    work.items.push(5);
    waiters.notify();
    releaseFirstAttempt();
    await expect(result).resolves.toEqual([5]);
  });

  it('tries once more and answers empty when the wait runs out', async () => {
    const work = createWorkQueue();
    waiters = createClaimWaiters({ countReady: async () => work.items.length, logger: silentLogger });
    await expect(waiters.claim(work.attemptFor('a'), { waitMs: 20 })).resolves.toEqual([]);
    expect(work.tries).toEqual(['a', 'a']);
    expect(waiters.size).toBe(0);
  });

  it('answers empty when the signal aborts or the waiters close', async () => {
    const work = createWorkQueue();
    waiters = createClaimWaiters({ countReady: async () => work.items.length, logger: silentLogger });
    const controller = new AbortController();
    const aborted = waiters.claim(work.attemptFor('a'), { waitMs: 10_000, signal: controller.signal });
    const closed = waiters.claim(work.attemptFor('b'), { waitMs: 10_000 });
    await until(() => work.tries.length === 2);
    controller.abort();
    await expect(aborted).resolves.toEqual([]);
    waiters.close();
    await expect(closed).resolves.toEqual([]);
    expect(waiters.size).toBe(0);
  });

  it('answers empty at once when an attempt says there is nothing worth waiting for', async () => {
    waiters = createClaimWaiters({ countReady: async () => 0, logger: silentLogger });
    let tries = 0;
    const attempt = async (): Promise<number[] | undefined> => {
      tries += 1;
      return undefined;
    };
    await expect(waiters.claim(attempt, { waitMs: 30_000 })).resolves.toEqual([]);
    expect(tries).toBe(1);
    expect(waiters.size).toBe(0);
  });

  it('makes the abort signal only when the request parks, and once', async () => {
    const work = createWorkQueue();
    waiters = createClaimWaiters({ countReady: async () => work.items.length, logger: silentLogger });
    const controller = new AbortController();
    let made = 0;
    const signal = (): AbortSignal => {
      made += 1;
      return controller.signal;
    };
    work.items.push(1);
    await expect(waiters.claim(work.attemptFor('a'), { waitMs: 10_000, signal })).resolves.toEqual([1]);
    expect(made).toBe(0);

    const parked = waiters.claim(work.attemptFor('b'), { waitMs: 10_000, signal });
    await until(() => made === 1);
    // Woken, it finds nothing (another took the item) and parks again with the same signal.
    waiters.notify();
    await until(() => work.tries.filter((name) => name === 'b').length === 2);
    await nextTick();
    expect(made).toBe(1);
    controller.abort();
    await expect(parked).resolves.toEqual([]);
    expect(made).toBe(1);
  });

  it('wakes everyone when counting ready work fails', async () => {
    const work = createWorkQueue();
    waiters = createClaimWaiters({
      countReady: async () => {
        throw new Error('database unavailable');
      },
      logger: silentLogger,
    });
    const first = waiters.claim(work.attemptFor('first'), { waitMs: 10_000 });
    const second = waiters.claim(work.attemptFor('second'), { waitMs: 10_000 });
    await until(() => work.tries.length === 2);
    work.items.push(1, 2);
    waiters.notify();
    await expect(Promise.all([first, second])).resolves.toEqual([[1], [2]]);
  });
});
