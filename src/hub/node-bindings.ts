/**
 * The Node request and response behind a Hono context, when the hub is served by `@hono/node-server`.
 *
 * Reading a request through Hono's web `Request` (headers, body, abort signal) makes `@hono/node-server`
 * build a full `Request` with a `ReadableStream` body and an `AbortController`, which costs more than
 * answering a small request. The hot paths read Node's objects directly and fall back to the web
 * `Request` when there are none (in-process `app.request()` calls, as in tests).
 */
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';

/** The Node request and response of `c`, or undefined when the request did not come through Node's server. */
export function nodeBindingsOf(c: Context): HttpBindings | undefined {
  // why: `c.env` is undefined for `app.request()` calls, whatever the declared bindings say.
  const bindings = c.env as Partial<HttpBindings> | undefined;
  return bindings?.incoming && bindings.outgoing ? (bindings as HttpBindings) : undefined;
}

/** A request header (`name` in lower case), read from Node's parsed headers when there are some. */
export function requestHeaderOf(c: Context, name: string): string | undefined {
  const bindings = nodeBindingsOf(c);
  if (!bindings) return c.req.header(name);
  const value = bindings.incoming.headers[name];
  // why: Node keeps repeated headers of a few kinds (set-cookie) as arrays; Headers.get joins them so.
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * An abort signal that fires when the client goes away before the answer is sent. Creating one costs an
 * AbortController, so call it only where a request waits (a parked long poll).
 */
export function clientGoneSignalOf(c: Context): AbortSignal {
  const bindings = nodeBindingsOf(c);
  if (!bindings) return c.req.raw.signal;
  const { outgoing } = bindings;
  const controller = new AbortController();
  const abort = (): void => {
    if (!outgoing.writableFinished) controller.abort(new Error('the client closed the connection'));
  };
  // why: not `incoming.destroyed`, which is true as soon as the body has been read.
  if (outgoing.destroyed) abort();
  // why: 'close' on the response fires when it is finished or when the connection is gone, never twice.
  else outgoing.once('close', abort);
  return controller.signal;
}
