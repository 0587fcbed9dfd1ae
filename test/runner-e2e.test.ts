import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHubClient, type HubClient } from '../src/client/hub-client.ts';
import { silentLogger } from '../src/core/logger.ts';
import type { Task, TaskSpecInput, TaskState } from '../src/core/types.ts';
import { startHub, type RunningHub } from '../src/hub/start-hub.ts';
import { createGitSandbox, type GitSandbox } from '../src/vcs/testing/create-git-sandbox.ts';
import { readStartTime } from '../src/runner/process-groups.ts';
import type { RunnerState } from '../src/runner/runner-state-file.ts';
import { startRunner, type RunningRunner, type StartRunnerOptions } from '../src/runner/start-runner.ts';
import { isProcessAlive } from '../src/executors/testing/is-process-alive.ts';

async function waitFor<Value>(
  description: string,
  check: () => Promise<Value | undefined> | Value | undefined,
  timeoutMs = 30_000,
): Promise<Value> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('startRunner against a real hub', () => {
  let sandbox: GitSandbox;
  let hub: RunningHub;
  let admin: HubClient;
  let source: string;
  let workDir: string;
  const runners: RunningRunner[] = [];

  beforeEach(async () => {
    sandbox = await createGitSandbox();
    hub = await startHub({
      dataDir: sandbox.path('hub'),
      port: 0,
      // why: short leases and heartbeats keep cancellation and expiry fast in tests.
      config: { leaseMs: 3_000, heartbeatIntervalMs: 200, maintenanceIntervalMs: 50 },
      logger: silentLogger,
    });
    admin = createHubClient({ baseUrl: hub.url, token: hub.adminToken });
    source = await sandbox.createSourceRepo({ files: { 'README.md': '# demo\n' } });
    workDir = sandbox.path('runner');
  });

  afterEach(async () => {
    for (const runner of runners.splice(0)) await runner.stop({ drainTimeoutMs: 0 });
    await hub.close();
    await sandbox.cleanup();
  });

  async function createRunnerToken(name = 'test-runner'): Promise<string> {
    return (await admin.runners.create({ name })).token;
  }

  async function launch(overrides: Partial<StartRunnerOptions> = {}): Promise<RunningRunner> {
    const runner = await startRunner({
      hubUrl: hub.url,
      token: overrides.token ?? (await createRunnerToken()),
      workDir,
      pollWaitMs: 1_000,
      ...overrides,
    });
    runners.push(runner);
    return runner;
  }

  async function createTask(spec: Partial<TaskSpecInput>): Promise<Task> {
    const { task } = await admin.tasks.create({
      title: 'say hello',
      repo: source,
      executor: 'shell',
      ...spec,
    });
    return task;
  }

  async function waitForState(taskId: string, states: TaskState[], timeoutMs = 30_000): Promise<Task> {
    return waitFor(
      `task ${taskId} to reach ${states.join(' or ')}`,
      async () => {
        const detail = await admin.tasks.get(taskId);
        return detail && states.includes(detail.task.state) ? detail.task : undefined;
      },
      timeoutMs,
    );
  }

  async function worktreeDirectories(): Promise<string[]> {
    return readdir(path.join(workDir, 'worktrees')).catch(() => []);
  }

  async function readState(): Promise<RunnerState> {
    return JSON.parse(await readFile(path.join(workDir, 'state.json'), 'utf8')) as RunnerState;
  }

  it('runs a shell task, verifies it, pushes the branch and reports success', async () => {
    const runner = await launch();
    const task = await createTask({
      executorInput: { run: 'echo hello > hello.txt' },
      successCriteria: [{ description: 'file exists', command: 'test -f hello.txt' }],
    });

    const done = await waitForState(task.id, ['succeeded', 'dead', 'failed']);
    expect(done.state).toBe('succeeded');
    const result = done.result!;
    expect(result.branch).toMatch(/^warren\/[0-9a-z]{8}-say-hello$/);
    expect(result.pushed).toBe(true);
    expect(result.changedFiles).toEqual(['hello.txt']);

    expect(await sandbox.git(source, ['show', `${result.branch}:hello.txt`])).toBe('hello');
    expect(await sandbox.git(source, ['rev-parse', result.branch])).toBe(result.commitSha);
    const message = await sandbox.git(source, ['log', '-1', '--format=%B', result.branch]);
    expect(message).toContain('say hello');
    expect(message).toContain(`Warren-Task: ${task.id}`);
    expect(message).toMatch(/Warren-Attempt: att_/);
    // The source's own checkout is untouched.
    expect(await sandbox.git(source, ['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('main');

    const detail = (await admin.tasks.get(task.id))!;
    expect(detail.attempts[0]!.verification[0]!.criteria[0]).toMatchObject({ passed: true, exitCode: 0 });

    await runner.idle();
    expect(await worktreeDirectories()).toEqual([]);
    expect((await readState()).held).toEqual([]);
    const logText = (await admin.tasks.logs(task.id))
      .filter((event) => event.type === 'attempt.log')
      .map((event) => String(event.data.text))
      .join('');
    for (const line of [
      'fetching',
      'creating worktree warren/',
      'running shell',
      'verifying 1 criterion',
      'committing',
      'pushed',
    ]) {
      expect(logText).toContain(line);
    }
    expect(runner.stats()).toMatchObject({ claimed: 1, succeeded: 1, failed: 0, active: 0 });
  });

  it('fails a task whose criterion fails, retries it, and ends dead with the evidence', async () => {
    const runner = await launch();
    const task = await createTask({
      title: 'never passes',
      maxAttempts: 2,
      executorInput: { run: 'echo partial > work.txt' },
      successCriteria: [
        { description: 'the answer is right', command: 'echo checking; grep -q right work.txt' },
      ],
    });

    const dead = await waitForState(task.id, ['dead', 'succeeded'], 45_000);
    expect(dead.state).toBe('dead');
    const detail = (await admin.tasks.get(task.id))!;
    expect(detail.attempts).toHaveLength(2);
    for (const attempt of detail.attempts) {
      expect(attempt.state).toBe('failed');
      expect(attempt.error).toMatchObject({ kind: 'verification_failed', retryable: true });
      expect(attempt.error!.message).toContain('the answer is right');
      const criterion = attempt.verification[0]!.criteria[0]!;
      expect(criterion).toMatchObject({
        passed: false,
        exitCode: 1,
        command: 'echo checking; grep -q right work.txt',
      });
      expect(criterion.output).toContain('checking');
    }
    // Nothing was pushed.
    await expect(
      sandbox.git(source, ['rev-parse', '--verify', detail.attempts[0]!.branch!]),
    ).rejects.toThrow();

    await runner.idle();
    // The last failed attempt's worktree is kept for inspection; the first was superseded by the retry.
    const state = await readState();
    expect(state.kept.map((kept) => kept.attemptId)).toEqual([detail.attempts[1]!.id]);
    expect(await worktreeDirectories()).toEqual([detail.attempts[1]!.id]);
    expect(await readFile(path.join(workDir, 'worktrees', detail.attempts[1]!.id, 'work.txt'), 'utf8')).toBe(
      'partial\n',
    );
  });

  it('aborts a running task when it is cancelled, kills its processes and removes the worktree', async () => {
    const runner = await launch();
    const pidFile = sandbox.path('sleep.pid');
    const task = await createTask({
      title: 'long sleep',
      executorInput: { run: `sleep 30 & echo $! > ${pidFile}; wait` },
    });
    await waitForState(task.id, ['running']);
    const pid = Number(
      await waitFor(
        'the sleep pid',
        async () => (await readFile(pidFile, 'utf8').catch(() => '')).trim() || undefined,
      ),
    );
    expect(isProcessAlive(pid)).toBe(true);

    await admin.tasks.cancel(task.id, { reason: 'test' });
    await waitFor('the attempt to stop', () => (runner.stats().abandoned === 1 ? true : undefined), 15_000);
    await runner.idle();
    await waitFor('the sleep process to die', () => (!isProcessAlive(pid) ? true : undefined), 5_000);
    expect(await worktreeDirectories()).toEqual([]);
    expect((await readState()).held).toEqual([]);
    const detail = (await admin.tasks.get(task.id))!;
    expect(detail.task.state).toBe('cancelled');
    expect(detail.attempts[0]!.state).toBe('cancelled');
  });

  it('fails an attempt at the task timeout as retryable', async () => {
    const runner = await launch({ keepFailedWorktreesMs: 0 });
    const task = await createTask({
      title: 'too slow',
      maxAttempts: 1,
      timeoutMs: 1_000,
      executorInput: { run: 'sleep 30' },
    });
    const dead = await waitForState(task.id, ['dead']);
    expect(dead.state).toBe('dead');
    const attempt = (await admin.tasks.get(task.id))!.attempts[0]!;
    expect(attempt.error).toMatchObject({ kind: 'timeout', retryable: true });
    await runner.idle();
    expect(await worktreeDirectories()).toEqual([]);
  });

  it('does not push a commit that adds a secret', async () => {
    await launch();
    const task = await createTask({
      title: 'leaks a key',
      executorInput: { run: 'echo "aws_key = AKIAZ7Q4N3WX5RT2KJ6M" > config.txt' },
    });
    const dead = await waitForState(task.id, ['dead', 'succeeded']);
    expect(dead.state).toBe('dead');
    const attempt = (await admin.tasks.get(task.id))!.attempts[0]!;
    expect(attempt.error).toMatchObject({ kind: 'secret_detected', retryable: false });
    expect(attempt.error!.message).toContain('config.txt:1');
    expect(attempt.error!.message).not.toContain('AKIAZ7Q4N3WX5RT2KJ6M');
    await expect(sandbox.git(source, ['rev-parse', '--verify', attempt.branch!])).rejects.toThrow();
  });

  it('refuses invalid executor input without retrying', async () => {
    await launch();
    const task = await createTask({ title: 'bad input', executorInput: { run: '' } });
    const dead = await waitForState(task.id, ['dead']);
    const attempt = (await admin.tasks.get(dead.id))!.attempts[0]!;
    expect(attempt.error).toMatchObject({ kind: 'invalid_input', retryable: false });
    expect(attempt.error!.message).toContain('executorInput.run');
  });

  it('reports the attempts a previous run held as runner_restarted and cleans their worktrees', async () => {
    const token = await createRunnerToken();
    // A previous run of this runner claimed a task, recorded it and died.
    const previous = createHubClient({ baseUrl: hub.url, token });
    await previous.runner.register({ capabilities: ['executor:shell'], slots: 1 });
    const task = await createTask({
      title: 'survives a restart',
      maxAttempts: 2,
      executorInput: { run: 'echo done > done.txt' },
    });
    const [claim] = await previous.runner.claim({ limit: 1, waitMs: 5_000 });
    expect(claim?.task.id).toBe(task.id);
    const abandonedWorktree = path.join(workDir, 'worktrees', claim!.attempt.id);
    await mkdir(abandonedWorktree, { recursive: true });
    await writeFile(path.join(abandonedWorktree, 'half-done.txt'), 'x');
    const state: RunnerState = {
      version: 1,
      held: [
        {
          attemptId: claim!.attempt.id,
          taskId: task.id,
          leaseToken: claim!.leaseToken,
          worktreePath: abandonedWorktree,
          sourceRepo: source,
        },
      ],
      kept: [],
    };
    await writeFile(path.join(workDir, 'state.json'), JSON.stringify(state));

    const runner = await launch({ token });
    const succeeded = await waitForState(task.id, ['succeeded', 'dead'], 45_000);
    expect(succeeded.state).toBe('succeeded');
    const detail = (await admin.tasks.get(task.id))!;
    expect(detail.attempts[0]!.error).toMatchObject({ kind: 'runner_restarted', retryable: true });
    expect(detail.attempts[1]!.state).toBe('succeeded');
    await runner.idle();
    expect(await worktreeDirectories()).toEqual([]);
  });

  it('recovers after the runner process is killed with SIGKILL mid-attempt', async () => {
    const token = await createRunnerToken();
    const marker = sandbox.path('first-try');
    const pidFile = sandbox.path('crash-sleep.pid');
    const task = await createTask({
      title: 'crash and recover',
      maxAttempts: 2,
      executorInput: {
        run: `if [ -f ${marker} ]; then echo recovered > recovered.txt; else touch ${marker}; sleep 30 & echo $! > ${pidFile}; wait; fi`,
      },
    });
    const script = sandbox.path('crash-runner.mts');
    const startRunnerModule = path.resolve(import.meta.dirname, '../src/runner/start-runner.ts');
    await writeFile(
      script,
      `import { startRunner } from ${JSON.stringify(startRunnerModule)};\n` +
        `await startRunner({ hubUrl: process.env.HUB_URL!, token: process.env.RUNNER_TOKEN!, workDir: process.env.WORK_DIR!, pollWaitMs: 1000 });\n`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: path.resolve(import.meta.dirname, '..'),
      env: { ...process.env, HUB_URL: hub.url, RUNNER_TOKEN: token, WORK_DIR: workDir },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let childErrors = '';
    child.stderr.on('data', (chunk: Buffer) => (childErrors += chunk.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    let orphan: number | undefined;
    let orphanStartTime: string | undefined;
    try {
      await waitForState(task.id, ['running']).catch((error: unknown) => {
        throw new Error(`${String(error)}; runner stderr: ${childErrors}`);
      });
      orphan = Number(
        await waitFor(
          'the sleep pid',
          async () => (await readFile(pidFile, 'utf8').catch(() => '')).trim() || undefined,
        ),
      );
      orphanStartTime = readStartTime(orphan);
      // The state file must record the executor's process group before the crash.
      await waitFor('the recorded process group', async () =>
        (await readState()).held[0]?.processGroups?.length ? true : undefined,
      );
      expect(isProcessAlive(orphan)).toBe(true);
      child.kill('SIGKILL');
      await exited;
      expect((await readState()).held).toHaveLength(1);
      // The executor leads its own process group, so it outlived the runner's SIGKILL.
      expect(isProcessAlive(orphan)).toBe(true);

      const runner = await launch({ token });
      // The restarted runner kills what its previous life left running, before it reports the attempt.
      expect(isProcessAlive(orphan)).toBe(false);
      const done = await waitForState(task.id, ['succeeded', 'dead'], 45_000);
      expect(done.state).toBe('succeeded');
      const detail = (await admin.tasks.get(task.id))!;
      expect(detail.attempts[0]!.error).toMatchObject({ kind: 'runner_restarted', retryable: true });
      expect(await sandbox.git(source, ['show', `${done.result!.branch}:recovered.txt`])).toBe('recovered');
      await runner.idle();
      expect(await worktreeDirectories()).toEqual([]);
      expect((await readState()).held).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      // The killed runner could not stop its executor's processes; do it for it.
      // why: only the same process (same start time): its pid may belong to another one by now.
      if (orphan !== undefined && orphanStartTime !== undefined && readStartTime(orphan) === orphanStartTime) {
        process.kill(orphan, 'SIGKILL');
      }
    }
  });

  it('keeps running through a hub outage and takes work when the hub is back', async () => {
    const token = await createRunnerToken();
    const runner = await launch({
      token,
      client: createHubClient({
        baseUrl: hub.url,
        token,
        retry: { attempts: 2, baseDelayMs: 50, maxDelayMs: 100 },
      }),
      retryPolicy: { baseDelayMs: 100, maxDelayMs: 500 },
    });
    const port = hub.port;
    await hub.close();
    await waitFor('claims to fail', () => (runner.stats().consecutiveClaimFailures >= 2 ? true : undefined));
    hub = await startHub({
      dataDir: sandbox.path('hub'),
      port,
      config: { leaseMs: 3_000, heartbeatIntervalMs: 200, maintenanceIntervalMs: 50 },
      logger: silentLogger,
    });
    admin = createHubClient({ baseUrl: hub.url, token: hub.adminToken });
    const task = await createTask({
      title: 'after the outage',
      executorInput: { run: 'echo back > back.txt' },
    });
    const done = await waitForState(task.id, ['succeeded', 'dead'], 45_000);
    expect(done.state).toBe('succeeded');
  });

  it('drains on stop and reports unfinished attempts as runner_stopped', async () => {
    const runner = await launch();
    const task = await createTask({ title: 'interrupted', executorInput: { run: 'sleep 30' } });
    await waitForState(task.id, ['running']);
    await runner.stop({ drainTimeoutMs: 200 });
    const detail = (await admin.tasks.get(task.id))!;
    expect(detail.attempts[0]!.error).toMatchObject({ kind: 'runner_stopped', retryable: true });
    expect(['failed', 'queued']).toContain(detail.task.state);
    expect(runner.stats().active).toBe(0);
    // Its last heartbeat says offline, so `warren runners` shows it gone at once.
    const record = (await admin.runners.list()).find((candidate) => candidate.id === runner.runnerId);
    expect(record?.status).toBe('offline');
  });
});
