/**
 * The real `warren` command end to end: `up` in the background, then the task and runner commands a
 * person would type against it, then a clean stop; and `warren demo`.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHubClient, type HubClient } from '../src/client/hub-client.ts';
import type { DemoSummary } from '../src/cli/commands/demo.ts';
import type { EndpointWithHealth, TaskDetail, TaskList } from '../src/core/api.ts';
import type { Runner, Task } from '../src/core/types.ts';
import {
  createProcessHarness,
  type ProcessHarness,
  type TrackedProcess,
} from './support/create-process-harness.ts';
import { waitFor } from './support/wait-for.ts';

/** A stack trace line, which the CLI must never show a user. */
const stackLine = /^\s+at .+[(:]\d+/m;

/**
 * A model endpoint nothing answers on (port 9, discard, is closed on loopback): configured, so tasks may
 * ask for its tier, but down, so they wait.
 */
const unreachableEndpoint = {
  name: 'nowhere',
  provider: 'openai-compatible',
  baseUrl: 'http://127.0.0.1:9/v1',
  models: [{ id: 'tiny', tier: 'cheap', inputPricePerMillionUsd: 0.5, outputPricePerMillionUsd: 1.5 }],
};

describe('the warren CLI against `warren up`', () => {
  let harness: ProcessHarness;
  let home: string;
  let repo: string;
  let up: TrackedProcess;
  let url: string;
  let admin: HubClient;
  const cli = (...args: string[]) => harness.runCli(args, { env: { WARREN_HOME: home } });

  beforeAll(async () => {
    harness = await createProcessHarness();
    home = harness.path('home');
    repo = await harness.sandbox.createSourceRepo({ files: { 'README.md': '# cli\n' } });
    // `up` reads $WARREN_HOME/config.json when it exists.
    await mkdir(home, { recursive: true });
    await writeFile(
      `${home}/config.json`,
      JSON.stringify({ hub: { endpoints: [unreachableEndpoint] }, runner: { agents: [] } }),
    );
    up = harness.spawnCli('warren up', ['up', '--port', '0'], { env: { WARREN_HOME: home } });
    // `up` prints its banner once the hub listens and the local runner is registered.
    await up.waitForLine((line) => line.startsWith('stop:'), 45_000);
    url = /listening on (http:\/\/\S+)/.exec(up.stdout())?.[1] ?? '';
    admin = createHubClient({ baseUrl: url, token: (await readFile(`${home}/admin-token`, 'utf8')).trim() });
  });

  afterAll(async () => {
    await harness.cleanup();
  });

  async function waitForEnd(taskId: string): Promise<Task> {
    return waitFor(
      `task ${taskId} to finish`,
      async () => {
        const detail = await admin.tasks.get(taskId);
        return detail && ['succeeded', 'dead', 'cancelled'].includes(detail.task.state)
          ? detail.task
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  it('up listens on a free port and records itself in hub.json', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toMatch(/:0$/);
    const hubFile = JSON.parse(await readFile(`${home}/hub.json`, 'utf8')) as { url: string; pid: number };
    expect(hubFile).toMatchObject({ url, pid: up.pid });
    expect((await admin.health()).ok).toBe(true);
  });

  it('task add --wait --json follows the task to success and prints it', async () => {
    const added = await cli(
      'task',
      'add',
      'Say hi and wait',
      '--repo',
      repo,
      '--run',
      'echo hi > hi.txt',
      '--verify',
      'test -f hi.txt',
      '--wait',
      '--json',
    );
    // Exit 13 is Node's "unsettled top-level await": the command ended without settling its promise.
    expect({ code: added.code, signal: added.signal, stderr: added.stderr }).toEqual({
      code: 0,
      signal: null,
      stderr: '',
    });
    const { task } = JSON.parse(added.stdout) as { task: Task };
    expect(task.state).toBe('succeeded');
    const branch = task.result!.branch;
    expect(await harness.sandbox.git(repo, ['show', `${branch}:hi.txt`])).toBe('hi');
  }, 45_000);

  it('task add, list, show and logs: a task runs on the local runner and lands on its branch', async () => {
    const added = await cli(
      'task',
      'add',
      'Say hi',
      '--repo',
      repo,
      '--run',
      'echo hi > hi.txt',
      '--verify',
      'test -f hi.txt',
      '--json',
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const created = (JSON.parse(added.stdout) as { task: Task; created: boolean }).task;
    const task = await waitForEnd(created.id);
    expect(task.state).toBe('succeeded');
    expect(task.result?.changedFiles).toEqual(['hi.txt']);
    const branch = task.result!.branch;
    expect(
      await harness.sandbox.git(repo, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]),
    ).toBe(task.result!.commitSha);
    expect(await harness.sandbox.git(repo, ['show', `${branch}:hi.txt`])).toBe('hi');

    const listed = await cli('task', 'list', '--json');
    expect(listed.code).toBe(0);
    const list = JSON.parse(listed.stdout) as TaskList;
    expect(list.tasks.map((item) => [item.id, item.state])).toContainEqual([task.id, 'succeeded']);

    const shownJson = await cli('task', 'show', task.id, '--json');
    expect(shownJson.code).toBe(0);
    const detail = JSON.parse(shownJson.stdout) as TaskDetail;
    expect(detail.task.id).toBe(task.id);
    expect(detail.attempts.map((attempt) => attempt.state)).toEqual(['succeeded']);
    expect(detail.attempts[0]!.verification[0]!.passed).toBe(true);

    const shown = await cli('task', 'show', task.id);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(task.id);
    expect(shown.stdout).toMatch(/state\s+succeeded/);
    expect(shown.stdout).toContain(branch);
    expect(shown.stdout).toMatch(/#1 succeeded/);
    expect(shown.stdout).toContain('round 1 pass `test -f hi.txt` passes');

    const logs = await cli('task', 'logs', task.id);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain(`[#1 system] pushed ${branch}`);
    expect(logs.stdout).toContain('[#1 system] criterion 1 passed');
  }, 45_000);

  it('up reads the config file: its endpoint is listed, down, with its models and prices', async () => {
    expect(up.stdout()).toContain(`config       ${home}/config.json (1 model endpoint)`);
    const endpoint = await waitFor('the endpoint to be checked', async () => {
      const listed = await cli('endpoints', 'list', '--json');
      const { endpoints } = JSON.parse(listed.stdout) as { endpoints: EndpointWithHealth[] };
      return endpoints[0]?.status === 'down' ? endpoints[0] : undefined;
    });
    expect(endpoint).toMatchObject({ ...unreachableEndpoint, status: 'down', lastError: expect.any(String) });
    const listed = await cli('endpoints', 'list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/nowhere\s+openai-compatible\s+down/);
    expect(listed.stdout).toMatch(/tiny\s+cheap\s+.*\$0\.5 in \/ \$1\.5 out per 1M tokens/);
  }, 45_000);

  it('endpoints add and remove; task add with routing flags; task show explains the route', async () => {
    const file = harness.path('frontier.json');
    await writeFile(
      file,
      JSON.stringify({
        ...unreachableEndpoint,
        name: 'far',
        models: [{ ...unreachableEndpoint.models[0], tier: 'frontier' }],
      }),
    );
    const added = await cli('endpoints', 'add', '--file', file);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('added endpoint far (1 model)');

    const created = await cli(
      'task',
      'add',
      'Refactor the greeting module',
      '--repo',
      repo,
      '--seniority',
      'senior',
      '--budget-tokens',
      '50000',
      '--budget-usd',
      '$1.50',
      '--grant',
      'github:read,npm:read',
      '--grant',
      'docs:write',
      '--fix-rounds',
      '1',
      '--json',
    );
    expect(created.stderr).toBe('');
    const { task } = JSON.parse(created.stdout) as { task: Task };
    expect(task).toMatchObject({
      executor: 'agent',
      complexity: 'complex',
      complexityReason: 'mentions refactor',
      model: 'frontier',
      seniority: 'senior',
      budget: { maxTokens: 50_000, maxCostUsd: 1.5 },
      grants: ['github:read', 'npm:read', 'docs:write'],
      fixRounds: 1,
      state: 'queued',
    });
    const shown = await cli('task', 'show', task.id);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/complexity\s+complex — mentions refactor/);
    expect(shown.stdout).toMatch(/model\s+frontier/);
    expect(shown.stdout).toMatch(/usage\s+0 in \/ 0 out tokens, 0 calls, \$0\.0000/);
    expect(shown.stdout).toMatch(/budget\s+50,000 tokens, \$1\.50/);
    expect((await cli('task', 'cancel', task.id)).code).toBe(0);

    const pinned = await cli(
      'task',
      'add',
      'Pinned',
      '--repo',
      repo,
      '--model',
      'far/tiny',
      '--executor',
      'agent',
      '--json',
    );
    expect((JSON.parse(pinned.stdout) as { task: Task }).task.requiredCapabilities).toEqual([
      'executor:agent',
      'model:far/tiny',
    ]);
    await cli('task', 'cancel', (JSON.parse(pinned.stdout) as { task: Task }).task.id);

    expect((await cli('endpoints', 'remove', 'far')).code).toBe(0);
    const refused = await cli('task', 'add', 'Redesign it', '--repo', repo);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/- complexity: .*no endpoint offers tier "frontier"/);
    expect(refused.stderr).not.toMatch(stackLine);
    const missing = await cli('endpoints', 'remove', 'far');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('endpoint far not found');
  }, 45_000);

  it('task add says why a task that needs a model is waiting, instead of looking hung', async () => {
    const created = await cli('task', 'add', 'Write the docs', '--repo', repo, '--model', 'cheap');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('queued');
    expect(created.stdout).toMatch(/waiting: no model endpoint for "cheap" is up: nowhere is down \(.+\)/);
    const id = /created (tsk_\w+)/.exec(created.stdout)?.[1];
    expect(id).toBeDefined();
    await cli('task', 'cancel', id!);
  });

  it('task add says when no runner offers the task’s executor (a CLI agent nobody installed)', async () => {
    const created = await cli('task', 'add', 'Tidy up', '--repo', repo, '--executor', 'goose');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(
      /waiting: no runner offers the goose executor \(executor:goose\); install the goose CLI on a runner/,
    );
    const id = /created (tsk_\w+)/.exec(created.stdout)?.[1];
    await cli('task', 'cancel', id!);
  });

  it('up refuses a config file with a bad field, naming its JSON path', async () => {
    const file = harness.path('bad-config.json');
    await writeFile(
      file,
      JSON.stringify({ hub: { endpoints: [{ ...unreachableEndpoint, baseUrl: 'nowhere' }] } }),
    );
    const refused = await harness.runCli(['up', '--port', '0', '--config', file], {
      env: { WARREN_HOME: harness.path('other-home') },
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('hub.endpoints[0].baseUrl: must be an http(s) URL');
    expect(refused.stderr).not.toMatch(stackLine);
  }, 45_000);

  it('runners --json shows the local runner online', async () => {
    const answer = await cli('runners', '--json');
    expect(answer.code).toBe(0);
    const { runners } = JSON.parse(answer.stdout) as { runners: Runner[] };
    expect(runners.map((runner) => [runner.name, runner.status])).toEqual([['local', 'online']]);
  });

  it('refused input and unknown tasks fail cleanly: a named field, a non-zero exit, no stack trace', async () => {
    const before = (await admin.tasks.list({ limit: 500 })).tasks.length;
    const badLane = await cli('task', 'add', 'Bad lane', '--repo', repo, '--run', 'true', '--lane', 'urgent');
    expect(badLane.signal).toBeNull();
    expect(badLane.code).not.toBe(0);
    expect(badLane.stderr).toMatch(/^\s+- lane: .*high.*normal.*low/m);
    expect(badLane.stderr).not.toMatch(stackLine);
    expect(badLane.stdout).toBe('');

    for (const missing of ['tsk_00000000000000000000000000', 'tsk_nonexistent']) {
      const shown = await cli('task', 'show', missing);
      expect(shown.signal, missing).toBeNull();
      expect(shown.code, missing).not.toBe(0);
      expect(shown.stderr).toContain(`task ${missing} not found`);
      expect(shown.stderr).not.toMatch(stackLine);
      expect(shown.stdout).toBe('');
    }
    expect((await admin.tasks.list({ limit: 500 })).tasks).toHaveLength(before);
  }, 45_000);

  it('a second up on the same data dir is refused with the running hub named', async () => {
    const second = await cli('up', '--port', '0');
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`a hub already runs on ${home} (pid ${up.pid}, ${url})`);
    expect(second.stderr).not.toMatch(stackLine);
    expect((await admin.health()).ok).toBe(true);
  }, 45_000);

  it('stops on SIGTERM: exit 0 and hub.json removed', async () => {
    expect(existsSync(`${home}/hub.json`)).toBe(true);
    up.signalGroup('SIGTERM');
    expect(await up.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(`${home}/hub.json`)).toBe(false);
    expect(up.stdout()).toMatch(/stopped\n$/);
  });
});

describe('warren demo', () => {
  let harness: ProcessHarness;

  beforeAll(async () => {
    harness = await createProcessHarness();
  });

  afterAll(async () => {
    await harness.cleanup();
  });

  it('demo --json runs the sample backlog to its expected end', async () => {
    const demo = await harness.runCli(['demo', '--json', '--dir', harness.path('demo')], {
      timeoutMs: 50_000,
    });
    expect(demo.code).toBe(0);
    const summary = JSON.parse(demo.stdout) as DemoSummary;
    const byTitle = new Map(summary.tasks.map((task) => [task.title, task]));
    expect(Object.fromEntries([...byTitle].map(([title, task]) => [title, task.state]))).toEqual({
      'Bump the version': 'succeeded',
      'Update the changelog': 'succeeded',
      'Fix the greeting': 'succeeded',
      'Rewrite the build': 'cancelled',
    });
    expect(byTitle.get('Fix the greeting')!.attemptCount).toBe(2);
    expect(byTitle.get('Bump the version')!.attemptCount).toBe(1);
    expect(byTitle.get('Update the changelog')!.attemptCount).toBe(1);
    for (const task of summary.tasks) expect(task.state).toBe(summary.expected[task.id]);
    expect(summary.branches).toHaveLength(3);
  }, 60_000);
});
