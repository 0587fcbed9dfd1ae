/**
 * Runner enrollment end to end, as in a Kubernetes Deployment: `warren up --no-runner` with
 * WARREN_ENROLLMENT_TOKEN, and `warren runner start` given only the enrollment token and a name. The runner
 * enrolls, registers and runs a shell task; restarted in the same work dir it reuses its runner token.
 */
import { stat, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHubClient, type HubClient } from '../src/client/hub-client.ts';
import {
  createProcessHarness,
  type ProcessHarness,
  type TrackedProcess,
} from './support/create-process-harness.ts';
import { waitFor } from './support/wait-for.ts';

const enrollmentToken = 'wrn_enroll_e2e-0123456789abcdef';

describe('a runner with only the enrollment token', () => {
  let harness: ProcessHarness;
  let home: string;
  let up: TrackedProcess;
  let url: string;
  let admin: HubClient;
  let repo: string;
  const runners: TrackedProcess[] = [];

  beforeAll(async () => {
    harness = await createProcessHarness();
    home = harness.path('home');
    repo = await harness.sandbox.createSourceRepo({ files: { 'README.md': '# enrollment\n' } });
    up = harness.spawnCli(
      'warren up',
      ['up', '--no-runner', '--port', '0', '--host', '127.0.0.1', '--log-level', 'info'],
      { env: { WARREN_HOME: home, WARREN_ENROLLMENT_TOKEN: enrollmentToken } },
    );
    await up.waitForLine((line) => line.startsWith('stop:'), 45_000);
    url = /listening on (http:\/\/\S+)/.exec(up.stdout())?.[1] ?? '';
    admin = createHubClient({ baseUrl: url, token: (await readFile(`${home}/admin-token`, 'utf8')).trim() });
  });

  afterAll(async () => {
    await harness.cleanup();
  });

  /** `warren runner start` with no runner token: only the enrollment token, on the command line. */
  function startRunner(name: string, workDir: string): TrackedProcess {
    const runner = harness.spawnCli(
      `runner ${name}`,
      [
        'runner',
        'start',
        '--hub',
        url,
        '--enroll-token',
        enrollmentToken,
        '--name',
        name,
        '--work-dir',
        workDir,
      ],
      { env: { WARREN_RUNNER_TOKEN: '', WARREN_ENROLLMENT_TOKEN: '' } },
    );
    runners.push(runner);
    return runner;
  }

  async function waitForOnline(name: string) {
    return waitFor(
      `runner ${name} online`,
      async () => (await admin.runners.list()).find((item) => item.name === name && item.status === 'online'),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  it('says the hub takes enrollments', () => {
    expect(up.stdout()).toMatch(/enrollment\s+on/);
  });

  it('enrolls, registers and runs a shell task; a restart reuses its token', async () => {
    const workDir = harness.path('runner-pod-a');
    const first = startRunner('warren-runner-5d8f7-abcde', workDir);
    const online = await waitForOnline('warren-runner-5d8f7-abcde');
    expect(online.capabilities).toContain('executor:shell');

    const saved = await stat(`${workDir}/enrollment.json`);
    expect(saved.mode & 0o777).toBe(0o600);

    const { task } = await admin.tasks.create({
      title: 'Say hi from an enrolled runner',
      repo,
      executorInput: { run: 'echo hi > hi.txt' },
      successCriteria: [{ description: 'hi written', command: 'test -f hi.txt' }],
    });
    const ended = await waitFor(
      `task ${task.id} to end`,
      async () => {
        const detail = await admin.tasks.get(task.id);
        return detail && ['succeeded', 'dead', 'cancelled'].includes(detail.task.state)
          ? detail.task
          : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 100 },
    );
    expect(ended.state).toBe('succeeded');
    expect(await harness.sandbox.git(repo, ['show', `${ended.result!.branch}:hi.txt`])).toBe('hi');

    // SIGTERM drains and tells the hub it is offline; the restart finds its token in the work dir.
    first.signalGroup('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    startRunner('warren-runner-5d8f7-abcde', workDir);
    const again = await waitForOnline('warren-runner-5d8f7-abcde');
    expect(again.id).toBe(online.id);
    expect((await admin.runners.list()).filter((item) => item.name === online.name)).toHaveLength(1);
  }, 90_000);

  it('exits with a clear error, and no stack, when the hub refuses the enrollment token', async () => {
    const result = await harness.runCli(
      [
        'runner',
        'start',
        '--hub',
        url,
        '--enroll-token',
        'wrn_enroll_wrong',
        '--name',
        'intruder',
        '--work-dir',
        harness.path('intruder'),
      ],
      { env: { WARREN_RUNNER_TOKEN: '', WARREN_ENROLLMENT_TOKEN: '' } },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/the hub refused the enrollment token/);
    expect(result.stderr).not.toMatch(/^\s+at .+[(:]\d+/m);
    expect((await admin.runners.list()).map((item) => item.name)).not.toContain('intruder');
  });

  it('never logs the enrollment token, on the hub or on the runners', () => {
    for (const process of [up, ...runners]) {
      expect(process.stdout()).not.toContain(enrollmentToken);
      expect(process.stderr()).not.toContain(enrollmentToken);
    }
  });
});
