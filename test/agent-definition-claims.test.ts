/**
 * The hub's agent definitions reach the runner: a claim of an attempt assigned to an agent carries the
 * definition with its skills loaded, the runner writes the skills outside the worktree for the task to use
 * (`WARREN_SKILLS_DIR`), and the definition's grants narrow the secrets the task receives. A hub with a
 * definitions directory, over real loopback HTTP, a real runner and real git repositories.
 */
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHubClient, type HubClient } from '../src/client/hub-client.ts';
import type { Logger } from '../src/core/logger.ts';
import { silentLogger } from '../src/core/logger.ts';
import { startHub, type RunningHub } from '../src/hub/start-hub.ts';
import { startRunner, type RunningRunner } from '../src/runner/start-runner.ts';
import { createGitSandbox, type GitSandbox } from '../src/vcs/testing/create-git-sandbox.ts';
import { waitFor } from './support/wait-for.ts';

const definitionFiles: Record<string, string> = {
  'agents/greeter.yaml': [
    'name: greeter',
    'description: Greets people with its hello skill.',
    'type: shell',
    'brain: { temperature: 0.2 }',
    'capabilities:',
    '  grants: [github:read]',
    '  skills: [hello-skill, broken]',
    'behavior: { max_iterations: 5 }',
    '',
  ].join('\n'),
  'skills/hello-skill/SKILL.md': '# Greeting\nRun scripts/hello.sh to greet.\n',
  'skills/hello-skill/scripts/hello.sh': '#!/bin/sh\necho "hello from the skill"\n',
  // A folder without SKILL.md or README.md: the definition is accepted, the skill fails to load.
  'skills/broken/notes.txt': 'no instructions here\n',
};

const pairing = {
  agent: 'greeter',
  offers: [{ name: 'greeting', weight: 1, preferred: false }],
  healthChecks: [],
};

/** A logger that keeps warnings, to see what the hub says about a skill that does not load. */
function recordingLogger(warnings: Array<Record<string, unknown> & { message?: string }>): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (fields, message) => warnings.push({ ...fields, ...(message === undefined ? {} : { message }) }),
    error: () => undefined,
    child: () => logger,
  };
  return logger;
}

