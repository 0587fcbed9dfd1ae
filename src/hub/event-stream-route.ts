/**
 * `GET /v1/events`: the event stream over server-sent events. It first replays stored events after the
 * client's cursor (`Last-Event-ID` header, else `?after=`), page by page, then follows new events as the
 * store announces them. Idle streams cost nothing but a keep-alive comment every 15 s.
 */
import type { Hono } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { eventStreamQuerySchema } from '../core/api.ts';
import { InvalidInputError } from '../core/errors.ts';
import { parseInput } from '../core/parse-input.ts';
import type { EventType } from '../core/types.ts';
import type { Store } from '../store/store.ts';
import type { HubDependencies } from './hub-dependencies.ts';
import type { HubEnv } from './hub-env.ts';

// why: bounds the memory of one replay page while keeping the number of queries for a long replay low.
const replayPageSize = 500;
// why: proxies and load balancers commonly drop connections idle for 30-60 s; 15 s stays well under.
const keepAliveIntervalMs = 15_000;

/** Registers `GET /v1/events`. */
export function registerEventStreamRoute(app: Hono<HubEnv>, dependencies: HubDependencies): void {
  const { store, logger, shutdownSignal } = dependencies;

  app.get('/v1/events', async (c) => {
    const query = parseInput(eventStreamQuerySchema, c.req.query());
    const after = lastEventIdOf(c.req.header('Last-Event-ID')) ?? query.after ?? (await store.lastEventId());
    const filter: EventFilter = { taskId: query.taskId, types: query.types };
    const requestSignal = c.req.raw.signal;

    return streamSSE(c, async (stream) => {
      const stopped = new AbortController();
      const stop = (): void => stopped.abort();
      stream.onAbort(stop);
      requestSignal.addEventListener('abort', stop, { once: true });
      shutdownSignal.addEventListener('abort', stop, { once: true });
      if (requestSignal.aborted || shutdownSignal.aborted) stop();

      let announced = 0;
      let wake: (() => void) | undefined;
      const unsubscribe = store.subscribe((signal) => {
        if (signal.kind !== 'events') return;
        announced = Math.max(announced, signal.lastEventId);
        wake?.();
      });

      const waitForNews = (): Promise<'news' | 'idle' | 'stopped'> =>
        new Promise((resolve) => {
          const finish = (outcome: 'news' | 'idle' | 'stopped'): void => {
            clearTimeout(timer);
            stopped.signal.removeEventListener('abort', onStop);
            wake = undefined;
            resolve(outcome);
          };
          const onStop = (): void => finish('stopped');
          const timer = setTimeout(() => finish('idle'), keepAliveIntervalMs);
          stopped.signal.addEventListener('abort', onStop, { once: true });
          wake = () => finish('news');
        });

      try {
        await stream.write(': connected\n\n');
        let cursor = after;
        let covered = 0;
        while (!stopped.signal.aborted) {
          const target = announced;
          cursor = await sendEventsAfter({ store, stream, filter, cursor, signal: stopped.signal });
          covered = Math.max(target, cursor);
          if (announced > covered) continue;
          const outcome = await waitForNews();
          if (outcome === 'idle') await stream.write(': keep-alive\n\n');
        }
      } catch (error) {
        logger.error({ err: error }, 'event stream failed');
      } finally {
        unsubscribe();
        requestSignal.removeEventListener('abort', stop);
        shutdownSignal.removeEventListener('abort', stop);
      }
    });
  });
}

/** The `Last-Event-ID` header as an event id, or undefined when absent; throws when malformed. */
function lastEventIdOf(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const value = Number(header.trim());
  if (!/^\d+$/.test(header.trim()) || !Number.isSafeInteger(value)) {
    throw new InvalidInputError([
      { field: 'Last-Event-ID', reason: 'header must be an event id (an integer >= 0)' },
    ]);
  }
  return value;
}

/** Which events a stream carries. */
interface EventFilter {
  taskId?: string;
  types?: EventType[];
}

/** Sends every stored event after `cursor` that matches the filter, page by page; returns the new cursor. */
async function sendEventsAfter(options: {
  store: Store;
  stream: SSEStreamingApi;
  filter: EventFilter;
  cursor: number;
  signal: AbortSignal;
}): Promise<number> {
  const { store, stream, filter, signal } = options;
  let cursor = options.cursor;
  for (;;) {
    const events = await store.listEvents({ afterId: cursor, ...filter, limit: replayPageSize });
    for (const event of events) {
      if (signal.aborted) return cursor;
      await stream.writeSSE({ id: String(event.id), event: event.type, data: JSON.stringify(event) });
      cursor = event.id;
    }
    if (events.length < replayPageSize) return cursor;
  }
}
