/**
 * End-to-end throughput and claim-to-start latency of no-op tasks through the full HTTP path, against
 * the same workload on BullMQ + Redis for comparison. Prints figures; never passes or fails on them.
 *
 * Warren: a real hub (`startHub`, temp data dir, port 0, log level silent) in its own process
 * (`support/hub-process.ts`), and `--runners` runner processes (`support/noop-runner.ts`), each with
 * `--slots` slots, that long-poll `POST /v1/runner/claim` while idle, complete every claim at once and
 * claim their next work in the same completion request. This process
 * creates the tasks over HTTP and records when each create was sent and answered; the runners record
 * when each claim arrived and when its completion was acknowledged.
 *
 * Phases, on each system: warm-up (discarded); `batch` (tasks created with `POST /v1/tasks/batch`, 1,000
 * per request, one request at a time); `single` (`POST /v1/tasks`, `--concurrency` creators at once);
 * `latency` (every runner idle in its long poll, tasks created one at a time at `--rate` per second).
 * - tasks/s = tasks / (first create sent → last completion acknowledged);
 * - claim-to-start = claim received − create sent (and − create answered, which can be negative when the
 *   runner hears of the task before the creator gets its answer).
 *
 * BullMQ: the same phases with `addBulk` and `add` on a queue of its own (removed at the end), worked by
 * `--runners` worker processes (`support/bullmq-worker.ts`) with concurrency `--slots`. Skipped, with a
 * line saying so, when Redis does not answer.
 *
 * Also printed, to say where the time goes: CPU µs per task of the server (hub process; Redis), of all
 * workers and of this process, how many tasks each claim request brought back, and how many HTTP requests
 * the hub served per task (creates, claims, completions). Runners claim their next work in the request
 * that completes an attempt (`claim: { limit }`) and long-poll `POST /v1/runner/claim` only when idle.
 *
 * Run: `npm run bench -- throughput [--quick] [--tasks 10000] [--runners 20] [--slots 4]
 *   [--concurrency 64] [--latency-samples 1000] [--rate 200] [--warmup 1000] [--skip-bullmq]
 *   [--history 0] [--profile] [--hub-log-level silent] [--hub-node-options=...]
 *   [--redis-url redis://127.0.0.1:6379] [--max-seconds 900]`.
 * `--quick` (1,500 tasks, 200 latency samples) takes about 30 s on 2 cores.
 * `--history N` seeds N finished tasks into the hub's database first (`support/seed-history.ts`), to show
 * what a long-lived hub's table size does to the figures (BullMQ gets no such history).
 * `--profile` runs the hub under `node --cpu-prof` and prints where it spent its time. The profiler slows
 * the hub, so take figures from a run without it; and V8 samples wall-clock time, so on a busy machine a
 * hub descheduled in a syscall (`writev`, a SQLite commit) is counted there: use `perf` for CPU only
 * (`--hub-node-options=--perf-basic-prof`, then `perf record -g -p PID`; the PID is printed).
 * `--hub-node-options` passes options to the hub's `node`. Prints tables and, last, one JSON line.
 */
import { Queue } from 'bullmq';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createHubClient, type HubClient } from '../src/client/index.ts';
import type { TaskSpecInput } from '../src/core/types.ts';
import {
  exitAfterInterrupt,
  messageType,
  onInterrupt,
  onProcessExit,
  request,
  spawnTypeScript,
  stopChild,
  waitForMessage,
} from './support/child-processes.ts';
import {
  printTable,
  round,
  runConcurrently,
  sleep,
  summarizeLatencies,
  waitUntil,
  wallClockMs,
  type LatencySummary,
} from './support/figures.ts';
import type { HubReady, HubUsage } from './support/hub-process.ts';
import { seedHistory } from './support/seed-history.ts';
import { printProfileSummary, summarizeCpuProfile } from './support/summarize-cpu-profile.ts';
import type { WorkerProgress, WorkerReport } from './support/worker-messages.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    tasks: { type: 'string' },
    runners: { type: 'string', default: '20' },
    slots: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '64' },
    'batch-size': { type: 'string', default: '1000' },
    'latency-samples': { type: 'string' },
    rate: { type: 'string', default: '200' },
    warmup: { type: 'string' },
    'skip-bullmq': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'hub-log-level': { type: 'string', default: 'silent' },
    'hub-node-options': { type: 'string', default: '' },
    'redis-url': { type: 'string', default: process.env.WARREN_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379' },
    'max-seconds': { type: 'string' },
    history: { type: 'string', default: '0' },
  },
});
const quick = values.quick;
// why: --quick is sized to finish in about 30 s on a 2-core machine, for CI and a developer's check.
const taskCount = Number(values.tasks ?? (quick ? 1_500 : 10_000));
const runnerCount = Number(values.runners);
const slots = Number(values.slots);
const concurrency = Number(values.concurrency);
const batchSize = Number(values['batch-size']);
const latencySamples = Number(values['latency-samples'] ?? (quick ? 200 : 1_000));
const rate = Number(values.rate);
const warmupCount = Number(values.warmup ?? (quick ? 200 : 1_000));
const maxSeconds = Number(values['max-seconds'] ?? (quick ? 180 : 900));
const redisUrl = values['redis-url'];
const historyCount = Number(values.history);

