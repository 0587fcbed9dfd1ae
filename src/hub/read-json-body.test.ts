import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../core/api.ts';
import { createTestHub, minimalTaskSpec, TEST_ADMIN_TOKEN, type TestHub } from './testing/create-test-hub.ts';
import { sendRaw, serveTestHub, type ServedTestHub } from './testing/serve-test-hub.ts';

const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' };

function errorOf(body: string): ErrorBody['error'] {
  return (JSON.parse(body) as ErrorBody).error;
}

// The in-process path (`app.request()`) is covered by create-hub-app.test.ts; these go through Node.
describe('readJsonBody over Node', () => {
  let hub: TestHub;
  let served: ServedTestHub;
  beforeEach(async () => {
    hub = await createTestHub({ config: { bodyLimitBytes: 2_000, bulkBodyLimitBytes: 8_000 } });
    served = await serveTestHub(hub);
  });
  afterEach(async () => {
    await served.close();
    await hub.close();
  });

  it('reads a body sent in several chunks', async () => {
    const text = JSON.stringify(minimalTaskSpec);
    const answer = await sendRaw(served.url, {
      method: 'POST',
      path: '/v1/tasks',
      headers: admin,
      chunks: [text.slice(0, 10), text.slice(10)],
    });
    expect(answer.status).toBe(201);
  });

  it('answers 413 for a declared Content-Length over the limit, before reading', async () => {
    const answer = await sendRaw(served.url, {
      method: 'POST',
      path: '/v1/tasks',
      headers: { ...admin, 'content-length': '2001' },
      chunks: ['x'.repeat(2_001)],
    });
    expect(answer.status).toBe(413);
    expect(errorOf(answer.body).code).toBe('payload_too_large');
  });

  it('answers 413 for a chunked body that grows over the limit, and creates nothing', async () => {
    const answer = await sendRaw(served.url, {
      method: 'POST',
      path: '/v1/tasks',
      headers: admin,
      chunks: [`{"title":"big","repo":"/r","instructions":"`, 'x'.repeat(1_500), 'x'.repeat(1_500), '"}'],
    });
    expect(answer.status).toBe(413);
    expect(errorOf(answer.body).message).toMatch(/limit of 2000 bytes/);
    expect((await hub.store.listTasks({ limit: 10 })).items).toEqual([]);
  });

  it('gives bulk routes the larger limit', async () => {
    const tasks = Array.from({ length: 40 }, (_, index) => ({ ...minimalTaskSpec, title: `task ${index}` }));
    const body = JSON.stringify({ tasks });
    expect(body.length).toBeGreaterThan(2_000);
    expect(body.length).toBeLessThan(8_000);
    const answer = await sendRaw(served.url, {
      method: 'POST',
      path: '/v1/tasks/batch',
      headers: admin,
      chunks: [body],
    });
    expect(answer.status).toBe(201);
  });

  it('answers 400 naming the body when it is not JSON, and takes an empty body where allowed', async () => {
    const malformed = await sendRaw(served.url, {
      method: 'POST',
      path: '/v1/tasks',
      headers: admin,
      chunks: ['{"title": "unterminated'],
    });
    expect(malformed.status).toBe(400);
    expect(errorOf(malformed.body)).toMatchObject({ code: 'invalid_input' });
    expect(errorOf(malformed.body).message).toMatch(/request body is not valid JSON/);

    const empty = await sendRaw(served.url, { method: 'POST', path: '/v1/tasks', headers: admin });
    expect(empty.status).toBe(400);
    expect(errorOf(empty.body).message).toMatch(/request body is empty/);

    const task = await hub.createTask();
    const cancelled = await sendRaw(served.url, {
      method: 'POST',
      path: `/v1/tasks/${task.id}/cancel`,
      headers: { authorization: admin.authorization },
    });
    expect(cancelled.status).toBe(200);
  });
});
