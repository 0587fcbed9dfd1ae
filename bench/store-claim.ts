/**
 * Store-level claim benchmark on a temp-file SQLite database (no HTTP, no runner):
 * - throughput: claimTasks(limit 1) + completeAttempt in a loop over N queued no-op tasks;
 * - claim latency (p50/p99) with 1,000 and with `--max-queued` (default 1,000,000) tasks queued, to show
 *   that a claim costs the same however long the queue is.
 *
 * Run: `node --import tsx bench/store-claim.ts [--quick] [--tasks 20000] [--max-queued 1000000]
 * [--samples 2000]` (`--quick`: 2,000 tasks, 100,000 queued, 1,000 samples).
 * Prints a table and, as the last line, one JSON object with the figures.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSqliteStore, type Store } from '../src/store/index.ts';
import { claimAndComplete, noOpRoutedSpec } from './support/store-claims.ts';

// why: the hub's batch route takes at most 1,000 tasks, so the bench enqueues the way a client would.
const enqueueBatchSize = 1_000;

const { values } = parseArgs({
  options: {
    // why: `npm run bench -- --quick` passes --quick to every bench; a smaller run finishes in seconds.
    quick: { type: 'boolean', default: false },
    tasks: { type: 'string' },
    'max-queued': { type: 'string' },
    samples: { type: 'string' },
  },
});
const taskCount = Number(values.tasks ?? (values.quick ? 2_000 : 20_000));
const maxQueued = Number(values['max-queued'] ?? (values.quick ? 100_000 : 1_000_000));
const sampleCount = Number(values.samples ?? (values.quick ? 1_000 : 2_000));

const runner = { runnerId: 'run_BENCH', capabilities: ['executor:shell'] };

async function withStore<Result>(work: (store: Store, filename: string) => Promise<Result>): Promise<Result> {
  const directory = await mkdtemp(join(tmpdir(), 'warren-bench-store-'));
  const filename = join(directory, 'warren.db');
  const store = await createSqliteStore({ filename });
  try {
    await store.migrate();
    return await work(store, filename);
  } finally {
    await store.close();
    await rm(directory, { recursive: true, force: true });
  }
}

/** Enqueues `count` no-op tasks in batches; returns tasks per second. */
async function enqueueMany(store: Store, count: number): Promise<number> {
  const started = performance.now();
  for (let done = 0; done < count; done += enqueueBatchSize) {
    const size = Math.min(enqueueBatchSize, count - done);
    await store.enqueueTasks(new Array<typeof noOpRoutedSpec>(size).fill(noOpRoutedSpec));
    if (count >= 100_000 && (done / enqueueBatchSize) % 100 === 0 && done > 0) {
      process.stderr.write(
        `  enqueued ${done.toLocaleString('en-US')} of ${count.toLocaleString('en-US')}\n`,
      );
    }
  }
  return count / ((performance.now() - started) / 1000);
}

