import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentDefinitionDetail, AgentDefinitionList, ErrorBody, RunnerRegistered } from '../core/api.ts';
import { InvalidInputError } from '../core/errors.ts';
import { createGitSandbox } from '../vcs/testing/create-git-sandbox.ts';
import { createAgentDefinitionRegistry } from './agent-definitions/create-agent-definition-registry.ts';
import { createDirectoryAgentSource } from './agent-definitions/directory-agent-source.ts';
import { createLogger } from './create-logger.ts';
import { startHub, type RunningHub } from './start-hub.ts';
import { createTestHub, type TestHub } from './testing/create-test-hub.ts';

describe('agent definition routes', () => {
  let directory: string;
  let hub: TestHub | undefined;

  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'warren-agent-routes-'));
    const files: Record<string, string> = {
      'agents/coder.yaml': 'name: coder\ntype: claude-code\ncapabilities: { skills: [hub-post] }\n',
      'agents/broken.yaml': 'name: broken\ntype: shell\nmax_active: 0\n',
      'skills/hub-post/SKILL.md': '# Posting\n',
    };
    for (const [file, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(directory, file)), { recursive: true });
      await writeFile(path.join(directory, file), text);
    }
  });

  afterEach(async () => {
    await hub?.close();
    hub = undefined;
    await rm(directory, { recursive: true, force: true });
  });

  it('lists definitions with their source, cache times and rejected files; shows one with its skills', async () => {
    const agentDefinitions = createAgentDefinitionRegistry({
      source: createDirectoryAgentSource({ directory }),
    });
    hub = await createTestHub({ agentDefinitions });

    const listed = await hub.request('GET', '/v1/agents');
    expect(listed.status).toBe(200);
    const list = (await listed.json()) as AgentDefinitionList;
    expect(list.source).toMatchObject({
      source: { kind: 'directory', directory },
      refreshedAt: expect.any(String),
    });
    expect(list.agents).toEqual([
      {
        definition: expect.objectContaining({
          name: 'coder',
          type: 'claude-code',
          cache_ttl: 300,
          max_active: 1,
        }),
        file: 'agents/coder.yaml',
        loadedAt: expect.any(String),
        expiresAt: expect.any(String),
        replacementRejected: false,
      },
    ]);
    expect(Date.parse(list.agents[0]!.expiresAt) - Date.parse(list.agents[0]!.loadedAt)).toBe(300_000);
    expect(list.problems).toEqual([
      { file: 'agents/broken.yaml', field: 'max_active', reason: 'must be at least 1', line: 3 },
    ]);

    const shown = await hub.request('GET', '/v1/agents/coder');
    expect(shown.status).toBe(200);
    const detail = (await shown.json()) as AgentDefinitionDetail;
    expect(detail.agent.definition.name).toBe('coder');
    expect(detail.skills).toEqual([{ name: 'hub-post', exists: true }]);

    const missing = await hub.request('GET', '/v1/agents/broken');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as ErrorBody).error).toMatchObject({
      code: 'not_found',
      message: 'agent broken not found',
    });
  });

  it('is for the admin only', async () => {
    const agentDefinitions = createAgentDefinitionRegistry({
      source: createDirectoryAgentSource({ directory }),
    });
    hub = await createTestHub({ agentDefinitions });
    const { token } = await hub.createRunner('runner-1');
    expect((await hub.request('GET', '/v1/agents', { token })).status).toBe(403);
    expect((await hub.request('GET', '/v1/agents/coder', { token })).status).toBe(403);
    expect((await hub.request('GET', '/v1/agents', { token: null })).status).toBe(401);
  });

  it('answers an empty list without a source when the hub has no agents setting', async () => {
    hub = await createTestHub();
    const list = (await (await hub.request('GET', '/v1/agents')).json()) as AgentDefinitionList;
    expect(list).toEqual({ agents: [], problems: [] });
    expect((await hub.request('GET', '/v1/agents/coder')).status).toBe(404);
  });

  it('warns a registering runner about pairings the definitions do not back', async () => {
    const agentDefinitions = createAgentDefinitionRegistry({
      source: createDirectoryAgentSource({ directory }),
    });
    hub = await createTestHub({ agentDefinitions });
    const { token } = await hub.createRunner('runner-1');
    const pairing = (agent: string) => ({ agent, offers: [{ name: 'code', weight: 1 }], healthChecks: [] });
    const response = await hub.request('POST', '/v1/runner/register', {
      token,
      body: { capabilities: ['executor:shell'], slots: 1, agents: [pairing('coder'), pairing('ghost')] },
    });
    expect(response.status).toBe(200);
    const { warnings } = (await response.json()) as RunnerRegistered;
    expect(warnings).toEqual([
      'pairing "coder": the agent runs the claude-code executor, which this runner does not offer (executor:claude-code), so it will get no tasks',
      'pairing "ghost": the hub has no agent definition of that name (it has coder); its tasks run without one, one at a time',
    ]);
    // A pairing the definitions back draws no warning.
    const fine = await hub.request('POST', '/v1/runner/register', {
      token,
      body: {
        capabilities: ['executor:shell', 'executor:claude-code'],
        slots: 1,
        agents: [pairing('coder')],
      },
    });
    expect(((await fine.json()) as RunnerRegistered).warnings).toBeUndefined();
  });
});

