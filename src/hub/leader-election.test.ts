import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger, type Logger } from '../core/logger.ts';
import { createSqliteStore } from '../store/index.ts';
import type { Leadership, Store } from '../store/store.ts';
import { startLeaderElection, type LeaderElection, type LeaderElectionOptions } from './leader-election.ts';

// why: small real timers keep the suite fast; a renewal every third of the lease, as the hub defaults do.
const ttlMs = 300;
const renewIntervalMs = 100;

/** A logger that keeps its info lines. */
function recordingLogger(): Logger & { lines: { message: string; fields: Record<string, unknown> }[] } {
  const lines: { message: string; fields: Record<string, unknown> }[] = [];
  const logger: Logger & { lines: typeof lines } = {
    lines,
    debug: () => undefined,
    info: (fields, message) => lines.push({ message: message ?? '', fields }),
    warn: () => undefined,
    error: () => undefined,
    child: () => logger,
  };
  return logger;
}

/** What onChange reported, with the wall-clock time of each call. */
interface Changes {
  values: boolean[];
  at: number[];
  onChange: (isLeader: boolean) => void;
}

function recordChanges(): Changes {
  const changes: Changes = {
    values: [],
    at: [],
    onChange(isLeader) {
      changes.values.push(isLeader);
      changes.at.push(Date.now());
    },
  };
  return changes;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('startLeaderElection', () => {
  let directory: string;
  let store: Store;
  let elections: LeaderElection[];

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'warren-leader-election-'));
    // One SQLite file can be opened by one store only, so the "hubs" of a test share this store object.
    store = await createSqliteStore({ filename: join(directory, 'warren.db') });
    await store.migrate();
    elections = [];
  });
  afterEach(async () => {
    for (const election of elections) await election.stop();
    await store.close();
    await rm(directory, { recursive: true, force: true });
  });

  function start(options: Partial<LeaderElectionOptions> & { holder: string }): LeaderElection {
    const election = startLeaderElection({
      store,
      name: 'maintenance',
      ttlMs,
      renewIntervalMs,
      logger: silentLogger,
      ...options,
    });
    elections.push(election);
    return election;
  }

  it('sends its first acquire at once and leads as soon as that answers', async () => {
    const logger = recordingLogger();
    const changes = recordChanges();
    // why: an interval far longer than the test, so leading can only come from the first acquire.
    const election = start({ holder: 'hub-a', renewIntervalMs: 60_000, ttlMs: 120_000, logger, ...changes });
    expect(election.isLeader()).toBe(false);
    await election.ready;
    expect(election.isLeader()).toBe(true);
    expect(election.current()).toMatchObject({ name: 'maintenance', holder: 'hub-a', term: 1 });
    expect(changes.values).toEqual([true]);
    expect(logger.lines).toEqual([
      { message: 'became leader', fields: expect.objectContaining({ holder: 'hub-a', term: 1 }) as unknown },
    ]);
  });

  it('follows while another holder leads, answering with that holder', async () => {
    await store.acquireLeadership({ name: 'maintenance', holder: 'elsewhere', ttlMs: 60_000 });
    const changes = recordChanges();
    const election = start({ holder: 'hub-a', ...changes });
    await election.ready;
    await sleep(renewIntervalMs * 2);
    expect(election.isLeader()).toBe(false);
    expect(election.current()?.holder).toBe('elsewhere');
    expect(changes.values).toEqual([]);
  });

  it('lets exactly one of two hubs lead, and hands over when the leader stops', async () => {
    const changesA = recordChanges();
    const changesB = recordChanges();
    const logger = recordingLogger();
    // why a longer lease here: the test watches who leads over many renewals, and only an event-loop
    // stall of most of a lease (not merely of a renewal interval) may make the leader step down.
    const leaseMs = 1_000;
    const a = start({ holder: 'hub-a', logger, ttlMs: leaseMs, ...changesA });
    const b = start({ holder: 'hub-b', logger, ttlMs: leaseMs, ...changesB });
    await Promise.all([a.ready, b.ready]);

    // Over several renewals, never both and never neither.
    for (let sample = 0; sample < 40; sample += 1) {
      expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
      await sleep(10);
    }
    const [leader, follower, leaderChanges, followerChanges] = a.isLeader()
      ? [a, b, changesA, changesB]
      : [b, a, changesB, changesA];
    const leaderHolder = leader === a ? 'hub-a' : 'hub-b';
    const followerHolder = leader === a ? 'hub-b' : 'hub-a';
    expect(leaderChanges.values).toEqual([true]);
    expect(followerChanges.values).toEqual([]);
    const firstTerm = await store.getLeadership('maintenance');
    expect(firstTerm).toMatchObject({ holder: leaderHolder, term: 1 });

    const stoppedAt = Date.now();
    const lastRenewed = await store.getLeadership('maintenance');
    await leader.stop();
    expect(leader.isLeader()).toBe(false);
    expect(leaderChanges.values).toEqual([true, false]);
    await vi.waitFor(() => expect(follower.isLeader()).toBe(true), {
      timeout: leaseMs + 2 * renewIntervalMs,
    });
    expect(followerChanges.values).toEqual([true]);
    expect(followerChanges.at[0]! - stoppedAt).toBeLessThan(leaseMs + renewIntervalMs * 1.2);
    // The release let the follower take over on its next attempt, before the old lease would have ended.
    expect(followerChanges.at[0]!).toBeLessThan(Date.parse(lastRenewed!.expiresAt));
    expect(follower.current()).toMatchObject({ holder: followerHolder, term: 2 });
    expect(logger.lines.map((line) => [line.message, line.fields.holder, line.fields.term])).toEqual([
      ['became leader', leaderHolder, 1],
      ['stepped down', leaderHolder, 1],
      ['became leader', followerHolder, 2],
    ]);
  });

  it('steps down before its lease ends when renewals fail, keeps trying, and leads again once they work', async () => {
    let failing = false;
    let failures = 0;
    let lastGranted: Leadership | undefined;
    const flaky = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'acquireLeadership') {
          return async (...args: Parameters<Store['acquireLeadership']>) => {
            if (failing) {
              failures += 1;
              throw new Error('connection refused');
            }
            const answer = await target.acquireLeadership(...args);
            if (answer.holder === args[0].holder) lastGranted = answer;
            return answer;
          };
        }
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const changes = recordChanges();
    const election = start({ holder: 'hub-a', store: flaky, ...changes });
    await election.ready;
    await sleep(renewIntervalMs * 2);
    expect(election.isLeader()).toBe(true);

    failing = true;
    await vi.waitFor(() => expect(changes.values).toEqual([true, false]), { timeout: ttlMs * 3 });
    const steppedDownAt = changes.at[1]!;
    // Before the store's lease of its last successful renewal ran out, by the wall clock.
    expect(steppedDownAt).toBeLessThan(Date.parse(lastGranted!.expiresAt));
    expect(election.isLeader()).toBe(false);

    const failuresBefore = failures;
    await vi.waitFor(() => expect(failures).toBeGreaterThan(failuresBefore + 1), { timeout: ttlMs * 3 });
    failing = false;
    await vi.waitFor(() => expect(election.isLeader()).toBe(true), { timeout: ttlMs * 3 });
    expect(changes.values).toEqual([true, false, true]);
  });

  it('steps down on time even while a renewal hangs', async () => {
    let hang = false;
    let release: () => void = () => undefined;
    let lastGranted: Leadership | undefined;
    const stalled = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'acquireLeadership') {
          return async (...args: Parameters<Store['acquireLeadership']>) => {
            if (hang) await new Promise<void>((resolve) => (release = resolve));
            const answer = await target.acquireLeadership(...args);
            if (!hang) lastGranted = answer;
            return answer;
          };
        }
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const changes = recordChanges();
    const election = start({ holder: 'hub-a', store: stalled, ...changes });
    await election.ready;
    expect(election.isLeader()).toBe(true);

    hang = true;
    await vi.waitFor(() => expect(changes.values).toEqual([true, false]), { timeout: ttlMs * 3 });
    expect(changes.at[1]!).toBeLessThan(Date.parse(lastGranted!.expiresAt));
    hang = false;
    release();
  });

  it('gives the leadership up on stop, once, even when the store fails', async () => {
    const changes = recordChanges();
    const election = start({ holder: 'hub-a', renewIntervalMs: 60_000, ttlMs: 120_000, ...changes });
    await election.ready;
    await Promise.all([election.stop(), election.stop()]);
    expect(changes.values).toEqual([true, false]);
    const released = await store.getLeadership('maintenance');
    expect(Date.parse(released!.expiresAt)).toBeLessThanOrEqual(Date.now());

    const broken = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'releaseLeadership') return () => Promise.reject(new Error('database is gone'));
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const second = start({ holder: 'hub-b', store: broken, renewIntervalMs: 60_000, ttlMs: 120_000 });
    await second.ready;
    expect(second.isLeader()).toBe(true);
    await expect(second.stop()).resolves.toBeUndefined();
    expect(second.isLeader()).toBe(false);
  });
});
