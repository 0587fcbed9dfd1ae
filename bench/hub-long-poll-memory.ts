/**
 * What a hub pays for runners parked in long polls: one hub with `--runners` (default 1,000) runners, each
 * on a keep-alive connection of its own with a claim long poll (`POST /v1/runner/claim`, `limit: 1`,
 * `waitMs` 30 s, the hub's longest) parked at once; then as many tasks are created in one batch and the
 * bench times how long the hub takes to hand every runner its task. On SQLite (the default store) and, when
 * it answers, on PostgreSQL (a fresh schema, dropped at the end).
 *
 * The hub runs in a process of its own (`support/hub-process.ts`, with `--expose-gc`), so that its memory
 * is its own: RSS is read by this process from `/proc/<hub pid>/status` (VmRSS), the V8 heap is reported
 * by the hub after a full garbage collection. Four readings:
 * - started: the hub just listening, an empty database;
 * - runners created: `--runners` runners created through the admin API (its one connection kept);
 * - connections open: every runner registered (`POST /v1/runner/register`) on its own keep-alive
 *   connection (one `createHubClient` per runner, as real runners have), the connections idle;
 * - polls parked: every runner's claim sent on that connection and parked (the hub's CPU has gone quiet).
 * Per connection = (connections open − runners created) / runners; per parked poll = (polls parked −
 * connections open) / runners. RSS rarely shrinks after a collection, so its differences are upper bounds
 * of what stays; the heap after a full collection is what the hub keeps alive.
 *
 * Wake-up: the tasks are created in batches of 1,000 (`POST /v1/tasks/batch`, one request for 1,000
 * runners) and each runner's poll answer is timestamped: time to the first, the median, the 99th
 * percentile and the last answer with a task, from the create request sent. A poll that answers empty
 * before the tasks come (it should not) is sent again and counted.
 *
 * Run: `npm run bench -- hub-long-poll-memory [--quick] [--runners 1000] [--skip-postgres]
 *   [--postgres-url postgres://...]`. `--quick`: 200 runners. The full run takes about a minute per store
 * on 2 cores. Prints a table and, last, one JSON line.
 */
import type { ChildProcess } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHubClient, type HubClient } from '../src/client/index.ts';
import type { TaskSpecInput } from '../src/core/types.ts';
import { createProgress, runBench, startWatchdog } from './support/bench-lifecycle.ts';
import { onProcessExit, stopChild } from './support/child-processes.ts';
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
import { askHubUsage, noOpTask, startHubProcess, STOP_GRACE_MS } from './support/no-op-workload.ts';
import {
  benchPostgresUrl,
  connectPostgres,
  describePostgresUrl,
  withFreshSchemas,
} from './support/postgres-backends.ts';
import { processCpuMicros, processRssBytes } from './support/process-stats.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runners: { type: 'string' },
    'skip-postgres': { type: 'boolean', default: false },
    'postgres-url': { type: 'string', default: benchPostgresUrl() },
    'max-seconds': { type: 'string' },
  },
});
const runnerCount = Number(values.runners ?? (values.quick ? 200 : 1_000));
const postgresUrl = values['postgres-url'];
const maxSeconds = Number(values['max-seconds'] ?? 600);

// why: the hub's longest long poll; the bench parks, measures and wakes well within it.
const pollWaitMs = 30_000;
// why: the largest batch the hub's API accepts.
const createBatchSize = 1_000;
// why: registering and creating runners 32 at a time keeps the hub busy without queueing a thousand
// requests on a 2-core machine.
const setupConcurrency = 32;
// why: the polls are parked once the hub has been idle (under 5 ms of CPU in 250 ms) twice in a row.
const quietWindowMs = 250;
const quietCpuMicros = 5_000;
const parkTimeoutMs = 20_000;

const progress = createProgress();

/** One memory reading of the hub process. */
interface MemoryReading {
  label: string;
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
}

/** Everything measured on one store. */
interface StoreFigures {
  store: string;
  readings: MemoryReading[];
  perConnectionRssBytes: number;
  perConnectionHeapBytes: number;
  perPollRssBytes: number;
  perPollHeapBytes: number;
  /** ms from the create request sent to each runner's answer with a task; and to the first one. */
  wake: LatencySummary;
  wakeFirstMs: number;
  createRequestMs: number;
  /** Polls that answered empty before the tasks came, sent again. */
  earlyAnswers: number;
  /** Runners whose answer carried more than one task (should be none: limit 1). */
  overClaims: number;
  /** Hub CPU ms from the create request sent until the last runner had its task. */
  wakeHubCpuMs: number;
}

async function readMemory(hub: ChildProcess, label: string): Promise<MemoryReading> {
  const usage = await askHubUsage(hub, true);
  if (!usage.collectedGarbage) throw new Error('the hub could not collect garbage (needs --expose-gc)');
  return {
    label,
    rssBytes: await processRssBytes(hub.pid!),
    heapUsedBytes: usage.memory.heapUsed,
    externalBytes: usage.memory.external,
  };
}

