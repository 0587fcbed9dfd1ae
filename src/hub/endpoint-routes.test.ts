import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClaimedWork, EndpointList, EndpointPut, ErrorBody, TaskDetail } from '../core/api.ts';
import type { ModelEndpointInput } from '../core/model-endpoints.ts';
import type { Task } from '../core/types.ts';
import { createTestHub, minimalTaskSpec, type TestHub } from './testing/create-test-hub.ts';

const cheapEndpoint: ModelEndpointInput = {
  name: 'local',
  provider: 'openai-compatible',
  baseUrl: 'http://127.0.0.1:11434/v1',
  models: [
    { id: 'llama3.1:8b', tier: 'cheap', inputPricePerMillionUsd: 0.5, outputPricePerMillionUsd: 1 },
    { id: 'qwen2.5-coder:7b', tier: 'cheap', inputPricePerMillionUsd: 0.25, outputPricePerMillionUsd: 0.5 },
  ],
};
const frontierEndpoint: ModelEndpointInput = {
  name: 'anthropic',
  provider: 'anthropic',
  baseUrl: 'https://api.anthropic.com/v1',
  apiKeyEnv: 'WARREN_TEST_ANTHROPIC_KEY',
  models: [
    { id: 'claude-sonnet-4-5', tier: 'frontier', inputPricePerMillionUsd: 3, outputPricePerMillionUsd: 15 },
  ],
};

/** A fetch for endpoint checks that answers 200 for the base URLs in `up`, 503 for the rest. */
function switchableFetch() {
  const up = new Set<string>();
  const fetchImplementation: typeof fetch = async (input) => {
    const url = input instanceof Request ? input.url : input.toString();
    const isUp = [...up].some((baseUrl) => url.startsWith(baseUrl));
    return new Response('{}', { status: isUp ? 200 : 503, statusText: isUp ? 'OK' : 'Service Unavailable' });
  };
  return { fetch: fetchImplementation, up };
}

async function errorOf(response: Response): Promise<ErrorBody['error']> {
  return ((await response.json()) as ErrorBody).error;
}

