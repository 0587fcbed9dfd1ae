import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidInputError,
  LeaseLostError,
  NotFoundError,
  TaskNotFoundError,
  UnauthorizedError,
  UnavailableError,
} from '../core/errors.ts';
import type { WarrenEvent } from '../core/types.ts';
import { createHubClient } from './hub-client.ts';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (request: Received, response: ServerResponse) => void;

const fastRetry = { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 };

describe('createHubClient', () => {
  let server: Server | undefined;
  const received: Received[] = [];

  async function serve(handler: Handler): Promise<string> {
    received.length = 0;
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const entry = {
          method: request.method ?? '',
          url: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        received.push(entry);
        handler(entry, response);
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  function json(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  }

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
  });

  it('sends the bearer token and JSON body and returns the typed answer', async () => {
    const url = await serve((_request, response) =>
      json(response, 200, { runner: { id: 'run_1' }, config: { leaseMs: 1000, heartbeatIntervalMs: 300 } }),
    );
    const client = createHubClient({ baseUrl: `${url}/`, token: 'secret-token', retry: fastRetry });
    const answer = await client.runner.register({ capabilities: ['executor:shell'], slots: 2 });
    expect(answer.config.heartbeatIntervalMs).toBe(300);
    expect(received[0]).toMatchObject({ method: 'POST', url: '/v1/runner/register' });
    expect(received[0]!.headers.authorization).toBe('Bearer secret-token');
    expect(JSON.parse(received[0]!.body)).toEqual({ capabilities: ['executor:shell'], slots: 2 });
  });

  it('rebuilds LeaseLostError from a 409 lease_lost answer', async () => {
    const url = await serve((_request, response) =>
      json(response, 409, {
        error: { code: 'lease_lost', message: 'lease on attempt att_7 is no longer held (cancelled)' },
      }),
    );
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry });
    const error = await client.attempts
      .heartbeat('att_7', { leaseToken: 'lease_x' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LeaseLostError);
    expect(error).toMatchObject({ attemptId: 'att_7', reason: 'cancelled', code: 'lease_lost' });
    expect(received).toHaveLength(1);
  });

  it('completes and fails with a claim, returning the task and the claims', async () => {
    const work = { task: { id: 'tsk_2' }, attempt: { id: 'att_2' }, leaseToken: 'lease_2' };
    const url = await serve((request, response) =>
      json(response, 200, {
        task: { id: 'tsk_1', state: request.url.endsWith('/complete') ? 'succeeded' : 'failed' },
        claims: request.url.endsWith('/complete') ? [work] : [],
      }),
    );
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry });
    const completed = await client.attempts.completeAndClaim('att_1', {
      leaseToken: 'lease_1',
      result: { branch: 'b', baseBranch: 'main', baseSha: 'a', changedFiles: [], pushed: false },
      claim: { limit: 3 },
    });
    expect(completed).toEqual({ task: { id: 'tsk_1', state: 'succeeded' }, claims: [work] });
    const failed = await client.attempts.failAndClaim('att_1', {
      leaseToken: 'lease_1',
      error: { message: 'boom', kind: 'executor', retryable: true },
      claim: { limit: 1 },
    });
    expect(failed).toEqual({ task: { id: 'tsk_1', state: 'failed' }, claims: [] });
    expect(received.map((entry) => entry.url)).toEqual([
      '/v1/attempts/att_1/complete',
      '/v1/attempts/att_1/fail',
    ]);
    expect(JSON.parse(received[0]!.body)).toMatchObject({ leaseToken: 'lease_1', claim: { limit: 3 } });
    expect(JSON.parse(received[1]!.body)).toMatchObject({ claim: { limit: 1 } });
  });

  it('puts, lists and deletes endpoints, and records usage, on their routes', async () => {
    const endpoint = {
      name: 'local',
      provider: 'openai-compatible',
      baseUrl: 'http://127.0.0.1:11434/v1',
      models: [{ id: 'm', tier: 'cheap', inputPricePerMillionUsd: 0, outputPricePerMillionUsd: 0 }],
    };
    const url = await serve((request, response) => {
      if (request.method === 'PUT')
        return json(response, 201, { endpoint: { ...endpoint, status: 'unknown' }, created: true });
      if (request.method === 'GET')
        return json(response, 200, { endpoints: [{ ...endpoint, status: 'up' }] });
      if (request.url.endsWith('/usage')) return response.writeHead(204).end();
      return json(response, 404, { error: { code: 'not_found', message: 'endpoint ghost not found' } });
    });
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry });
    const { name: _name, ...body } = endpoint;
    const put = await client.endpoints.put('local', body as never);
    expect(put).toMatchObject({ created: true, endpoint: { name: 'local', status: 'unknown' } });
    expect(await client.endpoints.list()).toEqual([{ ...endpoint, status: 'up' }]);
    const missing = await client.endpoints.delete('ghost').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as NotFoundError).resource).toBe('endpoint');
    const records = [{ endpoint: 'local', model: 'm', inputTokens: 3, outputTokens: 4, costUsd: 0 }];
    await client.attempts.recordUsage('att_1', { leaseToken: 'lease_1', records });
    expect(received.map((request) => `${request.method} ${request.url}`)).toEqual([
      'PUT /v1/endpoints/local',
      'GET /v1/endpoints',
      'DELETE /v1/endpoints/ghost',
      'POST /v1/attempts/att_1/usage',
    ]);
    expect(JSON.parse(received[0]!.body)).toEqual(body);
    expect(JSON.parse(received[3]!.body)).toEqual({ leaseToken: 'lease_1', records });
  });

  it('rebuilds InvalidInputError with its field issues', async () => {
    const url = await serve((_request, response) =>
      json(response, 400, {
        error: {
          code: 'invalid_input',
          message: 'title: required',
          issues: [{ field: 'title', reason: 'required' }],
        },
      }),
    );
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry });
    const error = await client.tasks.create({ title: '', repo: '/r' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues).toEqual([{ field: 'title', reason: 'required' }]);
  });

  it('answers get with undefined for a missing task and throws TaskNotFoundError elsewhere', async () => {
    const url = await serve((_request, response) =>
      json(response, 404, { error: { code: 'not_found', message: 'task tsk_1 not found' } }),
    );
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry });
    expect(await client.tasks.get('tsk_1')).toBeUndefined();
    await expect(client.tasks.cancel('tsk_1')).rejects.toBeInstanceOf(TaskNotFoundError);
  });

  it('does not retry a 401', async () => {
    const url = await serve((_request, response) =>
      json(response, 401, { error: { code: 'unauthorized', message: 'missing or invalid token' } }),
    );
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry });
    await expect(client.runners.list()).rejects.toBeInstanceOf(UnauthorizedError);
    expect(received).toHaveLength(1);
  });

  it('retries 503 answers and reuses one Idempotency-Key for a create', async () => {
    let calls = 0;
    const url = await serve((_request, response) => {
      calls += 1;
      if (calls < 3) json(response, 503, { error: { code: 'unavailable', message: 'store down' } });
      else json(response, 201, { task: { id: 'tsk_1' }, created: true });
    });
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry });
    const answer = await client.tasks.create({ title: 'x', repo: '/r' });
    expect(answer.created).toBe(true);
    expect(received).toHaveLength(3);
    const keys = received.map((request) => request.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(keys).size).toBe(1);
  });

  it('passes a given Idempotency-Key through', async () => {
    const url = await serve((_request, response) =>
      json(response, 200, { task: { id: 'tsk_1' }, created: false }),
    );
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry });
    await client.tasks.create({ title: 'x', repo: '/r' }, { idempotencyKey: 'my-key' });
    expect(received[0]!.headers['idempotency-key']).toBe('my-key');
  });

  it('throws UnavailableError naming the hub when it cannot be reached', async () => {
    const url = await serve(() => undefined);
    server!.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry });
    const error = await client.runner.heartbeat({}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toContain(url);
    expect((error as Error).message).toMatch(/failed 3 times/);
    expect((error as Error).message).toMatch(/check that the hub is running/);
  });

  it('retries a request that gets no answer within the time limit', async () => {
    let calls = 0;
    const url = await serve((_request, response) => {
      calls += 1;
      if (calls === 1) return; // the first request never gets an answer
      json(response, 200, { runners: [] });
    });
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry, requestTimeoutMs: 200 });
    expect(await client.runners.list()).toEqual([]);
    expect(calls).toBe(2);
  });

  it('retries an answer cut off midway', async () => {
    let calls = 0;
    const url = await serve((_request, response) => {
      calls += 1;
      if (calls === 1) {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        response.write('{"runn');
        setTimeout(() => response.destroy(), 10);
        return;
      }
      json(response, 200, { runners: [] });
    });
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry });
    expect(await client.runners.list()).toEqual([]);
    expect(calls).toBe(2);
  });

  it('sends again at once, without using a try, when a pooled connection was closed by the server', async () => {
    const url = await serve((_request, response) => json(response, 200, { runners: [] }));
    // The server drops a connection as soon as a second request arrives on it, without answering: what a
    // client sees when the server closed an idle keep-alive connection just as the request was sent.
    let connections = 0;
    server!.on('connection', (socket) => {
      connections += 1;
      let chunks = 0;
      socket.on('data', () => {
        chunks += 1;
        if (chunks === 2) socket.destroy();
      });
    });
    const client = createHubClient({
      baseUrl: url,
      token: 't',
      retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
    });
    expect(await client.runners.list()).toEqual([]);
    expect(await client.runners.list()).toEqual([]);
    expect(connections).toBe(2);
  });

  it('sends every request through an injected fetch', async () => {
    const url = await serve((_request, response) => json(response, 200, { runners: [] }));
    const sent: string[] = [];
    const recordingFetch: typeof fetch = (input, init) => {
      sent.push(`${init?.method} ${input instanceof Request ? input.url : input.toString()}`);
      return fetch(input, init);
    };
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry, fetch: recordingFetch });
    expect(await client.runners.list()).toEqual([]);
    expect(await client.tasks.list({ states: ['queued'], limit: 5 })).toEqual({ runners: [] });
    expect(sent).toEqual([`GET ${url}/v1/runners`, `GET ${url}/v1/tasks?state=queued&limit=5`]);
    expect(received[1]!.headers.authorization).toBe('Bearer t');
  });

  it('stops retrying when the signal aborts', async () => {
    const url = await serve((_request, response) =>
      json(response, 503, { error: { code: 'unavailable', message: 'down' } }),
    );
    const client = createHubClient({
      baseUrl: url,
      token: 't',
      retry: { attempts: 100, baseDelayMs: 50, maxDelayMs: 50 },
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stopping')), 150);
    await expect(client.runners.list({ signal: controller.signal })).rejects.toThrow('stopping');
    expect(received.length).toBeLessThan(10);
  });

  it('aborts an in-flight claim long poll', async () => {
    const url = await serve(() => undefined);
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry });
    const controller = new AbortController();
    const claim = client.runner.claim({ limit: 1, waitMs: 30_000 }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(claim).rejects.toThrow();
  });

  it('reports probes as values', async () => {
    const url = await serve((request, response) => {
      if (request.url === '/healthz') json(response, 200, { ok: true });
      else json(response, 503, { ok: false });
    });
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry });
    expect(await client.health()).toEqual({ ok: true, status: 200, body: { ok: true } });
    expect((await client.ready()).ok).toBe(false);
    server!.closeAllConnections();
    server!.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await client.health()).toMatchObject({ ok: false, status: 0 });
  });

  it('streams events and resumes with Last-Event-ID after the connection drops', async () => {
    const allEvents: WarrenEvent[] = [1, 2, 3, 4, 5].map((id) => ({
      id,
      type: 'task.created',
      at: new Date(0).toISOString(),
      data: { n: id },
    }));
    const url = await serve((request, response) => {
      const lastId = Number(
        request.headers['last-event-id'] ?? new URL(request.url, 'http://x').searchParams.get('after') ?? 0,
      );
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(': keep-alive\n\nretry: 10\n\n');
      // Two events per connection, then the server drops the connection.
      for (const event of allEvents.filter((candidate) => candidate.id > lastId).slice(0, 2)) {
        response.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      }
      if (lastId >= 4) return; // keep the last connection open
      response.end();
    });
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry });
    const controller = new AbortController();
    const seen: number[] = [];
    for await (const event of client.events({ signal: controller.signal, after: 0 })) {
      seen.push(event.id);
      if (seen.length === 5) controller.abort();
    }
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(received.map((request) => request.headers['last-event-id'])).toEqual(['0', '2', '4']);
  });

  it('ends the event stream when aborted while waiting', async () => {
    const url = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(': open\n\n');
    });
    const client = createHubClient({ baseUrl: url, token: 't', retry: fastRetry });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const seen: WarrenEvent[] = [];
    for await (const event of client.events({ signal: controller.signal })) seen.push(event);
    expect(seen).toEqual([]);
  });
});
