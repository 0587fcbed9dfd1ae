import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorBody, RunnerCreated } from '../core/api.ts';
import type { Logger } from '../core/logger.ts';
import type { Runner } from '../core/types.ts';
import { createHubAuth } from './auth.ts';
import { createHubApp } from './create-hub-app.ts';
import { resolveHubConfig } from './hub-config.ts';
import { createHubMetrics } from './metrics.ts';
import { RUNNER_ENROLLMENT_PATH } from './runner-routes.ts';
import { createTestHub, TEST_ADMIN_TOKEN, type TestHub } from './testing/create-test-hub.ts';

const enrollmentToken = 'wrn_enroll_test-enrollment-token';

async function errorOf(response: Response): Promise<ErrorBody['error']> {
  return ((await response.json()) as ErrorBody).error;
}

async function enroll(hub: TestHub, body: unknown, token: string | null = enrollmentToken) {
  return hub.request('POST', RUNNER_ENROLLMENT_PATH, { token, body });
}

async function enrolled(hub: TestHub, name: string): Promise<RunnerCreated> {
  const response = await enroll(hub, { name, capabilities: ['executor:shell'], slots: 2 });
  expect(response.status).toBe(201);
  return (await response.json()) as RunnerCreated;
}

async function register(hub: TestHub, token: string): Promise<Response> {
  return hub.request('POST', '/v1/runner/register', {
    token,
    body: { capabilities: ['executor:shell'], slots: 2 },
  });
}

