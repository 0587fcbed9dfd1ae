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
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createProgress, runBench, startWatchdog } from './support/bench-lifecycle.ts';
import { onProcessExit, stopChild } from './support/child-processes.ts';
import { printTable, round } from './support/figures.ts';
import {
  createWarrenSystem,
  isRedisReachable,
  measureSystem,
  readWorkloadSettings,
  runBullmqWorkload,
  startHubProcess,
  startNoopRunners,
  STOP_GRACE_MS,
  type LatencyFigures,
  type SystemFigures,
  type ThroughputFigures,
  type WorkerPool,
  workloadOptions,
} from './support/no-op-workload.ts';
import { seedHistory } from './support/seed-history.ts';
import { printProfileSummary, summarizeCpuProfile } from './support/summarize-cpu-profile.ts';

const { values } = parseArgs({
  options: {
    ...workloadOptions,
    profile: { type: 'boolean', default: false },
    'hub-node-options': { type: 'string', default: '' },
    history: { type: 'string', default: '0' },
  },
});
const quick = values.quick;
// why: --quick is sized to finish in about 30 s on a 2-core machine, for CI and a developer's check.
const settings = readWorkloadSettings(
  values,
  quick
    ? { tasks: 1_500, warmup: 200, latencySamples: 200 }
    : { tasks: 10_000, warmup: 1_000, latencySamples: 1_000 },
);
const taskCount = settings.tasks;
const latencySamples = settings.latencySamples;
const rate = settings.rate;
const runnerCount = Number(values.runners);
const slots = Number(values.slots);
const maxSeconds = Number(values['max-seconds'] ?? (quick ? 180 : 900));
const redisUrl = values['redis-url'];
const historyCount = Number(values.history);
const progress = createProgress();

/** Every figure of one system: this bench needs every phase (a phase that failed fails the bench). */
interface CompleteFigures {
  batch: ThroughputFigures;
  single: ThroughputFigures;
  latency: LatencyFigures;
}

/** The figures of every phase, or an error naming the phases that failed. */
function requireEveryPhase(label: string, figures: SystemFigures): CompleteFigures {
  const { batch, single, latency, failures } = figures;
  if (failures.length > 0 || !batch || !single || !latency) {
    throw new Error(`${label}: ${failures.join('; ') || 'a phase has no figures'}`);
  }
  return { batch, single, latency };
}

interface ProfileFigures {
  file: string;
}

async function runWarren(): Promise<CompleteFigures & { profile?: ProfileFigures }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-bench-throughput-'));
  onProcessExit(() => rmSync(dataDir, { recursive: true, force: true }));
  const hubDataDir = join(dataDir, 'hub');
  await mkdir(hubDataDir, { recursive: true, mode: 0o700 });
  if (historyCount > 0) {
    progress(`Warren: seeding ${historyCount} finished tasks into the hub's database`);
    await seedHistory(hubDataDir, historyCount);
  }
  const profileDir = values.profile ? await mkdtemp(join(tmpdir(), 'warren-bench-profile-')) : undefined;
  const hub = await startHubProcess({
    dataDir: hubDataDir,
    logLevel: values['hub-log-level'],
    nodeOptions: [
      ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
      ...values['hub-node-options'].split(' ').filter(Boolean),
    ],
  });
  let pool: WorkerPool | undefined;
  try {
    progress(`Warren: hub at ${hub.url} (pid ${hub.process.pid}); starting ${runnerCount} runner processes`);
    pool = await startNoopRunners([hub], runnerCount, slots);
    const figures = requireEveryPhase(
      'Warren',
      await measureSystem(createWarrenSystem('Warren', [hub]), pool, settings, progress),
    );
    await pool.stop();
    pool = undefined;
    await stopChild(hub.process, STOP_GRACE_MS * 2);
    if (!profileDir) return figures;
    const file = (await readdir(profileDir)).find((name) => name.endsWith('.cpuprofile'));
    return file ? { ...figures, profile: { file: join(profileDir, file) } } : figures;
  } finally {
    await pool?.stop();
    await stopChild(hub.process, STOP_GRACE_MS);
  }
}

function ratio(warren: number, bullmq: number | undefined): number | null {
  return bullmq === undefined ? null : round(warren / bullmq, 3);
}

function printResults(
  warren: CompleteFigures,
  bullmq: CompleteFigures | undefined,
  bullmqNote: string | undefined,
): void {
  const cores = availableParallelism();
  console.log(
    `\nthroughput: no-op tasks over HTTP; ${runnerCount} runner processes × ${slots} slots; ${cores} CPU cores (${cpus()[0]?.model ?? 'unknown'}); Node ${process.version}`,
  );
  console.log(
    `${taskCount.toLocaleString('en-US')} tasks per throughput phase; ${historyCount.toLocaleString('en-US')} finished tasks seeded; latency: ${latencySamples} tasks one at a time at ${rate}/s with every runner idle\n`,
  );
  /** Warren's figure, BullMQ's (`pickBullmq` when it comes from elsewhere) and their ratio. */
  const both = (
    pick: (figures: CompleteFigures) => number,
    digits = 1,
    pickBullmq = pick,
  ): Array<number | null> => [
    round(pick(warren), digits),
    bullmq ? round(pickBullmq(bullmq), digits) : null,
    bullmq ? round(pick(warren) / pickBullmq(bullmq), 2) : null,
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
      ...both(
        (figures) => figures.batch.hubCpuMicrosPerTask,
        0,
        (figures) => figures.batch.databaseCpuMicrosPerTask,
      ),
      '',
    ],
    [
      'server CPU µs/task, single',
      ...both(
        (figures) => figures.single.hubCpuMicrosPerTask,
        0,
        (figures) => figures.single.databaseCpuMicrosPerTask,
      ),
      '',
    ],
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
  const measured: Array<[string, CompleteFigures | undefined]> = [
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
  startWatchdog('throughput', maxSeconds);
  const warren = await runWarren();
  let bullmq: CompleteFigures | undefined;
  let bullmqNote: string | undefined;
  if (values['skip-bullmq']) {
    bullmqNote = 'BullMQ comparison skipped: --skip-bullmq.';
  } else if (!(await isRedisReachable(redisUrl))) {
    bullmqNote = `BullMQ comparison skipped: Redis does not answer at ${redisUrl} (set WARREN_BENCH_REDIS_URL or --redis-url).`;
  } else {
    bullmq = requireEveryPhase(
      'BullMQ',
      await runBullmqWorkload({ redisUrl, workers: runnerCount, slots, settings, progress }),
    );
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
      hubCpuMicrosPerTaskBatch: round(warren.batch.hubCpuMicrosPerTask, 0),
      hubCpuMicrosPerTaskSingle: round(warren.single.hubCpuMicrosPerTask, 0),
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

await runBench('throughput', main);
