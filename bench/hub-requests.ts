/**
 * What one request of each kind costs the hub: CPU time (µs, measured in the hub process) and latency,
 * with requests sent one at a time from a lean client (`node:http`, keep-alive), so that nothing competes
 * with the hub for the CPU. Where `throughput` says how fast, this says where the hub's time per task goes.
 *
 * The hub runs in its own process (`support/hub-process.ts`, log level silent). Scenarios, in order:
 * `GET /healthz` (the HTTP + routing floor), `POST /v1/tasks`, `POST /v1/tasks/batch` (1,000 a request),
 * `POST /v1/runner/claim` (limit 1, tasks queued), `POST /v1/attempts/:id/complete`,
 * `POST /v1/runner/heartbeat`, `GET /v1/tasks/:id`, and `wake`: with `--parked` claims parked in long
 * polls, create a task and wait for a parked claim to get it, then complete it (the idle-runner path).
 * Claims and completions alternate in blocks of `--held`, the most attempts active at once.
 *
 * `--history N` first seeds N finished tasks into the database (`support/seed-history.ts`), to show
 * which costs grow with the size of the tasks table.
 *
 * Run: `npm run bench -- hub-requests [--quick] [--requests 2000] [--parked 20] [--held 80] [--history 0]
 *   [--hub-log-level silent] [--profile]`. `--profile` runs the hub under `node --cpu-prof` and prints where
 *   its time went; requests go one at a time, so the hub is rarely descheduled mid-sample.
 */
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ClaimedWork, ClaimResult, RunnerCreated } from '../src/core/api.ts';
import type { Task } from '../src/core/types.ts';
import {
  messageType,
  onProcessExit,
  request,
  spawnTypeScript,
  stopChild,
  waitForMessage,
} from './support/child-processes.ts';
import {
  printTable,
  round,
  summarizeLatencies,
  wallClockMs,
  type LatencySummary,
} from './support/figures.ts';
import type { HubReady, HubUsage } from './support/hub-process.ts';
import { seedHistory } from './support/seed-history.ts';
import { printProfileSummary, summarizeCpuProfile } from './support/summarize-cpu-profile.ts';
import { runBench } from './support/bench-lifecycle.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    requests: { type: 'string' },
    parked: { type: 'string', default: '20' },
    // why: 80 is what the throughput bench's fleet holds at most (20 runners × 4 slots).
    held: { type: 'string', default: '80' },
    history: { type: 'string', default: '0' },
    'hub-log-level': { type: 'string', default: 'silent' },
    profile: { type: 'boolean', default: false },
  },
});
const requestCount = Number(values.requests ?? (values.quick ? 500 : 2_000));
const parkedCount = Number(values.parked);
const heldCount = Number(values.held);
// why: one runner holds the attempts, and a runner has at most 256 slots (the API's limit).
if (!(heldCount >= 1 && heldCount <= 256)) throw new Error('--held must be from 1 to 256');
const historyCount = Number(values.history);
// why: the hub's largest batch; the batch scenario sends enough of them to create `requestCount` tasks.
const batchSize = 1_000;
// why: a few hundred requests of each kind let V8 optimise the hot paths before anything is measured.
const warmupCount = Math.min(300, requestCount);

const hubProcessFile = fileURLToPath(new URL('./support/hub-process.ts', import.meta.url));
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
const noOpTask = {
  title: 'no-op',
  repo: '/srv/warren-bench/no-op',
  executor: 'shell',
  executorInput: { run: 'true' },
};
const result = {
  branch: 'warren/bench',
  baseBranch: 'main',
  baseSha: '0'.repeat(40),
  changedFiles: [],
  pushed: false,
};

interface Answer {
  status: number;
  body: unknown;
}

let hubUrl = '';

/** One request over the keep-alive agent; resolves with the status and parsed JSON body. */
function call(
  method: string,
  path: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const outgoing = httpRequest(
      `${hubUrl}${path}`,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) });
        });
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

