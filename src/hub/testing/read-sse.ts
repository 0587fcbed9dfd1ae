/**
 * Reading server-sent events from a response body in tests.
 */

/** One parsed SSE message. */
export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/** Reads SSE messages from a streaming body; comments are skipped. */
export interface SseReader {
  /** Reads until `count` more messages arrived; returns them. */
  next(count: number): Promise<SseMessage[]>;
  /** Reads until the stream ends; returns every message not yet read. */
  rest(): Promise<SseMessage[]>;
  /** Cancels the stream (the client goes away). */
  cancel(): Promise<void>;
}

/** Wraps a response body in an {@link SseReader}. */
export function readSse(body: ReadableStream<Uint8Array>): SseReader {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const ready: SseMessage[] = [];

  function parseFrames(): void {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end < 0) return;
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const message: SseMessage = { data: '' };
      const dataLines: string[] = [];
      for (const line of frame.split('\n')) {
        if (line.startsWith(':')) continue;
        const separator = line.indexOf(':');
        const field = separator < 0 ? line : line.slice(0, separator);
        const value = separator < 0 ? '' : line.slice(separator + 1).replace(/^ /, '');
        if (field === 'id') message.id = value;
        else if (field === 'event') message.event = value;
        else if (field === 'data') dataLines.push(value);
      }
      if (dataLines.length === 0) continue;
      message.data = dataLines.join('\n');
      ready.push(message);
    }
  }

  return {
    async next(count) {
      while (ready.length < count) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`stream ended after ${ready.length} of ${count} messages`);
        buffer += decoder.decode(value, { stream: true });
        parseFrames();
      }
      return ready.splice(0, count);
    },
    async rest() {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return ready.splice(0);
        buffer += decoder.decode(value, { stream: true });
        parseFrames();
      }
    },
    async cancel() {
      await reader.cancel();
    },
  };
}