const hubProcessFile = fileURLToPath(new URL('./support/hub-process.ts', import.meta.url));
const noopRunnerFile = fileURLToPath(new URL('./support/noop-runner.ts', import.meta.url));
const bullmqWorkerFile = fileURLToPath(new URL('./support/bullmq-worker.ts', import.meta.url));

// why: 20 processes start `node --import tsx` at once; on 2 cores that takes tens of seconds at worst.
const startTimeoutMs = 120_000;
// why: a no-op task finishes in milliseconds; 10 ms a task plus a minute is slack only a hang exhausts.
const phaseTimeoutMs = (count: number): number => 60_000 + count * 10;
// why: long enough for every runner to get its (empty) claim answer and park its next long poll.
const settleMs = 500;
// why: a stopped child normally exits within milliseconds; after 5 s it is killed.
const stopGraceMs = 5_000;

const noOpTask: TaskSpecInput = {
  title: 'no-op',
  repo: '/srv/warren-bench/no-op',
  executor: 'shell',
  executorInput: { run: 'true' },
};

/** When one task was created: the request sent and answered (wall-clock ms). */
interface Created {
  id: string;
  sentAt: number;
  answeredAt: number;
}

/** A system under test: how to create tasks on it and what its server costs. */
interface System {
  label: 'Warren' | 'BullMQ';
  /** Creates `count` tasks, one request per chunk of `size`, chunks one after another. */
  createBatch(count: number, size: number): Promise<Created[]>;
  /** Creates one task. */
  createOne(): Promise<string>;
  /** CPU time used so far by the server (the hub process; Redis), µs. */
  serverCpuMicros(): Promise<number>;
}

/** The worker processes of one system, with their progress and recorded claims. */
interface WorkerPool {
  completed(): number;
  errors(): number;
  /** Everything the workers recorded since the last call, merged; and their CPU time since then (µs). */
  collect(): Promise<{ report: WorkerReport; cpuMicros: number }>;
  stop(): Promise<void>;
}

/** Figures of one throughput phase. */
interface ThroughputFigures {
  tasks: number;
  tasksPerSecond: number;
  createPerSecond: number;
  /** Tasks whose completion was never recorded, and tasks claimed more than once (both 0 when correct). */
  missing: number;
  duplicates: number;
  serverCpuMicrosPerTask: number;
  workerCpuMicrosPerTask: number;
  driverCpuMicrosPerTask: number;
  /**
   * Tasks per request answered with claims (long polls and completions that claimed, empty answers
   * included); NaN for BullMQ, which has none.
   */
  tasksPerClaimRequest: number;
  /** HTTP requests to the hub per task: creates, claims and completions; NaN for BullMQ. */
  requestsPerTask: number;
}

/** Figures of the latency phase. */
interface LatencyFigures {
  fromSent: LatencySummary;
  fromAnswered: LatencySummary;
  createMs: LatencySummary;
  achievedRate: number;
}

/** Every figure of one system. */
interface SystemFigures {
  batch: ThroughputFigures;
  single: ThroughputFigures;
  latency: LatencyFigures;
}

const benchStartedAt = performance.now();

/** A progress line on standard error, stamped with the seconds since the bench started. */
function progress(line: string): void {
  process.stderr.write(
    `[${((performance.now() - benchStartedAt) / 1_000).toFixed(1).padStart(5)} s] ${line}\n`,
  );
}

