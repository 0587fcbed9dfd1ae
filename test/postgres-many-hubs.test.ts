/**
 * Distributed Warren on the real PostgreSQL: two hub processes and ten runner processes on one database
 * work through 5,000 tasks. Every task completes exactly once, and the attempt records prove it; work
 * enqueued through one hub wakes runners parked on the other.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { setTimeout as delay } from 'node:timers/promises';
import { createHubClient } from '../src/client/hub-client.ts';
import { silentLogger } from '../src/core/logger.ts';
import { startHub } from '../src/hub/start-hub.ts';
import type { TaskSpecInput } from '../src/core/types.ts';
import { createPostgresStore } from '../src/store/postgres/create-postgres-store.ts';
import { describeWithPostgres } from '../src/store/testing/postgres-test-database.ts';
import {
  createProcessHarness,
  type HubProcess,
  type ProcessHarness,
  type TrackedProcess,
} from './support/create-process-harness.ts';
import { createTcpBlackholeProxy } from './support/tcp-blackhole-proxy.ts';
import { waitFor } from './support/wait-for.ts';

const hubCount = 2;
const workerCount = 10;
const taskCount = 5_000;
// why: the hub takes at most 1,000 tasks per batch request.
const batchSize = 1_000;

describeWithPostgres('many hubs on one PostgreSQL database', (database) => {
  let harness: ProcessHarness;

  beforeEach(async () => {
    harness = await createProcessHarness();
  });

  afterEach(async () => {
    await harness.cleanup();
  });

  it('runs each of 5,000 tasks exactly once with 2 hubs and 10 runners', async () => {
    const schema = database.newSchema();
    const adminToken = `wrn_admin_${randomBytes(24).toString('hex')}`;
    const hubs: HubProcess[] = [];
    for (let index = 0; index < hubCount; index += 1) {
      hubs.push(
        await harness.startHub({
          dataDir: harness.path(`hub-${index}`),
          port: 0,
          database: { dialect: 'postgres', url: database.url, schema },
          adminToken,
        }),
      );
    }
    const admins = hubs.map((hub) => createHubClient({ baseUrl: hub.url, token: adminToken }));

    // Runners are created through one hub and served by both, alternately.
    const workers: Array<{ runnerId: string; hub: number; process: TrackedProcess }> = [];
    for (let index = 0; index < workerCount; index += 1) {
      const created = await admins[0]!.runners.create({ name: `worker-${index}`, slots: 4 });
      const hub = index % hubCount;
      const process = harness.spawnNode(`worker-${index}`, 'test/support/claim-worker.ts', [], {
        env: { WARREN_HUB_URL: hubs[hub]!.url, WARREN_RUNNER_TOKEN: created.token },
        stdin: 'pipe',
      });
      workers.push({ runnerId: created.runner.id, hub, process });
    }
    // Every worker is long-polling before the first task exists, so they all race, across both hubs.
    await Promise.all(workers.map(({ process }) => process.waitForLine((line) => line === 'ready', 45_000)));

    const spec = (index: number): TaskSpecInput => ({
      title: `Many hubs ${index}`,
      repo: '/nonexistent/many-hubs',
      executorInput: { run: 'true' },
    });
    const taskIds: string[] = [];
    for (let start = 0; start < taskCount; start += batchSize) {
      // Batches go through both hubs in turn.
      const admin = admins[(start / batchSize) % hubCount]!;
      const results = await admin.tasks.createBatch(
        Array.from({ length: batchSize }, (_, offset) => spec(start + offset)),
      );
      taskIds.push(...results.map((result) => result.task.id));
    }
    expect(new Set(taskIds).size).toBe(taskCount);

    await waitFor(
      'every task to finish',
      async () => {
        const open = await admins[1]!.tasks.list({
          states: ['blocked', 'queued', 'leased', 'running', 'verifying', 'failed'],
          limit: 1,
        });
        return open.tasks.length === 0;
      },
      { timeoutMs: 150_000, intervalMs: 500 },
    );

    for (const { process } of workers) process.child.stdin?.end();
    const exits = await Promise.all(workers.map(({ process }) => process.exited));
    expect(exits.map((exit) => exit.code)).toEqual(workers.map(() => 0));
    await Promise.all(workers.map(({ process }) => process.closed));
    for (const hub of hubs) hub.process.signalGroup('SIGTERM');
    expect((await Promise.all(hubs.map((hub) => hub.process.exited))).map((exit) => exit.code)).toEqual([
      0, 0,
    ]);

    const reported: string[] = [];
    const problems: string[] = [];
    const completedPerHub = [0, 0];
    for (const { process, hub } of workers) {
      const lines = process.stdout().split('\n').filter(Boolean);
      const completed = lines.filter((line) => line.startsWith('completed '));
      completedPerHub[hub]! += completed.length;
      reported.push(...completed.map((line) => line.split(' ')[1]!));
      problems.push(...lines.filter((line) => line !== 'ready' && !line.startsWith('completed ')));
    }
    expect(problems).toEqual([]);
    // The union of what the runners say they completed: no task twice, every task once.
    expect(reported).toHaveLength(taskCount);
    expect(new Set(reported)).toEqual(new Set(taskIds));
    // Both hubs served claims: the runners of each completed work.
    expect(completedPerHub.every((count) => count > 0)).toBe(true);

    // The record, read straight from the database.
    const store = await createPostgresStore({ connectionString: database.url, schema });
    try {
      const counts = await store.countTasks();
      expect(counts).toEqual([{ lane: 'normal', state: 'succeeded', count: taskCount }]);
      const runnerIds = new Set(workers.map((worker) => worker.runnerId));
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: database.url, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        const attempts = await client.query<{
          task_id: string;
          state: string;
          number: number;
          runner_id: string;
        }>('SELECT task_id, state, number, runner_id FROM attempts');
        expect(attempts.rows).toHaveLength(taskCount);
        expect(new Set(attempts.rows.map((attempt) => attempt.task_id))).toEqual(new Set(taskIds));
        expect(attempts.rows.every((attempt) => attempt.state === 'succeeded' && attempt.number === 1)).toBe(
          true,
        );
        expect(attempts.rows.every((attempt) => runnerIds.has(attempt.runner_id))).toBe(true);
        const attemptCounts = await client.query<{ attempt_count: number; count: string }>(
          'SELECT attempt_count, count(*) AS count FROM tasks GROUP BY attempt_count',
        );
        expect(attemptCounts.rows).toEqual([{ attempt_count: 1, count: String(taskCount) }]);
        // Event ids are dense and unique: every committed event got the next id, none twice.
        const events = await client.query<{ count: string; max: string; distinct: string }>(
          'SELECT count(*) AS count, max(id) AS max, count(DISTINCT id) AS distinct FROM events',
        );
        expect(events.rows[0]!.count).toBe(events.rows[0]!.max);
        expect(events.rows[0]!.distinct).toBe(events.rows[0]!.count);
      } finally {
        await client.end();
      }
    } finally {
      await store.close();
    }
  }, 240_000);

  it('starts a hub that cannot reach the database yet once the database answers', async () => {
    const target = new URL(database.url);
    const proxy = await createTcpBlackholeProxy({
      targetHost: target.hostname,
      targetPort: Number(target.port || 5432),
    });
    try {
      const throughProxy = new URL(database.url);
      throughProxy.hostname = proxy.host;
      throughProxy.port = String(proxy.port);
      proxy.pause();
      const store = await createPostgresStore({
        connectionString: throughProxy.toString(),
        schema: database.newSchema(),
        connectTimeoutMs: 300,
      });
      const starting = startHub({
        dataDir: harness.path('waiting-hub'),
        port: 0,
        logger: silentLogger,
        store,
      });
      // The hub keeps trying while the database does not answer...
      const early = await Promise.race([starting.then(() => 'started'), delay(1_500).then(() => 'waiting')]);
      expect(early).toBe('waiting');
      // ...and starts once it does.
      proxy.resume();
      const hub = await starting;
      try {
        expect((await fetch(`${hub.url}/readyz`)).status).toBe(200);
      } finally {
        await hub.close();
        await store.close();
      }
    } finally {
      await proxy.close();
    }
  }, 60_000);
});
