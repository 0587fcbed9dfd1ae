import { describe, expect, it } from 'vitest';
import { createKeyedLock } from './repo-lock.ts';

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

describe('createKeyedLock', () => {
  it('runs calls with the same key one at a time, in order', async () => {
    const lock = createKeyedLock();
    let running = 0;
    let maximum = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, (_unused, index) =>
        lock.run('repo', async () => {
          running += 1;
          maximum = Math.max(maximum, running);
          await tick();
          order.push(index);
          running -= 1;
        }),
      ),
    );
    expect(maximum).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('runs calls with different keys concurrently', async () => {
    const lock = createKeyedLock();
    let running = 0;
    let maximum = 0;
    await Promise.all(
      ['a', 'b', 'c'].map((key) =>
        lock.run(key, async () => {
          running += 1;
          maximum = Math.max(maximum, running);
          await tick();
          running -= 1;
        }),
      ),
    );
    expect(maximum).toBe(3);
  });

  it('returns the result and releases the lock when fn throws', async () => {
    const lock = createKeyedLock();
    const failing = lock.run('repo', async () => {
      await tick();
      throw new Error('boom');
    });
    const next = lock.run('repo', async () => 42);
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe(42);
  });

  it('releases the lock when fn throws synchronously', async () => {
    const lock = createKeyedLock();
    const failing = lock.run('repo', () => {
      throw new Error('sync');
    });
    await expect(failing).rejects.toThrow('sync');
    await expect(lock.run('repo', async () => 'after')).resolves.toBe('after');
  });

  it('forgets keys once idle', async () => {
    const lock = createKeyedLock();
    const first = lock.run('repo', tick);
    const second = lock.run('repo', tick);
    expect(lock.isLocked('repo')).toBe(true);
    await first;
    expect(lock.isLocked('repo')).toBe(true);
    await second;
    expect(lock.isLocked('repo')).toBe(false);
    expect(lock.isLocked('never-used')).toBe(false);
  });
});
