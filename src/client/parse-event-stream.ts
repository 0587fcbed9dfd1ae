/** One message of a `text/event-stream`, as the SSE specification defines its fields. */
export interface ServerSentEvent {
  /** The `event:` field; `message` when absent. */
  event: string;
  /** The `data:` lines joined with newlines. */
  data: string;
  /** The `id:` field of this message, if it had one. */
  id?: string;
  /** The `retry:` field: the reconnection delay the server asks for, in ms. */
  retry?: number;
}

// why: a server that never sends a line break would otherwise grow the line buffer without bound.
const maxLineLength = 4 * 1024 * 1024;

/**
 * Parses a `text/event-stream` body into messages (WHATWG HTML "server-sent events" parsing rules:
 * comment lines are skipped, `data:` lines accumulate, a blank line dispatches). Ends when the body ends.
 */
export async function* parseEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder('utf-8');
  const reader = body.getReader();
  let buffer = '';
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  let retry: number | undefined;
  // why: a CR at the end of one chunk may be the first half of a CRLF split across chunks.
  let pendingCarriageReturn = false;

  const take = (line: string): ServerSentEvent | undefined => {
    if (line === '') {
      const message: ServerSentEvent | undefined =
        data.length > 0 || id !== undefined
          ? { event: event || 'message', data: data.join('\n'), id, retry }
          : undefined;
      data = [];
      event = '';
      id = undefined;
      retry = undefined;
      return message?.data === '' && message.id === undefined ? undefined : message;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
    return undefined;
  };

  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let text = decoder.decode(value, { stream: true });
      if (pendingCarriageReturn && text.startsWith('\n')) text = text.slice(1);
      pendingCarriageReturn = text.endsWith('\r');
      buffer += text;
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop() ?? '';
      if (buffer.length > maxLineLength) throw new Error('event stream line longer than 4 MiB');
      for (const line of lines) {
        const message = take(line);
        if (message) yield message;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