/** Claims one task and completes it; returns the claim's latency in ms. */
async function claimOnce(store: Store): Promise<number> {
  return (await claimAndComplete(store, runner)).claimMs;
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

interface ThroughputFigures {
  enqueuePerSecond: number;
  claimCompletePerSecond: number;
  /** CPU time (user + system) of one claim + complete. */
  claimCompleteCpuMicroseconds: number;
}

async function measureThroughput(): Promise<ThroughputFigures> {
  return withStore(async (store) => {
    const enqueuePerSecond = await enqueueMany(store, taskCount);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    for (let index = 0; index < taskCount; index += 1) await claimOnce(store);
    const claimCompletePerSecond = taskCount / ((performance.now() - started) / 1000);
    const cpu = process.cpuUsage(cpuBefore);
    return {
      enqueuePerSecond,
      claimCompletePerSecond,
      claimCompleteCpuMicroseconds: (cpu.user + cpu.system) / taskCount,
    };
  });
}

interface LatencyFigures {
  queued: number;
  enqueuePerSecond: number;
  claimP50Ms: number;
  claimP99Ms: number;
  claimMaxMs: number;
  countTasksMs: number;
  databaseMegabytes: number;
}

async function measureLatency(queued: number): Promise<LatencyFigures> {
  return withStore(async (store, filename) => {
    // Enough extra tasks that the queue never drops below `queued` while sampling.
    const enqueuePerSecond = await enqueueMany(store, queued + sampleCount);
    for (let index = 0; index < 100; index += 1) await claimOnce(store); // warm-up
    const latencies: number[] = [];
    for (let index = 0; index < sampleCount - 100; index += 1) latencies.push(await claimOnce(store));
    latencies.sort((left, right) => left - right);
    const countStarted = performance.now();
    await store.countTasks();
    const countTasksMs = performance.now() - countStarted;
    const size =
      (await stat(filename)).size + (await stat(`${filename}-wal`).catch(() => ({ size: 0 }))).size;
    return {
      queued,
      enqueuePerSecond: round(enqueuePerSecond, 0),
      claimP50Ms: round(percentile(latencies, 0.5)),
      claimP99Ms: round(percentile(latencies, 0.99)),
      claimMaxMs: round(latencies.at(-1) ?? Number.NaN),
      countTasksMs: round(countTasksMs, 1),
      databaseMegabytes: round(size / 1024 / 1024, 1),
    };
  });
}

function printTable(headers: string[], rows: Array<Array<string | number>>): void {
  const cells = [
    headers,
    ...rows.map((row) => row.map((cell) => (typeof cell === 'number' ? cell.toLocaleString('en-US') : cell))),
  ];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => String(row[column]).length)));
  const line = (row: Array<string | number>): string =>
    row.map((cell, column) => String(cell).padStart(widths[column]!)).join('  ');
  console.log(line(cells[0]!));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of cells.slice(1)) console.log(line(row));
}

// why: on a shared machine other processes take CPU from the bench; the load average and the CPU time per
// operation (which contention barely changes) show how far the wall-clock figures are from an idle machine.
const loadBefore = loadavg()[0] ?? 0;
const throughput = await measureThroughput();
const sizes = [...new Set([1_000, maxQueued])].sort((left, right) => left - right);
const latency: LatencyFigures[] = [];
for (const queued of sizes) latency.push(await measureLatency(queued));

const loadAfter = loadavg()[0] ?? 0;
const cpuBoundPerSecond = 1_000_000 / throughput.claimCompleteCpuMicroseconds;

console.log(`\nstore-claim: SQLite, temp file, ${taskCount.toLocaleString('en-US')} tasks for throughput`);
console.log(`load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after\n`);
printTable(
  ['measure', 'value'],
  [
    ['enqueue (tasks/s, batches of 1,000)', round(throughput.enqueuePerSecond, 0)],
    ['claim + complete (per s, sequential, wall clock)', round(throughput.claimCompletePerSecond, 0)],
    ['claim + complete CPU time (µs each)', round(throughput.claimCompleteCpuMicroseconds, 1)],
    ['claim + complete per s of one core (1e6 / CPU µs)', round(cpuBoundPerSecond, 0)],
  ],
);
console.log('');
printTable(
  ['queued', 'enqueue/s', 'claim p50 ms', 'claim p99 ms', 'claim max ms', 'countTasks ms', 'db MiB'],
  latency.map((figures) => [
    figures.queued,
    figures.enqueuePerSecond,
    figures.claimP50Ms,
    figures.claimP99Ms,
    figures.claimMaxMs,
    figures.countTasksMs,
    figures.databaseMegabytes,
  ]),
);
console.log(
  JSON.stringify({
    bench: 'store-claim',
    tasks: taskCount,
    enqueuePerSecond: round(throughput.enqueuePerSecond, 0),
    claimCompletePerSecond: round(throughput.claimCompletePerSecond, 0),
    claimCompleteCpuMicroseconds: round(throughput.claimCompleteCpuMicroseconds, 1),
    cpuBoundClaimCompletePerSecond: round(cpuBoundPerSecond, 0),
    loadAverage: [round(loadBefore, 2), round(loadAfter, 2)],
    claimLatency: latency,
  }),
);
