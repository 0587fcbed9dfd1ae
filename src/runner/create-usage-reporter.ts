/**
 * The cost ledger's runner side: model usage reported by the executor is batched and sent to the hub,
 * which adds it to the attempt's and task's totals.
 */
import type { Logger } from '../core/logger.ts';
import type { UsageRecordInput } from '../core/usage.ts';
import { USAGE_LIMITS } from '../core/usage.ts';

/** Options of {@link createUsageReporter}. */
export interface UsageReporterOptions {
  /** Sends one batch. A throw keeps the batch for the next flush (a lost lease should throw LeaseLostError). */
  send(records: UsageRecordInput[]): Promise<void>;
  logger: Logger;
  /** Flush at least this often while records wait. Default 1 s. */
  flushIntervalMs?: number;
}

/** Batches usage records of one attempt. */
export interface UsageReporter {
  add(record: UsageRecordInput): void;
  /** Sends what is queued; resolves when sent or kept for later. */
  flush(): Promise<void>;
  /** Stops the timer; queued records are dropped (after a last `flush` by the caller). */
  close(): void;
}

// why: usage is money; a second's delay keeps totals current for watchers at one request per second.
const defaultFlushIntervalMs = 1_000;
// why: if the hub is unreachable for long, keep the newest ten thousand calls rather than grow forever.
const maxQueued = 10_000;

/** Creates the usage batcher of one attempt. */
export function createUsageReporter(options: UsageReporterOptions): UsageReporter {
  let queue: UsageRecordInput[] = [];
  let sending: Promise<void> = Promise.resolve();
  let closed = false;
  const timer = setInterval(() => {
    if (queue.length > 0) void flush();
  }, options.flushIntervalMs ?? defaultFlushIntervalMs);
  timer.unref();

  function flush(): Promise<void> {
    sending = sending.then(async () => {
      while (queue.length > 0) {
        const batch = queue.slice(0, USAGE_LIMITS.recordsPerRequest);
        try {
          await options.send(batch);
          queue = queue.slice(batch.length);
        } catch (error) {
          options.logger.warn(
            { err: error, records: queue.length },
            'reporting model usage failed; will retry',
          );
          return;
        }
      }
    });
    return sending;
  }

  return {
    add(record) {
      if (closed) return;
      queue.push(record);
      if (queue.length > maxQueued) queue = queue.slice(-maxQueued);
    },
    flush,
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