async function claim(hub: TestHub, token: string, waitMs = 0): Promise<ClaimedWork[]> {
  const response = await hub.request('POST', '/v1/runner/claim', { token, body: { waitMs } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { claims: ClaimedWork[] }).claims;
}

async function createTask(hub: TestHub, spec: Record<string, unknown>): Promise<Response> {
  return hub.request('POST', '/v1/tasks', { body: { title: 'Add pagination', repo: '/tmp/repo', ...spec } });
}

describe('model endpoints, routing and the cost ledger', () => {
  let hub: TestHub;
  afterEach(async () => {
    await hub.close();
  });

  describe('endpoint routes', () => {
    it('creates, replaces, lists with health and deletes endpoints; the admin only', async () => {
      hub = await createTestHub();
      const { name: _name, ...body } = cheapEndpoint;
      const created = await hub.request('PUT', '/v1/endpoints/local', { body });
      expect(created.status).toBe(201);
      const put = (await created.json()) as EndpointPut;
      expect(put).toMatchObject({ created: true, endpoint: { name: 'local', status: 'unknown' } });

      await vi.waitFor(async () => {
        const list = (await (await hub.request('GET', '/v1/endpoints')).json()) as EndpointList;
        expect(list.endpoints).toEqual([
          expect.objectContaining({ ...cheapEndpoint, status: 'up', lastCheckedAt: expect.any(String) }),
        ]);
      });
      expect(await hub.store.listEndpoints()).toEqual([cheapEndpoint]);

      const replaced = await hub.request('PUT', '/v1/endpoints/local', {
        body: { ...cheapEndpoint, models: [cheapEndpoint.models[0]] },
      });
      expect(replaced.status).toBe(200);
      expect(((await replaced.json()) as EndpointPut).created).toBe(false);
      expect((await hub.store.listEndpoints())[0]?.models).toHaveLength(1);

      const { token } = await hub.createRunner('builder');
      expect((await hub.request('GET', '/v1/endpoints', { token })).status).toBe(403);
      expect((await hub.request('DELETE', '/v1/endpoints/local', { token })).status).toBe(403);

      expect((await hub.request('DELETE', '/v1/endpoints/local')).status).toBe(204);
      const missing = await hub.request('DELETE', '/v1/endpoints/local');
      expect(missing.status).toBe(404);
      expect((await errorOf(missing)).message).toBe('endpoint local not found');
      expect(((await (await hub.request('GET', '/v1/endpoints')).json()) as EndpointList).endpoints).toEqual(
        [],
      );
    });

    it('answers 400 naming the field: another name, a bad URL, a key in the headers', async () => {
      hub = await createTestHub();
      const renamed = await hub.request('PUT', '/v1/endpoints/local', {
        body: { ...cheapEndpoint, name: 'other' },
      });
      expect(renamed.status).toBe(400);
      expect((await errorOf(renamed)).issues).toEqual([
        { field: 'name', reason: 'must be "local" as in the URL, or left out' },
      ]);
      const bad = await hub.request('PUT', '/v1/endpoints/local', {
        body: {
          ...cheapEndpoint,
          baseUrl: 'not a url',
          headers: { 'x-api-key': 'sk-live' },
          models: [{ id: 'm', inputPricePerMillionUsd: -1, outputPricePerMillionUsd: 0 }],
        },
      });
      expect(bad.status).toBe(400);
      expect((await errorOf(bad)).issues?.map((issue) => issue.field)).toEqual([
        'baseUrl',
        'headers.x-api-key',
        'models.0.inputPricePerMillionUsd',
      ]);
      const badName = await hub.request('PUT', '/v1/endpoints/Bad%20Name', { body: cheapEndpoint });
      expect(badName.status).toBe(400);
      expect((await errorOf(badName)).issues?.[0]?.field).toBe('name');
      expect(await hub.store.listEndpoints()).toEqual([]);
    });

    it('upserts the endpoints of the config at start', async () => {
      hub = await createTestHub({ config: { endpoints: [cheapEndpoint] } });
      expect(await hub.store.listEndpoints()).toEqual([cheapEndpoint]);
      await vi.waitFor(() => expect(hub.endpointHealth.get('local')?.status).toBe('up'));
    });
  });

  describe('routing at task creation', () => {
    it('refuses a task whose route needs a tier no endpoint offers, naming the field and what to do', async () => {
      hub = await createTestHub();
      const response = await createTask(hub, {});
      expect(response.status).toBe(400);
      const error = await errorOf(response);
      expect(error.issues).toEqual([
        {
          field: 'complexity',
          reason: expect.stringContaining(
            'no endpoint offers tier "cheap"; configure one with PUT /v1/endpoints/',
          ),
        },
      ]);
      expect(error.issues?.[0]?.reason).toContain('or pin an executor');
      const pinned = await createTask(hub, { model: 'anthropic/claude-opus' });
      expect((await errorOf(pinned)).issues?.[0]?.field).toBe('model');
      const batch = await hub.request('POST', '/v1/tasks/batch', {
        body: { tasks: [minimalTaskSpec, { title: 'Redesign the store', repo: '/tmp/repo' }] },
      });
      expect(batch.status).toBe(400);
      expect((await errorOf(batch)).issues?.map((issue) => issue.field)).toEqual(['tasks.1.complexity']);
      expect((await hub.store.listTasks({ limit: 10 })).items).toEqual([]);
    });

    it('routes by complexity with the reason, and requires the model capability', async () => {
      hub = await createTestHub({ config: { endpoints: [cheapEndpoint, frontierEndpoint] } });
      const shell = (await (await createTask(hub, { executorInput: { run: 'npm test' } })).json()) as {
        task: Task;
      };
      expect(shell.task).toMatchObject({
        executor: 'shell',
        complexity: 'trivial',
        complexityReason: 'a shell command with no instructions',
        requiredCapabilities: ['executor:shell'],
      });
      expect(shell.task.model).toBeUndefined();

      const standard = (await (await createTask(hub, {})).json()) as { task: Task };
      expect(standard.task).toMatchObject({
        executor: 'agent',
        complexity: 'standard',
        model: 'cheap',
        requiredCapabilities: ['executor:agent', 'model:cheap'],
      });

      const complex = (await (await createTask(hub, { title: 'Migrate the schema' })).json()) as {
        task: Task;
      };
      expect(complex.task).toMatchObject({
        complexity: 'complex',
        complexityReason: 'mentions migrate',
        model: 'frontier',
        requiredCapabilities: ['executor:agent', 'model:frontier'],
      });

      // Configured but down is fine: the frontier endpoint has no key on this hub, and the task waits.
      await vi.waitFor(() => expect(hub.endpointHealth.get('anthropic')?.status).toBe('down'));
      expect((await createTask(hub, { seniority: 'principal' })).status).toBe(201);
    });
  });

  describe('claiming tasks that need a model', () => {
    it('claims only while an endpoint of the tier is up, with the cheapest model assigned', async () => {
      const switchable = switchableFetch();
      hub = await createTestHub({
        config: { endpoints: [cheapEndpoint], endpointDownInitialDelayMs: 20, endpointDownMaxDelayMs: 40 },
        endpointCheckFetch: switchable.fetch,
      });
      await vi.waitFor(() => expect(hub.endpointHealth.get('local')?.status).toBe('down'));
      const { token } = await hub.createRunner('agents', {
        capabilities: ['executor:agent', 'executor:shell'],
        slots: 2,
      });
      const task = (await (await createTask(hub, {})).json()) as { task: Task };
      const shell = await hub.createTask();
      // The shell task is claimable; the agent task waits for its model.
      expect((await claim(hub, token)).map((work) => work.task.id)).toEqual([shell.id]);
      expect(await claim(hub, token)).toEqual([]);

      // A parked claim is answered as soon as the endpoint comes up, long before its 30 s wait runs out.
      let answered: ClaimedWork[] | undefined;
      const parked = claim(hub, token, 30_000).then((claims) => (answered = claims));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(answered).toBeUndefined();
      switchable.up.add('http://127.0.0.1:11434/v1');
      await vi.waitFor(() => expect(answered).toBeDefined(), { timeout: 10_000 });
      const [work] = await parked;
      expect(work?.task.id).toBe(task.task.id);
      expect(work?.model).toEqual({
        endpoint: {
          name: 'local',
          provider: 'openai-compatible',
          baseUrl: 'http://127.0.0.1:11434/v1',
        },
        model: 'qwen2.5-coder:7b',
        pricing: { inputPerMillionUsd: 0.25, outputPerMillionUsd: 0.5 },
      });
    });

    it('checks the endpoint at once when an attempt fails because the model could not be reached', async () => {
      const switchable = switchableFetch();
      switchable.up.add('http://127.0.0.1:11434/v1');
      let checks = 0;
      const counting: typeof fetch = async (input, init) => {
        checks += 1;
        return switchable.fetch(input, init);
      };
      hub = await createTestHub({ config: { endpoints: [cheapEndpoint] }, endpointCheckFetch: counting });
      await vi.waitFor(() => expect(hub.endpointHealth.get('local')?.status).toBe('up'));
      const { token } = await hub.createRunner('agents', { capabilities: ['executor:agent'], slots: 2 });
      await createTask(hub, {});
      await createTask(hub, {});
      const [first, second] = await claim(hub, token).then(async (one) => [
        ...one,
        ...(await claim(hub, token)),
      ]);
      const fail = (work: ClaimedWork, kind: string) =>
        hub.request('POST', `/v1/attempts/${work.attempt.id}/fail`, {
          token,
          body: { leaseToken: work.leaseToken, error: { kind, message: 'no', retryable: true } },
        });

      // Another kind of failure says nothing about the endpoint.
      expect((await fail(first!, 'verification_failed')).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(checks).toBe(1);

      // The endpoint went away; the runner's model call could not connect. The next scheduled check is a
      // minute away, but the hub checks now and the endpoint shows down.
      switchable.up.clear();
      expect((await fail(second!, 'model_unreachable')).status).toBe(200);
      await vi.waitFor(() => expect(hub.endpointHealth.get('local')?.status).toBe('down'));
      expect(checks).toBe(2);
      expect(hub.endpointHealth.available().capabilities).toEqual([]);
    });

    it('gives a pinned model exactly, and nothing to a runner without the executor', async () => {
      hub = await createTestHub({ config: { endpoints: [cheapEndpoint] } });
      await vi.waitFor(() => expect(hub.endpointHealth.get('local')?.status).toBe('up'));
      const shellOnly = await hub.createRunner('shell-only');
      const agents = await hub.createRunner('agents', { capabilities: ['executor:agent'] });
      await createTask(hub, { model: 'local/llama3.1:8b' });
      expect(await claim(hub, shellOnly.token)).toEqual([]);
      const [work] = await claim(hub, agents.token);
      expect(work?.model?.model).toBe('llama3.1:8b');
      expect(work?.task.requiredCapabilities).toEqual(['executor:agent', 'model:local/llama3.1:8b']);
    });
  });

  describe('the cost ledger', () => {
    it('records usage on the attempt and the task, shows it in the detail and on /metrics', async () => {
      hub = await createTestHub();
      const { token } = await hub.createRunner('builder');
      const task = await hub.createTask();
      const [work] = await claim(hub, token);
      const { leaseToken } = work!;
      const attemptId = work!.attempt.id;
      const records = [
        { endpoint: 'local', model: 'llama3.1:8b', inputTokens: 1_000, outputTokens: 100, costUsd: 0.25 },
        { endpoint: 'local', model: 'llama3.1:8b', inputTokens: 500, outputTokens: 50, costUsd: 0.125 },
      ];
      const recorded = await hub.request('POST', `/v1/attempts/${attemptId}/usage`, {
        token,
        body: { leaseToken, records },
      });
      expect(recorded.status).toBe(204);

      const detail = (await (await hub.request('GET', `/v1/tasks/${task.id}`)).json()) as TaskDetail;
      const totals = { inputTokens: 1_500, outputTokens: 150, costUsd: 0.375, calls: 2 };
      expect(detail.task.usage).toEqual(totals);
      expect(detail.attempts[0]?.usage).toEqual(totals);
      expect(detail.usageRecords.map((record) => [record.inputTokens, record.attemptId])).toEqual([
        [500, attemptId],
        [1_000, attemptId],
      ]);

      const metrics = await (await hub.request('GET', '/metrics', { token: null })).text();
      expect(metrics).toContain(
        'warren_model_tokens_total{endpoint="local",model="llama3.1:8b",direction="input"} 1500',
      );
      expect(metrics).toContain(
        'warren_model_tokens_total{endpoint="local",model="llama3.1:8b",direction="output"} 150',
      );
      expect(metrics).toContain('warren_model_cost_usd_total{endpoint="local",model="llama3.1:8b"} 0.375');
      expect(metrics).toContain('warren_model_calls_total{endpoint="local",model="llama3.1:8b"} 2');
    });

    it('refuses a stale lease, a bad record and too many records, recording nothing', async () => {
      hub = await createTestHub();
      const { token } = await hub.createRunner('builder');
      const task = await hub.createTask();
      const [work] = await claim(hub, token);
      const attemptId = work!.attempt.id;
      const record = { endpoint: 'e', model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 0 };
      const stale = await hub.request('POST', `/v1/attempts/${attemptId}/usage`, {
        token,
        body: { leaseToken: 'wrong', records: [record] },
      });
      expect(stale.status).toBe(409);
      const bad = await hub.request('POST', `/v1/attempts/${attemptId}/usage`, {
        token,
        body: { leaseToken: work!.leaseToken, records: [{ ...record, inputTokens: -5 }] },
      });
      expect(bad.status).toBe(400);
      expect((await errorOf(bad)).issues?.[0]?.field).toBe('records.0.inputTokens');
      const many = await hub.request('POST', `/v1/attempts/${attemptId}/usage`, {
        token,
        body: { leaseToken: work!.leaseToken, records: new Array(1_001).fill(record) },
      });
      expect(many.status).toBe(400);
      expect((await errorOf(many)).issues?.[0]?.field).toBe('records');
      expect((await hub.store.getTask(task.id))?.usage.calls).toBe(0);
    });

    it('exposes each endpoint as up or down on /metrics', async () => {
      const switchable = switchableFetch();
      switchable.up.add('http://127.0.0.1:11434/v1');
      hub = await createTestHub({
        config: { endpoints: [cheapEndpoint, frontierEndpoint] },
        endpointCheckFetch: switchable.fetch,
      });
      await vi.waitFor(() => expect(hub.endpointHealth.get('anthropic')?.status).toBe('down'));
      await vi.waitFor(() => expect(hub.endpointHealth.get('local')?.status).toBe('up'));
      const metrics = await (await hub.request('GET', '/metrics', { token: null })).text();
      expect(metrics).toContain('warren_endpoint_up{endpoint="local"} 1');
      expect(metrics).toContain('warren_endpoint_up{endpoint="anthropic"} 0');
    });
  });
});
