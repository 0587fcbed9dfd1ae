import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  AttemptEndResult,
  ClaimedWork,
  ErrorBody,
  RunnerCreated,
  TaskDetail,
  TaskList,
  TaskLogs,
} from '../core/api.ts';
import { UnavailableError } from '../core/errors.ts';
import { silentLogger } from '../core/logger.ts';
import type { Attempt, Task, WarrenEvent } from '../core/types.ts';
import { createHubAuth } from './auth.ts';
import { createHubApp } from './create-hub-app.ts';
import { resolveHubConfig } from './hub-config.ts';
import { createHubMetrics } from './metrics.ts';
import { createTestHub, minimalTaskSpec, TEST_ADMIN_TOKEN, type TestHub } from './testing/create-test-hub.ts';
import { readSse } from './testing/read-sse.ts';

async function errorOf(response: Response): Promise<ErrorBody['error']> {
  return ((await response.json()) as ErrorBody).error;
}

async function claim(hub: TestHub, token: string, body: { limit?: number; waitMs?: number } = {}) {
  const response = await hub.request('POST', '/v1/runner/claim', { token, body: { waitMs: 0, ...body } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { claims: ClaimedWork[] }).claims;
}

const completion = {
  result: {
    branch: 'warren/abc-add-a-readme',
    baseBranch: 'main',
    baseSha: 'a'.repeat(40),
    commitSha: 'b'.repeat(40),
    changedFiles: ['README.md'],
    pushed: false,
  },
  verification: [],
};

describe('createHubApp', () => {
  let hub: TestHub;
  beforeEach(async () => {
    hub = await createTestHub();
  });
  afterEach(async () => {
    await hub.close();
  });

  describe('input validation', () => {
    it('answers 400 naming a missing field', async () => {
      const response = await hub.request('POST', '/v1/tasks', { body: { repo: '/tmp/repo' } });
      expect(response.status).toBe(400);
      const error = await errorOf(response);
      expect(error.code).toBe('invalid_input');
      expect(error.issues).toEqual([expect.objectContaining({ field: 'title' })]);
      expect(error.message).toMatch(/^title: /);
    });

    it('answers 400 naming a bad lane and an unknown field', async () => {
      const response = await hub.request('POST', '/v1/tasks', {
        body: { ...minimalTaskSpec, lane: 'urgent', colour: 'blue' },
      });
      expect(response.status).toBe(400);
      const { issues } = await errorOf(response);
      expect(issues).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ field: 'lane' }),
          { field: '', reason: 'unknown field(s): colour' },
        ]),
      );
    });

    it('answers 400 naming the body when it is not JSON', async () => {
      const response = await hub.request('POST', '/v1/tasks', { body: '{"title": "unterminated' });
      expect(response.status).toBe(400);
      const error = await errorOf(response);
      expect(error.code).toBe('invalid_input');
      expect(error.message).toMatch(/request body is not valid JSON/);
    });

    it('answers 413 for a body over the limit', async () => {
      const response = await hub.request('POST', '/v1/tasks', {
        body: { ...minimalTaskSpec, instructions: 'x'.repeat(hub.config.bodyLimitBytes + 1) },
      });
      expect(response.status).toBe(413);
      expect((await errorOf(response)).code).toBe('payload_too_large');
      expect((await hub.store.listTasks({ limit: 10 })).items).toEqual([]);
    });

    it('names the item of a batch that is wrong', async () => {
      const response = await hub.request('POST', '/v1/tasks/batch', {
        body: { tasks: [minimalTaskSpec, { ...minimalTaskSpec, title: '' }] },
      });
      expect(response.status).toBe(400);
      expect((await errorOf(response)).issues).toEqual([expect.objectContaining({ field: 'tasks.1.title' })]);

      const created = await hub.request('POST', '/v1/tasks/batch', {
        body: { tasks: [minimalTaskSpec, { ...minimalTaskSpec, title: 'Second' }] },
      });
      expect(created.status).toBe(201);
      const { results } = (await created.json()) as { results: { task: Task; created: boolean }[] };
      expect(results.map((result) => [result.task.title, result.created])).toEqual([
        ['Add a README', true],
        ['Second', true],
      ]);
    });

    it('answers 400 for an unknown query parameter or state', async () => {
      const response = await hub.request('GET', '/v1/tasks?state=queued,napping');
      expect(response.status).toBe(400);
      expect((await errorOf(response)).issues?.[0]?.field).toMatch(/^state/);
    });
  });

  describe('authentication', () => {
    it('answers 401 without a token and with a wrong one', async () => {
      const missing = await hub.request('GET', '/v1/tasks', { token: null });
      expect(missing.status).toBe(401);
      expect((await errorOf(missing)).code).toBe('unauthorized');
      const wrong = await hub.request('GET', '/v1/tasks', { token: 'wrn_admin_wrong' });
      expect(wrong.status).toBe(401);
    });

    it('lets a runner token call only runner and attempt routes', async () => {
      const { token } = await hub.createRunner('builder');
      const created = await hub.request('POST', '/v1/tasks', { token, body: minimalTaskSpec });
      expect(created.status).toBe(403);
      expect((await errorOf(created)).code).toBe('forbidden');
      expect((await hub.request('GET', '/v1/runners', { token })).status).toBe(403);
      const heartbeat = await hub.request('POST', '/v1/runner/heartbeat', { token, body: {} });
      expect(heartbeat.status).toBe(200);
    });

    it('stops accepting a runner token once the runner is deleted', async () => {
      const { runner, token } = await hub.createRunner('builder');
      expect((await hub.request('POST', '/v1/runner/heartbeat', { token, body: {} })).status).toBe(200);
      expect((await hub.request('DELETE', `/v1/runners/${runner.id}`)).status).toBe(204);
      expect((await hub.request('POST', '/v1/runner/heartbeat', { token, body: {} })).status).toBe(401);
      expect((await hub.request('DELETE', `/v1/runners/${runner.id}`)).status).toBe(404);
    });

    it('serves health, readiness and metrics without a token', async () => {
      const health = await hub.request('GET', '/healthz', { token: null });
      expect(await health.json()).toEqual({ status: 'ok' });
      const ready = await hub.request('GET', '/readyz', { token: null });
      expect(ready.status).toBe(200);
    });
  });

  describe('tasks', () => {
    it('creates a task once per Idempotency-Key: 201, then 200 with the same task', async () => {
      const headers = { 'Idempotency-Key': 'create-readme-1' };
      const first = await hub.request('POST', '/v1/tasks', { body: minimalTaskSpec, headers });
      expect(first.status).toBe(201);
      const firstBody = (await first.json()) as { task: Task; created: boolean };
      expect(firstBody.created).toBe(true);
      expect(firstBody.task).toMatchObject({ state: 'queued', title: 'Add a README', lane: 'normal' });

      const second = await hub.request('POST', '/v1/tasks', { body: minimalTaskSpec, headers });
      expect(second.status).toBe(200);
      const secondBody = (await second.json()) as { task: Task; created: boolean };
      expect(secondBody).toMatchObject({ created: false, task: { id: firstBody.task.id } });
      expect((await hub.store.listTasks({ limit: 10 })).items).toHaveLength(1);
    });

    it('returns the active task holding a dedup key', async () => {
      const first = await hub.createTask({ dedupKey: 'readme' });
      const second = await hub.request('POST', '/v1/tasks', {
        body: { ...minimalTaskSpec, title: 'Another title', dedupKey: 'readme' },
      });
      expect(second.status).toBe(200);
      expect(((await second.json()) as { task: Task }).task.id).toBe(first.id);
    });

    it('lists tasks newest first, page by page', async () => {
      const created = [];
      for (const title of ['one', 'two', 'three']) created.push(await hub.createTask({ title }));
      const firstPage = (await (await hub.request('GET', '/v1/tasks?limit=2')).json()) as TaskList;
      expect(firstPage.tasks.map((task) => task.title)).toEqual(['three', 'two']);
      expect(firstPage.nextCursor).toEqual(expect.any(String));
      const secondPage = (await (
        await hub.request('GET', `/v1/tasks?limit=2&cursor=${encodeURIComponent(firstPage.nextCursor!)}`)
      ).json()) as TaskList;
      expect(secondPage.tasks.map((task) => task.title)).toEqual(['one']);
      expect(secondPage.nextCursor).toBeUndefined();
      const queued = (await (
        await hub.request('GET', '/v1/tasks?state=queued&lane=normal')
      ).json()) as TaskList;
      expect(queued.tasks).toHaveLength(3);
    });

    it('cancels and retries a task, refusing a second cancel with 409', async () => {
      const task = await hub.createTask();
      const cancelled = await hub.request('POST', `/v1/tasks/${task.id}/cancel`, {
        body: { reason: 'not needed' },
      });
      expect(cancelled.status).toBe(200);
      expect(((await cancelled.json()) as { task: Task }).task.state).toBe('cancelled');
      const again = await hub.request('POST', `/v1/tasks/${task.id}/cancel`);
      expect(again.status).toBe(409);
      expect((await errorOf(again)).code).toBe('invalid_transition');
      const retried = await hub.request('POST', `/v1/tasks/${task.id}/retry`);
      expect(retried.status).toBe(200);
      expect(((await retried.json()) as { task: Task }).task.state).toBe('queued');
    });

    it('answers 404 JSON for unknown tasks and routes', async () => {
      const missingTask = 'tsk_01J0000000000000000000000Z';
      for (const [method, path] of [
        ['GET', `/v1/tasks/${missingTask}`],
        ['POST', `/v1/tasks/${missingTask}/cancel`],
        ['POST', `/v1/tasks/${missingTask}/retry`],
        ['GET', `/v1/tasks/${missingTask}/logs`],
        ['GET', '/v1/no-such-route'],
      ] as const) {
        const response = await hub.request(method, path);
        expect(response.status, `${method} ${path}`).toBe(404);
        expect((await errorOf(response)).code).toBe('not_found');
      }
      const outside = await hub.request('GET', '/nowhere', { token: null });
      expect(outside.status).toBe(404);
      expect((await errorOf(outside)).message).toBe('route GET /nowhere not found');
    });
  });

  describe('runner flow', () => {
    it('registers, claims, heartbeats, reports phase and logs, and completes', async () => {
      const { runner, token } = await hub.createRunner('builder', { slots: 2 });
      expect(runner).toMatchObject({ name: 'builder', status: 'online', slots: 2 });
      const task = await hub.createTask();

      const claims = await claim(hub, token, { limit: 2 });
      expect(claims).toHaveLength(1);
      const [work] = claims;
      expect(work).toMatchObject({
        task: { id: task.id, state: 'leased' },
        attempt: { runnerId: runner.id },
      });
      const { leaseToken } = work!;
      const attemptId = work!.attempt.id;

      const runnerHeartbeat = await hub.request('POST', '/v1/runner/heartbeat', {
        token,
        body: { attemptIds: [attemptId] },
      });
      expect(await runnerHeartbeat.json()).toMatchObject({ revokedAttemptIds: [] });

      const heartbeat = await hub.request('POST', `/v1/attempts/${attemptId}/heartbeat`, {
        token,
        body: { leaseToken, message: 'cloning' },
      });
      expect(heartbeat.status).toBe(200);
      expect(((await heartbeat.json()) as { attempt: Attempt }).attempt.progress).toBe('cloning');

      const phase = await hub.request('POST', `/v1/attempts/${attemptId}/phase`, {
        token,
        body: { leaseToken, phase: 'running', branch: 'warren/abc-add-a-readme' },
      });
      expect(phase.status).toBe(200);
      expect(((await phase.json()) as { attempt: Attempt }).attempt.state).toBe('running');

      const logs = await hub.request('POST', `/v1/attempts/${attemptId}/logs`, {
        token,
        body: { leaseToken, entries: [{ stream: 'stdout', text: 'hello from the executor' }] },
      });
      expect(logs.status).toBe(204);
      const taskLogs = (await (await hub.request('GET', `/v1/tasks/${task.id}/logs`)).json()) as TaskLogs;
      expect(taskLogs.events.map((event) => event.data)).toContainEqual({
        stream: 'stdout',
        text: 'hello from the executor',
      });

      const complete = await hub.request('POST', `/v1/attempts/${attemptId}/complete`, {
        token,
        body: { leaseToken, ...completion },
      });
      expect(complete.status).toBe(200);
      expect(((await complete.json()) as { task: Task }).task.state).toBe('succeeded');

      const detail = (await (await hub.request('GET', `/v1/tasks/${task.id}`)).json()) as TaskDetail;
      expect(detail.task.state).toBe('succeeded');
      expect(detail.attempts.map((attempt) => attempt.state)).toEqual(['succeeded']);

      const afterwards = await hub.request('POST', '/v1/runner/heartbeat', {
        token,
        body: { attemptIds: [attemptId, 'att_unknown'] },
      });
      expect(await afterwards.json()).toMatchObject({ revokedAttemptIds: [attemptId, 'att_unknown'] });

      const metrics = await (await hub.request('GET', '/metrics', { token: null })).text();
      expect(metrics).toMatch(/warren_attempts_total\{outcome="succeeded"\} 1/);
    });

    it('refuses a stale lease token with 409 and changes nothing', async () => {
      const { token } = await hub.createRunner('builder');
      const other = await hub.createRunner('other');
      const task = await hub.createTask();
      const [work] = await claim(hub, token);
      const attemptId = work!.attempt.id;
      const before = await hub.store.lastEventId();

      for (const [callerToken, leaseToken] of [
        [token, 'lease_stale'],
        [other.token, work!.leaseToken],
      ] as const) {
        const response = await hub.request('POST', `/v1/attempts/${attemptId}/complete`, {
          token: callerToken,
          body: { leaseToken, ...completion },
        });
        expect(response.status).toBe(409);
        expect((await errorOf(response)).code).toBe('lease_lost');
      }
      expect(await hub.store.lastEventId()).toBe(before);
      expect((await hub.store.getTask(task.id))?.state).toBe('leased');
    });

    it('revokes the attempts of a cancelled task', async () => {
      const { token } = await hub.createRunner('builder');
      const task = await hub.createTask();
      const [work] = await claim(hub, token);
      await hub.request('POST', `/v1/tasks/${task.id}/cancel`);
      const heartbeat = await hub.request('POST', '/v1/runner/heartbeat', {
        token,
        body: { attemptIds: [work!.attempt.id] },
      });
      expect(await heartbeat.json()).toMatchObject({ revokedAttemptIds: [work!.attempt.id] });
      const late = await hub.request('POST', `/v1/attempts/${work!.attempt.id}/heartbeat`, {
        token,
        body: { leaseToken: work!.leaseToken },
      });
      expect(late.status).toBe(409);
    });

    it('caps a claim by the runner’s free slots', async () => {
      const { token } = await hub.createRunner('builder', { slots: 1 });
      await hub.createTask({ title: 'first' });
      await hub.createTask({ title: 'second' });
      expect(await claim(hub, token, { limit: 5 })).toHaveLength(1);
      expect(await claim(hub, token, { limit: 5, waitMs: 20 })).toEqual([]);
    });

    it('gives a draining runner nothing even with work queued', async () => {
      const { token } = await hub.createRunner('builder');
      await hub.createTask();
      await hub.request('POST', '/v1/runner/heartbeat', { token, body: { status: 'draining' } });
      expect(await claim(hub, token, { waitMs: 30_000 })).toEqual([]);
    });

    it('only claims tasks whose capabilities the runner has', async () => {
      const { token } = await hub.createRunner('builder');
      await hub.createTask({ capabilities: ['gpu'] });
      expect(await claim(hub, token, { waitMs: 20 })).toEqual([]);
    });
  });

  describe('complete or fail with claim', () => {
    async function finish(
      token: string,
      work: ClaimedWork,
      action: 'complete' | 'fail',
      body: Record<string, unknown>,
    ): Promise<Response> {
      const report =
        action === 'complete'
          ? completion
          : { error: { message: 'tests failed', kind: 'verification', retryable: false } };
      return hub.request('POST', `/v1/attempts/${work.attempt.id}/${action}`, {
        token,
        body: { leaseToken: work.leaseToken, ...report, ...body },
      });
    }

    it('completes and answers the next queued task, leased to the same runner', async () => {
      const { runner, token } = await hub.createRunner('builder');
      const first = await hub.createTask({ title: 'first' });
      const second = await hub.createTask({ title: 'second' });
      const [work] = await claim(hub, token);
      expect(work!.task.id).toBe(first.id);

      const response = await finish(token, work!, 'complete', { claim: { limit: 4 } });
      expect(response.status).toBe(200);
      const answer = (await response.json()) as AttemptEndResult;
      expect(answer.task).toMatchObject({ id: first.id, state: 'succeeded' });
      expect(answer.claims).toHaveLength(1);
      const next = answer.claims![0]!;
      expect(next).toMatchObject({
        task: { id: second.id, state: 'leased' },
        attempt: { runnerId: runner.id, state: 'leased' },
      });
      expect(next.leaseToken).not.toBe(work!.leaseToken);
      expect(Date.parse(next.attempt.leaseExpiresAt)).toBeGreaterThan(Date.now());

      const detail = (await (await hub.request('GET', `/v1/tasks/${second.id}`)).json()) as TaskDetail;
      expect(detail.attempts).toMatchObject([{ id: next.attempt.id, runnerId: runner.id }]);
      // The claimed attempt is the runner's own: its lease token works for its calls.
      const heartbeat = await hub.request('POST', `/v1/attempts/${next.attempt.id}/heartbeat`, {
        token,
        body: { leaseToken: next.leaseToken },
      });
      expect(heartbeat.status).toBe(200);
      const metrics = await (await hub.request('GET', '/metrics', { token: null })).text();
      expect(metrics).toMatch(/warren_claim_wait_seconds_count\{result="claimed"\} 2/);
    });

    it('answers without claims when the request does not ask', async () => {
      const { token } = await hub.createRunner('builder');
      await hub.createTask({ title: 'first' });
      await hub.createTask({ title: 'second' });
      const [work] = await claim(hub, token);
      const answer = (await (await finish(token, work!, 'complete', {})).json()) as AttemptEndResult;
      expect(answer.claims).toBeUndefined();
      expect(await claim(hub, token)).toHaveLength(1);
    });

    it('caps the claim by the runner’s free slots', async () => {
      const { token } = await hub.createRunner('builder', { slots: 2 });
      for (const title of ['one', 'two', 'three', 'four', 'five']) await hub.createTask({ title });
      const [work, held] = await claim(hub, token, { limit: 2 });
      expect(held).toBeDefined();
      const answer = (await (
        await finish(token, work!, 'complete', { claim: { limit: 5 } })
      ).json()) as AttemptEndResult;
      expect(answer.claims).toHaveLength(1);
      const queued = (await (await hub.request('GET', '/v1/tasks?state=queued')).json()) as TaskList;
      expect(queued.tasks).toHaveLength(2);
    });

    it('gives a draining runner no claims but still records the completion', async () => {
      const { token } = await hub.createRunner('builder');
      await hub.createTask({ title: 'first' });
      const queued = await hub.createTask({ title: 'second' });
      const [work] = await claim(hub, token);
      await hub.request('POST', '/v1/runner/heartbeat', { token, body: { status: 'draining' } });
      const response = await finish(token, work!, 'complete', { claim: { limit: 1 } });
      expect(response.status).toBe(200);
      const answer = (await response.json()) as AttemptEndResult;
      expect(answer).toMatchObject({ task: { state: 'succeeded' }, claims: [] });
      expect((await hub.store.getTask(queued.id))?.state).toBe('queued');
    });

    it('fails and answers the next queued task', async () => {
      const { runner, token } = await hub.createRunner('builder');
      const first = await hub.createTask({ title: 'first', maxAttempts: 1 });
      const second = await hub.createTask({ title: 'second' });
      const [work] = await claim(hub, token);
      expect(work!.task.id).toBe(first.id);
      const response = await finish(token, work!, 'fail', { claim: { limit: 1 } });
      expect(response.status).toBe(200);
      const answer = (await response.json()) as AttemptEndResult;
      expect(answer.task).toMatchObject({ id: first.id });
      expect(answer.task.state).not.toBe('leased');
      expect(answer.claims).toMatchObject([
        { task: { id: second.id, state: 'leased' }, attempt: { runnerId: runner.id } },
      ]);
    });

    it('refuses a stale lease token with 409 and claims nothing', async () => {
      const { token } = await hub.createRunner('builder', { slots: 2 });
      const first = await hub.createTask({ title: 'first' });
      const queued = await hub.createTask({ title: 'second' });
      const [work] = await claim(hub, token);
      for (const action of ['complete', 'fail'] as const) {
        const response = await finish(token, { ...work!, leaseToken: 'lease_stale' }, action, {
          claim: { limit: 2 },
        });
        expect(response.status).toBe(409);
        expect((await errorOf(response)).code).toBe('lease_lost');
      }
      expect((await hub.store.getTask(first.id))?.state).toBe('leased');
      expect((await hub.store.getTask(queued.id))?.state).toBe('queued');
    });

    it('refuses claim from the admin token and leaves the attempt running', async () => {
      const { token } = await hub.createRunner('builder', { slots: 2 });
      const first = await hub.createTask({ title: 'first' });
      const queued = await hub.createTask({ title: 'second' });
      const [work] = await claim(hub, token);
      const response = await finish(hub.adminToken, work!, 'complete', { claim: { limit: 1 } });
      expect(response.status).toBe(400);
      expect((await errorOf(response)).issues?.[0]).toEqual({
        field: 'claim',
        reason: 'only a runner token may claim work',
      });
      expect((await hub.store.getTask(first.id))?.state).toBe('leased');
      expect((await hub.store.getTask(queued.id))?.state).toBe('queued');
    });

    it('answers 400 for a claim limit out of range', async () => {
      const { token } = await hub.createRunner('builder');
      await hub.createTask();
      const [work] = await claim(hub, token);
      for (const limit of [0, 257, 1.5]) {
        const response = await finish(token, work!, 'complete', { claim: { limit } });
        expect(response.status).toBe(400);
        expect((await errorOf(response)).issues?.[0]?.field).toMatch(/^claim\.limit/);
      }
    });
  });

  describe('long poll', () => {
    it('answers a parked claim with a task enqueued by another request', async () => {
      const { token } = await hub.createRunner('builder');
      let enqueued = false;
      let answeredBeforeEnqueue = false;
      const pending = claim(hub, token, { waitMs: 30_000 }).then((claims) => {
        answeredBeforeEnqueue = !enqueued;
        return claims;
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const task = await hub.createTask();
      enqueued = true;
      const claims = await pending;
      expect(answeredBeforeEnqueue).toBe(false);
      expect(claims.map((work) => work.task.id)).toEqual([task.id]);
    });

    it('answers empty once the wait runs out', async () => {
      const { token } = await hub.createRunner('builder');
      expect(await claim(hub, token, { waitMs: 50 })).toEqual([]);
    });

    it('gives one task to one of several parked runners', async () => {
      const runners = await Promise.all(['a', 'b', 'c'].map((name) => hub.createRunner(name)));
      const controllers = runners.map(() => new AbortController());
      const pending = runners.map(({ token }, index) =>
        hub.request('POST', '/v1/runner/claim', {
          token,
          body: { waitMs: 30_000 },
          signal: controllers[index]!.signal,
        }),
      );
      const answers = pending.map((response, index) =>
        response.then(async (answer) => ({ index, ...((await answer.json()) as { claims: ClaimedWork[] }) })),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      const task = await hub.createTask();
      const winner = await Promise.race(answers);
      expect(winner.claims.map((work) => work.task.id)).toEqual([task.id]);
      // The others stay parked until their clients go away.
      controllers.forEach((controller, index) => index !== winner.index && controller.abort());
      const all = await Promise.all(answers);
      expect(all.map((answer) => answer.claims.length).sort()).toEqual([0, 0, 1]);
      expect(await hub.store.listAttempts(task.id)).toHaveLength(1);
    });
  });

  describe('event stream', () => {
    it('replays events after Last-Event-ID, then delivers new ones live', async () => {
      const first = await hub.createTask({ title: 'first' });
      const second = await hub.createTask({ title: 'second' });
      const events = await hub.store.listEvents({ limit: 100 });
      const firstCreated = events.find(
        (event) => event.type === 'task.created' && event.taskId === first.id,
      )!;

      const controller = new AbortController();
      const response = await hub.request('GET', '/v1/events?types=task.created', {
        headers: { 'Last-Event-ID': String(firstCreated.id) },
        signal: controller.signal,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const stream = readSse(response.body!);

      const [replayed] = await stream.next(1);
      expect(replayed).toMatchObject({ event: 'task.created' });
      const replayedEvent = JSON.parse(replayed!.data) as WarrenEvent;
      expect(replayedEvent.taskId).toBe(second.id);
      expect(replayed!.id).toBe(String(replayedEvent.id));

      const third = await hub.createTask({ title: 'third' });
      const [live] = await stream.next(1);
      expect((JSON.parse(live!.data) as WarrenEvent).taskId).toBe(third.id);
      await stream.cancel();
      controller.abort();
    });

    it('starts live when no cursor is given, and filters by task', async () => {
      const before = await hub.createTask({ title: 'before' });
      const response = await hub.request('GET', `/v1/events`);
      const stream = readSse(response.body!);
      const other = await hub.createTask({ title: 'other' });
      await hub.request('POST', `/v1/tasks/${before.id}/cancel`);
      const live = (await stream.next(3)).map((message) => JSON.parse(message.data) as WarrenEvent);
      expect(live.map((event) => [event.type, event.taskId])).toEqual([
        ['task.created', other.id],
        ['task.state', other.id],
        ['task.state', before.id],
      ]);
      await stream.cancel();

      const filtered = readSse((await hub.request('GET', `/v1/events?after=0&taskId=${before.id}`)).body!);
      const replay = (await filtered.next(3)).map((message) => JSON.parse(message.data) as WarrenEvent);
      expect(replay.map((event) => [event.type, event.taskId, event.data.to])).toEqual([
        ['task.created', before.id, undefined],
        ['task.state', before.id, 'queued'],
        ['task.state', before.id, 'cancelled'],
      ]);
      await filtered.cancel();
    });

    it('refuses a malformed Last-Event-ID', async () => {
      const response = await hub.request('GET', '/v1/events', { headers: { 'Last-Event-ID': 'abc' } });
      expect(response.status).toBe(400);
      expect((await errorOf(response)).issues).toEqual([expect.objectContaining({ field: 'Last-Event-ID' })]);
    });
  });

  describe('operations', () => {
    it('exposes task counts and HTTP metrics on /metrics', async () => {
      await hub.createTask();
      await hub.createTask({ lane: 'high' });
      const response = await hub.request('GET', '/metrics', { token: null });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await response.text();
      expect(text).toContain('warren_tasks{lane="normal",state="queued"} 1');
      expect(text).toContain('warren_tasks{lane="high",state="queued"} 1');
      expect(text).toContain('warren_tasks{lane="low",state="succeeded"} 0');
      expect(text).toMatch(/warren_http_requests_total\{method="POST",route="\/v1\/tasks",status="201"\} 2/);
      expect(text).toContain('warren_runners{status="online"} 0');
    });

    it('creates runners with a token shown once and lists them without it', async () => {
      const created = await hub.request('POST', '/v1/runners', {
        body: { name: 'builder', capabilities: ['node'] },
      });
      expect(created.status).toBe(201);
      const body = (await created.json()) as RunnerCreated;
      expect(body.token).toMatch(/^wrn_runner_/);
      const duplicate = await hub.request('POST', '/v1/runners', { body: { name: 'builder' } });
      expect(duplicate.status).toBe(409);
      const listed = await (await hub.request('GET', '/v1/runners')).text();
      expect(listed).toContain('builder');
      expect(listed).not.toContain(body.token);
    });
  });
});

describe('createHubApp server errors', () => {
  it('answers 500 with a generic message and a request id, never the error itself', async () => {
    const hub = await createTestHub();
    try {
      const failing = new Proxy(hub.store, {
        get(target, property, receiver) {
          if (property === 'getTask') {
            return async () => {
              throw new Error(`disk on fire near ${TEST_ADMIN_TOKEN}`);
            };
          }
          return Reflect.get(target, property, receiver) as unknown;
        },
      });
      const app = createHubApp({
        store: failing,
        auth: createHubAuth({ store: failing, adminToken: TEST_ADMIN_TOKEN }),
        config: resolveHubConfig(),
        logger: silentLogger,
        metrics: createHubMetrics({ store: failing, processMetrics: false }),
        endpointHealth: hub.endpointHealth,
      });
      const response = await app.request('/v1/tasks/tsk_01J0000000000000000000000Z', {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      });
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(text).not.toContain('disk on fire');
      expect(text).not.toContain(TEST_ADMIN_TOKEN);
      const requestId = response.headers.get('x-request-id');
      expect(requestId).toEqual(expect.any(String));
      expect(JSON.parse(text)).toEqual({
        error: { code: 'internal', message: `internal error (request id ${requestId})` },
      });
    } finally {
      await hub.close();
    }
  });

  it('says 503 on /readyz once shut down', async () => {
    const hub = await createTestHub();
    try {
      const shutdown = new AbortController();
      const app = createHubApp({
        store: hub.store,
        auth: createHubAuth({ store: hub.store, adminToken: TEST_ADMIN_TOKEN }),
        config: resolveHubConfig(),
        logger: silentLogger,
        metrics: createHubMetrics({ store: hub.store, processMetrics: false }),
        endpointHealth: hub.endpointHealth,
        signal: shutdown.signal,
      });
      expect((await app.request('/readyz')).status).toBe(200);
      shutdown.abort();
      const response = await app.request('/readyz');
      expect(response.status).toBe(503);
      expect(await errorOf(response)).toMatchObject({ code: 'unavailable' });
    } finally {
      await hub.close();
    }
  });
});

describe('createHubApp with its database away', () => {
  it('answers 503 with a clear message and Retry-After, and /readyz says so without hanging', async () => {
    const hub = await createTestHub();
    try {
      let away = false;
      const unavailable = new UnavailableError('database unavailable: connect ECONNREFUSED 10.0.0.5:5432');
      const store = new Proxy(hub.store, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver) as unknown;
          if (!away || typeof value !== 'function') return value;
          // ping hangs (a half-open connection); everything else fails as the PostgreSQL store does.
          if (property === 'ping') return () => new Promise<boolean>(() => {});
          return () => Promise.reject(unavailable);
        },
      });
      const app = createHubApp({
        store,
        auth: createHubAuth({ store: hub.store, adminToken: TEST_ADMIN_TOKEN }),
        config: resolveHubConfig(),
        logger: silentLogger,
        metrics: createHubMetrics({ store: hub.store, processMetrics: false }),
        endpointHealth: hub.endpointHealth,
        signal: new AbortController().signal,
      });
      const listTasks = () =>
        app.request('/v1/tasks', { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
      expect((await listTasks()).status).toBe(200);
      away = true;
      const response = await listTasks();
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('2');
      const error = await errorOf(response);
      expect(error.code).toBe('unavailable');
      expect(error.message).toMatch(/^the hub cannot reach its store right now; retry later \(request id /);
      // The internal detail (an address) is logged, not answered.
      expect(error.message).not.toContain('10.0.0.5');
      const ready = await app.request('/readyz');
      expect(ready.status).toBe(503);
      expect(await errorOf(ready)).toMatchObject({ code: 'unavailable', message: 'store is not answering' });
      away = false;
      expect((await app.request('/readyz')).status).toBe(200);
    } finally {
      await hub.close();
    }
  });
});

describe('createHubApp event stream cleanup', () => {
  it('unsubscribes from the store when the client goes away', async () => {
    const hub = await createTestHub();
    try {
      let subscriptions = 0;
      const counting = new Proxy(hub.store, {
        get(target, property, receiver) {
          if (property === 'subscribe') {
            return (listener: Parameters<typeof target.subscribe>[0]) => {
              subscriptions += 1;
              const unsubscribe = target.subscribe(listener);
              return () => {
                subscriptions -= 1;
                unsubscribe();
              };
            };
          }
          return Reflect.get(target, property, receiver) as unknown;
        },
      });
      const app = createHubApp({
        store: counting,
        auth: createHubAuth({ store: counting, adminToken: TEST_ADMIN_TOKEN }),
        config: resolveHubConfig(),
        logger: silentLogger,
        metrics: createHubMetrics({ store: counting, processMetrics: false }),
        endpointHealth: hub.endpointHealth,
      });
      const baseline = subscriptions;
      const response = await app.request('/v1/events', {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      });
      const stream = readSse(response.body!);
      await hub.createTask();
      await stream.next(1);
      expect(subscriptions).toBe(baseline + 1);
      await stream.cancel();
      while (subscriptions > baseline) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(subscriptions).toBe(baseline);
    } finally {
      await hub.close();
    }
  });
});
