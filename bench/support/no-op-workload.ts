/**
 * The no-op workload of the throughput bench, as pieces other benches can run against any system: the
 * worker processes (Warren no-op runners, BullMQ workers) and their IPC, the three phases (batch create,
 * single create, latency) and the figures each yields. `bench/postgres.ts` runs it on Warren with SQLite,
 * Warren with PostgreSQL (one hub and two) and BullMQ; the phases and figures are those of
 * `bench/throughput.ts`, which runs it on Warren with SQLite and on BullMQ.
 *
 * Phases: `batch` (tasks created `batchSize` per request, one request at a time); `single` (one task per
 * request, `concurrency` creators at once); `latency` (every worker idle, tasks created one at a time at
 * `rate` per second).
 * - tasks/s = tasks / (first create sent → last completion acknowledged);
 * - claim-to-start = claim received by the worker − create sent (and − create answered).
 */
import { Queue } from 'bullmq';
import type { ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createHubClient, type HubClient } from '../../src/client/index.ts';
import type { TaskSpecInput } from '../../src/core/types.ts';
import {
  messageType,
  onInterrupt,
  request,
  spawnTypeScript,
  stopChild,
  waitForMessage,
} from './child-processes.ts';
import {
  runConcurrently,
  sleep,
  summarizeLatencies,
  waitUntil,
  wallClockMs,
  type LatencySummary,
} from './figures.ts';
import type { Progress } from './bench-lifecycle.ts';
import type { HubUsage } from './hub-process.ts';
import type { WorkerProgress, WorkerReport } from './worker-messages.ts';

/** The sizes of one run of the workload. */
export interface WorkloadSettings {
  /** Tasks per throughput phase. */
  tasks: number;
  /** Tasks of the warm-up (a batch phase whose figures are discarded). */
  warmup: number;
  /** Tasks per create request in the batch phase (the hub takes at most 1,000). */
  batchSize: number;
  /** Creators at once in the single phase. */
  concurrency: number;
  /** Tasks of the latency phase, and how many are created per second. */
  latencySamples: number;
  rate: number;
  /**
   * Longest wait for a phase's tasks to complete, by task count; default 60 s + 10 ms a task (slack only
   * a hang exhausts). A bench that must end in bounded time gives less; a phase past it fails.
   */
  phaseTimeoutMs?: (count: number) => number;
}

/**
 * The command-line options every bench running this workload takes (for `parseArgs`); the sizes without a
 * default here depend on `--quick` and on the bench: see {@link readWorkloadSettings}.
 */
