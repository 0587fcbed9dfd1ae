import type { Logger } from '../core/logger.ts';
import type { LogEntry, LogStream } from '../core/types.ts';

/** Options of {@link createAttemptLog}. */
export interface AttemptLogOptions {
  /** Sends one batch to the hub. Errors are logged and the batch dropped: logs never stop an attempt. */
  send(entries: LogEntry[]): Promise<void>;
  logger: Logger;
  /** Flush at least this often while there is something to send. Default 200 ms. */
  flushIntervalMs?: number;
  /** Flush as soon as this many bytes are waiting. Default 32 KiB. */
  flushBytes?: number;
  /** Most stdout/stderr bytes sent for the attempt; after that one truncation notice. Default 1 MiB. */
  maxBytes?: number;
}

/** The log of one attempt, sent to the hub in batches. */
export interface AttemptLog {
  /** Queues process output. */
  write(stream: LogStream, text: string): void;
  /** Queues one line of the runner's own narration (also logged locally); never truncated. */
  system(line: string): void;
  /** Sends everything queued so far and resolves when it has been sent (or dropped). */
  flush(): Promise<void>;
  /** Stops the timer after a last flush; later writes are ignored. */
  close(): Promise<void>;
  /** Stops the timer and drops whatever is queued (the lease is gone; sending would be refused). */
  discard(): void;
}

// why: 200 ms keeps the dashboard's live log feeling live at no more than five requests a second.
const defaultFlushIntervalMs = 200;
// why: 32 KiB batches amortise the request cost of a chatty process without delaying its output much.
const defaultFlushBytes = 32 * 1024;
// why: 1 MiB of log per attempt is more than anyone reads; a flood beyond that only costs storage.
const defaultMaxBytes = 1024 * 1024;
// why: the hub accepts at most 200 entries of 64 KiB characters per request; 16 KiB entries stay far below.
const maxEntryLength = 16 * 1024;
const maxEntriesPerRequest = 200;

/** Creates the batched log of one attempt. */
export function createAttemptLog(options: AttemptLogOptions): AttemptLog {
  const flushIntervalMs = options.flushIntervalMs ?? defaultFlushIntervalMs;
  const flushBytes = options.flushBytes ?? defaultFlushBytes;
  const maxBytes = options.maxBytes ?? defaultMaxBytes;
  let queue: LogEntry[] = [];
  let queuedBytes = 0;
  let outputBytes = 0;
  let truncated = false;
  let closed = false;
  let sending: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  const enqueue = (stream: LogStream, text: string) => {
    const last = queue.at(-1);
    if (last && last.stream === stream && last.text.length + text.length <= maxEntryLength) {
      last.text += text;
    } else {
      for (let start = 0; start < text.length; start += maxEntryLength) {
        queue.push({ stream, text: text.slice(start, start + maxEntryLength) });
      }
    }
    queuedBytes += Buffer.byteLength(text);
    if (queuedBytes >= flushBytes) void flush();
    else timer ??= setTimeout(() => void flush(), flushIntervalMs);
  };

  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const batch = queue;
    queue = [];
    queuedBytes = 0;
    if (batch.length === 0) return sending;
    // why: one request at a time keeps the entries in order on the hub.
    sending = sending.then(async () => {
      for (let start = 0; start < batch.length; start += maxEntriesPerRequest) {
        try {
          await options.send(batch.slice(start, start + maxEntriesPerRequest));
        } catch (error) {
          options.logger.warn({ err: error }, 'sending attempt logs to the hub failed; dropping them');
        }
      }
    });
    return sending;
  };

  return {
    write(stream, text) {
      if (closed || truncated || text === '') return;
      const bytes = Buffer.byteLength(text);
      if (outputBytes + bytes > maxBytes) {
        truncated = true;
        enqueue(
          'system',
          `\n[… log truncated after ${outputBytes} bytes of output; the rest is not sent …]\n`,
        );
        return;
      }
      outputBytes += bytes;
      enqueue(stream, text);
    },
    system(line) {
      if (closed) return;
      options.logger.info({}, line);
      enqueue('system', `${line}\n`);
    },
    flush,
    async close() {
      await flush();
      closed = true;
    },
    discard() {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      queue = [];
      queuedBytes = 0;
    },
  };
}
