/**
 * How the hub client answers 429 (rate limited): it waits for `Retry-After` and sends the call again, and
 * says so clearly when it gives up. Against a scripted `node:http` server; the hub's own 429 is tested in
 * `src/hub/rate-limits.test.ts`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RateLimitedError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import type { WarrenEvent } from '../core/types.ts';
import { createHubClient } from './hub-client.ts';
import { parseRetryAfter } from './parse-retry-after.ts';

const fastRetry = { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 };

/** The hub's 429 body for a runner's claim. */
const rateLimitedBody = {
  error: {
    code: 'rate_limited',
    message: 'runner run_7 is over its rate limit: runner.claim costs 2; retry in 1 s',
  },
};

describe('the hub client on 429', () => {
  let server: Server | undefined;
  const received: Array<{ method: string; url: string }> = [];

  /** Serves the answers in turn (the last one for every later request). */
  async function serve(answers: Array<(response: ServerResponse) => void>): Promise<string> {
    received.length = 0;
    server = createServer((request: IncomingMessage, response) => {
      request.resume();
      request.on('end', () => {
        received.push({ method: request.method ?? '', url: request.url ?? '' });
        answers[Math.min(received.length, answers.length) - 1]!(response);
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const tooMany =
    (retryAfter: string | undefined, body: unknown = rateLimitedBody) =>
    (response: ServerResponse): void => {
      response.writeHead(429, {
        'content-type': 'application/json',
        ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }),
      });
      response.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
  const ok =
    (body: unknown) =>
    (response: ServerResponse): void => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };

  function recordingLogger(): { logger: Logger; delays: number[] } {
    const delays: number[] = [];
    return { logger: { ...silentLogger, warn: (fields) => delays.push(fields.delayMs as number) }, delays };
  }

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
  });

  it('sends any call again after Retry-After, even a create (a 429 is refused before any work)', async () => {
    const url = await serve([tooMany('0'), ok({ task: { id: 'tsk_1' }, created: true })]);
    const { logger, delays } = recordingLogger();
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry, logger });
    const created = await client.tasks.create({ title: 't', repo: '/r', executorInput: { run: 'true' } });
    expect(created).toEqual({ task: { id: 'tsk_1' }, created: true });
    expect(received.map((request) => `${request.method} ${request.url}`)).toEqual([
      'POST /v1/tasks',
      'POST /v1/tasks',
    ]);
    expect(delays).toEqual([0]);
  });

  it('waits at least Retry-After, with at most a fifth more, whatever its own backoff says', async () => {
    const url = await serve([tooMany('1'), ok({ claims: [] })]);
    const { logger, delays } = recordingLogger();
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry, logger });
    expect(await client.runner.claim({ waitMs: 0 })).toEqual([]);
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(1_000);
    expect(delays[0]).toBeLessThanOrEqual(1_200);
  });

  it("throws the hub's RateLimitedError, saying how often it was refused, when every try is", async () => {
    const url = await serve([tooMany('0')]);
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry });
    const error = await client.runner.claim({ waitMs: 0 }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({
      code: 'rate_limited',
      principal: 'runner',
      runnerId: 'run_7',
      action: 'runner.claim',
      cost: 2,
    });
    expect((error as Error).message).toBe(
      `runner run_7 is over its rate limit: runner.claim costs 2; retry in 1 s (POST /v1/runner/claim refused 3 times by the hub at ${url}; its limits are the rateLimits hub settings)`,
    );
    expect(received).toHaveLength(3);
  });

  it('gives up at once when the wait asked for is over a minute', async () => {
    const url = await serve([tooMany('3600')]);
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry });
    const error = await client.tasks.list().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterSeconds).toBe(3_600);
    expect((error as Error).message).toMatch(/refused 1 time by the hub/);
    expect(received).toHaveLength(1);
  });

  it('backs off on its own policy for a 429 without Retry-After (a proxy), keeping its message', async () => {
    const url = await serve([tooMany(undefined, 'slow down')]);
    const { logger, delays } = recordingLogger();
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry, logger });
    const error = await client.tasks.list().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as Error).message).toMatch(
      /^hub answered GET \/v1\/tasks with HTTP 429 \(GET \/v1\/tasks refused 3 times/,
    );
    expect(delays).toHaveLength(2);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(fastRetry.maxDelayMs);
  });

  it('reconnects the event stream after a 429', async () => {
    const event: WarrenEvent = {
      id: 1,
      type: 'task.created',
      at: new Date(0).toISOString(),
      data: {},
    } as never;
    const url = await serve([
      tooMany('0'),
      (response) => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write(`id: 1\nevent: task.created\ndata: ${JSON.stringify(event)}\n\n`);
      },
    ]);
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry });
    const controller = new AbortController();
    const seen: number[] = [];
    for await (const received of client.events({ signal: controller.signal })) {
      seen.push(received.id);
      controller.abort();
    }
    expect(seen).toEqual([1]);
    expect(received).toHaveLength(2);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates, and nothing else', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:02 GMT', now)).toBe(2);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
  });
});
