/**
 * Reading a request's JSON body within the route's byte limit: a body over the limit is answered 413, and
 * malformed JSON a 400 that names the body.
 *
 * Under Node's server the bytes are read straight from the `IncomingMessage` (no web `Request` or
 * `ReadableStream` is built); in-process requests (`app.request()`) are read from the web `Request`.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { InvalidInputError, WarrenError } from '../core/errors.ts';
import type { HubEnv } from './hub-env.ts';
import { nodeBindingsOf } from './node-bindings.ts';

/**
 * The parsed JSON body of the request. An empty body is `emptyValue` when given, else refused.
 * Throws WarrenError `payload_too_large` when the body is over the route's limit (`bodyLimitBytes`, set by
 * the hub's `/v1/*` middleware, which also refuses a declared `Content-Length` over it) and
 * InvalidInputError when it is not JSON.
 */
export async function readJsonBody(c: Context<HubEnv>, emptyValue?: unknown): Promise<unknown> {
  const maxBytes = c.get('bodyLimitBytes');
  const bindings = nodeBindingsOf(c);
  let text = bindings
    ? await readIncoming(bindings.incoming, maxBytes)
    : await readWebBody(c.req.raw, maxBytes);
  // why: a web Request's text() drops a UTF-8 byte order mark; JSON.parse would refuse it.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') {
    if (emptyValue !== undefined) return emptyValue;
    throw new InvalidInputError([{ field: '', reason: 'request body is empty; send a JSON object' }]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const detail = error instanceof SyntaxError ? `: ${error.message}` : '';
    throw new InvalidInputError([{ field: '', reason: `request body is not valid JSON${detail}` }], {
      cause: error,
    });
  }
}

/** The error answering a body over `maxBytes` (413). */
export function payloadTooLargeError(maxBytes: number): WarrenError {
  return new WarrenError('payload_too_large', `request body is larger than the limit of ${maxBytes} bytes`);
}

/**
 * Reads a Node request's body as UTF-8, refusing it as soon as more than `maxBytes` have arrived. After a
 * refusal the rest is ignored (and drained, or the connection closed, by @hono/node-server after the
 * answer). The listeners are inline: named closures cost a `__name` call each under tsx.
 */
function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<string> {
  if (incoming.readableEnded) return Promise.resolve('');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    incoming.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > maxBytes) {
        settled = true;
        reject(payloadTooLargeError(maxBytes));
      } else {
        chunks.push(chunk);
      }
    });
    incoming.on('end', () => {
      if (settled) return;
      settled = true;
      resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString('utf8'));
    });
    // why: 'error' or 'close' before 'end' means the client went away mid-body.
    incoming.on('error', () => {
      if (settled) return;
      settled = true;
      reject(cutOffError());
    });
    incoming.on('close', () => {
      if (settled) return;
      settled = true;
      reject(cutOffError());
    });
  });
}

function cutOffError(): InvalidInputError {
  return new InvalidInputError([{ field: '', reason: 'request body was cut off before its end' }]);
}

/** Reads a web Request's body as UTF-8, refusing it as soon as more than `maxBytes` have arrived. */
async function readWebBody(request: Request, maxBytes: number): Promise<string> {
  if (!request.body) return '';
  const reader = (request.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw payloadTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
