/**
 * A Warren runner that does nothing: it registers, then, while it has no work, long-polls for as many
 * tasks as it has slots; each claimed attempt it reports complete at once with a minimal TaskResult, and
 * that same request claims its next work (`claim: { limit }`, the slots free once the attempt is done)
 * without waiting. No worktree, no executor, no git. Unlike the real runner (`src/runner/start-runner.ts`)
 * it keeps no long poll outstanding while it holds work: completions bring the next tasks.
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
let idle: (() => void) | undefined;

/** Takes claimed work: records it and completes each at once. */
function take(claims: ClaimedWork[]): void {
  const receivedAt = wallClockMs();
  for (const work of claims) {
    recorder.claimed(work.task.id, receivedAt);
    active += 1;
    void complete(work);
  }
}

/**
 * Completes the attempt and, in the same request, claims as much work as the slots free once it is done
 * (this one's included), as the hub counts them; the hub caps the claim by the runner's free slots.
 */
async function complete(work: ClaimedWork): Promise<void> {
  try {
    // why at least 1: `active` still counts attempts whose completion has committed but whose answer is on
    // its way, while other answers already brought their successors, so it can exceed the slots for a
    // moment; the hub caps the claim by the free slots it counts, so asking for one is always safe (and a
    // limit of 0 is refused, which would leave this attempt uncompleted).
    const freeSlots = Math.max(1, slots - active + 1);
    recorder.requestSent();
    const { claims } = await client.attempts.completeAndClaim(work.attempt.id, {
      leaseToken: work.leaseToken,
      result,
      claim: { limit: freeSlots },
    });
    recorder.completed(work.task.id, wallClockMs());
    recorder.claimAnswered();
    active -= 1;
    take(claims);
  } catch (error) {
    active -= 1;
    if (!stopping.signal.aborted) recorder.failed(error);
  } finally {
    if (active === 0) idle?.();
  }
}

/** While the runner has no work, long-polls for some; completions claim the rest. */
async function claimLoop(): Promise<void> {
  while (!stopping.signal.aborted) {
    if (active > 0) {
      await new Promise<void>((resolve) => (idle = resolve));
      idle = undefined;
      continue;
    }
    let claims: ClaimedWork[];
    try {
      recorder.requestSent();
      claims = await client.runner.claim({ limit: slots, waitMs: pollWaitMs }, { signal: stopping.signal });
    } catch (error) {
      if (stopping.signal.aborted) return;
      recorder.failed(error);
      await new Promise((resolve) => setTimeout(resolve, claimRetryDelayMs));
      continue;
    }
    recorder.claimAnswered();
    take(claims);
  }
}

async function stop(): Promise<void> {
  stopping.abort();
  idle?.();
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
