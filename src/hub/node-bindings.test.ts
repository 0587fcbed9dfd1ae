import { request as httpRequest } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClaimResult } from '../core/api.ts';
import { createTestHub, minimalTaskSpec, TEST_ADMIN_TOKEN, type TestHub } from './testing/create-test-hub.ts';
import { sendRaw, serveTestHub, type ServedTestHub } from './testing/serve-test-hub.ts';

const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' };

async function claimWaitCount(hub: TestHub, result: 'claimed' | 'empty'): Promise<number> {
  const text = await hub.metrics.registry.getSingleMetricAsString('warren_claim_wait_seconds');
  const match = new RegExp(`warren_claim_wait_seconds_count\\{result="${result}"\\} (\\d+)`).exec(text);
  return match ? Number(match[1]) : 0;
}

// Routes read headers and the client's disconnect from Node's objects when served by Node.
describe('the hub app over Node', () => {
  let hub: TestHub;
  let served: ServedTestHub;
  beforeEach(async () => {
    hub = await createTestHub();
    served = await serveTestHub(hub);
  });
  afterEach(async () => {
    await served.close();
    await hub.close();
  });

  it('reads the Idempotency-Key header', async () => {
    const create = () =>
      sendRaw(served.url, {
        method: 'POST',
        path: '/v1/tasks',
        headers: { ...admin, 'idempotency-key': 'same-key' },
        chunks: [JSON.stringify(minimalTaskSpec)],
      });
    const first = await create();
    const second = await create();
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(JSON.parse(second.body)).toMatchObject({ task: { id: JSON.parse(first.body).task.id } });
  });

  it('puts the request id on error answers, the client’s own when it is plain', async () => {
    const own = await sendRaw(served.url, {
      method: 'GET',
      path: '/v1/tasks/tsk_missing',
      headers: { authorization: admin.authorization, 'x-request-id': 'trace-42' },
    });
    expect(own.status).toBe(404);
    expect(own.headers['x-request-id']).toBe('trace-42');

    const made = await sendRaw(served.url, {
      method: 'GET',
      path: '/v1/tasks',
      headers: { 'x-request-id': 'not plain!' },
    });
    expect(made.status).toBe(401);
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('ends a parked claim when its client goes away', async () => {
    const { token } = await hub.createRunner('builder');
    const request = httpRequest(`${served.url}/v1/runner/claim`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      agent: false,
    });
    request.on('error', () => undefined);
    request.end(JSON.stringify({ waitMs: 30_000 }));
    // Parked: nothing recorded yet.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await claimWaitCount(hub, 'empty')).toBe(0);
    request.destroy();
    const deadline = Date.now() + 5_000;
    while ((await claimWaitCount(hub, 'empty')) === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await claimWaitCount(hub, 'empty')).toBe(1);
    // The task created afterwards is not lost to the gone request: the next claim gets it.
    const task = await hub.createTask();
    const answer = await sendRaw(served.url, {
      method: 'POST',
      path: '/v1/runner/claim',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      chunks: [JSON.stringify({ waitMs: 0 })],
    });
    const { claims } = JSON.parse(answer.body) as ClaimResult;
    expect(claims.map((work) => work.task.id)).toEqual([task.id]);
  });
});