describe(`POST ${RUNNER_ENROLLMENT_PATH}`, () => {
  describe('with an enrollment token configured', () => {
    let hub: TestHub;
    beforeEach(async () => {
      hub = await createTestHub({ enrollmentToken });
    });
    afterEach(async () => {
      await hub.close();
    });

    it('creates a runner whose token then registers it', async () => {
      const { runner, token } = await enrolled(hub, 'warren-runner-7c9f8d6b5-x2k4p');
      expect(runner).toMatchObject({
        name: 'warren-runner-7c9f8d6b5-x2k4p',
        capabilities: ['executor:shell'],
        slots: 2,
        status: 'offline',
      });
      expect(token).toMatch(/^wrn_runner_/);

      const registered = await register(hub, token);
      expect(registered.status).toBe(200);
      expect(((await registered.json()) as { runner: Runner }).runner).toMatchObject({
        id: runner.id,
        status: 'online',
      });
    });

    it('answers 401 for a wrong, missing, admin or runner token and creates nothing', async () => {
      const { token: runnerToken } = await enrolled(hub, 'first');
      for (const token of ['wrn_enroll_wrong', null, TEST_ADMIN_TOKEN, runnerToken]) {
        const response = await enroll(hub, { name: 'intruder' }, token);
        expect(response.status).toBe(401);
        const error = await errorOf(response);
        expect(error.code).toBe('unauthorized');
        expect(error.message).toMatch(/enrollment token/);
      }
      expect((await hub.store.listRunners()).map((runner) => runner.name)).toEqual(['first']);
    });

    it('answers 400 naming the bad field', async () => {
      const badName = await enroll(hub, { name: 'Not A Pod Name' });
      expect(badName.status).toBe(400);
      expect((await errorOf(badName)).issues).toEqual([expect.objectContaining({ field: 'name' })]);

      const badSlots = await enroll(hub, { name: 'pod-a', slots: 0 });
      expect((await errorOf(badSlots)).issues).toEqual([expect.objectContaining({ field: 'slots' })]);

      const unknown = await enroll(hub, { name: 'pod-a', colour: 'blue' });
      expect((await errorOf(unknown)).issues).toEqual([{ field: '', reason: 'unknown field(s): colour' }]);

      const missing = await enroll(hub, {});
      expect((await errorOf(missing)).issues).toEqual([expect.objectContaining({ field: 'name' })]);
      expect(await hub.store.listRunners()).toEqual([]);
    });

    it('answers 409 when a live runner has the name, and leaves that runner alone', async () => {
      const { runner, token } = await enrolled(hub, 'pod-a');
      expect((await register(hub, token)).status).toBe(200);

      const collision = await enroll(hub, { name: 'pod-a' });
      expect(collision.status).toBe(409);
      const error = await errorOf(collision);
      expect(error.code).toBe('conflict');
      expect(error.message).toMatch(/"pod-a" is online/);

      const heartbeat = await hub.request('POST', '/v1/runner/heartbeat', { token, body: {} });
      expect(heartbeat.status).toBe(200);
      expect((await hub.store.listRunners()).map((item) => item.id)).toEqual([runner.id]);
    });

    it('answers 409 while a runner of that name drains', async () => {
      const { token } = await enrolled(hub, 'pod-a');
      expect((await register(hub, token)).status).toBe(200);
      await hub.request('POST', '/v1/runner/heartbeat', { token, body: { status: 'draining' } });
      expect((await enroll(hub, { name: 'pod-a' })).status).toBe(409);
    });

    it('replaces an offline runner of the same name: new token, the old one stops working', async () => {
      const first = await enrolled(hub, 'pod-a');
      expect((await register(hub, first.token)).status).toBe(200);
      const offline = await hub.request('POST', '/v1/runner/heartbeat', {
        token: first.token,
        body: { status: 'offline' },
      });
      expect(offline.status).toBe(200);

      const second = await enrolled(hub, 'pod-a');
      expect(second.token).not.toBe(first.token);
      expect(second.runner.id).not.toBe(first.runner.id);
      expect((await register(hub, second.token)).status).toBe(200);
      expect((await register(hub, first.token)).status).toBe(401);
      expect((await hub.store.listRunners()).map((runner) => [runner.name, runner.id])).toEqual([
        ['pod-a', second.runner.id],
      ]);
    });

    it('replaces a runner that never registered (a client retrying after a lost answer)', async () => {
      const first = await enrolled(hub, 'pod-a');
      const again = await enrolled(hub, 'pod-a');
      expect(again.runner.id).not.toBe(first.runner.id);
      expect((await register(hub, first.token)).status).toBe(401);
      expect((await register(hub, again.token)).status).toBe(200);
    });

    it('leaves the other runner routes to admin and runner tokens', async () => {
      const asEnroller = await hub.request('GET', '/v1/runners', { token: enrollmentToken });
      expect(asEnroller.status).toBe(401);
      const createAsEnroller = await hub.request('POST', '/v1/runners', {
        token: enrollmentToken,
        body: { name: 'pod-b' },
      });
      expect(createAsEnroller.status).toBe(401);
    });
  });

  it('answers 403 saying how to turn it on when the hub has no enrollment token', async () => {
    const hub = await createTestHub();
    try {
      for (const token of [enrollmentToken, null, TEST_ADMIN_TOKEN]) {
        const response = await enroll(hub, { name: 'pod-a' }, token);
        expect(response.status).toBe(403);
        const error = await errorOf(response);
        expect(error.code).toBe('forbidden');
        expect(error.message).toMatch(/enrollment is off.*WARREN_ENROLLMENT_TOKEN/);
      }
      expect(await hub.store.listRunners()).toEqual([]);
    } finally {
      await hub.close();
    }
  });

  it('never writes the enrollment token or the issued runner token to the log', async () => {
    const hub = await createTestHub();
    const lines: string[] = [];
    const recording: Logger = {
      debug: (fields, message) => lines.push(JSON.stringify({ fields, message })),
      info: (fields, message) => lines.push(JSON.stringify({ fields, message })),
      warn: (fields, message) => lines.push(JSON.stringify({ fields, message })),
      error: (fields, message) => lines.push(JSON.stringify({ fields, message })),
      child: () => recording,
    };
    try {
      const app = createHubApp({
        store: hub.store,
        auth: createHubAuth({ store: hub.store, adminToken: TEST_ADMIN_TOKEN }),
        config: resolveHubConfig(),
        logger: recording,
        metrics: createHubMetrics({ store: hub.store, processMetrics: false }),
        endpointHealth: hub.endpointHealth,
        enrollmentToken,
      });
      const send = (token: string) =>
        app.request(RUNNER_ENROLLMENT_PATH, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'pod-a' }),
        });
      const created = await send(enrollmentToken);
      expect(created.status).toBe(201);
      const { token } = (await created.json()) as RunnerCreated;
      expect((await send(enrollmentToken)).status).toBe(201);
      expect((await send(`${enrollmentToken}-wrong`)).status).toBe(401);

      expect(lines.some((line) => line.includes('runner enrolled'))).toBe(true);
      for (const line of lines) {
        expect(line).not.toContain(enrollmentToken);
        expect(line).not.toContain(token);
      }
    } finally {
      await hub.close();
    }
  });
});
