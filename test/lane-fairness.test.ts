/**
 * Lane fairness under a flood, over loopback HTTP against a real hub and store: a runner claims one task at
 * a time and completes it at once, so the order of its claims is the order the scheduler chose.
 *
 * - A flood of high-priority work still lets normal and low work move, each at its guaranteed share.
 * - A flood of low-priority work never holds back high-priority work that arrives: that goes next.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHubClient, type HubClient } from '../src/client/hub-client.ts';
import { silentLogger } from '../src/core/logger.ts';
import type { Lane } from '../src/core/types.ts';
import { startHub, type RunningHub } from '../src/hub/start-hub.ts';
import { createGitSandbox, type GitSandbox } from '../src/vcs/testing/create-git-sandbox.ts';

const result = {
  branch: 'warren/lanes',
  baseBranch: 'main',
  baseSha: '0'.repeat(40),
  changedFiles: [],
  pushed: false,
};

describe('lane fairness under a flood', () => {
  let sandbox: GitSandbox;
  let hub: RunningHub;
  let admin: HubClient;
  let runner: HubClient;

  beforeEach(async () => {
    sandbox = await createGitSandbox();
    // The default shares: normal 0.1, low 0.05.
    hub = await startHub({ dataDir: sandbox.path('hub'), port: 0, logger: silentLogger });
    admin = createHubClient({ baseUrl: hub.url, token: hub.adminToken });
    const { token } = await admin.runners.create({ name: 'claimer' });
    runner = createHubClient({ baseUrl: hub.url, token });
    await runner.runner.register({ capabilities: ['executor:shell'], slots: 1 });
  });

  afterEach(async () => {
    await hub.close();
    await sandbox.cleanup();
  });

  const enqueue = async (lane: Lane, count: number): Promise<void> => {
    await admin.tasks.createBatch(
      Array.from({ length: count }, (_, index) => ({
        title: `${lane} ${index}`,
        repo: '/srv/repos/app',
        executor: 'shell',
        lane,
        executorInput: { run: 'true' },
      })),
    );
  };

  /** Claims and completes `count` tasks one at a time; answers the lane of each, in claim order. */
  const claimInOrder = async (count: number): Promise<Lane[]> => {
    const lanes: Lane[] = [];
    for (let index = 0; index < count; index += 1) {
      const [work] = await runner.runner.claim({ limit: 1, waitMs: 0 });
      if (!work) break;
      lanes.push(work.task.lane);
      await runner.attempts.complete(work.attempt.id, { leaseToken: work.leaseToken, result });
    }
    return lanes;
  };
  const count = (lanes: Lane[], lane: Lane) => lanes.filter((taken) => taken === lane).length;

  it('lets normal and low work move at their guaranteed shares under a flood of high work', async () => {
    // The lower lanes' work is older: under strict lane order it would wait for all 150 high tasks.
    await enqueue('low', 20);
    await enqueue('normal', 30);
    await enqueue('high', 150);

    const first = await claimInOrder(150);
    expect(first).toHaveLength(150);
    // About one claim in 11 for normal (0.1) and one in 21 for low (0.05), never in a burst.
    expect(count(first, 'normal')).toBeGreaterThanOrEqual(12);
    expect(count(first, 'normal')).toBeLessThanOrEqual(16);
    expect(count(first, 'low')).toBeGreaterThanOrEqual(6);
    expect(count(first, 'low')).toBeLessThanOrEqual(8);
    const lowAt = first.flatMap((lane, index) => (lane === 'low' ? [index] : []));
    expect(lowAt[0]).toBeLessThanOrEqual(21);
    for (let index = 1; index < lowAt.length; index += 1) {
      expect(lowAt[index]! - lowAt[index - 1]!).toBeGreaterThanOrEqual(10);
    }
    // Each decision that took a lower lane's task ahead of high work says so.
    const tasks = await admin.tasks.list({ lane: 'low', states: ['succeeded'], limit: 100 });
    const promoted = await Promise.all(
      tasks.tasks.map(async (task) => (await admin.tasks.routing(task.id)).attempts[0]?.routing?.laneShare),
    );
    expect(promoted).toHaveLength(count(first, 'low'));
    expect(promoted.every((laneShare) => laneShare === true)).toBe(true);

    // Everything else still runs: high work first, then normal, then low.
    const rest = await claimInOrder(100);
    expect(count([...first, ...rest], 'high')).toBe(150);
    expect(count([...first, ...rest], 'normal')).toBe(30);
    expect(count([...first, ...rest], 'low')).toBe(20);
  });

  it('runs high work that arrives during a flood of low work next, ahead of the flood', async () => {
    await enqueue('low', 100);
    const before = await claimInOrder(30);
    expect(before.every((lane) => lane === 'low')).toBe(true);

    await enqueue('high', 10);
    const after = await claimInOrder(11);
    // The ten high tasks go next; the low lane's credit is spent by its own claims, so none cuts in.
    expect(after.slice(0, 10)).toEqual(Array(10).fill('high'));
    expect(after[10]).toBe('low');
  });
});
