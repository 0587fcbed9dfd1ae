/**
 * Chaos on the real PostgreSQL: three hub processes reach the database through black-hole proxies (one
 * per hub), five worker processes hold tasks for a while and heartbeat, and a seeded schedule SIGKILLs
 * and restarts workers and hubs, blackholes one hub's database link or all of them for 1 to 5 s, and
 * resets links, while tasks keep being enqueued. While the database is unreachable, hubs answer 503 with
 * a clear message and stay up. Afterwards the queue drains and the database shows that no task was lost
 * or run to completion twice, and that every attempt that did not succeed ended with an error.
 *
 * The seed comes from `WARREN_CHAOS_SEED` (random when unset); it is printed at the start and named in
 * every failure message, so a failing schedule can be replayed: a replay makes the same random draws in
 * the same order (the chaos schedule, the enqueuer and each worker have their own streams), though what is
 * idle or blackholed at each step depends on timing, so the events can still differ a little.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ErrorBody } from '../src/core/api.ts';
import type { RetryPolicy } from '../src/core/backoff.ts';
import type { Task, TaskSpecInput } from '../src/core/types.ts';
import { createHubClient } from '../src/client/hub-client.ts';
import { describeWithPostgres, dropSchemas } from '../src/store/testing/postgres-test-database.ts';
import {
  createProcessHarness,
  type HubProcess,
  type ProcessHarness,
  type TrackedProcess,
} from './support/create-process-harness.ts';
import type { HubProcessSettings } from './support/hub-process.ts';
import {
  findOverlaps,
  leadershipIntervals,
  readLogLines,
  type HubLifetime,
} from './support/leadership-log.ts';
import { chaosSeed, createSeededRandom, type SeededRandom } from './support/seeded-random.ts';
import {
  createTcpBlackholeProxy,
  type HeldBytes,
  type TcpBlackholeProxy,
} from './support/tcp-blackhole-proxy.ts';
import { waitFor } from './support/wait-for.ts';

const hubCount = 3;
const workerCount = 5;
// why: enough work that the workers are busy through the whole chaos window, few enough to drain fast.
const initialTasks = 100;
const batchSize = 20;
const laterBatches = 12;
const totalTasks = initialTasks + batchSize * laterBatches;
// why: tasks must survive many lost attempts (a worker killed while holding one, a lease expired during a
// blackhole); ten is far more than a task meets in 40 s of chaos, so `dead` would point at a bug.
const maxAttempts = 10;
const chaosMs = 40_000;
// why short: a killed worker's task comes back within seconds; heartbeats every second keep it otherwise.
const leaseMs = 3_000;
const heartbeatIntervalMs = 1_000;
// why: a blackholed statement becomes an error (503) after 1.5 s, a blackholed connect after 1 s, so a
// request to a cut-off hub fails well within a client's patience.
const postgresSettings = {
  queryTimeoutMs: 1_500,
  connectTimeoutMs: 1_000,
  idleInTransactionTimeoutMs: 2_000,
  pollIntervalMs: 500,
};
const retryPolicy: RetryPolicy = { baseDelayMs: 200, maxDelayMs: 1_000, factor: 2, jitter: 0.5 };
// why: a queue of a few hundred short tasks drains in seconds; a minute means something is stuck.
const drainTimeoutMs = 60_000;

/** The message a hub answers with when its store is unreachable (create-error-handler.ts). */
const unavailableMessage = /cannot reach its store right now; retry later/;

/** A hub position: its proxy and port survive restarts of the process behind them. */
interface HubSlot {
  index: number;
  proxy: TcpBlackholeProxy;
  port: number;
  current: HubProcess | undefined;
  /** Every process that ran in this slot, for their logs. */
  lifetimes: HubLifetime[];
  busy: boolean;
  starts: number;
}

/** A worker position: one runner identity, restarted as new processes. */
interface WorkerSlot {
  index: number;
  token: string;
  runnerId: string;
  current: TrackedProcess | undefined;
  all: TrackedProcess[];
  busy: boolean;
}

