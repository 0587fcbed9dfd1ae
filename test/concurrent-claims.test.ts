/**
 * Twenty runner processes racing for 2,000 tasks: every task is claimed, run and completed exactly once.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHubClient } from '../src/client/hub-client.ts';
import type { TaskSpecInput } from '../src/core/types.ts';
import {
  createProcessHarness,
  type ProcessHarness,
  type TrackedProcess,
} from './support/create-process-harness.ts';
import { waitFor } from './support/wait-for.ts';

const workerCount = 20;
const taskCount = 2_000;
// why: the hub takes at most 1,000 tasks per batch request.
const batchSize = 1_000;

describe('concurrent claims from many runner processes', () => {
  let harness: ProcessHarness;

  beforeEach(async () => {
    harness = await createProcessHarness();
  });

  afterEach(async () => {
    await harness.cleanup();
  });

  it('runs each of 2,000 tasks exactly once across 20 runners', async () => {
    const dataDir = harness.path('hub');
    const hub = await harness.startHub({ dataDir, port: 0 });
    const admin = createHubClient({ baseUrl: hub.url, token: hub.adminToken });

    const workers: Array<{ runnerId: string; process: TrackedProcess }> = [];
    for (let index = 0; index < workerCount; index += 1) {
      const created = await admin.runners.create({ name: `worker-${index}`, slots: 4 });
      const process = harness.spawnNode(`worker-${index}`, 'test/support/claim-worker.ts', [], {
        env: { WARREN_HUB_URL: hub.url, WARREN_RUNNER_TOKEN: created.token },
        stdin: 'pipe',
      });
      workers.push({ runnerId: created.runner.id, process });
    }
    // Every worker is registered and long-polling before the first task exists, so they all race.
    await Promise.all(workers.map(({ process }) => process.waitForLine((line) => line === 'ready', 45_000)));

    const spec = (index: number): TaskSpecInput => ({
      title: `Claim race ${index}`,
      repo: '/nonexistent/claim-race',
      executorInput: { run: 'true' },
      labels: ['race'],
    });
    const taskIds: string[] = [];
    for (let start = 0; start < taskCount; start += batchSize) {
      const results = await admin.tasks.createBatch(
        Array.from({ length: batchSize }, (_, offset) => spec(start + offset)),
      );
      taskIds.push(...results.map((result) => result.task.id));
    }
    expect(new Set(taskIds).size).toBe(taskCount);

    await waitFor(
      'every task to finish',
      async () => {
        const open = await admin.tasks.list({
          states: ['blocked', 'queued', 'leased', 'running', 'verifying', 'failed'],
          limit: 1,
        });
        return open.tasks.length === 0;
      },
      { timeoutMs: 40_000, intervalMs: 200 },
    );

    // Stop the workers (stdin closes), then the hub, and read the record straight from the database.
    for (const { process } of workers) process.child.stdin?.end();
    const exits = await Promise.all(workers.map(({ process }) => process.exited));
    expect(exits.map((exit) => exit.code)).toEqual(workers.map(() => 0));
    await Promise.all(workers.map(({ process }) => process.closed));
    hub.process.signalGroup('SIGTERM');
    expect((await hub.process.exited).code).toBe(0);

    const reported: string[] = [];
    const problems: string[] = [];
    let busyWorkers = 0;
    for (const { process } of workers) {
      const lines = process.stdout().split('\n').filter(Boolean);
      const completed = lines.filter((line) => line.startsWith('completed '));
      if (completed.length > 0) busyWorkers += 1;
      reported.push(...completed.map((line) => line.split(' ')[1]!));
      problems.push(...lines.filter((line) => line !== 'ready' && !line.startsWith('completed ')));
    }
    expect(problems).toEqual([]);
    // The union of what the runners say they completed: no task twice, every task once.
    expect(reported).toHaveLength(taskCount);
    expect(new Set(reported)).toEqual(new Set(taskIds));
    // The work was actually spread: more than one runner took part in the race.
    expect(busyWorkers).toBeGreaterThan(1);

    const database = new Database(path.join(dataDir, 'warren.db'), { readonly: true });
    try {
      const taskStates = database
        .prepare('SELECT state, attempt_count, count(*) AS count FROM tasks GROUP BY state, attempt_count')
        .all();
      expect(taskStates).toEqual([{ state: 'succeeded', attempt_count: 1, count: taskCount }]);
      const attempts = database
        .prepare('SELECT task_id, state, number, runner_id FROM attempts')
        .all() as Array<{ task_id: string; state: string; number: number; runner_id: string }>;
      expect(attempts).toHaveLength(taskCount);
      expect(new Set(attempts.map((attempt) => attempt.task_id))).toEqual(new Set(taskIds));
      expect(attempts.every((attempt) => attempt.state === 'succeeded' && attempt.number === 1)).toBe(true);
      const runnerIds = new Set(workers.map((worker) => worker.runnerId));
      expect(attempts.every((attempt) => runnerIds.has(attempt.runner_id))).toBe(true);
    } finally {
      database.close();
    }
  }, 90_000);
});
