/**
 * The hub killed with SIGKILL in the middle of a burst of task creations: every acknowledged task
 * survives the restart intact, retried creations never duplicate, and a connected runner rides out the
 * outage on its own and carries on with new work.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHubClient } from '../src/client/hub-client.ts';
import type { Task, TaskSpecInput } from '../src/core/types.ts';
import {
  createProcessHarness,
  type HubProcess,
  type ProcessHarness,
} from './support/create-process-harness.ts';
import { waitFor } from './support/wait-for.ts';

// why: enough creations that the kill lands while many are in flight, few enough for a 2-core machine.
const burstSize = 300;
const concurrency = 16;
// why: the kill comes once a third of the burst has been acknowledged, so some land before and some after.
const killAfterAcknowledged = 100;

interface CreateOutcome {
  index: number;
  key: string;
  spec: TaskSpecInput;
  /** HTTP status; undefined when the request failed without an answer. */
  status?: number;
  taskId?: string;
}

describe('a hub that crashes during a burst of creations', () => {
  let harness: ProcessHarness;

  beforeEach(async () => {
    harness = await createProcessHarness();
  });

  afterEach(async () => {
    await harness.cleanup();
  });

  it('keeps every acknowledged task, never duplicates, and its runner carries on without a restart', async () => {
    const dataDir = harness.path('hub');
    const hubSettings = {
      dataDir,
      config: { leaseMs: 5_000, heartbeatIntervalMs: 1_000, maintenanceIntervalMs: 100 },
      logFile: harness.path('hub.log'),
    };
    const hub: HubProcess = await harness.startHub({ ...hubSettings, port: 0 });
    const admin = createHubClient({ baseUrl: hub.url, token: hub.adminToken });
    const source = await harness.sandbox.createSourceRepo({ files: { 'README.md': '# hub crash\n' } });

    // A real runner process, long-polling the hub when it dies.
    const created = await admin.runners.create({ name: 'survivor' });
    const runner = harness.startCliRunner({
      hubUrl: hub.url,
      token: created.token,
      workDir: harness.path('runner'),
      name: 'survivor',
    });
    await waitFor('the runner to come online', async () =>
      (await admin.runners.list()).some((item) => item.name === 'survivor' && item.status === 'online'),
    );

    const outcomes: CreateOutcome[] = Array.from({ length: burstSize }, (_, index) => ({
      index,
      key: `burst-${randomUUID()}`,
      spec: {
        title: `Burst task ${index}`,
        instructions: `instructions of task ${index}: ${'x'.repeat(index)}`,
        repo: '/nonexistent/burst-repo',
        executor: 'shell',
        executorInput: { run: `echo ${index}` },
        // why: no runner has this capability, so the burst stays queued and untouched.
        capabilities: ['burst-only'],
        priority: index % 50,
        lane: (['high', 'normal', 'low'] as const)[index % 3],
        labels: ['burst', `n${index}`],
        maxAttempts: 1 + (index % 5),
      },
    }));
    const post = async (outcome: CreateOutcome): Promise<{ status: number; task: Task } | undefined> => {
      try {
        const response = await fetch(`${hub.url}/v1/tasks`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${hub.adminToken}`,
            'content-type': 'application/json',
            'idempotency-key': outcome.key,
          },
          body: JSON.stringify(outcome.spec),
        });
        const body = (await response.json()) as { task: Task };
        return { status: response.status, task: body.task };
      } catch {
        return undefined;
      }
    };

    let acknowledged = 0;
    let killed = false;
    let next = 0;
    const worker = async () => {
      while (next < outcomes.length) {
        const outcome = outcomes[next]!;
        next += 1;
        const answer = await post(outcome);
        if (!answer) continue;
        outcome.status = answer.status;
        outcome.taskId = answer.task?.id;
        if (answer.status >= 200 && answer.status < 300) acknowledged += 1;
        if (!killed && acknowledged >= killAfterAcknowledged) {
          killed = true;
          hub.process.signalGroup('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, () => worker()));
    expect(killed).toBe(true);
    const hubExit = await hub.process.exited;
    expect(hubExit.signal).toBe('SIGKILL');

    const acked = outcomes.filter((outcome) => outcome.status !== undefined && outcome.status < 300);
    const unanswered = outcomes.filter((outcome) => outcome.status === undefined);
    // The kill really landed in the middle: some creations were acknowledged, some never were.
    expect(acked.length).toBeGreaterThanOrEqual(killAfterAcknowledged);
    expect(unanswered.length).toBeGreaterThan(0);
    expect(outcomes.every((outcome) => outcome.status === undefined || outcome.status === 201)).toBe(true);

    // Restart on the same data dir and port.
    const restarted = await harness.startHub({ ...hubSettings, port: hub.port });
    expect(restarted.url).toBe(hub.url);
    expect(restarted.adminToken).toBe(hub.adminToken);

    // Every acknowledged task is there, with its spec intact.
    for (const outcome of acked) {
      const detail = await admin.tasks.get(outcome.taskId!);
      expect(detail, `task ${outcome.index}`).toBeDefined();
      expect(detail!.task).toMatchObject({
        ...outcome.spec,
        id: outcome.taskId,
        state: 'queued',
        idempotencyKey: outcome.key,
        requiredCapabilities: ['burst-only', 'executor:shell'],
      });
    }

    // Creating everything again with the same keys: the acknowledged ones answer with the same task,
    // and however the crash split the rest, each key ends up with exactly one task.
    const again = await Promise.all(
      outcomes.map(async (outcome) => ({ outcome, answer: await post(outcome) })),
    );
    for (const { outcome, answer } of again) {
      expect(answer, `task ${outcome.index}`).toBeDefined();
      if (outcome.status !== undefined) {
        expect(answer!.status).toBe(200);
        expect(answer!.task.id).toBe(outcome.taskId);
      }
      expect(answer!.task.title).toBe(outcome.spec.title);
    }
    expect(new Set(again.map(({ answer }) => answer!.task.id)).size).toBe(burstSize);
    const listed: Task[] = [];
    let cursor: string | undefined;
    do {
      const page = await admin.tasks.list({ label: 'burst', limit: 500, cursor });
      listed.push(...page.tasks);
      cursor = page.nextCursor;
    } while (cursor);
    expect(listed).toHaveLength(burstSize);

    // The runner was never restarted, and it takes new work from the restarted hub.
    expect(runner.isRunning()).toBe(true);
    const { task } = await admin.tasks.create({
      title: 'After the crash',
      repo: source,
      executorInput: { run: 'echo hi > hi.txt' },
      successCriteria: [{ description: 'hi.txt exists', command: 'test -f hi.txt' }],
    });
    const finished = await waitFor(
      'the runner to finish the new task',
      async () => {
        const detail = await admin.tasks.get(task.id);
        return detail && ['succeeded', 'dead', 'cancelled'].includes(detail.task.state) ? detail : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 200 },
    );
    expect(finished.task.state).toBe('succeeded');
    expect(finished.attempts.map((attempt) => [attempt.runnerId, attempt.state])).toEqual([
      [created.runner.id, 'succeeded'],
    ]);
    expect(await harness.sandbox.git(source, ['show', `${finished.task.result!.branch}:hi.txt`])).toBe('hi');
    expect(runner.isRunning()).toBe(true);
    // It said so while the hub was down, and kept going.
    expect(runner.stdout()).toMatch(/hub request failed; retrying|claiming work from .* failed/);
  }, 60_000);
});
