import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import { modelEndpointSchema, type ModelEndpoint, type ModelEndpointInput } from '../core/model-endpoints.ts';
import {
  createEndpointHealthChecker,
  type EndpointHealthChecker,
  type EndpointHealthCheckerOptions,
  type EndpointStatusChange,
} from './endpoint-health.ts';

const secret = 'sk-test-very-secret-key';

function endpoint(fields: Partial<ModelEndpointInput> = {}): ModelEndpoint {
  return modelEndpointSchema.parse({
    name: 'main',
    provider: 'openai',
    baseUrl: 'https://models.example/v1',
    models: [{ id: 'small', tier: 'cheap', inputPricePerMillionUsd: 1, outputPricePerMillionUsd: 2 }],
    ...fields,
  });
}

/** A fetch whose answers the test decides, recording every request. */
function scriptedFetch() {
  const requests: Array<{ url: string; headers: Record<string, string> }> = [];
  let answer: () => Promise<Response> = async () => new Response('{}', { status: 200 });
  const fetchImplementation: typeof fetch = async (input, init) => {
    requests.push({
      url: input instanceof Request ? input.url : input.toString(),
      headers: { ...(init?.headers as Record<string, string>) },
    });
    const signal = init?.signal;
    return new Promise<Response>((resolve, reject) => {
      signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      answer().then(resolve, reject);
    });
  };
  return {
    fetch: fetchImplementation,
    requests,
    answerWith(next: () => Promise<Response>) {
      answer = next;
    },
  };
}

const fast = {
  endpointCheckTimeoutMs: 200,
  endpointUpIntervalMs: 60_000,
  endpointDownInitialDelayMs: 20,
  endpointDownMaxDelayMs: 40,
};

