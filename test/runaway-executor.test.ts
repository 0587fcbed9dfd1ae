/**
 * Runaway tasks through a real hub and runner: an endless loop is stopped at its time limit together
 * with everything it started, and a flood of output is capped without slowing the hub down.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHubClient, type HubClient } from '../src/client/hub-client.ts';
import { silentLogger } from '../src/core/logger.ts';
import type { TaskSpecInput, WarrenEvent } from '../src/core/types.ts';
import { startHub, type RunningHub } from '../src/hub/start-hub.ts';
import { startRunner, type RunningRunner } from '../src/runner/start-runner.ts';
import { createProcessHarness, processState, type ProcessHarness } from './support/create-process-harness.ts';
import { waitFor } from './support/wait-for.ts';

// why: the runner's default cap on stdout/stderr sent per attempt (src/runner/create-attempt-log.ts).
const runnerLogCapBytes = 1024 * 1024;
// why: the runner's own narration (fetching, worktree, verifying...) is sent besides the capped output.
const narrationAllowanceBytes = 16 * 1024;

describe('runaway executors', () => {
  let harness: ProcessHarness;
  let hub: RunningHub;
  let runner: RunningRunner;
  let admin: HubClient;
  let source: string;

  beforeEach(async () => {
    harness = await createProcessHarness();
    const sandbox = harness.sandbox;
    hub = await startHub({
      dataDir: sandbox.path('hub'),
      port: 0,
      config: { leaseMs: 5_000, heartbeatIntervalMs: 500, maintenanceIntervalMs: 100 },
      logger: silentLogger,
    });
    admin = createHubClient({ baseUrl: hub.url, token: hub.adminToken });
    source = await sandbox.createSourceRepo({ files: { 'README.md': '# runaway\n' } });
    const { token } = await admin.runners.create({ name: 'runaway' });
    runner = await startRunner({
      hubUrl: hub.url,
      token,
      workDir: sandbox.path('runner'),
      pollWaitMs: 1_000,
      keepFailedWorktreesMs: 0,
    });
  });

  afterEach(async () => {
    await runner.stop({ drainTimeoutMs: 0 });
    await hub.close();
    await harness.cleanup();
  });

  async function runToEnd(spec: Omit<TaskSpecInput, 'repo'>) {
    const { task } = await admin.tasks.create({ repo: source, executor: 'shell', ...spec });
    return waitFor(
      `task "${spec.title}" to finish`,
      async () => {
        const detail = await admin.tasks.get(task.id);
        return detail && ['succeeded', 'dead', 'cancelled'].includes(detail.task.state) ? detail : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 100 },
    );
  }

  it('kills an endless loop at its time limit, with its whole process group', async () => {
    const control = harness.path('control');
    await mkdir(control);
    const shellPidFile = path.join(control, 'shell.pid');
    // The loop's process group is handed to the harness as soon as it exists, so that even a test run
    // killed halfway cannot leave it spinning.
    const adopted = waitFor(
      'the loop to record its pid',
      async () => Number((await readFile(shellPidFile, 'utf8').catch(() => '')).trim()) || undefined,
      { timeoutMs: 40_000, intervalMs: 20 },
    ).then((pid) => harness.adoptProcessGroup(pid));
    const detail = await runToEnd({
      title: 'Spin forever',
      executorInput: {
        run: [
          `echo $$ > ${shellPidFile}; sleep 1000 & echo $! > ${control}/grandchild.pid`,
          'while :; do :; done',
        ].join('; '),
      },
      timeoutMs: 2_000,
      maxAttempts: 1,
    });
    await adopted;
    const grandchild = Number((await readFile(path.join(control, 'grandchild.pid'), 'utf8')).trim());
    const shell = Number((await readFile(shellPidFile, 'utf8')).trim());

    expect(detail.task.state).toBe('dead');
    expect(detail.attempts).toHaveLength(1);
    expect(detail.attempts[0]!.state).toBe('failed');
    expect(detail.attempts[0]!.error?.kind).toBe('timeout');
    // The loop and the background sleep it started are both gone. The shell is the runner's own child and
    // is reaped (ESRCH); the orphaned sleep may stay a zombie where PID 1 does not reap, but it is dead.
    await waitFor('the looping shell to be gone', () => processState(shell) === 'gone', {
      timeoutMs: 10_000,
    });
    await waitFor('the background sleep to be dead', () => processState(grandchild) !== 'alive', {
      timeoutMs: 10_000,
    });
    expect(() => process.kill(shell, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(['gone', 'zombie']).toContain(processState(grandchild));
  });

  it('caps a flood of output and the hub stays responsive', async () => {
    let probes = 0;
    let failedProbes = 0;
    let flooding = true;
    const prober = (async () => {
      while (flooding) {
        const health = await admin.health();
        const listed = await admin.tasks.list({ limit: 5 }).then(
          () => true,
          () => false,
        );
        probes += 1;
        if (!health.ok || !listed) failedProbes += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    let detail;
    try {
      // why: 8 MB of output is eight times the runner's cap; `head` ends it so the task can succeed.
      detail = await runToEnd({
        title: 'Flood the log',
        executorInput: { run: 'yes | head -c 8000000' },
        maxAttempts: 1,
      });
    } finally {
      flooding = false;
      await prober;
    }
    expect(detail.task.state).toBe('succeeded');
    expect(probes).toBeGreaterThan(0);
    expect(failedProbes).toBe(0);

    const events: WarrenEvent[] = [];
    for (;;) {
      const page = await admin.tasks.logs(detail.task.id, { after: events.at(-1)?.id ?? 0, limit: 1_000 });
      events.push(...page);
      if (page.length < 1_000) break;
    }
    const logs = events.filter((event) => event.type === 'attempt.log');
    const bytesOf = (streams: string[]) =>
      logs
        .filter((event) => streams.includes(String(event.data.stream)))
        .reduce((total, event) => total + Buffer.byteLength(String(event.data.text)), 0);
    const outputBytes = bytesOf(['stdout', 'stderr']);
    const allBytes = bytesOf(['stdout', 'stderr', 'system']);
    expect(outputBytes).toBeLessThanOrEqual(runnerLogCapBytes);
    expect(allBytes).toBeLessThan(runnerLogCapBytes + narrationAllowanceBytes);
    // Real output arrived, then a notice says the rest was cut.
    expect(outputBytes).toBeGreaterThan(runnerLogCapBytes / 2);
    const text = logs.map((event) => String(event.data.text)).join('');
    expect(text).toMatch(/log truncated|output streaming stopped/);
    expect((await admin.health()).ok).toBe(true);
  });
});