function startWatchdog(): void {
  const timer = setTimeout(() => {
    process.stderr.write(`\nthroughput: still running after --max-seconds ${maxSeconds}; stopping\n`);
    exitAfterInterrupt(1);
  }, maxSeconds * 1_000);
  timer.unref();
}

function createWorkerPool(workers: ChildProcess[]): WorkerPool {
  const progress = new Map<ChildProcess, WorkerProgress>();
  const lastCpuMicros = new Map<ChildProcess, number>();
  for (const worker of workers) {
    worker.on('message', (message) => {
      if (messageType(message) === 'progress') progress.set(worker, message as WorkerProgress);
    });
  }
  const sum = (pick: (entry: WorkerProgress) => number): number =>
    [...progress.values()].reduce((total, entry) => total + pick(entry), 0);
  return {
    completed: () => sum((entry) => entry.completed),
    errors: () => sum((entry) => entry.errors),
    async collect() {
      const reports = await Promise.all(
        workers.map((worker) =>
          request(
            worker,
            { type: 'report' },
            (message) => (messageType(message) === 'report' ? (message as WorkerReport) : undefined),
            30_000,
            'collecting a worker report',
          ),
        ),
      );
      const merged: WorkerReport = {
        type: 'report',
        ids: [],
        claimedAt: [],
        completedAt: [],
        cpuMicros: 0,
        claimRequests: 0,
        requests: 0,
        errors: [],
      };
      let cpuMicros = 0;
      reports.forEach((report, index) => {
        const worker = workers[index]!;
        cpuMicros += report.cpuMicros - (lastCpuMicros.get(worker) ?? 0);
        lastCpuMicros.set(worker, report.cpuMicros);
        for (let entry = 0; entry < report.ids.length; entry += 1) {
          merged.ids.push(report.ids[entry]!);
          merged.claimedAt.push(report.claimedAt[entry]!);
          merged.completedAt.push(report.completedAt[entry]!);
        }
        merged.errors.push(...report.errors);
        merged.claimRequests += report.claimRequests;
        merged.requests += report.requests;
      });
      return { report: merged, cpuMicros };
    },
    async stop() {
      await Promise.all(workers.map((worker) => stopChild(worker, stopGraceMs)));
    },
  };
}

async function startWorkers(
  count: number,
  start: (index: number) => ChildProcess,
  what: string,
): Promise<WorkerPool> {
  const workers = Array.from({ length: count }, (_, index) => start(index));
  const pool = createWorkerPool(workers);
  try {
    await Promise.all(
      workers.map((worker) =>
        waitForMessage(
          worker,
          (message) => (messageType(message) === 'ready' ? true : undefined),
          startTimeoutMs,
          what,
        ),
      ),
    );
  } catch (error) {
    await pool.stop();
    throw error;
  }
  return pool;
}

function driverCpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/** Waits until every created task's completion is recorded, then matches claims to creations. */
async function settle(
  system: System,
  pool: WorkerPool,
  baseline: number,
  count: number,
  phase: string,
): Promise<WorkerReport & { workerCpuMicros: number }> {
  await waitUntil(
    () => pool.completed() - baseline >= count,
    phaseTimeoutMs(count),
    () =>
      `${system.label} ${phase}: only ${pool.completed() - baseline} of ${count} tasks completed within ${phaseTimeoutMs(count)} ms (${pool.errors()} worker errors)`,
  );
  const { report, cpuMicros } = await pool.collect();
  if (report.errors.length > 0) {
    process.stderr.write(`${system.label} ${phase}: worker errors: ${report.errors.join(' | ')}\n`);
  }
  return { ...report, workerCpuMicros: cpuMicros };
}

