/**
 * A runner killed with SIGKILL in the middle of a task: the lease runs out, another runner takes the task
 * and finishes it exactly once, and the dead runner's late report is refused.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHubClient, type HubClient } from '../src/client/hub-client.ts';
import type { WarrenEvent } from '../src/core/types.ts';
import type { RunnerState } from '../src/runner/runner-state-file.ts';
import {
  createProcessHarness,
  type HubProcess,
  type ProcessHarness,
} from './support/create-process-harness.ts';
import { waitFor } from './support/wait-for.ts';

/**
 * Every event about `taskId` so far, read from the event stream from the beginning. why: the hub holds its
 * database exclusively, so the stream is the way in; a fresh task no runner can claim marks the end,
 * because event ids increase in commit order and it is created after everything we wait for.
 */
async function eventsOfTask(admin: HubClient, taskId: string, repo: string): Promise<WarrenEvent[]> {
  const { task: sentinel } = await admin.tasks.create({
    title: 'End of the events so far',
    repo,
    executorInput: { run: 'true' },
    capabilities: ['no-runner-has-this'],
  });
  const events: WarrenEvent[] = [];
  for await (const event of admin.events({ after: 0 })) {
    if (event.taskId === taskId) events.push(event);
    if (event.type === 'task.created' && event.taskId === sentinel.id) break;
  }
  return events;
}

