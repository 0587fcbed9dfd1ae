/**
 * A lightweight stand-in for a runner, for claim races: `node --import tsx test/support/claim-worker.ts`.
 *
 * Environment: `WARREN_HUB_URL`, `WARREN_RUNNER_TOKEN`. It registers, prints `ready`, then long-polls for
 * 1 to 4 tasks at a time and completes each at once with a minimal result, printing one line per task:
 * `completed <taskId> <attemptId>`, or `error <taskId> <attemptId> <message>` when the hub refuses.
 * It stops when its stdin ends (the test closes it) and exits 0.
 */
import { createHubClient } from '../../src/client/hub-client.ts';
import type { ClaimedWork } from '../../src/core/api.ts';

// why: the worker is slots 4 and claims 1..4 at a time so claims of different sizes race each other.
const slots = 4;
// why: short polls keep the worker responsive to its stop signal while still exercising the long poll.
const pollWaitMs = 1_000;

const hubUrl = process.env.WARREN_HUB_URL ?? '';
const token = process.env.WARREN_RUNNER_TOKEN ?? '';
const client = createHubClient({ baseUrl: hubUrl, token });
const stop = new AbortController();
process.stdin.on('end', () => stop.abort());
process.stdin.on('close', () => stop.abort());
process.stdin.resume();

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

await client.runner.register({ capabilities: ['executor:shell'], slots });
say('ready');

async function complete(work: ClaimedWork): Promise<void> {
  try {
    await client.attempts.complete(work.attempt.id, {
      leaseToken: work.leaseToken,
      result: { branch: 'claim-worker', baseBranch: 'main', baseSha: '0', changedFiles: [], pushed: false },
    });
    say(`completed ${work.task.id} ${work.attempt.id}`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    say(`error ${work.task.id} ${work.attempt.id} ${message.replace(/\s+/g, ' ')}`);
  }
}

while (!stop.signal.aborted) {
  const limit = 1 + Math.floor(Math.random() * slots);
  let claims: ClaimedWork[];
  try {
    claims = await client.runner.claim({ limit, waitMs: pollWaitMs }, { signal: stop.signal });
  } catch (error) {
    if (stop.signal.aborted) break;
    say(`claim-error ${error instanceof Error ? error.message.replace(/\s+/g, ' ') : String(error)}`);
    continue;
  }
  await Promise.all(claims.map((work) => complete(work)));
}
process.exit(0);