async function measureThroughput(
  system: System,
  pool: WorkerPool,
  mode: 'batch' | 'single',
  count: number,
): Promise<ThroughputFigures> {
  const baseline = pool.completed();
  const serverBefore = await system.serverCpuMicros();
  const driverBefore = driverCpuMicros();
  const startedAt = wallClockMs();
  let created: Created[];
  const createRequests = mode === 'batch' ? Math.ceil(count / batchSize) : count;
  if (mode === 'batch') {
    created = await system.createBatch(count, batchSize);
  } else {
    created = new Array<Created>(count);
    await runConcurrently(count, concurrency, async (index) => {
      const sentAt = wallClockMs();
      const id = await system.createOne();
      created[index] = { id, sentAt, answeredAt: wallClockMs() };
    });
  }
  const createdAt = wallClockMs();
  const report = await settle(system, pool, baseline, count, mode);
  const driverAfter = driverCpuMicros();
  const serverAfter = await system.serverCpuMicros();

  const completedAtById = new Map<string, number>();
  let duplicates = 0;
  report.ids.forEach((id, index) => {
    if (completedAtById.has(id)) duplicates += 1;
    completedAtById.set(id, report.completedAt[index]!);
  });
  let lastCompletedAt = startedAt;
  let missing = 0;
  for (const task of created) {
    const completedAt = completedAtById.get(task.id);
    if (completedAt === undefined || Number.isNaN(completedAt)) missing += 1;
    else lastCompletedAt = Math.max(lastCompletedAt, completedAt);
  }
  return {
    tasks: count,
    tasksPerSecond: count / ((lastCompletedAt - startedAt) / 1_000),
    createPerSecond: count / ((createdAt - startedAt) / 1_000),
    missing,
    duplicates,
    serverCpuMicrosPerTask: (serverAfter - serverBefore) / count,
    workerCpuMicrosPerTask: report.workerCpuMicros / count,
    driverCpuMicrosPerTask: (driverAfter - driverBefore) / count,
    tasksPerClaimRequest: report.claimRequests > 0 ? report.ids.length / report.claimRequests : Number.NaN,
    requestsPerTask: report.requests > 0 ? (createRequests + report.requests) / count : Number.NaN,
  };
}

async function measureLatency(system: System, pool: WorkerPool, samples: number): Promise<LatencyFigures> {
  await sleep(settleMs);
  const baseline = pool.completed();
  const intervalMs = 1_000 / rate;
  const created: Created[] = [];
  const firstAt = performance.now() + 10;
  for (let index = 0; index < samples; index += 1) {
    await sleep(firstAt + index * intervalMs - performance.now());
    const sentAt = wallClockMs();
    const id = await system.createOne();
    created.push({ id, sentAt, answeredAt: wallClockMs() });
  }
  const lastSentAt = created.at(-1)?.sentAt ?? Number.NaN;
  const report = await settle(system, pool, baseline, samples, 'latency');
  const claimedAtById = new Map<string, number>();
  report.ids.forEach((id, index) => claimedAtById.set(id, report.claimedAt[index]!));
  const fromSent: number[] = [];
  const fromAnswered: number[] = [];
  for (const task of created) {
    const claimedAt = claimedAtById.get(task.id);
    if (claimedAt === undefined) continue;
    fromSent.push(claimedAt - task.sentAt);
    fromAnswered.push(claimedAt - task.answeredAt);
  }
  return {
    fromSent: summarizeLatencies(fromSent),
    fromAnswered: summarizeLatencies(fromAnswered),
    createMs: summarizeLatencies(created.map((task) => task.answeredAt - task.sentAt)),
    achievedRate: (samples - 1) / ((lastSentAt - (created[0]?.sentAt ?? Number.NaN)) / 1_000),
  };
}

async function measureSystem(system: System, pool: WorkerPool): Promise<SystemFigures> {
  progress(`${system.label}: warm-up (${warmupCount} tasks)`);
  await measureThroughput(system, pool, 'batch', warmupCount);
  progress(`${system.label}: batch create, ${taskCount} tasks`);
  const batch = await measureThroughput(system, pool, 'batch', taskCount);
  progress(`${system.label}: single create, ${taskCount} tasks, ${concurrency} creators`);
  const single = await measureThroughput(system, pool, 'single', taskCount);
  progress(`${system.label}: latency, ${latencySamples} tasks at ${rate}/s, runners idle`);
  const latency = await measureLatency(system, pool, latencySamples);
  return { batch, single, latency };
}

function askHubUsage(hub: ChildProcess): Promise<HubUsage> {
  return request(
    hub,
    { type: 'usage' },
    (message) => (messageType(message) === 'usage' ? (message as HubUsage) : undefined),
    30_000,
    'reading the hub usage',
  );
}

function createWarrenSystem(client: HubClient, hub: ChildProcess): System {
  return {
    label: 'Warren',
    async createBatch(count, size) {
      const created: Created[] = [];
      for (let done = 0; done < count; done += size) {
        const specs = new Array<TaskSpecInput>(Math.min(size, count - done)).fill(noOpTask);
        const sentAt = wallClockMs();
        const results = await client.tasks.createBatch(specs);
        const answeredAt = wallClockMs();
        for (const result of results) created.push({ id: result.task.id, sentAt, answeredAt });
      }
      return created;
    },
    async createOne() {
      return (await client.tasks.create(noOpTask)).task.id;
    },
    async serverCpuMicros() {
      return (await askHubUsage(hub)).cpuMicros;
    },
  };
}

