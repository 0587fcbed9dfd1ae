/**
 * How the hub client sends one request and reads its answer: by default `node:http`/`node:https` with a
 * keep-alive agent, or a given `fetch` (tests inject one).
 *
 * why not fetch by default: undici's `fetch` with an `AbortSignal.timeout` (and `AbortSignal.any` for a
 * caller's signal) cost about 360 µs of CPU per call against about 150 µs for `node:http` with a
 * keep-alive agent (bench: one call at a time to a local server), and a runner makes a few calls per task.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** One request as the client sends it. */
export interface HttpExchange {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path and query string, appended to the hub's base URL. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Time limit: a request that gets no answer within it rejects with RequestTimeoutError. */
  timeoutMs: number;
  /** The caller's signal: aborting it destroys the request, which rejects. */
  signal?: AbortSignal;
}

/** The answer to one request. */
export interface HttpAnswer {
  status: number;
  /** The body as UTF-8 text ('' when empty). */
  text: string;
  /** The `Retry-After` header, when the answer has one (429 and 503 answers). */
  retryAfter?: string;
}

/** Sends one request; rejects on network errors, timeouts and aborts, never on an HTTP status. */
export type HttpTransport = (exchange: HttpExchange) => Promise<HttpAnswer>;

/** The request got no answer within its time limit. */
export class RequestTimeoutError extends Error {
  constructor(timeoutMs: number, options?: ErrorOptions) {
    super(`no answer within ${timeoutMs} ms`, options);
    this.name = 'RequestTimeoutError';
  }
}

// why: an idle pooled connection is closed after 15 s, well before the hub's own keep-alive timeout
// (65 s, `start-hub.ts`), so the hub never closes a connection the client is about to reuse. A server
// announcing a shorter timeout (`Keep-Alive: timeout=N`) gets N - 1 s (Node's agent does that itself).
const idleSocketTimeoutMs = 15_000;
// why: TCP keep-alive probes on a parked claim long poll (up to 30 s silent) keep NAT and firewall state
// alive, which commonly expires after 30-60 s of silence.
const tcpKeepAliveDelayMs = 15_000;
// why: the codes Node gives when a server closed a pooled connection just as a request was written on it.
const staleSocketCodes = new Set(['ECONNRESET', 'EPIPE']);

/**
 * A transport over `node:http` or `node:https` (by the base URL's scheme) with a keep-alive agent of its
 * own. Time limits are socket inactivity timers; the caller's signal is listened to only when given.
 *
 * A request reset on a pooled connection before any answer is sent again at once on another, without
 * using one of the caller's tries: the usual cause is a server closing the idle connection as the request
 * went out, unread. (Should the server have died mid-request instead, this is the retry the caller's own
 * policy would make anyway, minus its delay; the fresh connection then fails like any other.)
 */
export function createNodeTransport(baseUrl: string): HttpTransport {
  const base = new URL(baseUrl);
  const secure = base.protocol === 'https:';
  const agentOptions = {
    keepAlive: true,
    keepAliveMsecs: tcpKeepAliveDelayMs,
    timeout: idleSocketTimeoutMs,
  };
  const agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  const send = secure ? httpsRequest : httpRequest;
  const target = {
    protocol: base.protocol,
    // why: URL keeps the brackets of an IPv6 host; node:http wants the bare address.
    hostname: base.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: base.port === '' ? undefined : Number(base.port),
  };
  const basePath = base.pathname.replace(/\/+$/, '');

  function sendOnce(exchange: HttpExchange): Promise<HttpAnswer | 'stale-socket'> {
    return new Promise((resolve, reject) => {
      const { signal, timeoutMs } = exchange;
      let answered = false;
      let settled = false;
      const finish = (outcome: HttpAnswer | 'stale-socket' | Error): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const request: ClientRequest = send(
        {
          ...target,
          path: basePath + exchange.path,
          method: exchange.method,
          headers: exchange.headers,
          agent,
        },
        (response) => {
          answered = true;
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => {
            const retryAfter = response.headers['retry-after'];
            const status = response.statusCode ?? 0;
            finish(retryAfter === undefined ? { status, text } : { status, text, retryAfter });
          });
          response.on('error', finish);
          // Before 'end', the answer was cut off (or destroyed by a timeout or an abort, whose error the
          // request reports first). why the check: an Error captures a stack, too dear for every answer.
          response.on('close', () => {
            if (!settled) finish(new Error('the connection closed before the whole answer came'));
          });
        },
      );
      const onAbort = (): void => {
        request.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      // why not the `timeout` option: when it equals the agent's own timeout, Node's agent leaves a reused
      // socket's timer as it is, which may be the shorter one a server announced (`Keep-Alive: timeout=N`).
      request.setTimeout(timeoutMs, () => request.destroy(new RequestTimeoutError(timeoutMs)));
      request.on('error', (error: NodeJS.ErrnoException) => {
        const stale = !answered && request.reusedSocket && staleSocketCodes.has(error.code ?? '');
        finish(stale ? 'stale-socket' : error);
      });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
      request.end(exchange.body);
    });
  }

  return async (exchange) => {
    for (;;) {
      const answer = await sendOnce(exchange);
      // why: each stale connection is dropped from the pool as it fails, so this ends on a fresh one.
      if (answer !== 'stale-socket') return answer;
    }
  };
}

/** A transport over a `fetch` implementation, with `AbortSignal.timeout` for the time limit. */
export function createFetchTransport(baseUrl: string, fetchImplementation: typeof fetch): HttpTransport {
  return async ({ method, path, headers, body, timeoutMs, signal: callerSignal }) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
    try {
      const response = await fetchImplementation(baseUrl + path, { method, headers, body, signal });
      const text = await response.text();
      const retryAfter = response.headers.get('retry-after');
      return retryAfter === null
        ? { status: response.status, text }
        : { status: response.status, text, retryAfter };
    } catch (error) {
      if (timeout.aborted && !callerSignal?.aborted)
        throw new RequestTimeoutError(timeoutMs, { cause: error });
      throw error;
    }
  };
}