/** Waits until the hub process has used almost no CPU for two windows in a row. */
async function waitUntilQuiet(pid: number): Promise<void> {
  const deadline = performance.now() + parkTimeoutMs;
  let quietWindows = 0;
  let last = (await processCpuMicros(pid)) ?? 0;
  while (quietWindows < 2 && performance.now() < deadline) {
    await sleep(quietWindowMs);
    const now = (await processCpuMicros(pid)) ?? 0;
    quietWindows = now - last < quietCpuMicros ? quietWindows + 1 : 0;
    last = now;
  }
}

async function measureStore(
  store: string,
  postgres: { url: string; schema: string } | undefined,
): Promise<StoreFigures> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-bench-long-poll-'));
  onProcessExit(() => rmSync(dataDir, { recursive: true, force: true }));
  const hub = await startHubProcess({
    dataDir,
    nodeOptions: ['--expose-gc'],
    ...(postgres ? { databaseUrl: postgres.url, schema: postgres.schema } : {}),
  });
  const pid = hub.process.pid!;
  const abort = new AbortController();
  // why: every poll listens to this one signal (it ends them all when the bench stops the hub).
  setMaxListeners(runnerCount + 10, abort.signal);
  try {
    progress(`${store}: hub at ${hub.url} (pid ${pid})`);
    const readings: MemoryReading[] = [await readMemory(hub.process, 'started')];

    progress(`${store}: creating ${runnerCount} runners`);
    const tokens = new Array<string>(runnerCount);
    await runConcurrently(runnerCount, setupConcurrency, async (index) => {
      const created = await hub.client.runners.create({
        name: `poll-runner-${index}`,
        capabilities: ['executor:shell'],
        slots: 1,
      });
      tokens[index] = created.token;
    });
    readings.push(await readMemory(hub.process, 'runners created'));

    progress(`${store}: registering each runner on a keep-alive connection of its own`);
    const clients: HubClient[] = tokens.map((token) => createHubClient({ baseUrl: hub.url, token }));
    await runConcurrently(runnerCount, setupConcurrency, async (index) => {
      await clients[index]!.runner.register({ capabilities: ['executor:shell'], slots: 1, version: 'bench' });
    });
    readings.push(await readMemory(hub.process, 'connections open'));

    progress(`${store}: ${runnerCount} claim long polls`);
    let earlyAnswers = 0;
    let overClaims = 0;
    let tasksArrived = false;
    const answeredAt: number[] = [];
    const polls = clients.map(async (client) => {
      for (;;) {
        const claims = await client.runner.claim({ limit: 1, waitMs: pollWaitMs }, { signal: abort.signal });
        if (claims.length > 0) {
          answeredAt.push(wallClockMs());
          if (claims.length > 1) overClaims += 1;
          return;
        }
        if (!tasksArrived) earlyAnswers += 1;
      }
    });
    // A failed poll fails the bench, but only once every poll has had its say.
    const pollsDone = Promise.allSettled(polls);
    await waitUntilQuiet(pid);
    readings.push(await readMemory(hub.process, 'polls parked'));

    progress(`${store}: creating ${runnerCount} tasks; timing the wake-up`);
    const cpuBefore = (await processCpuMicros(pid)) ?? Number.NaN;
    const sentAt = wallClockMs();
    tasksArrived = true;
    for (let done = 0; done < runnerCount; done += createBatchSize) {
      const specs = new Array<TaskSpecInput>(Math.min(createBatchSize, runnerCount - done)).fill(noOpTask);
      await hub.client.tasks.createBatch(specs);
    }
    const createRequestMs = wallClockMs() - sentAt;
    await waitUntil(
      () => answeredAt.length >= runnerCount,
      pollWaitMs * 2,
      () => `${store}: only ${answeredAt.length} of ${runnerCount} runners got a task`,
    );
    const cpuAfter = (await processCpuMicros(pid)) ?? Number.NaN;
    const failed = (await pollsDone).filter((outcome) => outcome.status === 'rejected');
    if (failed.length > 0) {
      const reason = (failed[0] as PromiseRejectedResult).reason as unknown;
      throw new Error(
        `${failed.length} polls failed: ${reason instanceof Error ? reason.message : String(reason)}`,
      );
    }
    readings.push(await readMemory(hub.process, 'after the wake-up'));

    const [, created, open, parked] = readings as [
      MemoryReading,
      MemoryReading,
      MemoryReading,
      MemoryReading,
    ];
    return {
      store,
      readings,
      perConnectionRssBytes: (open.rssBytes - created.rssBytes) / runnerCount,
      perConnectionHeapBytes: (open.heapUsedBytes - created.heapUsedBytes) / runnerCount,
      perPollRssBytes: (parked.rssBytes - open.rssBytes) / runnerCount,
      perPollHeapBytes: (parked.heapUsedBytes - open.heapUsedBytes) / runnerCount,
      wake: summarizeLatencies(answeredAt.map((at) => at - sentAt)),
      wakeFirstMs: Math.min(...answeredAt) - sentAt,
      createRequestMs,
      earlyAnswers,
      overClaims,
      wakeHubCpuMs: (cpuAfter - cpuBefore) / 1_000,
    };
  } finally {
    abort.abort();
    await stopChild(hub.process, STOP_GRACE_MS * 2);
  }
}