export const workloadOptions = {
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
  'hub-log-level': { type: 'string', default: 'silent' },
  'redis-url': { type: 'string', default: process.env.WARREN_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379' },
  'max-seconds': { type: 'string' },
} as const;

/** The parsed {@link workloadOptions}. */
export interface WorkloadOptionValues {
  tasks?: string | undefined;
  warmup?: string | undefined;
  'latency-samples'?: string | undefined;
  'batch-size': string;
  concurrency: string;
  rate: string;
}

/** The workload's settings from its options, `sizes` giving the task counts of options left out. */
export function readWorkloadSettings(
  values: WorkloadOptionValues,
  sizes: Pick<WorkloadSettings, 'tasks' | 'warmup' | 'latencySamples'>,
): WorkloadSettings {
  return {
    tasks: Number(values.tasks ?? sizes.tasks),
    warmup: Number(values.warmup ?? sizes.warmup),
    batchSize: Number(values['batch-size']),
    concurrency: Number(values.concurrency),
    latencySamples: Number(values['latency-samples'] ?? sizes.latencySamples),
    rate: Number(values.rate),
  };
}

/** The task every phase creates: a shell no-op, which the workers complete without running it. */
export const noOpTask: TaskSpecInput = {
  title: 'no-op',
  repo: '/srv/warren-bench/no-op',
  executor: 'shell',
  executorInput: { run: 'true' },
};

const hubProcessFile = fileURLToPath(new URL('./hub-process.ts', import.meta.url));
const noopRunnerFile = fileURLToPath(new URL('./noop-runner.ts', import.meta.url));
const bullmqWorkerFile = fileURLToPath(new URL('./bullmq-worker.ts', import.meta.url));

// why: 20 processes start `node --import tsx` at once; on 2 cores that takes tens of seconds at worst.
export const START_TIMEOUT_MS = 120_000;
// why: a stopped child normally exits within milliseconds; after 5 s it is killed.
export const STOP_GRACE_MS = 5_000;
// why: a no-op task finishes in milliseconds; 10 ms a task plus a minute is slack only a hang exhausts.
const defaultPhaseTimeoutMs = (count: number): number => 60_000 + count * 10;
// why: after a failed phase, the tasks left over must be done before the next phase starts; a parked
// long poll answers within 30 s (the hub's longest wait) even when nothing wakes it, so 35 s covers one.
const drainTimeoutMs = 35_000;
// why: long enough for every runner to get its (empty) claim answer and park its next long poll.
const settleMs = 500;

/** When one task was created: the request sent and answered (wall-clock ms). */
export interface Created {
  id: string;
  sentAt: number;
  answeredAt: number;
}

/** CPU time used so far by a system's servers, µs; NaN for a part the system does not have. */
export interface ServerCpu {
  /** The hub processes (all of them); NaN for BullMQ. */
  hub: number;
  /** The database: PostgreSQL backends serving the hubs, or Redis; NaN for SQLite (inside the hub). */
  database: number;
}

/** A system under test: how to create tasks on it and what its servers cost. */
export interface System {
  label: string;
  /** Creates `count` tasks, one request per chunk of `size`, chunks one after another. */
  createBatch(count: number, size: number): Promise<Created[]>;
  /** Creates one task. */
  createOne(): Promise<string>;
  serverCpuMicros(): Promise<ServerCpu>;
}

/** The worker processes of one system, with their progress and recorded claims. */
export interface WorkerPool {
  completed(): number;
  errors(): number;
  /** Everything the workers recorded since the last call, merged; and their CPU time since then (µs). */
  collect(): Promise<{ report: WorkerReport; cpuMicros: number }>;
  stop(): Promise<void>;
}

/** Figures of one throughput phase. */
export interface ThroughputFigures {
  tasks: number;
  tasksPerSecond: number;
  createPerSecond: number;
  /** Tasks whose completion was never recorded, and tasks claimed more than once (both 0 when correct). */
  missing: number;
  duplicates: number;
  hubCpuMicrosPerTask: number;
  databaseCpuMicrosPerTask: number;
  workerCpuMicrosPerTask: number;
  driverCpuMicrosPerTask: number;
  /** Tasks per request answered with claims (empty answers included); NaN for BullMQ. */
  tasksPerClaimRequest: number;
  /** HTTP requests to the hubs per task: creates, claims and completions; NaN for BullMQ. */
  requestsPerTask: number;
}

/** Figures of the latency phase. */
export interface LatencyFigures {
  fromSent: LatencySummary;
  fromAnswered: LatencySummary;
  createMs: LatencySummary;
  achievedRate: number;
}

/** Every figure of one system; a phase that failed (see `failures`) has none. */
export interface SystemFigures {
  batch?: ThroughputFigures;
  single?: ThroughputFigures;
  latency?: LatencyFigures;
  /** What went wrong, one line per failed phase (empty when every phase ended). */
  failures: string[];
}

/** A phase whose tasks did not all complete in time. */
export class PhaseTimeoutError extends Error {
  constructor(
    message: string,
    /** Tasks of the phase completed when it gave up, and the seconds it had run. */
    readonly completed: number,
    readonly seconds: number,
  ) {
    super(message);
    this.name = 'PhaseTimeoutError';
  }
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
      await Promise.all(workers.map((worker) => stopChild(worker, STOP_GRACE_MS)));
    },
  };
}