interface ProfileFigures {
  file: string;
}

async function runWarren(): Promise<SystemFigures & { profile?: ProfileFigures }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-bench-throughput-'));
  onProcessExit(() => rmSync(dataDir, { recursive: true, force: true }));
  const hubDataDir = join(dataDir, 'hub');
  await mkdir(hubDataDir, { recursive: true, mode: 0o700 });
  if (historyCount > 0) {
    progress(`Warren: seeding ${historyCount} finished tasks into the hub's database`);
    await seedHistory(hubDataDir, historyCount);
  }
  const profileDir = values.profile ? await mkdtemp(join(tmpdir(), 'warren-bench-profile-')) : undefined;
  const hub = spawnTypeScript(hubProcessFile, {
    args: ['--data-dir', hubDataDir, '--log-level', values['hub-log-level']],
    nodeOptions: [
      ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
      ...values['hub-node-options'].split(' ').filter(Boolean),
    ],
  });
  let pool: WorkerPool | undefined;
  try {
    const ready = await waitForMessage(
      hub,
      (message) => (messageType(message) === 'ready' ? (message as HubReady) : undefined),
      startTimeoutMs,
      'starting the hub',
    );
    const client = createHubClient({ baseUrl: ready.url, token: ready.adminToken });
    const tokens: string[] = [];
    for (let index = 0; index < runnerCount; index += 1) {
      const created = await client.runners.create({
        name: `bench-runner-${index}`,
        capabilities: ['executor:shell'],
        slots,
      });
      tokens.push(created.token);
    }
    progress(`Warren: hub at ${ready.url} (pid ${hub.pid}); starting ${runnerCount} runner processes`);
    pool = await startWorkers(
      runnerCount,
      (index) =>
        spawnTypeScript(noopRunnerFile, {
          args: ['--hub-url', ready.url, '--slots', String(slots)],
          env: { ...process.env, WARREN_BENCH_RUNNER_TOKEN: tokens[index] },
        }),
      'starting a runner',
    );
    const figures = await measureSystem(createWarrenSystem(client, hub), pool);
    await pool.stop();
    pool = undefined;
    await stopChild(hub, stopGraceMs * 2);
    if (!profileDir) return figures;
    const file = (await readdir(profileDir)).find((name) => name.endsWith('.cpuprofile'));
    return file ? { ...figures, profile: { file: join(profileDir, file) } } : figures;
  } finally {
    await pool?.stop();
    await stopChild(hub, stopGraceMs);
  }
}

