import { afterEach, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../core/api.ts';
import { RateLimitedError } from '../core/errors.ts';
import type { Runner } from '../core/types.ts';
import type { Principal } from './auth.ts';
import type { HubConfigOverrides } from './hub-config.ts';
import { DEFAULT_RATE_LIMIT_CONFIG, type RateLimitConfig } from './rate-limit-config.ts';
import { createRateLimiter } from './rate-limits.ts';
import { createTestHub, type TestHub } from './testing/create-test-hub.ts';
import { sendRaw, serveTestHub, type ServedTestHub } from './testing/serve-test-hub.ts';

const start = 1_700_000_000_000;

/** Small buckets with round costs, so that every answer below can be counted by hand. */
const smallLimits: HubConfigOverrides['rateLimits'] = {
  runner: { capacity: 5, refillPerSecond: 1 },
  admin: { capacity: 40, refillPerSecond: 2 },
  costs: {
    'runner.register': 1,
    'attempt.report': 1,
    'runner.claim': 2,
    'admin.other': 1,
    'task.list': 4,
    'task.createBatch': 20,
  },
};

async function errorOf(response: Response): Promise<ErrorBody['error']> {
  return ((await response.json()) as ErrorBody).error;
}

describe('rate limits', () => {
  let hub: TestHub | undefined;
  let served: ServedTestHub | undefined;
  let now = start;
  const clock = (): number => now;

  afterEach(async () => {
    await served?.close();
    await hub?.close();
    served = undefined;
    hub = undefined;
    now = start;
  });

  async function startHub(rateLimits: HubConfigOverrides['rateLimits'] = smallLimits): Promise<TestHub> {
    hub = await createTestHub({ config: { rateLimits }, clock });
    return hub;
  }

  const heartbeat = (token: string): Promise<Response> =>
    hub!.request('POST', '/v1/runner/heartbeat', { token, body: { status: 'online', attemptIds: [] } });

  it('answers 429 with Retry-After once a runner spent its bucket, and lets it through after the refill', async () => {
    const test = await startHub();
    // Registering cost 1 of the 5 tokens.
    const { runner, token } = await test.createRunner('alpha');
    for (let count = 0; count < 4; count += 1) expect((await heartbeat(token)).status).toBe(200);

    const refused = await heartbeat(token);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    const error = await errorOf(refused);
    expect(error).toEqual({
      code: 'rate_limited',
      message: `runner ${runner.id} is over its rate limit: attempt.report costs 1; retry in 1 s`,
    });
    expect(JSON.stringify(error)).not.toContain(token);

    now += 999;
    expect((await heartbeat(token)).status).toBe(429);
    now += 1;
    expect((await heartbeat(token)).status).toBe(200);
    expect((await heartbeat(token)).status).toBe(429);
  });

  it('keeps one bucket per runner and one for the admin client', async () => {
    const test = await startHub();
    const alpha = await test.createRunner('alpha');
    const beta = await test.createRunner('beta');
    for (let count = 0; count < 4; count += 1) await heartbeat(alpha.token);
    expect((await heartbeat(alpha.token)).status).toBe(429);

    expect((await heartbeat(beta.token)).status).toBe(200);
    expect((await test.request('GET', '/v1/runners')).status).toBe(200);

    // The admin client spent 2 of its 40 tokens creating two runners and 1 listing them; a list costs 4.
    for (let count = 0; count < 9; count += 1) {
      expect((await test.request('GET', '/v1/tasks')).status).toBe(200);
    }
    const refused = await test.request('GET', '/v1/tasks');
    expect(refused.status).toBe(429);
    // 1 token held, 4 needed, 2 a second: 1.5 s, answered as 2 whole seconds.
    expect(refused.headers.get('retry-after')).toBe('2');
    expect((await errorOf(refused)).message).toBe(
      'the admin client is over its rate limit: task.list costs 4; retry in 2 s',
    );
    expect((await heartbeat(beta.token)).status).toBe(200);
  });

  it('charges each action its cost, so a costly one drains the bucket faster', async () => {
    const test = await startHub();
    const { token } = await test.createRunner('alpha');
    const claim = (): Promise<Response> =>
      test.request('POST', '/v1/runner/claim', { token, body: { waitMs: 0 } });
    // 4 tokens left after registering; a claim costs 2.
    expect((await claim()).status).toBe(200);
    expect((await claim()).status).toBe(200);
    const refused = await claim();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect((await errorOf(refused)).message).toMatch(/runner\.claim costs 2; retry in 2 s$/);
    now += 1_000;
    // One token back: enough for a heartbeat (1), not for a claim (2).
    expect((await claim()).status).toBe(429);
    expect((await heartbeat(token)).status).toBe(200);
  });

  it('counts refusals by principal kind and action', async () => {
    const test = await startHub();
    const { token } = await test.createRunner('alpha');
    for (let count = 0; count < 6; count += 1) await heartbeat(token);
    const metrics = await (await test.request('GET', '/metrics', { token: null })).text();
    expect(metrics).toContain('warren_rate_limited_total{principal="runner",action="attempt.report"} 2');
    expect(metrics).toMatch(
      /warren_http_requests_total\{method="POST",route="\/v1\/runner\/heartbeat",status="429"\} 2/,
    );
  });

  it('charges nothing for requests that authentication refuses', async () => {
    const test = await startHub();
    const { token } = await test.createRunner('alpha');
    for (let count = 0; count < 10; count += 1) {
      expect((await test.request('GET', '/v1/tasks', { token })).status).toBe(403);
      expect((await test.request('GET', '/v1/tasks', { token: 'wrong' })).status).toBe(401);
    }
    for (let count = 0; count < 4; count += 1) expect((await heartbeat(token)).status).toBe(200);
  });

  it('never answers 429 when turned off', async () => {
    const test = await startHub({ ...smallLimits, enabled: false });
    const { token } = await test.createRunner('alpha');
    for (let count = 0; count < 50; count += 1) {
      expect((await heartbeat(token)).status).toBe(200);
      expect((await test.request('GET', '/v1/tasks')).status).toBe(200);
    }
  });

  it('answers 429 with Retry-After over real HTTP', async () => {
    const test = await startHub();
    served = await serveTestHub(test);
    const { token } = await test.createRunner('alpha');
    for (let count = 0; count < 4; count += 1) await heartbeat(token);
    const raw = await sendRaw(served.url, {
      method: 'POST',
      path: '/v1/runner/heartbeat',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      chunks: ['{"status":"online","attemptIds":[]}'],
    });
    expect(raw.status).toBe(429);
    expect(raw.headers['retry-after']).toBe('1');
    expect(JSON.parse(raw.body)).toMatchObject({ error: { code: 'rate_limited' } });
    expect(raw.body).not.toContain(token);
  });
});

describe('createRateLimiter', () => {
  const config: RateLimitConfig = {
    ...DEFAULT_RATE_LIMIT_CONFIG,
    runner: { capacity: 2, refillPerSecond: 1 },
    costs: { ...DEFAULT_RATE_LIMIT_CONFIG.costs, 'attempt.report': 1 },
  };
  const runnerPrincipal = (id: string): Principal => ({ kind: 'runner', runner: { id } as Runner });
  const report = '/v1/attempts/att_1/heartbeat';

  it('holds at most maxBuckets, forgetting full buckets first, then the least recently used', () => {
    let now = start;
    const limiter = createRateLimiter({ config, clock: () => now, maxBuckets: 3 });
    const charge = (id: string): boolean => {
      try {
        limiter.charge(runnerPrincipal(id), 'POST', report);
        return true;
      } catch (error) {
        if (error instanceof RateLimitedError) return false;
        throw error;
      }
    };
    // a and b spent; c charged once, then a used again so that b is the least recently used.
    expect([charge('a'), charge('a'), charge('b'), charge('b'), charge('c')]).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(charge('a')).toBe(false);
    expect(limiter.size).toBe(3);

    // A second later c (one token spent) is full again and is forgotten first; a and b are still remembered.
    now += 1_000;
    expect(charge('d')).toBe(true);
    expect(limiter.size).toBe(3);
    expect([charge('a'), charge('a')]).toEqual([true, false]);

    // Nothing full: the least recently used (b) goes.
    expect(charge('e')).toBe(true);
    expect(limiter.size).toBe(3);
    expect([charge('b'), charge('b'), charge('b')]).toEqual([true, true, false]);
  });

  it('never throttles a busy runner or the admin client with the default limits', () => {
    let now = start;
    const limiter = createRateLimiter({ config: DEFAULT_RATE_LIMIT_CONFIG, clock: () => now });
    const admin: Principal = { kind: 'admin' };
    const runner = runnerPrincipal('busy');
    // Ten minutes of a 4-slot runner going flat out: per running attempt five log flushes a second and a
    // heartbeat every 10 s, plus a claim and a completion per one-second task; and an admin script listing
    // tasks and creating 100 a second one by one.
    for (let second = 0; second < 600; second += 1) {
      for (let slot = 0; slot < 4; slot += 1) {
        for (let flush = 0; flush < 5; flush += 1) limiter.charge(runner, 'POST', '/v1/attempts/att_1/logs');
        if (second % 10 === slot) limiter.charge(runner, 'POST', '/v1/attempts/att_1/heartbeat');
        limiter.charge(runner, 'POST', '/v1/attempts/att_1/complete');
        limiter.charge(runner, 'POST', '/v1/runner/claim');
      }
      for (let create = 0; create < 100; create += 1) limiter.charge(admin, 'POST', '/v1/tasks');
      limiter.charge(admin, 'GET', '/v1/tasks');
      now += 1_000;
    }
    expect(limiter.size).toBe(2);
  });
});