describe('a runner that crashes mid-task', () => {
  let harness: ProcessHarness;

  beforeEach(async () => {
    harness = await createProcessHarness();
  });

  afterEach(async () => {
    await harness.cleanup();
  });

  it('loses its lease; a second runner completes the task exactly once; its late report gets 409', async () => {
    const hub: HubProcess = await harness.startHub({
      dataDir: harness.path('hub'),
      port: 0,
      // why: a 2.5 s lease makes the crash visible to the hub quickly, while heartbeats every 0.5 s leave
      // the live runner four misses of slack on a loaded machine before it could lose the lease itself.
      config: { leaseMs: 2_500, heartbeatIntervalMs: 500, maintenanceIntervalMs: 100 },
      // why: the lost attempt is retried after a fraction of a second instead of the default 2 s.
      retryPolicy: { baseDelayMs: 200, maxDelayMs: 1_000, factor: 2, jitter: 0 },
      logFile: harness.path('hub.log'),
    });
    const admin: HubClient = createHubClient({ baseUrl: hub.url, token: hub.adminToken });
    const source = await harness.sandbox.createSourceRepo({ files: { 'README.md': '# crash\n' } });
    const control = harness.path('control');
    await mkdir(control);

    // The first attempt records its shell's pid and blocks; any later attempt finishes at once.
    const command = [
      `echo $$ >> ${control}/pids`,
      `if [ ! -e ${control}/first-started ]; then touch ${control}/first-started; sleep 30; fi`,
      'echo done > result.txt',
    ].join('; ');
    const { task } = await admin.tasks.create({
      title: 'Survive a runner crash',
      repo: source,
      executorInput: { run: command },
      successCriteria: [{ description: 'result written', command: 'test -f result.txt' }],
      maxAttempts: 3,
    });

    const first = await admin.runners.create({ name: 'first' });
    const firstWorkDir = harness.path('runner-first');
    const firstRunner = harness.startCliRunner({
      hubUrl: hub.url,
      token: first.token,
      workDir: firstWorkDir,
      name: 'first',
    });
    await waitFor('the task to run on the first runner', async () => {
      const detail = await admin.tasks.get(task.id);
      return detail?.task.state === 'running' && detail.attempts.length === 1;
    });
    const shellPid = Number(
      await waitFor(
        'the first attempt to start its command',
        async () => (await readFile(path.join(control, 'pids'), 'utf8').catch(() => '')).split('\n')[0],
      ),
    );
    // The executor is its own process group: it outlives the runner's SIGKILL. Reap it at cleanup.
    harness.adoptProcessGroup(shellPid);

    firstRunner.signalGroup('SIGKILL');
    await firstRunner.exited;
    const state = JSON.parse(await readFile(path.join(firstWorkDir, 'state.json'), 'utf8')) as RunnerState;
    expect(state.held).toHaveLength(1);
    const stale = state.held[0]!;
    expect(stale.taskId).toBe(task.id);

    const lost = await waitFor('the first attempt to be marked lost', async () => {
      const detail = await admin.tasks.get(task.id);
      return detail?.attempts[0]?.state === 'lost' ? detail : undefined;
    });
    expect(lost.attempts[0]!.id).toBe(stale.attemptId);

    const second = await admin.runners.create({ name: 'second' });
    harness.startCliRunner({
      hubUrl: hub.url,
      token: second.token,
      workDir: harness.path('runner-second'),
      name: 'second',
    });
    const finished = await waitFor(
      'the task to finish',
      async () => {
        const detail = await admin.tasks.get(task.id);
        return detail && ['succeeded', 'dead', 'cancelled'].includes(detail.task.state) ? detail : undefined;
      },
      { timeoutMs: 40_000 },
    );

    expect(finished.task.state).toBe('succeeded');
    expect(finished.attempts.map((attempt) => attempt.state)).toEqual(['lost', 'succeeded']);
    const winner = finished.attempts[1]!;
    expect(winner.runnerId).toBe(second.runner.id);
    expect(finished.attempts[0]!.runnerId).toBe(first.runner.id);
    expect(finished.task.result).toEqual(winner.result);

    // Exactly one warren branch in the source repository, made by the second attempt.
    const branches = (
      await harness.sandbox.git(source, ['for-each-ref', '--format=%(refname:short)', 'refs/heads/warren/'])
    )
      .split('\n')
      .filter(Boolean);
    expect(branches).toEqual([finished.task.result!.branch]);
    const branch = branches[0]!;
    expect(await harness.sandbox.git(source, ['rev-list', '--count', `main..${branch}`])).toBe('1');
    expect(await harness.sandbox.git(source, ['log', '-1', '--format=%B', branch])).toContain(
      `Warren-Attempt: ${winner.id}`,
    );
    expect(await harness.sandbox.git(source, ['show', `${branch}:result.txt`])).toBe('done');
    // Two commands ran: the crashed one and the winning one; nothing ran a third time.
    expect((await readFile(path.join(control, 'pids'), 'utf8')).trim().split('\n')).toHaveLength(2);

    // The dead runner's late calls, replayed with its own token and its recorded lease token.
    const eventsBefore = await eventsOfTask(admin, task.id, source);
    expect(eventsBefore.length).toBeGreaterThan(0);
    const replay = async (action: string, body: Record<string, unknown>) => {
      const response = await fetch(`${hub.url}/v1/attempts/${stale.attemptId}/${action}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ leaseToken: stale.leaseToken, ...body }),
      });
      return { status: response.status, body: (await response.json()) as { error?: { code?: string } } };
    };
    const forged = {
      branch,
      baseBranch: 'main',
      baseSha: '0'.repeat(40),
      commitSha: 'f'.repeat(40),
      changedFiles: ['forged.txt'],
      pushed: true,
      summary: 'the crashed runner speaking',
    };
    const completed = await replay('complete', { result: forged });
    expect(completed.status).toBe(409);
    expect(completed.body.error?.code).toBe('lease_lost');
    const failed = await replay('fail', {
      error: { kind: 'late', message: 'late failure', retryable: true },
    });
    expect(failed.status).toBe(409);
    const logged = await replay('logs', { entries: [{ stream: 'stdout', text: 'late output\n' }] });
    expect(logged.status).toBe(409);
    const heartbeat = await replay('heartbeat', {});
    expect(heartbeat.status).toBe(409);

    // Nothing changed: the task, its attempts and its events are exactly as before the replay.
    expect(await admin.tasks.get(task.id)).toEqual(finished);
    expect(await eventsOfTask(admin, task.id, source)).toEqual(eventsBefore);
  }, 60_000);
});