/** Starts `count` worker processes and waits until each says it is ready. */
export async function startWorkers(
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
          START_TIMEOUT_MS,
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

/** Waits until every created task's completion is recorded, then collects what the workers recorded. */
async function settle(
  system: System,
  pool: WorkerPool,
  baseline: number,
  count: number,
  phase: string,
  settings: WorkloadSettings,
  startedAt: number,
): Promise<WorkerReport & { workerCpuMicros: number }> {
  const timeoutMs = (settings.phaseTimeoutMs ?? defaultPhaseTimeoutMs)(count);
  try {
    await waitUntil(
      () => pool.completed() - baseline >= count,
      timeoutMs,
      () => 'timed out',
    );
  } catch {
    const completed = pool.completed() - baseline;
    const seconds = (wallClockMs() - startedAt) / 1_000;
    // Say what the workers saw go wrong: the count alone does not tell a slow system from a broken one.
    const { report } = await pool.collect().catch(() => ({ report: undefined }));
    const errors = report?.errors.length ? `; worker errors: ${report.errors.slice(0, 3).join(' | ')}` : '';
    throw new PhaseTimeoutError(
      `${phase}: only ${completed} of ${count} tasks completed in ${seconds.toFixed(0)} s (≈ ${(completed / seconds).toFixed(0)} tasks/s; ${pool.errors()} worker errors${errors})`,
      completed,
      seconds,
    );
  }
  const { report, cpuMicros } = await pool.collect();
  if (report.errors.length > 0) {
    process.stderr.write(`${system.label} ${phase}: worker errors: ${report.errors.join(' | ')}\n`);
  }
  return { ...report, workerCpuMicros: cpuMicros };
}

/** Runs one throughput phase: creates `count` tasks (`mode`) and waits for all of them to complete. */
export async function measureThroughput(
  system: System,
  pool: WorkerPool,
  mode: 'batch' | 'single',
  count: number,
  settings: WorkloadSettings,
): Promise<ThroughputFigures> {
  const baseline = pool.completed();
  const serverBefore = await system.serverCpuMicros();
  const driverBefore = driverCpuMicros();
  const startedAt = wallClockMs();
  let created: Created[];
  const createRequests = mode === 'batch' ? Math.ceil(count / settings.batchSize) : count;
  if (mode === 'batch') {
    created = await system.createBatch(count, settings.batchSize);
  } else {
    created = new Array<Created>(count);
    await runConcurrently(count, settings.concurrency, async (index) => {
      const sentAt = wallClockMs();
      const id = await system.createOne();
      created[index] = { id, sentAt, answeredAt: wallClockMs() };
    });
  }
  const createdAt = wallClockMs();
  const report = await settle(system, pool, baseline, count, mode, settings, startedAt);
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
    hubCpuMicrosPerTask: (serverAfter.hub - serverBefore.hub) / count,
    databaseCpuMicrosPerTask: (serverAfter.database - serverBefore.database) / count,
    workerCpuMicrosPerTask: report.workerCpuMicros / count,
    driverCpuMicrosPerTask: (driverAfter - driverBefore) / count,
    tasksPerClaimRequest: report.claimRequests > 0 ? report.ids.length / report.claimRequests : Number.NaN,
    requestsPerTask: report.requests > 0 ? (createRequests + report.requests) / count : Number.NaN,
  };
}

