/**
 * A Warren runner that does nothing: it registers, then loops like the real runner's claim loop
 * (`src/runner/start-runner.ts`): long-poll for as many tasks as it has free slots, and for each claim
 * report the attempt complete at once with a minimal TaskResult. No worktree, no executor, no git.
 *
 * Started by `bench/throughput.ts`; the runner token comes in `WARREN_BENCH_RUNNER_TOKEN`.
 * Usage: `node --import tsx bench/support/noop-runner.ts --hub-url URL --slots N`.
 */
import { parseArgs } from 'node:util';
import { createHubClient } from '../../src/client/index.ts';
import type { ClaimedWork } from '../../src/core/api.ts';
import { exitWithParent, messageType } from './child-processes.ts';
import { wallClockMs } from './figures.ts';
import { createWorkerRecorder, type WorkerReady } from './worker-messages.ts';

const { values } = parseArgs({
  options: { 'hub-url': { type: 'string' }, slots: { type: 'string', default: '1' } },
});
const hubUrl = values['hub-url'];
const token = process.env.WARREN_BENCH_RUNNER_TOKEN;
if (!hubUrl || !token) throw new Error('noop-runner needs --hub-url and WARREN_BENCH_RUNNER_TOKEN');
const slots = Number(values.slots);
// why: the hub's maximum; an idle runner then costs one request per 30 s, as a real one does.
const pollWaitMs = 30_000;
// why: after a failed claim, wait a little so that a broken hub is not hammered in a tight loop.
const claimRetryDelayMs = 100;

const client = createHubClient({ baseUrl: hubUrl, token });
const recorder = createWorkerRecorder();
const stopping = new AbortController();
const result = {
  branch: 'warren/bench-no-op',
  baseBranch: 'main',
  baseSha: '0'.repeat(40),
  changedFiles: [],
  pushed: false,
};

let active = 0;
let slotFreed: (() => void) | undefined;

async function complete(work: ClaimedWork): Promise<void> {
  try {
    await client.attempts.complete(work.attempt.id, { leaseToken: work.leaseToken, result });
    recorder.completed(work.task.id, wallClockMs());
  } catch (error) {
    if (!stopping.signal.aborted) recorder.failed(error);
  } finally {
    active -= 1;
    slotFreed?.();
  }
}

async function claimLoop(): Promise<void> {
  while (!stopping.signal.aborted) {
    const freeSlots = slots - active;
    if (freeSlots <= 0) {
      await new Promise<void>((resolve) => (slotFreed = resolve));
      slotFreed = undefined;
      continue;
    }
    let claims: ClaimedWork[];
    try {
      claims = await client.runner.claim(
        { limit: freeSlots, waitMs: pollWaitMs },
        { signal: stopping.signal },
      );
    } catch (error) {
      if (stopping.signal.aborted) return;
      recorder.failed(error);
      await new Promise((resolve) => setTimeout(resolve, claimRetryDelayMs));
      continue;
    }
    const receivedAt = wallClockMs();
    recorder.claimAnswered();
    for (const work of claims) {
      recorder.claimed(work.task.id, receivedAt);
      active += 1;
      void complete(work);
    }
  }
}

async function stop(): Promise<void> {
  stopping.abort();
  slotFreed?.();
}

exitWithParent(stop);
process.on('message', (message) => {
  const type = messageType(message);
  if (type === 'report') process.send?.(recorder.report());
  else if (type === 'stop') void stop().then(() => process.exit(0));
});

await client.runner.register({ capabilities: ['executor:shell'], slots, version: 'bench' });
const ready: WorkerReady = { type: 'ready' };
process.send?.(ready);
await claimLoop();