/** Whether something accepts TCP connections at the Redis URL's host and port. */
function isRedisReachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) });
    const finish = (reachable: boolean): void => {
      socket.destroy();
      resolve(reachable);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

async function runBullmq(): Promise<SystemFigures> {
  const url = new URL(redisUrl);
  const queueName = `warren-bench-${process.pid}-${Date.now()}`;
  const queue = new Queue(queueName, {
    connection: { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null },
  });
  let obliterated = false;
  const obliterate = async (): Promise<void> => {
    if (obliterated) return;
    obliterated = true;
    await queue.obliterate({ force: true });
    await queue.close();
  };
  const forgetObliterate = onInterrupt(obliterate);
  let pool: WorkerPool | undefined;
  try {
    await queue.waitUntilReady();
    const redis = await queue.client;
    progress(`BullMQ: queue ${queueName}; starting ${runnerCount} worker processes`);
    pool = await startWorkers(
      runnerCount,
      () =>
        spawnTypeScript(bullmqWorkerFile, {
          args: ['--redis-url', redisUrl, '--queue', queueName, '--concurrency', String(slots)],
        }),
      'starting a BullMQ worker',
    );
    const system: System = {
      label: 'BullMQ',
      async createBatch(count, size) {
        const created: Created[] = [];
        for (let done = 0; done < count; done += size) {
          const jobs = Array.from({ length: Math.min(size, count - done) }, () => ({
            name: 'no-op',
            data: noOpTask,
          }));
          const sentAt = wallClockMs();
          const added = await queue.addBulk(jobs);
          const answeredAt = wallClockMs();
          for (const job of added) created.push({ id: job.id ?? '', sentAt, answeredAt });
        }
        return created;
      },
      async createOne() {
        return (await queue.add('no-op', noOpTask)).id ?? '';
      },
      async serverCpuMicros() {
        const info = await redis.info(); // every section: the typings of BullMQ's client take no argument
        const seconds = (name: string): number =>
          Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
        return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1_000_000;
      },
    };
    return await measureSystem(system, pool);
  } finally {
    await pool?.stop();
    await obliterate();
    forgetObliterate();
  }
}

function ratio(warren: number, bullmq: number | undefined): number | null {
  return bullmq === undefined ? null : round(warren / bullmq, 3);
}

function printResults(
  warren: SystemFigures,
  bullmq: SystemFigures | undefined,
  bullmqNote: string | undefined,
): void {
  const cores = availableParallelism();
  console.log(
    `\nthroughput: no-op tasks over HTTP; ${runnerCount} runner processes × ${slots} slots; ${cores} CPU cores (${cpus()[0]?.model ?? 'unknown'}); Node ${process.version}`,
  );
  console.log(
    `${taskCount.toLocaleString('en-US')} tasks per throughput phase; ${historyCount.toLocaleString('en-US')} finished tasks seeded; latency: ${latencySamples} tasks one at a time at ${rate}/s with every runner idle\n`,
  );
  const both = (pick: (figures: SystemFigures) => number, digits = 1): Array<number | null> => [
    round(pick(warren), digits),
    bullmq ? round(pick(bullmq), digits) : null,
    bullmq ? round(pick(warren) / pick(bullmq), 2) : null,
  ];
  const rows: Array<Array<string | number | null>> = [
    ['tasks/s, batch create (end to end)', ...both((figures) => figures.batch.tasksPerSecond, 0), '≥ 2,000'],
    [
      'tasks/s, single create (end to end)',
      ...both((figures) => figures.single.tasksPerSecond, 0),
      '≥ 2,000',
    ],
    ['  creates/s, batch (enqueue only)', ...both((figures) => figures.batch.createPerSecond, 0), ''],
    ['  creates/s, single (enqueue only)', ...both((figures) => figures.single.createPerSecond, 0), ''],
    [
      'claim-to-start p50 ms (from create sent)',
      ...both((figures) => figures.latency.fromSent.p50, 2),
      '≤ 5',
    ],
    ['claim-to-start p90 ms', ...both((figures) => figures.latency.fromSent.p90, 2), ''],
    ['claim-to-start p99 ms', ...both((figures) => figures.latency.fromSent.p99, 2), '≤ 50'],
    ['claim-to-start max ms', ...both((figures) => figures.latency.fromSent.max, 2), ''],
    ['claim − create answered p50 ms', ...both((figures) => figures.latency.fromAnswered.p50, 2), ''],
    ['claim − create answered p99 ms', ...both((figures) => figures.latency.fromAnswered.p99, 2), ''],
    ['create request p50 ms (latency phase)', ...both((figures) => figures.latency.createMs.p50, 2), ''],
    ['create request p99 ms (latency phase)', ...both((figures) => figures.latency.createMs.p99, 2), ''],
    ['achieved create rate /s (latency phase)', ...both((figures) => figures.latency.achievedRate, 0), ''],
    [
      'server CPU µs/task, batch (hub | redis)',
      ...both((figures) => figures.batch.serverCpuMicrosPerTask, 0),
      '',
    ],
    ['server CPU µs/task, single', ...both((figures) => figures.single.serverCpuMicrosPerTask, 0), ''],
    [
      'worker CPU µs/task, batch (all runners)',
      ...both((figures) => figures.batch.workerCpuMicrosPerTask, 0),
      '',
    ],
    ['worker CPU µs/task, single', ...both((figures) => figures.single.workerCpuMicrosPerTask, 0), ''],
    ['tasks per claim request, batch', ...both((figures) => figures.batch.tasksPerClaimRequest, 2), ''],
    ['tasks per claim request, single', ...both((figures) => figures.single.tasksPerClaimRequest, 2), ''],
    ['hub requests per task, batch', ...both((figures) => figures.batch.requestsPerTask, 2), ''],
    ['hub requests per task, single', ...both((figures) => figures.single.requestsPerTask, 2), ''],
    [
      'driver CPU µs/task, single (creators)',
      ...both((figures) => figures.single.driverCpuMicrosPerTask, 0),
      '',
    ],
  ];
  printTable(['measure', 'Warren', 'BullMQ', 'Warren/BullMQ', 'issue target'], rows);
  const measured: Array<[string, SystemFigures | undefined]> = [
    ['Warren', warren],
    ['BullMQ', bullmq],
  ];
  const problems: string[] = [];
  for (const [label, figures] of measured) {
    for (const mode of ['batch', 'single'] as const) {
      const { missing, duplicates } = figures?.[mode] ?? { missing: 0, duplicates: 0 };
      if (missing + duplicates > 0) {
        problems.push(`${label} ${mode}: ${missing} tasks never completed, ${duplicates} claimed twice`);
      }
    }
  }
  for (const problem of problems) console.log(`WARNING: ${problem}`);
  if (bullmqNote) console.log(`\n${bullmqNote}`);
  console.log("\nTargets are the issue's, shown for information; this bench never passes or fails on them.");
}

async function main(): Promise<void> {
  startWatchdog();
  const warren = await runWarren();
  let bullmq: SystemFigures | undefined;
  let bullmqNote: string | undefined;
  if (values['skip-bullmq']) {
    bullmqNote = 'BullMQ comparison skipped: --skip-bullmq.';
  } else if (!(await isRedisReachable(redisUrl))) {
    bullmqNote = `BullMQ comparison skipped: Redis does not answer at ${redisUrl} (set WARREN_BENCH_REDIS_URL or --redis-url).`;
  } else {
    bullmq = await runBullmq();
  }
  if (bullmqNote) progress(bullmqNote);

  if (warren.profile) {
    console.log(`\nhub CPU profile (whole run, warm-up included): ${warren.profile.file}\n`);
    printProfileSummary(await summarizeCpuProfile(warren.profile.file));
  }
  printResults(warren, bullmq, bullmqNote);
  console.log(
    JSON.stringify({
      bench: 'throughput',
      tasks: taskCount,
      runners: runnerCount,
      slots,
      history: historyCount,
      cores: availableParallelism(),
      profiled: values.profile,
      warrenTasksPerSecondBatch: round(warren.batch.tasksPerSecond, 0),
      warrenTasksPerSecondSingle: round(warren.single.tasksPerSecond, 0),
      claimToStartP50Ms: round(warren.latency.fromSent.p50, 3),
      claimToStartP90Ms: round(warren.latency.fromSent.p90, 3),
      claimToStartP99Ms: round(warren.latency.fromSent.p99, 3),
      claimToStartMaxMs: round(warren.latency.fromSent.max, 3),
      claimAfterCreateAnsweredP50Ms: round(warren.latency.fromAnswered.p50, 3),
      claimAfterCreateAnsweredP99Ms: round(warren.latency.fromAnswered.p99, 3),
      hubCpuMicrosPerTaskBatch: round(warren.batch.serverCpuMicrosPerTask, 0),
      hubCpuMicrosPerTaskSingle: round(warren.single.serverCpuMicrosPerTask, 0),
      requestsPerTaskBatch: round(warren.batch.requestsPerTask, 2),
      requestsPerTaskSingle: round(warren.single.requestsPerTask, 2),
      bullmqTasksPerSecond: bullmq ? round(bullmq.batch.tasksPerSecond, 0) : null,
      bullmqTasksPerSecondSingle: bullmq ? round(bullmq.single.tasksPerSecond, 0) : null,
      bullmqClaimToStartP50Ms: bullmq ? round(bullmq.latency.fromSent.p50, 3) : null,
      bullmqClaimToStartP99Ms: bullmq ? round(bullmq.latency.fromSent.p99, 3) : null,
      ratio: ratio(warren.batch.tasksPerSecond, bullmq?.batch.tasksPerSecond),
      ratioSingle: ratio(warren.single.tasksPerSecond, bullmq?.single.tasksPerSecond),
      latencyRatioP50: ratio(warren.latency.fromSent.p50, bullmq?.latency.fromSent.p50),
      latencyRatioP99: ratio(warren.latency.fromSent.p99, bullmq?.latency.fromSent.p99),
      bullmqSkipped: bullmqNote ?? null,
    }),
  );
}

try {
  await main();
} catch (error) {
  process.stderr.write(
    `throughput: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
} finally {
  // why: the exit handler kills any child still alive; exit now rather than wait on stray handles.
  process.exit();
}
