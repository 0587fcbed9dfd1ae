/**
 * A runner stand-in for chaos tests: `node --import tsx test/support/chaos-worker.ts`. Unlike
 * `claim-worker.ts` it holds its work for a while, so leases, heartbeats and revocations matter, and it
 * never gives up on a hub that is down or cannot reach its database.
 *
 * Environment: `WARREN_HUB_URL`, `WARREN_RUNNER_TOKEN`, `WARREN_WORKER_SEED` (its work durations).
 * It registers (retrying until the hub answers), prints `ready`, then keeps its slots busy: it claims up
 * to its free slots with a short long poll and "works" on each task for a random 50 to 600 ms, or one
 * task in ten for 3.5 to 5 s (longer than a test lease, so only heartbeats keep it), heartbeating the
 * attempt every `heartbeatIntervalMs` from its registration and the runner too. Then it completes the
 * attempt. One line per outcome on stdout:
 *
 * - `claimed <taskId> <attemptId>`
 * - `completed <taskId> <attemptId>`: only after the hub acknowledged the completion (2xx).
 * - `lease-lost <taskId> <attemptId> <message>`: a heartbeat or the completion was refused (409): the
 *   attempt is no longer this worker's (expired, or its completion already counted in a retry).
 * - `revoked <taskId> <attemptId>`: the runner heartbeat said the attempt is no longer ours.
 * - `error <taskId> <attemptId> <message>`: the completion failed otherwise (hub unreachable after retries).
 * - `claim-error <message>`, `register-error <message>`.
 *
 * It stops when its stdin ends (the test closes it) and exits 0.
 */
import { createHubClient } from '../../src/client/hub-client.ts';
import type { ClaimedWork } from '../../src/core/api.ts';
import { WarrenError } from '../../src/core/errors.ts';
import { createSeededRandom } from './seeded-random.ts';

const slots = 4;
// why: short polls keep the worker responsive to its stop signal while still exercising the long poll.
const pollWaitMs = 1_000;
// why: a claim that failed (hub down, database blackholed) is tried again soon, but not in a tight loop.
const claimErrorPauseMs = 200;
const longWorkShare = 0.1;

const hubUrl = process.env.WARREN_HUB_URL ?? '';
const token = process.env.WARREN_RUNNER_TOKEN ?? '';
const random = createSeededRandom(Number(process.env.WARREN_WORKER_SEED ?? '1'));
const client = createHubClient({ baseUrl: hubUrl, token });
const stop = new AbortController();
process.stdin.on('end', () => stop.abort());
process.stdin.on('close', () => stop.abort());
process.stdin.resume();

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const oneLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ');
const isLeaseLost = (error: unknown): boolean =>
  WarrenError.isInstance(error) && (error.code === 'lease_lost' || error.code === 'invalid_transition');
const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    if (stop.signal.aborted) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      stop.signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    stop.signal.addEventListener('abort', onAbort, { once: true });
  });

let heartbeatIntervalMs = 1_000;
for (;;) {
  try {
    const registered = await client.runner.register({ capabilities: ['executor:shell'], slots });
    heartbeatIntervalMs = registered.config.heartbeatIntervalMs;
    break;
  } catch (error) {
    if (stop.signal.aborted) process.exit(0);
    say(`register-error ${oneLine(error)}`);
    await sleep(claimErrorPauseMs);
  }
}
say('ready');

/** Attempts held now, with a flag the runner heartbeat sets when the hub revokes one. */
const held = new Map<string, { revoked: boolean }>();

async function work(claimed: ClaimedWork): Promise<void> {
  const { task, attempt, leaseToken } = claimed;
  const state = { revoked: false };
  held.set(attempt.id, state);
  say(`claimed ${task.id} ${attempt.id}`);
  const durationMs = random.chance(longWorkShare) ? random.integer(3_500, 5_000) : random.integer(50, 600);
  const doneAt = Date.now() + durationMs;
  try {
    while (Date.now() < doneAt && !stop.signal.aborted) {
      await sleep(Math.min(heartbeatIntervalMs, doneAt - Date.now()));
      if (state.revoked) {
        say(`revoked ${task.id} ${attempt.id}`);
        return;
      }
      if (Date.now() >= doneAt) break;
      try {
        await client.attempts.heartbeat(attempt.id, { leaseToken });
      } catch (error) {
        if (isLeaseLost(error)) {
          say(`lease-lost ${task.id} ${attempt.id} ${oneLine(error)}`);
          return;
        }
        // Unreachable for now: keep working; the lease may still hold, the completion will tell.
      }
    }
    if (stop.signal.aborted) return;
    try {
      await client.attempts.complete(attempt.id, {
        leaseToken,
        result: { branch: 'chaos', baseBranch: 'main', baseSha: '0', changedFiles: [], pushed: false },
      });
      say(`completed ${task.id} ${attempt.id}`);
    } catch (error) {
      say(`${isLeaseLost(error) ? 'lease-lost' : 'error'} ${task.id} ${attempt.id} ${oneLine(error)}`);
    }
  } finally {
    held.delete(attempt.id);
  }
}

/** The runner heartbeat: tells the hub what this worker holds and learns what was revoked. */
async function heartbeatRunner(): Promise<void> {
  while (!stop.signal.aborted) {
    await sleep(heartbeatIntervalMs);
    if (stop.signal.aborted) break;
    try {
      const answer = await client.runner.heartbeat({ attemptIds: [...held.keys()] });
      for (const id of answer.revokedAttemptIds) {
        const state = held.get(id);
        if (state) state.revoked = true;
      }
    } catch {
      // The hub is unreachable; the next beat tries again.
    }
  }
}

const beating = heartbeatRunner();
const active = new Set<Promise<void>>();
while (!stop.signal.aborted) {
  const free = slots - active.size;
  if (free === 0) {
    await Promise.race(active);
    continue;
  }
  let claims: ClaimedWork[];
  try {
    claims = await client.runner.claim({ limit: free, waitMs: pollWaitMs }, { signal: stop.signal });
  } catch (error) {
    if (stop.signal.aborted) break;
    say(`claim-error ${oneLine(error)}`);
    await sleep(claimErrorPauseMs);
    continue;
  }
  for (const claimed of claims) {
    const running: Promise<void> = work(claimed).finally(() => active.delete(running));
    active.add(running);
  }
}
await beating;
process.exit(0);