const mebibytes = (bytes: number): number | null => round(bytes / 1024 / 1024, 1);
const kibibytes = (bytes: number): number | null => round(bytes / 1024, 1);

function printResults(results: StoreFigures[], notes: string[]): void {
  console.log(
    `\nhub-long-poll-memory: ${runnerCount.toLocaleString('en-US')} runners, one keep-alive connection and one parked claim (limit 1, wait ${pollWaitMs / 1_000} s) each; hub in its own process; ${availableParallelism()} CPU cores; Node ${process.version}; load average ${loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}\n`,
  );
  const labels = results[0]?.readings.map((reading) => reading.label) ?? [];
  printTable(
    ['hub memory (MiB)', ...results.flatMap((each) => [`${each.store} RSS`, `${each.store} heap`])],
    labels.map((label, index) => [
      label,
      ...results.flatMap((each) => [
        mebibytes(each.readings[index]!.rssBytes),
        mebibytes(each.readings[index]!.heapUsedBytes),
      ]),
    ]),
  );
  console.log('');
  const row = (
    label: string,
    pick: (figures: StoreFigures) => number | null,
  ): Array<string | number | null> => [label, ...results.map(pick)];
  printTable(
    ['measure', ...results.map((each) => each.store)],
    [
      row('RSS per open connection, KiB', (each) => kibibytes(each.perConnectionRssBytes)),
      row('heap per open connection, KiB', (each) => kibibytes(each.perConnectionHeapBytes)),
      row('RSS per parked poll, KiB', (each) => kibibytes(each.perPollRssBytes)),
      row('heap per parked poll, KiB', (each) => kibibytes(each.perPollHeapBytes)),
      row('RSS per runner (connection + poll), KiB', (each) =>
        kibibytes(each.perConnectionRssBytes + each.perPollRssBytes),
      ),
      row(`create request (${runnerCount} tasks), ms`, (each) => round(each.createRequestMs, 1)),
      row('wake: first runner has its task, ms', (each) => round(each.wakeFirstMs, 1)),
      row('wake: half the runners, ms (p50)', (each) => round(each.wake.p50, 1)),
      row('wake: 99% of the runners, ms (p99)', (each) => round(each.wake.p99, 1)),
      row('wake: every runner has its task, ms', (each) => round(each.wake.max, 1)),
      row('hub CPU during the wake-up, ms', (each) => round(each.wakeHubCpuMs, 0)),
      row('polls answered empty before the tasks', (each) => each.earlyAnswers),
      row('answers with more than one task', (each) => each.overClaims),
    ],
  );
  for (const note of notes) console.log(`\n${note}`);
}

async function main(): Promise<void> {
  startWatchdog('hub-long-poll-memory', maxSeconds);
  const results: StoreFigures[] = [];
  const notes: string[] = [];
  results.push(await measureStore('SQLite', undefined));
  if (values['skip-postgres']) {
    notes.push('PostgreSQL skipped: --skip-postgres.');
  } else {
    const admin = await connectPostgres(postgresUrl);
    if (typeof admin === 'string') {
      notes.push(`PostgreSQL skipped: ${admin}`);
    } else {
      results.push(
        await withFreshSchemas(admin, ['_polls'], ([schema]) =>
          measureStore('PostgreSQL', { url: postgresUrl, schema: schema! }),
        ),
      );
      notes.push(`PostgreSQL at ${describePostgresUrl(postgresUrl)}, store default pool (10 connections).`);
    }
  }
  printResults(results, notes);
  const summary = (figures: StoreFigures | undefined): Record<string, number | null> | null =>
    figures
      ? {
          rssStartedMiB: mebibytes(figures.readings[0]!.rssBytes),
          rssParkedMiB: mebibytes(figures.readings[3]!.rssBytes),
          heapParkedMiB: mebibytes(figures.readings[3]!.heapUsedBytes),
          rssPerConnectionKiB: kibibytes(figures.perConnectionRssBytes),
          heapPerConnectionKiB: kibibytes(figures.perConnectionHeapBytes),
          rssPerPollKiB: kibibytes(figures.perPollRssBytes),
          heapPerPollKiB: kibibytes(figures.perPollHeapBytes),
          wakeFirstMs: round(figures.wakeFirstMs, 1),
          wakeP50Ms: round(figures.wake.p50, 1),
          wakeP99Ms: round(figures.wake.p99, 1),
          wakeAllMs: round(figures.wake.max, 1),
          wakeHubCpuMs: round(figures.wakeHubCpuMs, 0),
          earlyAnswers: figures.earlyAnswers,
        }
      : null;
  console.log(
    JSON.stringify({
      bench: 'hub-long-poll-memory',
      runners: runnerCount,
      sqlite: summary(results.find((each) => each.store === 'SQLite')),
      postgres: summary(results.find((each) => each.store === 'PostgreSQL')),
      notes,
    }),
  );
}

await runBench('hub-long-poll-memory', main);
