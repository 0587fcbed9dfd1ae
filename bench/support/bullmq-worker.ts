/**
 * The BullMQ side of the throughput comparison: one BullMQ Worker whose processor does nothing, speaking
 * the same IPC protocol as `noop-runner.ts` (`worker-messages.ts`). A job counts as claimed when the
 * processor is called and as completed when the worker's `completed` event fires (after BullMQ has moved
 * it to the completed set), the analogues of a Warren claim answer and a completion answer.
 *
 * Usage: `node --import tsx bench/support/bullmq-worker.ts --redis-url URL --queue NAME --concurrency N`.
 */
import { Worker } from 'bullmq';
import { parseArgs } from 'node:util';
import { exitWithParent, messageType } from './child-processes.ts';
import { wallClockMs } from './figures.ts';
import { createWorkerRecorder, type WorkerReady } from './worker-messages.ts';

const { values } = parseArgs({
  options: {
    'redis-url': { type: 'string' },
    queue: { type: 'string' },
    concurrency: { type: 'string', default: '1' },
  },
});
const redisUrl = values['redis-url'];
const queueName = values.queue;
if (!redisUrl || !queueName) throw new Error('bullmq-worker needs --redis-url and --queue');
const url = new URL(redisUrl);

const recorder = createWorkerRecorder();
const worker = new Worker(
  queueName,
  async (job) => {
    recorder.claimed(job.id ?? '', wallClockMs());
  },
  {
    connection: {
      host: url.hostname,
      port: Number(url.port || 6379),
      // why: BullMQ refuses a blocking connection that gives up on commands; it must wait for Redis.
      maxRetriesPerRequest: null,
    },
    concurrency: Number(values.concurrency),
  },
);
worker.on('completed', (job) => recorder.completed(job.id ?? '', wallClockMs()));
worker.on('failed', (_job, error) => recorder.failed(error));
worker.on('error', (error) => recorder.failed(error));

async function stop(): Promise<void> {
  // why: `force` does not wait for jobs in flight; the bench only stops workers once everything is done.
  await worker.close(true);
}

exitWithParent(stop);
process.on('message', (message) => {
  const type = messageType(message);
  if (type === 'report') process.send?.(recorder.report());
  else if (type === 'stop') void stop().finally(() => process.exit(0));
});

await worker.waitUntilReady();
const ready: WorkerReady = { type: 'ready' };
process.send?.(ready);