/** Like {@link call}, but throws unless the status is 2xx. */
async function callOk<Body>(
  method: string,
  path: string,
  token: string,
  body?: unknown,
  headers?: Record<string, string>,
): Promise<Body> {
  const answer = await call(method, path, token, body, headers);
  if (answer.status < 200 || answer.status >= 300) {
    throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return answer.body as Body;
}

/** Figures of one scenario. */
interface ScenarioFigures {
  name: string;
  requests: number;
  /** Hub CPU per request (per task for the batch scenario), µs. */
  hubCpuMicros: number;
  latency: LatencySummary;
}

async function main(): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'warren-bench-hub-requests-'));
  onProcessExit(() => rmSync(directory, { recursive: true, force: true }));
  const dataDir = join(directory, 'hub');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (historyCount > 0) {
    process.stderr.write(`seeding ${historyCount} finished tasks\n`);
    await seedHistory(dataDir, historyCount);
  }
  const profileDir = values.profile ? await mkdtemp(join(tmpdir(), 'warren-bench-profile-')) : undefined;
  const hub = spawnTypeScript(hubProcessFile, {
    args: ['--data-dir', dataDir, '--log-level', values['hub-log-level']],
    nodeOptions: profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
  });
  const parkedAbort = new AbortController();
  try {
    const ready = await waitForMessage(
      hub,
      (message) => (messageType(message) === 'ready' ? (message as HubReady) : undefined),
      60_000,
      'starting the hub',
    );
    hubUrl = ready.url;
    const admin = ready.adminToken;
    const hubCpu = async (): Promise<number> =>
      (
        await request(
          hub,
          { type: 'usage' },
          (message) => (messageType(message) === 'usage' ? (message as HubUsage) : undefined),
          30_000,
          'reading the hub usage',
        )
      ).cpuMicros;

    // why: 256 slots (the maximum), so that holding `--held` attempts never runs out of free slots.
    const created = await callOk<RunnerCreated>('POST', '/v1/runners', admin, {
      name: 'bench-runner',
      capabilities: ['executor:shell'],
      slots: 256,
    });
    const runner = created.token;
    await callOk('POST', '/v1/runner/register', runner, { capabilities: ['executor:shell'], slots: 256 });

    const figures: ScenarioFigures[] = [];
    /** Runs `step` `count` times one after another; the hub CPU over them is divided by `units`. */
    async function scenario(
      name: string,
      count: number,
      step: (index: number) => Promise<number | void>,
      units = count,
    ): Promise<void> {
      for (let index = 0; index < Math.min(warmupCount, count); index += 1) await step(index);
      const latencies: number[] = [];
      const cpuBefore = await hubCpu();
      for (let index = 0; index < count; index += 1) {
        const startedAt = wallClockMs();
        const measured = await step(index);
        latencies.push(typeof measured === 'number' ? measured : wallClockMs() - startedAt);
      }
      const cpuAfter = await hubCpu();
      figures.push({
        name,
        requests: count,
        hubCpuMicros: (cpuAfter - cpuBefore) / units,
        latency: summarizeLatencies(latencies),
      });
      process.stderr.write(`  ${name}: done\n`);
    }

    await scenario('GET /healthz', requestCount, async () => {
      await callOk('GET', '/healthz', admin);
    });
    await scenario('POST /v1/tasks', requestCount, async () => {
      await callOk('POST', '/v1/tasks', admin, noOpTask, { 'idempotency-key': crypto.randomUUID() });
    });
    const batchRequests = Math.max(1, Math.round(requestCount / batchSize));
    const batch = new Array<typeof noOpTask>(batchSize).fill(noOpTask);
    await scenario(
      'POST /v1/tasks/batch (per task)',
      batchRequests,
      async () => {
        await callOk('POST', '/v1/tasks/batch', admin, { tasks: batch });
      },
      batchRequests * batchSize,
    );
    // Claims and completions alternate in blocks of `--held`, so that no more attempts are active at once
    // than a fleet of that many slots would hold; each kind's hub CPU is summed over its own blocks.
    const claimLatencies: number[] = [];
    const completeLatencies: number[] = [];
    let claimCpu = 0;
    let completeCpu = 0;
    for (let done = 0; done < warmupCount + requestCount; done += heldCount) {
      const measured = done >= warmupCount;
      const size = Math.min(heldCount, warmupCount + requestCount - done);
      const held: ClaimedWork[] = [];
      const beforeClaims = await hubCpu();
      for (let index = 0; index < size; index += 1) {
        const startedAt = wallClockMs();
        const answer = await callOk<ClaimResult>('POST', '/v1/runner/claim', runner, { limit: 1, waitMs: 0 });
        if (measured) claimLatencies.push(wallClockMs() - startedAt);
        if (answer.claims.length !== 1) throw new Error(`a claim got ${answer.claims.length} tasks, not 1`);
        held.push(answer.claims[0]!);
      }
      const beforeCompletes = await hubCpu();
      for (const work of held) {
        const startedAt = wallClockMs();
        await callOk('POST', `/v1/attempts/${work.attempt.id}/complete`, runner, {
          leaseToken: work.leaseToken,
          result,
        });
        if (measured) completeLatencies.push(wallClockMs() - startedAt);
      }
      const after = await hubCpu();
      if (measured) {
        claimCpu += beforeCompletes - beforeClaims;
        completeCpu += after - beforeCompletes;
      }
    }
    figures.push(
      {
        name: 'POST /v1/runner/claim (limit 1)',
        requests: claimLatencies.length,
        hubCpuMicros: claimCpu / claimLatencies.length,
        latency: summarizeLatencies(claimLatencies),
      },
      {
        name: 'POST /v1/attempts/:id/complete',
        requests: completeLatencies.length,
        hubCpuMicros: completeCpu / completeLatencies.length,
        latency: summarizeLatencies(completeLatencies),
      },
    );
    process.stderr.write('  claim and complete: done\n');
    await scenario('POST /v1/runner/heartbeat', requestCount, async () => {
      await callOk('POST', '/v1/runner/heartbeat', runner, { status: 'online', attemptIds: [] });
    });
    const { tasks: someTasks } = await callOk<{ tasks: Task[] }>('GET', '/v1/tasks?limit=1', admin);
    const someTaskId = someTasks[0]!.id;
    await scenario('GET /v1/tasks/:id', requestCount, async () => {
      await callOk('GET', `/v1/tasks/${someTaskId}`, admin);
    });

    // Drain what is still queued so that the wake scenario starts with an empty queue.
    for (;;) {
      const answer = await callOk<ClaimResult>('POST', '/v1/runner/claim', runner, { limit: 256, waitMs: 0 });
      if (answer.claims.length === 0) break;
      for (const work of answer.claims) {
        await callOk('POST', `/v1/attempts/${work.attempt.id}/complete`, runner, {
          leaseToken: work.leaseToken,
          result,
        });
      }
    }

    // Parked long polls; each answer with work is handed to the waiting step, and the poll parks again.
    const arrivals: Array<{ work: ClaimedWork; at: number }> = [];
    let arrived: (() => void) | undefined;
    const park = async (): Promise<void> => {
      while (!parkedAbort.signal.aborted) {
        const answer = await call('POST', '/v1/runner/claim', runner, { limit: 1, waitMs: 30_000 }).catch(
          () => undefined,
        );
        if (!answer || parkedAbort.signal.aborted) return;
        const at = wallClockMs();
        for (const work of (answer.body as ClaimResult).claims) arrivals.push({ work, at });
        arrived?.();
      }
    };
    const parked = Array.from({ length: parkedCount }, () => park());
    // why: give every poll time to reach the hub and park before the first task is created.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await scenario(
      `wake: create → parked claim (${parkedCount} parked) → complete`,
      requestCount,
      async () => {
        const sentAt = wallClockMs();
        await callOk<{ task: Task }>('POST', '/v1/tasks', admin, noOpTask, {
          'idempotency-key': crypto.randomUUID(),
        });
        while (arrivals.length === 0) await new Promise<void>((resolve) => (arrived = resolve));
        const { work, at } = arrivals.shift()!;
        await callOk('POST', `/v1/attempts/${work.attempt.id}/complete`, runner, {
          leaseToken: work.leaseToken,
          result,
        });
        // The figure is claim-to-start: claim received − create sent.
        return at - sentAt;
      },
    );
    parkedAbort.abort();
    await stopChild(hub, 10_000);
    await Promise.allSettled(parked);

    const profileFile = profileDir
      ? (await readdir(profileDir)).find((name) => name.endsWith('.cpuprofile'))
      : undefined;
    if (profileDir && profileFile) {
      console.log(`\nhub CPU profile (whole run, warm-ups included): ${join(profileDir, profileFile)}\n`);
      printProfileSummary(await summarizeCpuProfile(join(profileDir, profileFile)));
    }

    console.log(
      `\nhub-requests: one request at a time over node:http keep-alive; hub in its own process, log level silent; ${historyCount.toLocaleString('en-US')} finished tasks seeded\n`,
    );
    printTable(
      ['scenario', 'requests', 'hub CPU µs', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
      figures.map((entry) => [
        entry.name,
        entry.requests,
        round(entry.hubCpuMicros, 0),
        round(entry.latency.p50, 3),
        round(entry.latency.p90, 3),
        round(entry.latency.p99, 3),
        round(entry.latency.max, 3),
      ]),
    );
    console.log(
      '\nhub CPU µs: per request (per task for the batch); wake: per create + claim + complete, and its latency is claim-to-start.',
    );
    console.log(
      JSON.stringify({
        bench: 'hub-requests',
        requests: requestCount,
        history: historyCount,
        parked: parkedCount,
        held: heldCount,
        profiled: values.profile,
        scenarios: figures.map((entry) => ({
          name: entry.name,
          hubCpuMicros: round(entry.hubCpuMicros, 0),
          p50Ms: round(entry.latency.p50, 3),
          p99Ms: round(entry.latency.p99, 3),
        })),
      }),
    );
  } finally {
    parkedAbort.abort();
    agent.destroy();
    await stopChild(hub, 5_000);
  }
}

await runBench('hub-requests', main);
