/**
 * Request ids, made only when something needs one (an error answer, a log line): generating and echoing
 * one on every request cost more than a whole answer's routing.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import type { HubEnv } from './hub-env.ts';
import { requestHeaderOf } from './node-bindings.ts';

/** The header a client may send its own request id in, and the hub echoes on error answers. */
export const REQUEST_ID_HEADER = 'X-Request-Id';
// why: the client's own id is echoed into logs and answers; a bound and a plain alphabet keep that safe.
const maxClientIdLength = 255;
const clientIdPattern = /^[\w\-=]+$/;

/**
 * The request's id: the client's `X-Request-Id` when it is plain (word characters, `-` and `=`, at most
 * 255), else a random UUID. Made on first use and the same for the rest of the request.
 */
export function requestIdOf(c: Context<HubEnv>): string {
  let id = c.get('requestId');
  if (id === undefined) {
    const sent = requestHeaderOf(c, 'x-request-id');
    id = sent && sent.length <= maxClientIdLength && clientIdPattern.test(sent) ? sent : randomUUID();
    c.set('requestId', id);
  }
  return id;
}