/** A probe of a hub while its database link was blackholed. */
interface Probe {
  hub: number;
  status: number | undefined;
  body: unknown;
  error?: string;
  elapsedMs: number;
}

describeWithPostgres('chaos: hubs, workers and database links failing at random', (database) => {
  let harness: ProcessHarness;
  const proxies: TcpBlackholeProxy[] = [];

  beforeEach(async () => {
    harness = await createProcessHarness();
  });

  afterEach(async () => {
    await harness.cleanup();
    for (const proxy of proxies.splice(0)) await proxy.close();
  });

  it('loses no task, completes none twice and leaves nothing stuck', async () => {
    const seed = chaosSeed();
    const random = createSeededRandom(seed);
    const enqueueRandom = createSeededRandom(seed + 1);
    const context = `chaos seed ${seed} (replay with WARREN_CHAOS_SEED=${seed})`;
    console.log(`chaos: ${context}`);
    const startedAt = Date.now();
    const schema = database.newSchema();
    const adminToken = `wrn_admin_${randomBytes(24).toString('hex')}`;
    const target = new URL(database.url);
    const events: Array<{ at: number; kind: string; detail: string }> = [];
    const note = (kind: string, detail: string): void => {
      events.push({ at: Date.now() - startedAt, kind, detail });
    };
    /** Processes that exited without the test asking them to. */
    const unexpectedExits: string[] = [];
    const expectedExit = new WeakSet<TrackedProcess>();
    const watchExit = (process: TrackedProcess): void => {
      void process.exited.then((exit) => {
        if (!expectedExit.has(process)) {
          unexpectedExits.push(
            `${process.name} (pid ${process.pid}) exited ${exit.code ?? exit.signal}: ${process.stderr().slice(-2_000)}`,
          );
        }
      });
    };

    // Hubs, each behind its own proxy to PostgreSQL.
    const hubs: HubSlot[] = [];
    for (let index = 0; index < hubCount; index += 1) {
      const proxy = await createTcpBlackholeProxy({
        targetHost: target.hostname,
        targetPort: Number(target.port || 5432),
      });
      proxies.push(proxy);
      hubs.push({ index, proxy, port: 0, current: undefined, lifetimes: [], busy: false, starts: 0 });
    }
    const hubSettings = (slot: HubSlot, logFile: string): HubProcessSettings => {
      const url = new URL(database.url);
      url.hostname = slot.proxy.host;
      url.port = String(slot.proxy.port);
      return {
        dataDir: harness.path(`hub-${slot.index}`),
        port: slot.port,
        database: { dialect: 'postgres', url: url.toString(), schema },
        postgres: postgresSettings,
        adminToken,
        logFile,
        retryPolicy,
        config: {
          leaseMs,
          heartbeatIntervalMs,
          maintenanceIntervalMs: 200,
          leaderLeaseMs: 3_000,
          leaderRenewIntervalMs: 1_000,
        },
      };
    };
    /** Starts the slot's hub (same port as before); a start that fails (database unreachable) is retried. */
    const startHub = async (slot: HubSlot): Promise<void> => {
      for (let tries = 1; ; tries += 1) {
        // Not while its own database link is blackholed: it would fail to migrate at once.
        await waitFor(`hub ${slot.index}'s link to come back`, () => !slot.proxy.paused, {
          timeoutMs: 15_000,
        });
        slot.starts += 1;
        const logFile = harness.path(`hub-${slot.index}-start-${slot.starts}.log`);
        try {
          const hub = await harness.startHub(hubSettings(slot, logFile));
          slot.port = hub.port;
          slot.current = hub;
          const lifetime: HubLifetime = {
            name: `hub-${slot.index}.${slot.starts}`,
            instanceId: hub.instanceId,
            logFile,
          };
          slot.lifetimes.push(lifetime);
          watchExit(hub.process);
          void hub.process.exited.then(() => {
            lifetime.endedAt ??= Date.now();
          });
          return;
        } catch (error) {
          // A hub whose database is unreachable at start exits (it cannot migrate); an orchestrator
          // restarts it, as this does.
          const reason = String(error)
            .split('\n')
            .find((line) => /Error:/.test(line) && !line.includes('before the line'));
          note('hub-start-failed', `hub ${slot.index}: ${reason ?? String(error).split('\n')[0]}`);
          if (tries >= 5) throw new Error(`hub ${slot.index} did not start (${context})`, { cause: error });
          await delay(500);
        }
      }
    };
    await Promise.all(hubs.map((slot) => startHub(slot)));
    const hubUrl = (slot: HubSlot): string => `http://127.0.0.1:${slot.port}`;
    const admin = createHubClient({ baseUrl: hubUrl(hubs[0]!), token: adminToken });

    // Workers, spread over the hubs.
    const workers: WorkerSlot[] = [];
    for (let index = 0; index < workerCount; index += 1) {
      const created = await admin.runners.create({ name: `chaos-worker-${index}`, slots: 4 });
      workers.push({
        index,
        token: created.token,
        runnerId: created.runner.id,
        current: undefined,
        all: [],
        busy: false,
      });
    }
    const startWorker = (slot: WorkerSlot, hub: HubSlot): TrackedProcess => {
      const process = harness.spawnNode(
        `worker-${slot.index}.${slot.all.length + 1}`,
        'test/support/chaos-worker.ts',
        [],
        {
          env: {
            WARREN_HUB_URL: hubUrl(hub),
            WARREN_RUNNER_TOKEN: slot.token,
            WARREN_WORKER_SEED: String(seed + slot.index * 1_000 + slot.all.length),
          },
          stdin: 'pipe',
        },
      );
      slot.current = process;
      slot.all.push(process);
      watchExit(process);
      return process;
    };
    for (const slot of workers) startWorker(slot, hubs[slot.index % hubCount]!);
    await Promise.all(workers.map((slot) => slot.current!.waitForLine((line) => line === 'ready', 45_000)));

    // Tasks: some now, the rest in batches during the chaos, each batch retried with one idempotency key
    // through whichever hub answers until one acknowledges it.
    const acknowledged = new Map<string, string>();
    const spec = (number: number): TaskSpecInput => ({
      title: `chaos task ${number}`,
      repo: '/nonexistent/chaos',
      executorInput: { run: 'true' },
      labels: ['chaos'],
      maxAttempts,
    });
    let batchesPosted = 0;
    const postBatch = async (first: number, count: number): Promise<void> => {
      const key = `chaos-${seed}-batch-${first}`;
      const body = JSON.stringify({
        tasks: Array.from({ length: count }, (_, offset) => spec(first + offset)),
      });
      for (let tries = 1; ; tries += 1) {
        const slot = enqueueRandom.pick(hubs);
        try {
          const response = await fetch(`${hubUrl(slot)}/v1/tasks/batch`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${adminToken}`,
              'content-type': 'application/json',
              'idempotency-key': key,
            },
            body,
            signal: AbortSignal.timeout(10_000),
          });
          if (response.ok) {
            const answer = (await response.json()) as { results: Array<{ task: Task }> };
            for (const { task } of answer.results) acknowledged.set(task.title, task.id);
            batchesPosted += 1;
            return;
          }
          note('enqueue-refused', `batch ${first}: HTTP ${response.status}`);
        } catch (error) {
          note('enqueue-failed', `batch ${first} via hub ${slot.index}: ${String(error)}`);
        }
        if (tries > 200) throw new Error(`batch ${first} was never acknowledged (${context})`);
        await delay(300);
      }
    };
    await postBatch(0, initialTasks);

    // Opening move, deterministic: the database is blackholed for every hub. Requests fail with 503 and a
    // clear message, and every hub is still up afterwards.
    for (const slot of hubs) slot.proxy.pause();
    const opening = await Promise.all(hubs.map((slot) => probe(slot)));
    for (const slot of hubs) slot.proxy.resume();
    note('pause-all', 'opening blackhole of every link, probed');
    for (const answer of opening) {
      expect(
        answer.status,
        `hub ${answer.hub} answered during the blackhole (${context}): ${JSON.stringify(answer)}`,
      ).toBe(503);
      const body = answer.body as ErrorBody;
      expect(body.error.code, context).toBe('unavailable');
      expect(body.error.message, context).toMatch(unavailableMessage);
    }
    expect(
      hubs.every((slot) => slot.current!.process.isRunning()),
      context,
    ).toBe(true);
    await waitFor(
      'every hub to be ready after the blackhole',
      async () => {
        const answers = await Promise.all(
          hubs.map((slot) =>
            fetch(`${hubUrl(slot)}/readyz`).then(
              (response) => response.status,
              () => 0,
            ),
          ),
        );
        return answers.every((status) => status === 200);
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );

    /** GET /v1/tasks on a hub, without retries: what a client sees. */
    async function probe(slot: HubSlot): Promise<Probe> {
      const sentAt = Date.now();
      try {
        const response = await fetch(`${hubUrl(slot)}/v1/tasks?limit=1`, {
          headers: { authorization: `Bearer ${adminToken}` },
          signal: AbortSignal.timeout(10_000),
        });
        const text = await response.text();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Not JSON: kept as text for the message.
        }
        return { hub: slot.index, status: response.status, body, elapsedMs: Date.now() - sentAt };
      } catch (error) {
        return {
          hub: slot.index,
          status: undefined,
          body: undefined,
          error: String(error),
          elapsedMs: Date.now() - sentAt,
        };
      }
    }

    // The chaos.
    const probes: Probe[] = [];
    const hubsDownAfterPause: string[] = [];
    const background = new Set<Promise<void>>();
    const inBackground = (work: () => Promise<void>): void => {
      const running: Promise<void> = work().finally(() => background.delete(running));
      background.add(running);
    };
    const killWorker = (slot: WorkerSlot, schedule: SeededRandom): void => {
      slot.busy = true;
      const process = slot.current!;
      expectedExit.add(process);
      process.signalGroup('SIGKILL');
      const hub = schedule.pick(hubs);
      const pauseMs = schedule.integer(0, 1_500);
      note(
        'kill-worker',
        `worker ${slot.index} (pid ${process.pid}), back in ${pauseMs} ms on hub ${hub.index}`,
      );
      inBackground(async () => {
        await process.exited;
        await delay(pauseMs);
        startWorker(slot, hub);
        slot.busy = false;
      });
    };
    const killHub = (slot: HubSlot, schedule: SeededRandom): void => {
      slot.busy = true;
      const hub = slot.current!;
      expectedExit.add(hub.process);
      slot.lifetimes.at(-1)!.endedAt = Date.now();
      hub.process.signalGroup('SIGKILL');
      slot.current = undefined;
      const pauseMs = schedule.integer(0, 2_000);
      note('kill-hub', `hub ${slot.index} (pid ${hub.pid}), back in ${pauseMs} ms`);
      inBackground(async () => {
        await hub.process.exited;
        await delay(pauseMs);
        await startHub(slot);
        slot.busy = false;
      });
    };
    const pauseLinks = (slots: HubSlot[], schedule: SeededRandom): void => {
      const durationMs = schedule.integer(1_000, 5_000);
      const heldBytes: HeldBytes = schedule.chance(0.5) ? 'drop' : 'deliver';
      const probeAfterMs = schedule.integer(0, 500);
      for (const slot of slots) slot.proxy.pause({ heldBytes });
      note(
        slots.length === hubCount ? 'pause-all' : 'pause-link',
        `hubs ${slots.map((slot) => slot.index).join(',')} for ${durationMs} ms, ${heldBytes}`,
      );
      inBackground(async () => {
        await delay(probeAfterMs);
        // Probed only if the probe can end (1.5 s statement timeout) while the link is still down.
        const probed = slots.filter((slot) => slot.current !== undefined && !slot.busy);
        const answers =
          durationMs - probeAfterMs > 2_000
            ? Promise.all(probed.map((slot) => probe(slot)))
            : Promise.resolve([]);
        await delay(durationMs - probeAfterMs);
        for (const slot of slots) slot.proxy.resume();
        probes.push(...(await answers));
        for (const slot of probed) {
          if (slot.current !== undefined && !slot.busy && !slot.current.process.isRunning()) {
            hubsDownAfterPause.push(`hub ${slot.index}`);
          }
        }
      });
    };

    const chaosEndsAt = Date.now() + chaosMs;
    const enqueuing = (async () => {
      for (let batch = 0; batch < laterBatches; batch += 1) {
        await delay(enqueueRandom.integer(2_000, 3_500));
        await postBatch(initialTasks + batch * batchSize, batchSize);
      }
    })();
    while (Date.now() < chaosEndsAt) {
      const roll = random.integer(1, 10);
      const idleWorkers = workers.filter((slot) => !slot.busy);
      const idleHubs = hubs.filter((slot) => !slot.busy && !slot.proxy.paused && slot.current !== undefined);
      const linkedHubs = hubs.filter((slot) => !slot.proxy.paused);
      if (roll <= 3 && idleWorkers.length > 0) {
        killWorker(random.pick(idleWorkers), random);
      } else if (roll <= 5 && idleHubs.length > 0) {
        killHub(random.pick(idleHubs), random);
      } else if (roll <= 8 && linkedHubs.length > 0) {
        pauseLinks([random.pick(linkedHubs)], random);
      } else if (roll === 9 && linkedHubs.length === hubCount) {
        pauseLinks(hubs, random);
      } else {
        const slot = random.pick(hubs);
        note('cut-links', `hub ${slot.index}: ${slot.proxy.cutAll()} connections reset`);
      }
      await delay(random.integer(500, 2_000));
    }
    note('chaos-over', `${events.length} events`);

    // Settle: every pause resumed, every hub and worker back, every batch acknowledged.
    while (background.size > 0) await Promise.all([...background]);
    for (const slot of hubs) slot.proxy.resume();
    for (const slot of hubs) if (slot.current === undefined) await startHub(slot);
    for (const slot of workers) if (!slot.current!.isRunning()) startWorker(slot, random.pick(hubs));
    await enqueuing;

    const sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    try {
      await sql.query(`SET search_path TO "${schema}"`);
      const open = async () =>
        (
          await sql.query<{ id: string; state: string; attempt_count: number; retry_at: string | null }>(
            `SELECT id, state, attempt_count, retry_at FROM tasks WHERE state NOT IN ('succeeded', 'dead', 'cancelled')`,
          )
        ).rows;
      try {
        await waitFor('the queue to drain', async () => (await open()).length === 0, {
          timeoutMs: drainTimeoutMs,
          intervalMs: 250,
        });
      } catch (error) {
        const stuck = await sql.query(
          `SELECT t.id, t.state, t.retry_at, a.id AS attempt, a.state AS attempt_state, a.lease_expires_at, a.runner_id
             FROM tasks t LEFT JOIN attempts a ON a.id = t.current_attempt_id
            WHERE t.state NOT IN ('succeeded', 'dead', 'cancelled') LIMIT 20`,
        );
        throw new Error(
          `${String(error)} (${context}); now ${Date.now()}, stuck: ${JSON.stringify(stuck.rows)}`,
        );
      }
      const drainedAt = Date.now();

      // Stop everything cleanly, then read the record.
      for (const slot of workers) {
        expectedExit.add(slot.current!);
        slot.current!.child.stdin?.end();
      }
      const workerExits = await Promise.all(workers.map((slot) => slot.current!.exited));
      expect(
        workerExits.map((exit) => exit.code),
        context,
      ).toEqual(workers.map(() => 0));
      await Promise.all(workers.flatMap((slot) => slot.all.map((process) => process.closed)));
      for (const slot of hubs) {
        expectedExit.add(slot.current!.process);
        slot.current!.process.signalGroup('SIGTERM');
      }
      const hubExits = await Promise.all(hubs.map((slot) => slot.current!.process.exited));
      expect(
        hubExits.map((exit) => exit.code),
        context,
      ).toEqual(hubs.map(() => 0));

      const tasks = (
        await sql.query<{
          id: string;
          title: string;
          state: string;
          state_reason: string | null;
          attempt_count: number;
          max_attempts: number;
          current_attempt_id: string | null;
          has_result: boolean;
        }>(
          'SELECT id, title, state, state_reason, attempt_count, max_attempts, current_attempt_id, result IS NOT NULL AS has_result FROM tasks',
        )
      ).rows;
      const attempts = (
        await sql.query<{
          id: string;
          task_id: string;
          number: number;
          state: string;
          error: string | null;
          finished_at: string | null;
          fencing_token: string;
        }>(
          'SELECT id, task_id, number, state, error, finished_at, fencing_token FROM attempts ORDER BY task_id, number',
        )
      ).rows;

      // No task lost, none created twice: exactly the acknowledged tasks exist, one per title.
      expect(acknowledged.size, context).toBe(totalTasks);
      expect(tasks.length, context).toBe(totalTasks);
      expect(new Map(tasks.map((task) => [task.title, task.id])), context).toEqual(acknowledged);

      const attemptsByTask = new Map<string, typeof attempts>();
      for (const attempt of attempts) {
        const list = attemptsByTask.get(attempt.task_id) ?? [];
        list.push(attempt);
        attemptsByTask.set(attempt.task_id, list);
      }
      const problems: string[] = [];
      const succeededAttempt = new Map<string, string>();
      const deadTasks: string[] = [];
      for (const task of tasks) {
        const list = attemptsByTask.get(task.id) ?? [];
        if (list.map((attempt) => attempt.number).join() !== list.map((_, index) => index + 1).join()) {
          problems.push(`task ${task.id}: attempt numbers ${list.map((attempt) => attempt.number).join()}`);
        }
        if (task.attempt_count !== list.length)
          problems.push(`task ${task.id}: attempt_count ${task.attempt_count}, ${list.length} attempts`);
        const tokens = list.map((attempt) => Number(attempt.fencing_token));
        if (tokens.some((token, index) => index > 0 && token <= tokens[index - 1]!)) {
          problems.push(`task ${task.id}: fencing tokens do not grow: ${tokens.join()}`);
        }
        const succeeded = list.filter((attempt) => attempt.state === 'succeeded');
        for (const attempt of list) {
          if (attempt.state === 'succeeded') continue;
          if (
            !['failed', 'lost', 'cancelled'].includes(attempt.state) ||
            attempt.error === null ||
            attempt.finished_at === null
          ) {
            problems.push(
              `task ${task.id}: attempt ${attempt.number} ended ${attempt.state} with error ${attempt.error}, finished ${attempt.finished_at}`,
            );
          }
        }
        if (task.state === 'succeeded') {
          if (succeeded.length !== 1)
            problems.push(`task ${task.id}: ${succeeded.length} succeeded attempts`);
          else if (succeeded[0] !== list.at(-1))
            problems.push(`task ${task.id}: an attempt came after the succeeded one`);
          else succeededAttempt.set(task.id, succeeded[0]!.id);
          if (!task.has_result) problems.push(`task ${task.id}: succeeded without a result`);
        } else if (task.state === 'dead') {
          // Legitimate only as retries exhausted: every one of its attempts failed or was lost.
          deadTasks.push(
            `${task.id} (${task.state_reason}; ${list.map((attempt) => attempt.state).join(',')})`,
          );
          if (succeeded.length > 0 || list.length !== task.max_attempts) {
            problems.push(
              `task ${task.id}: dead with ${list.length} of ${task.max_attempts} attempts, ${succeeded.length} succeeded`,
            );
          }
        } else {
          problems.push(`task ${task.id}: ended ${task.state}`);
        }
      }
      expect(problems, context).toEqual([]);

      // What the workers were told matches the record: a completion acknowledged to a worker is the
      // task's one succeeded attempt, and no task was acknowledged twice.
      const completedBy = new Map<string, string[]>();
      const outcomes: Record<string, number> = {};
      for (const process of workers.flatMap((slot) => slot.all)) {
        for (const line of process.stdout().split('\n').filter(Boolean)) {
          const [kind, taskId, attemptId] = line.split(' ');
          outcomes[kind!] = (outcomes[kind!] ?? 0) + 1;
          if (kind === 'completed')
            completedBy.set(taskId!, [...(completedBy.get(taskId!) ?? []), attemptId!]);
        }
      }
      const completionProblems = [...completedBy].filter(
        ([taskId, attemptIds]) => attemptIds.length !== 1 || succeededAttempt.get(taskId) !== attemptIds[0],
      );
      expect(completionProblems, context).toEqual([]);

      // During every blackhole, a probed hub answered 503 with the clear message (or 200 if the link came
      // back in time), and stayed up.
      const badProbes = probes.filter(
        (answer) =>
          answer.status !== 200 &&
          !(
            answer.status === 503 &&
            unavailableMessage.test((answer.body as ErrorBody | undefined)?.error?.message ?? '')
          ),
      );
      expect(badProbes, context).toEqual([]);
      expect(hubsDownAfterPause, context).toEqual([]);
      expect(unexpectedExits, context).toEqual([]);

      // No server error other than "database unavailable", and never two maintenance leaders at once.
      const lifetimes = hubs.flatMap((slot) => slot.lifetimes);
      const serverErrors = lifetimes.flatMap((lifetime) =>
        readLogLines(lifetime.logFile)
          .filter((line) => line.msg === 'request failed with a server error')
          .map((line) => (line as unknown as { err?: { type?: string; message?: string } }).err)
          .filter((error) => error?.type !== 'UnavailableError')
          .map((error) => `${lifetime.name}: ${error?.type}: ${error?.message}`),
      );
      expect(serverErrors, context).toEqual([]);
      const now = Date.now();
      expect(
        findOverlaps(lifetimes.flatMap((lifetime) => leadershipIntervals(lifetime, now))),
        context,
      ).toEqual([]);

      const count = (kind: string): number => events.filter((event) => event.kind === kind).length;
      const attemptStates: Record<string, number> = {};
      for (const attempt of attempts) attemptStates[attempt.state] = (attemptStates[attempt.state] ?? 0) + 1;
      console.log(
        [
          `chaos summary (${context}):`,
          `  events: ${events.length} (kill-worker ${count('kill-worker')}, kill-hub ${count('kill-hub')}, pause-link ${count('pause-link')}, pause-all ${count('pause-all')}, cut-links ${count('cut-links')}, hub-start-failed ${count('hub-start-failed')}, enqueue retries ${count('enqueue-failed') + count('enqueue-refused')})`,
          `  tasks: ${tasks.length} (${tasks.filter((task) => task.state === 'succeeded').length} succeeded, ${deadTasks.length} dead${deadTasks.length > 0 ? `: ${deadTasks.join('; ')}` : ''})`,
          `  attempts: ${JSON.stringify(attemptStates)}; worker lines: ${JSON.stringify(outcomes)}`,
          `  probes during blackholes: ${probes.length + opening.length} (${[...opening, ...probes].filter((answer) => answer.status === 503).length} answered 503, slowest ${Math.max(...[...opening, ...probes].map((answer) => answer.elapsedMs))} ms)`,
          `  proxies: ${JSON.stringify(hubs.map((slot) => slot.proxy.stats()))}`,
          `  duration: ${Math.round((drainedAt - startedAt) / 1_000)} s to drain (chaos ${chaosMs / 1_000} s); ${batchesPosted} batches`,
          `  timeline: ${events.map((event) => `${(event.at / 1_000).toFixed(1)}s ${event.kind} ${event.detail}`).join('\n    ')}`,
        ].join('\n'),
      );
      // The chaos really happened: workers and hubs were killed and links blackholed.
      expect(
        count('kill-worker') + count('kill-hub') + count('pause-link') + count('pause-all'),
        context,
      ).toBeGreaterThan(10);
    } finally {
      await sql.end();
    }
  }, 180_000);

  /**
   * One hub loses its network to the database in the middle of a write, after the statement that takes the
   * event counter's row lock. The server ends that stranded transaction after the store's
   * `idleInTransactionTimeoutMs` (statement_timeout and idle_in_transaction_session_timeout, set per
   * connection in create-postgres-pool.ts), so the other hubs write again within seconds instead of
   * waiting for the server to notice the dead client (hours with default TCP keepalives).
   */
  it('lets other hubs write while one hub is cut off in the middle of a write', async () => {
    // Its own schema, dropped here: the shared clean-up keeps the schema of a test that failed, and an
    // expected failure counts as one.
    const schema = `warren_test_${randomBytes(6).toString('hex')}`;
    const adminToken = `wrn_admin_${randomBytes(24).toString('hex')}`;
    const target = new URL(database.url);
    const proxy = await createTcpBlackholeProxy({
      targetHost: target.hostname,
      targetPort: Number(target.port || 5432),
    });
    proxies.push(proxy);
    const throughProxy = new URL(database.url);
    throughProxy.hostname = proxy.host;
    throughProxy.port = String(proxy.port);
    const settings = (name: string, url: string): HubProcessSettings => ({
      dataDir: harness.path(name),
      port: 0,
      database: { dialect: 'postgres', url, schema },
      postgres: postgresSettings,
      adminToken,
      logFile: harness.path(`${name}.log`),
    });
    const cutOff = await harness.startHub(settings('cut-off', throughProxy.toString()));
    const healthy = await harness.startHub(settings('healthy', database.url));
    const create = async (hub: HubProcess, title: string): Promise<number> => {
      const response = await fetch(`${hub.url}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title, repo: '/nonexistent/partition', executorInput: { run: 'true' } }),
        signal: AbortSignal.timeout(10_000),
      });
      await response.body?.cancel();
      return response.status;
    };
    expect(await create(cutOff, 'before the partition')).toBe(201);

    // The cut-off hub's write reaches the statement that takes the event counter's row lock; then its
    // network to the database goes silent, before the commit.
    const partitioned = proxy.pauseAfter(
      (chunk, direction) => direction === 'to-upstream' && chunk.includes('UPDATE event_counter'),
    );
    const stranded = create(cutOff, 'stranded');
    await partitioned;
    expect(await stranded).toBe(503);

    // The healthy hub tries to write for up to 15 s (ten statement timeouts) while the partition lasts.
    const statuses: number[] = [];
    const startedAt = Date.now();
    try {
      while (Date.now() - startedAt < 15_000 && !statuses.includes(201)) {
        statuses.push(await create(healthy, `healthy ${statuses.length}`));
        await delay(250);
      }
    } finally {
      proxy.resume();
      for (const hub of [cutOff, healthy]) hub.process.signalGroup('SIGKILL');
      await Promise.all([cutOff.process.exited, healthy.process.exited]);
      await dropSchemas(database.url, [schema]);
    }
    console.log(
      `writes on the healthy hub while a peer was cut off mid-transaction: ${statuses.join(', ')} ` +
        `(over ${Date.now() - startedAt} ms)`,
    );
    expect(statuses).toContain(201);
  }, 60_000);
});