/** Runs the latency phase: `samples` tasks created one at a time at `settings.rate` per second. */
export async function measureLatency(
  system: System,
  pool: WorkerPool,
  samples: number,
  settings: WorkloadSettings,
): Promise<LatencyFigures> {
  await sleep(settleMs);
  const baseline = pool.completed();
  const intervalMs = 1_000 / settings.rate;
  const created: Created[] = [];
  const firstAt = performance.now() + 10;
  for (let index = 0; index < samples; index += 1) {
    await sleep(firstAt + index * intervalMs - performance.now());
    const sentAt = wallClockMs();
    const id = await system.createOne();
    created.push({ id, sentAt, answeredAt: wallClockMs() });
  }
  const lastSentAt = created.at(-1)?.sentAt ?? Number.NaN;
  const report = await settle(system, pool, baseline, samples, 'latency', settings, created[0]?.sentAt ?? 0);
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

/**
 * Warm-up, then the batch, single and latency phases, in that order. A phase that times out is recorded in
 * `failures`; the tasks it left are then waited for (up to {@link drainTimeoutMs}) so that the next phase
 * starts on an empty queue, and when they do not finish either, the remaining phases are skipped. After a
 * failed throughput phase the other one is skipped (it would fail the same way, slowly) but the latency
 * phase still runs: it says most about a system that stalls.
 */
export async function measureSystem(
  system: System,
  pool: WorkerPool,
  settings: WorkloadSettings,
  progress: Progress,
): Promise<SystemFigures> {
  const figures: SystemFigures = { failures: [] };
  let expected = pool.completed();
  const run = async <Result>(
    name: string,
    count: number,
    measure: () => Promise<Result>,
  ): Promise<Result | undefined> => {
    expected += count;
    try {
      return await measure();
    } catch (error) {
      if (!(error instanceof PhaseTimeoutError)) throw error;
      figures.failures.push(error.message);
      progress(`${system.label}: ${error.message}; waiting for the rest`);
      await waitUntil(
        () => pool.completed() >= expected,
        drainTimeoutMs,
        () => `the tasks left by ${name} did not complete within ${drainTimeoutMs} ms either`,
      );
      return undefined;
    }
  };
  try {
    progress(`${system.label}: warm-up (${settings.warmup} tasks)`);
    await run('warm-up', settings.warmup, () =>
      measureThroughput(system, pool, 'batch', settings.warmup, settings),
    );
    progress(`${system.label}: batch create, ${settings.tasks} tasks`);
    figures.batch = await run('batch', settings.tasks, () =>
      measureThroughput(system, pool, 'batch', settings.tasks, settings),
    );
    if (figures.failures.length > 0) {
      figures.failures.push('single: skipped after the failed batch phase');
    } else {
      progress(`${system.label}: single create, ${settings.tasks} tasks, ${settings.concurrency} creators`);
      figures.single = await run('single', settings.tasks, () =>
        measureThroughput(system, pool, 'single', settings.tasks, settings),
      );
    }
    progress(
      `${system.label}: latency, ${settings.latencySamples} tasks at ${settings.rate}/s, runners idle`,
    );
    figures.latency = await run('latency', settings.latencySamples, () =>
      measureLatency(system, pool, settings.latencySamples, settings),
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    figures.failures.push(`${message}; the remaining phases were skipped`);
    progress(`${system.label}: ${message}; skipping the remaining phases`);
  }
  return figures;
}

/** A hub process started by {@link startHubProcess}. */
export interface HubProcess {
  process: ChildProcess;
  url: string;
  adminToken: string;
  client: HubClient;
}

/** Options of {@link startHubProcess}. */
export interface HubProcessOptions {
  dataDir: string;
  logLevel?: string;
  /** A PostgreSQL URL: the hub uses a PostgreSQL store on `schema` instead of SQLite in `dataDir`. */
  databaseUrl?: string;
  schema?: string;
  /** Options of the hub's `node`, e.g. `--expose-gc`. */
  nodeOptions?: string[];
}

/** Starts `support/hub-process.ts` and waits until it listens. */
export async function startHubProcess(options: HubProcessOptions): Promise<HubProcess> {
  const args = ['--data-dir', options.dataDir, '--log-level', options.logLevel ?? 'silent'];
  if (options.databaseUrl !== undefined) args.push('--database-url', options.databaseUrl);
  if (options.schema !== undefined) args.push('--schema', options.schema);
  const child = spawnTypeScript(hubProcessFile, { args, nodeOptions: options.nodeOptions ?? [] });
  try {
    const ready = await waitForMessage(
      child,
      (message) =>
        messageType(message) === 'ready' ? (message as { url: string; adminToken: string }) : undefined,
      START_TIMEOUT_MS,
      'starting a hub',
    );
    return {
      process: child,
      url: ready.url,
      adminToken: ready.adminToken,
      client: createHubClient({ baseUrl: ready.url, token: ready.adminToken }),
    };
  } catch (error) {
    await stopChild(child, STOP_GRACE_MS);
    throw error;
  }
}

/** Asks a hub process for its CPU time and memory; `collectGarbage` first runs a full collection. */
export function askHubUsage(hub: ChildProcess, collectGarbage = false): Promise<HubUsage> {
  return request(
    hub,
    { type: 'usage', collectGarbage },
    (message) => (messageType(message) === 'usage' ? (message as HubUsage) : undefined),
    30_000,
    'reading the hub usage',
  );
}

/**
 * Creates `count` runners (through the first hub's admin API) and starts a no-op runner process for each,
 * the runners spread over the hubs in turn: runner i talks to hub i mod hubs.
 */
export async function startNoopRunners(
  hubs: readonly HubProcess[],
  count: number,
  slots: number,
): Promise<WorkerPool> {
  const first = hubs[0];
  if (!first) throw new Error('startNoopRunners needs a hub');
  const tokens: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const created = await first.client.runners.create({
      name: `bench-runner-${index}`,
      capabilities: ['executor:shell'],
      slots,
    });
    tokens.push(created.token);
  }
  return startWorkers(
    count,
    (index) =>
      spawnTypeScript(noopRunnerFile, {
        args: ['--hub-url', hubs[index % hubs.length]!.url, '--slots', String(slots)],
        env: { ...process.env, WARREN_BENCH_RUNNER_TOKEN: tokens[index] },
      }),
    'starting a runner',
  );
}

/**
 * Warren behind one or more hubs: creates go to the hubs in turn (each batch request, each single create),
 * CPU is summed over the hub processes, and `databaseCpuMicros` (when given) measures the database.
 */
export function createWarrenSystem(
  label: string,
  hubs: readonly HubProcess[],
  databaseCpuMicros?: () => Promise<number>,
): System {
  let next = 0;
  const nextClient = (): HubClient => {
    const hub = hubs[next % hubs.length]!;
    next += 1;
    return hub.client;
  };
  return {
    label,
    async createBatch(count, size) {
      const created: Created[] = [];
      for (let done = 0; done < count; done += size) {
        const specs = new Array<TaskSpecInput>(Math.min(size, count - done)).fill(noOpTask);
        const sentAt = wallClockMs();
        const results = await nextClient().tasks.createBatch(specs);
        const answeredAt = wallClockMs();
        for (const result of results) created.push({ id: result.task.id, sentAt, answeredAt });
      }
      return created;
    },
    async createOne() {
      return (await nextClient().tasks.create(noOpTask)).task.id;
    },
    async serverCpuMicros() {
      const usages = await Promise.all(hubs.map((hub) => askHubUsage(hub.process)));
      return {
        hub: usages.reduce((total, usage) => total + usage.cpuMicros, 0),
        database: databaseCpuMicros ? await databaseCpuMicros() : Number.NaN,
      };
    },
  };
}

/** Whether something accepts TCP connections at the Redis URL's host and port. */
export function isRedisReachable(url: string): Promise<boolean> {
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

/**
 * The workload on BullMQ: a queue of its own (removed at the end, or on Ctrl-C), `workers` worker
 * processes with concurrency `slots`, jobs added with `addBulk` and `add`.
 */
export async function runBullmqWorkload(options: {
  redisUrl: string;
  workers: number;
  slots: number;
  settings: WorkloadSettings;
  progress: Progress;
}): Promise<SystemFigures> {
  const { redisUrl, workers, slots, settings, progress } = options;
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
    progress(`BullMQ: queue ${queueName}; starting ${workers} worker processes`);
    pool = await startWorkers(
      workers,
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
        return {
          hub: Number.NaN,
          database: (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1_000_000,
        };
      },
    };
    return await measureSystem(system, pool, settings, progress);
  } finally {
    await pool?.stop();
    await obliterate();
    forgetObliterate();
  }
}