describe('createEndpointHealthChecker', () => {
  let checker: EndpointHealthChecker | undefined;
  afterEach(() => {
    checker?.stop();
    checker = undefined;
  });

  function start(
    options: Partial<EndpointHealthCheckerOptions> & { fetch: typeof fetch },
  ): EndpointHealthChecker {
    checker = createEndpointHealthChecker({ config: fast, logger: silentLogger, env: {}, ...options });
    return checker;
  }

  it('checks a new endpoint at once and marks it up on a 2xx, offering its model capabilities', async () => {
    const scripted = scriptedFetch();
    const health = start({ fetch: scripted.fetch });
    health.set(endpoint());
    expect(health.get('main')?.status).toBe('unknown');
    expect(health.available()).toEqual({ endpoints: [], capabilities: [] });
    await vi.waitFor(() => expect(health.get('main')?.status).toBe('up'));
    const listed = health.get('main')!;
    expect(listed.lastCheckedAt).toEqual(expect.any(String));
    expect(Date.parse(listed.nextCheckAt!) - Date.parse(listed.lastCheckedAt!)).toBeGreaterThanOrEqual(
      59_000,
    );
    expect(listed.lastError).toBeUndefined();
    expect(scripted.requests[0]?.url).toBe('https://models.example/v1/models');
    expect(health.available()).toEqual({
      endpoints: [endpoint()],
      capabilities: ['model:cheap', 'model:main/small'],
    });
    expect([...health.configuredSelectors()].sort()).toEqual(['cheap', 'main/small']);
  });

  it("sends each provider's key header, the endpoint's own headers, and never the key elsewhere", async () => {
    const scripted = scriptedFetch();
    const health = start({ fetch: scripted.fetch, env: { MODEL_KEY: `  ${secret}\n` } });
    health.sync([
      endpoint({
        name: 'anthropic',
        provider: 'anthropic',
        apiKeyEnv: 'MODEL_KEY',
        headers: { 'X-Team': 'a' },
      }),
      endpoint({ name: 'openai', provider: 'openai', apiKeyEnv: 'MODEL_KEY' }),
      endpoint({ name: 'google', provider: 'google', apiKeyEnv: 'MODEL_KEY' }),
      endpoint({ name: 'local', provider: 'openai-compatible', baseUrl: 'http://127.0.0.1:11434/v1' }),
    ]);
    await vi.waitFor(() => expect(scripted.requests).toHaveLength(4));
    const byName = (name: string) => scripted.requests.find((request) => request.url.includes(name) || false);
    const headersOf = (index: number) => scripted.requests[index]!.headers;
    const anthropic = scripted.requests.findIndex((request) => 'x-api-key' in request.headers);
    expect(headersOf(anthropic)).toMatchObject({
      'x-api-key': secret,
      'anthropic-version': '2023-06-01',
      'X-Team': 'a',
    });
    expect(scripted.requests.some((request) => request.headers['x-goog-api-key'] === secret)).toBe(true);
    expect(scripted.requests.some((request) => request.headers.authorization === `Bearer ${secret}`)).toBe(
      true,
    );
    const local = byName('127.0.0.1')!;
    expect(local.headers.authorization).toBeUndefined();
    expect(JSON.stringify(health.list())).not.toContain(secret);
  });

  it('reads the key from a file', async () => {
    const scripted = scriptedFetch();
    const health = start({
      fetch: scripted.fetch,
      readKeyFile: async (path) => (path === '/etc/warren/key' ? `${secret}\n` : ''),
    });
    health.set(endpoint({ apiKeyFile: '/etc/warren/key' }));
    await vi.waitFor(() => expect(health.get('main')?.status).toBe('up'));
    expect(scripted.requests[0]?.headers.authorization).toBe(`Bearer ${secret}`);
  });

  it('marks an endpoint down with the reason, never the key, and re-checks it with backoff until it is up', async () => {
    const scripted = scriptedFetch();
    scripted.answerWith(
      async () => new Response(`bad key ${secret}`, { status: 401, statusText: 'Unauthorized' }),
    );
    const changes: EndpointStatusChange[] = [];
    const health = start({ fetch: scripted.fetch, env: { MODEL_KEY: secret } });
    health.subscribe((change) => changes.push(change));
    health.set(endpoint({ apiKeyEnv: 'MODEL_KEY' }));
    await vi.waitFor(() => expect(health.get('main')?.status).toBe('down'));
    expect(health.get('main')?.lastError).toBe('HTTP 401 Unauthorized');
    expect(health.available().endpoints).toEqual([]);
    // Re-checked after the backoff (20 ms, then 40 ms), not after the minute of an endpoint that is up.
    await vi.waitFor(() => expect(scripted.requests.length).toBeGreaterThanOrEqual(3));
    scripted.answerWith(async () => new Response('{}', { status: 200 }));
    await vi.waitFor(() => expect(health.get('main')?.status).toBe('up'));
    expect(health.get('main')?.lastError).toBeUndefined();
    expect(changes).toEqual([
      { name: 'main', from: 'unknown', to: 'down' },
      { name: 'main', from: 'down', to: 'up' },
    ]);
    expect(JSON.stringify(health.list())).not.toContain(secret);
  });

  it('says why when the key is missing, the network fails or the endpoint does not answer in time', async () => {
    const failing = scriptedFetch();
    failing.answerWith(async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      });
    });
    const health = start({ fetch: failing.fetch });
    health.sync([endpoint({ name: 'nokey', apiKeyEnv: 'MISSING_KEY' }), endpoint({ name: 'refused' })]);
    await vi.waitFor(() => {
      expect(health.get('nokey')?.lastError).toBe('environment variable MISSING_KEY is not set on the hub');
      expect(health.get('refused')?.lastError).toBe('fetch failed: ECONNREFUSED: connect ECONNREFUSED');
    });
    expect(failing.requests.every((request) => !request.url.includes('nokey'))).toBe(true);

    const hanging = scriptedFetch();
    hanging.answerWith(() => new Promise(() => undefined));
    checker?.stop();
    const slow = start({ fetch: hanging.fetch });
    slow.set(endpoint());
    await vi.waitFor(() => expect(slow.get('main')?.lastError).toBe('no answer within 200 ms'));
  });

  it('checks a changed endpoint again at once, keeps an unchanged one, and forgets a removed one', async () => {
    const scripted = scriptedFetch();
    const health = start({ fetch: scripted.fetch });
    health.set(endpoint());
    await vi.waitFor(() => expect(health.get('main')?.status).toBe('up'));
    health.set(endpoint());
    expect(health.get('main')?.status).toBe('up');
    expect(scripted.requests).toHaveLength(1);
    health.set(endpoint({ baseUrl: 'https://other.example/v1' }));
    expect(health.get('main')?.status).toBe('unknown');
    await vi.waitFor(() => expect(health.get('main')?.status).toBe('up'));
    expect(scripted.requests.map((request) => request.url)).toEqual([
      'https://models.example/v1/models',
      'https://other.example/v1/models',
    ]);
    health.sync([]);
    expect(health.list()).toEqual([]);
    expect(health.available().capabilities).toEqual([]);
  });

  it('re-checks at once the endpoints behind a pinned or tier selector, and no others', async () => {
    const scripted = scriptedFetch();
    const health = start({ fetch: scripted.fetch });
    health.sync([
      endpoint(),
      endpoint({
        name: 'other',
        baseUrl: 'https://other.example/v1',
        models: [{ id: 'big', tier: 'frontier', inputPricePerMillionUsd: 1, outputPricePerMillionUsd: 2 }],
      }),
    ]);
    await vi.waitFor(() => expect(health.available().endpoints).toHaveLength(2));
    const urls = () => scripted.requests.map((request) => new URL(request.url).host);
    health.recheck('main/small');
    await vi.waitFor(() => expect(urls()).toHaveLength(3));
    health.recheck('frontier');
    await vi.waitFor(() => expect(urls()).toHaveLength(4));
    health.recheck('nobody/none');
    health.recheck('local');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(urls().slice(2)).toEqual(['models.example', 'other.example']);
  });

  it('ignores the answer of a check made for a definition that has since been replaced', async () => {
    const scripted = scriptedFetch();
    let release: (response: Response) => void = () => undefined;
    scripted.answerWith(() => new Promise((resolve) => (release = resolve)));
    const health = start({ fetch: scripted.fetch });
    health.set(endpoint());
    await vi.waitFor(() => expect(scripted.requests).toHaveLength(1));
    health.remove('main');
    release(new Response('{}', { status: 200 }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(health.get('main')).toBeUndefined();
    expect(health.available().endpoints).toEqual([]);
  });
});