describe('a hub started with an agents setting', () => {
  const logger = createLogger({ level: 'silent' });
  /** The JSON a GET over loopback answers, as the admin. */
  const get = async (hub: RunningHub, route: string): Promise<unknown> =>
    (await fetch(`${hub.url}${route}`, { headers: { authorization: `Bearer ${hub.adminToken}` } })).json();

  it('loads a Git source at start and serves it over HTTP; a broken source does not stop it', async () => {
    const sandbox = await createGitSandbox();
    try {
      const repo = await sandbox.createSourceRepo({
        files: {
          'agents/coder.yaml': 'name: coder\ntype: claude-code\ncapabilities: { skills: [hub-post, gone] }\n',
          'agents/reviewer.yaml': 'name: reviewer\ntype: codex\n',
          'skills/hub-post/SKILL.md': '# Posting\n',
        },
      });
      const hub = await startHub({
        dataDir: sandbox.path('data'),
        port: 0,
        logger,
        config: { agents: { git: { url: repo, ref: 'main' } } },
      });
      try {
        expect(hub.config.agents).toEqual({ git: { url: repo, ref: 'main' } });
        const list = (await get(hub, '/v1/agents')) as AgentDefinitionList;
        expect(list.source?.revision).toBe(await sandbox.git(repo, ['rev-parse', 'HEAD']));
        expect(list.agents.map((agent) => agent.definition.name)).toEqual(['reviewer']);
        expect(list.problems).toEqual([
          {
            file: 'agents/coder.yaml',
            field: 'capabilities.skills.1',
            reason: 'skill "gone" has no folder skills/gone/ in the agent definitions',
          },
        ]);
        const reviewer = (await get(hub, '/v1/agents/reviewer')) as AgentDefinitionDetail;
        expect(reviewer.agent.definition.type).toBe('codex');
        expect(await get(hub, '/v1/agents/coder')).toMatchObject({ error: { code: 'not_found' } });
      } finally {
        await hub.close();
      }

      const broken = await startHub({
        dataDir: sandbox.path('data-2'),
        port: 0,
        logger,
        config: { agents: { git: { url: sandbox.path('missing'), ref: 'main' } } },
      });
      try {
        const list = (await get(broken, '/v1/agents')) as AgentDefinitionList;
        expect(list.agents).toEqual([]);
        expect(list.source?.lastError?.message).toMatch(/does not exist/);
        expect(list.problems).toEqual([expect.objectContaining({ file: `${sandbox.path('missing')}@main` })]);
      } finally {
        await broken.close();
      }
    } finally {
      await sandbox.cleanup();
    }
  });

  it('refuses a bad agents setting, naming the field', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'warren-agent-config-'));
    try {
      const starting = startHub({
        dataDir,
        port: 0,
        logger,
        config: { agents: { git: { url: '/tmp/x', ref: '-bad' } } },
      });
      await expect(starting).rejects.toBeInstanceOf(InvalidInputError);
      await expect(starting).rejects.toThrow(/agents\.git\.ref: must be a branch, tag or commit/);
      await expect(
        startHub({
          dataDir,
          port: 0,
          logger,
          config: { agents: { directory: 'a', git: { url: 'b', ref: 'c' } } },
        }),
      ).rejects.toThrow(/agents: give exactly one of "directory" or "git"/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