describe('agent definitions in claims', () => {
  let sandbox: GitSandbox;
  let hub: RunningHub;
  let admin: HubClient;
  let source: string;
  let warnings: Array<Record<string, unknown> & { message?: string }>;
  const runners: RunningRunner[] = [];

  beforeEach(async () => {
    sandbox = await createGitSandbox();
    const definitions = sandbox.path('definitions');
    for (const [file, text] of Object.entries(definitionFiles)) {
      await mkdir(path.dirname(path.join(definitions, file)), { recursive: true });
      await writeFile(path.join(definitions, file), text);
    }
    warnings = [];
    hub = await startHub({
      dataDir: sandbox.path('hub'),
      port: 0,
      config: { agents: { directory: definitions } },
      logger: recordingLogger(warnings),
    });
    admin = createHubClient({ baseUrl: hub.url, token: hub.adminToken });
    source = await sandbox.createSourceRepo({ files: { 'README.md': '# greetings\n' } });
  });

  afterEach(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.stop({ drainTimeoutMs: 0 })));
    await hub.close();
    await sandbox.cleanup();
  });

  it('a claim over HTTP carries the definition and its skills; a skill that fails to load is named, not fatal', async () => {
    // A runner without pairings claims a plain task first: no agent, no definition.
    const plain = await admin.runners.create({ name: 'plain' });
    const plainClient = createHubClient({ baseUrl: hub.url, token: plain.token, logger: silentLogger });
    await plainClient.runner.register({ capabilities: ['executor:shell'], slots: 1 });
    await admin.tasks.create({
      title: 'plain',
      repo: source,
      executor: 'shell',
      executorInput: { run: 'true' },
    });
    const [plainWork] = await plainClient.runner.claim({ limit: 1, waitMs: 5_000 });
    expect(plainWork?.attempt.agent).toBeUndefined();
    expect(plainWork).not.toHaveProperty('agent');
    await admin.runners.delete(plainWork!.attempt.runnerId);

    const paired = await admin.runners.create({ name: 'paired' });
    const client = createHubClient({ baseUrl: hub.url, token: paired.token, logger: silentLogger });
    await client.runner.register({ capabilities: ['executor:shell'], slots: 1, agents: [pairing] });
    const { task } = await admin.tasks.create({
      title: 'greet',
      repo: source,
      executor: 'shell',
      capabilities: ['greeting'],
      executorInput: { run: 'true' },
    });
    const [work] = await client.runner.claim({ limit: 1, waitMs: 5_000 });
    expect(work?.task.id).toBe(task.id);
    expect(work!.attempt.agent).toBe('greeter');
    const agent = work!.agent!;
    expect(agent).toMatchObject({
      name: 'greeter',
      type: 'shell',
      description: 'Greets people with its hello skill.',
      brain: { temperature: 0.2 },
      behavior: { respond_to_mentions: false, max_iterations: 5 },
      grants: ['github:read'],
      mcpServers: [],
    });
    expect(agent.skills.map((skill) => skill.name)).toEqual(['hello-skill']);
    expect(agent.skills[0]!.instructions).toBe('# Greeting\nRun scripts/hello.sh to greet.\n');
    expect(agent.skills[0]!.files).toEqual([
      {
        path: 'scripts/hello.sh',
        size: definitionFiles['skills/hello-skill/scripts/hello.sh']!.length,
        content: definitionFiles['skills/hello-skill/scripts/hello.sh'],
      },
    ]);
    expect(agent.unloadedSkills).toEqual([
      { name: 'broken', reason: expect.stringContaining('has no SKILL.md or README.md') as string },
    ]);
    expect(warnings).toContainEqual(expect.objectContaining({ agent: 'greeter', skill: 'broken' }));
  });

  it('the runner writes the skills outside the worktree for the task, and the grants narrow its secrets', async () => {
    const { token } = await admin.runners.create({ name: 'greeting-runner' });
    const workDir = sandbox.path('runner');
    runners.push(
      await startRunner({
        hubUrl: hub.url,
        token,
        name: 'greeting-runner',
        workDir,
        pollWaitMs: 1_000,
        pairings: [pairing],
        healthChecks: {},
        grantSecrets: {
          'github:read': { READ_TOKEN: 'read-token-value' },
          'github:write': { WRITE_TOKEN: 'write-token-value' },
        },
        logger: silentLogger,
      }),
    );
    const { task } = await admin.tasks.create({
      title: 'greet with the skill',
      repo: source,
      executor: 'shell',
      capabilities: ['greeting'],
      grants: ['github:read', 'github:write'],
      executorInput: {
        run: [
          'test -x "$WARREN_SKILLS_DIR/hello-skill/scripts/hello.sh"',
          '"$WARREN_SKILLS_DIR/hello-skill/scripts/hello.sh" > hello.txt',
          'cp "$WARREN_SKILLS_DIR/hello-skill/SKILL.md" skill.md',
          'printf %s "$WARREN_SKILLS_DIR" > skills-dir.txt',
          'echo "read=${READ_TOKEN:+given} write=${WRITE_TOKEN:+given}" > grants.txt',
        ],
      },
    });
    const done = await waitFor(
      'the task to finish',
      async () => {
        const detail = await admin.tasks.get(task.id);
        return detail && ['succeeded', 'failed', 'dead'].includes(detail.task.state) ? detail : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    const attempt = done.attempts[0]!;
    expect(done.task.state, JSON.stringify(attempt.error)).toBe('succeeded');
    expect(attempt.agent).toBe('greeter');
    const branch = done.task.result!.branch;
    const show = (file: string) => sandbox.git(source, ['show', `${branch}:${file}`]);
    expect(await show('hello.txt')).toBe('hello from the skill');
    expect(await show('skill.md')).toBe('# Greeting\nRun scripts/hello.sh to greet.');
    // The task held github:write, but the definition grants only github:read: that secret never came.
    expect(await show('grants.txt')).toBe('read=given write=');

    // The skills lay in the attempt's scratch space, outside its worktree, and went with it.
    const skillsDir = await show('skills-dir.txt');
    expect(skillsDir).toBe(path.join(workDir, 'scratch', attempt.id, 'skills'));
    expect(skillsDir.startsWith(path.join(workDir, 'worktrees'))).toBe(false);
    await runners[0]!.idle();
    await expect(access(skillsDir)).rejects.toThrow();

    const logText = (await admin.tasks.logs(task.id))
      .filter((event) => event.type === 'attempt.log')
      .map((event) => String(event.data.text))
      .join('');
    expect(logText).toContain('agent greeter does not grant github:write');
    expect(logText).toContain('agent greeter: 1 skill (hello-skill)');
    expect(logText).toContain('skill broken could not be loaded by the hub');
  }, 90_000);
});
