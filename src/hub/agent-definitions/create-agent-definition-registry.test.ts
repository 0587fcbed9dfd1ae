import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait-for.ts';
import { NotFoundError } from '../../core/errors.ts';
import {
  createGitSandbox,
  type FileContents,
  type GitSandbox,
} from '../../vcs/testing/create-git-sandbox.ts';
import type { AgentSource } from './agent-source.ts';
import {
  createAgentDefinitionRegistry,
  type AgentDefinitionRegistry,
} from './create-agent-definition-registry.ts';
import { createDirectoryAgentSource } from './directory-agent-source.ts';
import { createGitAgentSource } from './git-agent-source.ts';
import { SkillNotFoundError } from './load-skill.ts';

/** A definition file's text. */
function definition(name: string, fields: Record<string, string> = {}): string {
  const lines = [`name: ${name}`, `type: ${fields.type ?? 'claude-code'}`];
  for (const [key, value] of Object.entries(fields)) if (key !== 'type') lines.push(`${key}: ${value}`);
  return `${lines.join('\n')}\n`;
}

const initialFiles: FileContents = {
  'agents/coder.yaml': definition('coder', {
    cache_ttl: '60',
    capabilities: '{ grants: [github:read], skills: [hub-post] }',
  }),
  'agents/reviewer.yml': definition('reviewer', { type: 'codex', cache_ttl: '600' }),
  'agents/README.md': '# not a definition\n',
  'skills/hub-post/SKILL.md': '# Posting to the hub\nUse `warren task add`.\n',
  'skills/hub-post/scripts/post.sh': '#!/bin/sh\necho posted\n',
  'skills/github-pr/README.md': '# Opening pull requests\n',
};

/** A source that counts how often it is opened and which files are read through its trees. */
function countingSource(source: AgentSource) {
  const reads: string[] = [];
  let opens = 0;
  const counted: AgentSource = {
    info: source.info,
    label: source.label,
    async open() {
      opens += 1;
      const tree = await source.open();
      return {
        revision: tree.revision,
        list: (folder, options) => tree.list(folder, options),
        read: async (file) => {
          reads.push(file);
          return tree.read(file);
        },
      };
    },
  };
  return { source: counted, reads, opens: () => opens };
}

describe('agent definitions from a Git repository', () => {
  let sandbox: GitSandbox;
  let repo: string;
  let now: number;
  const clock = () => now;
  const advance = (seconds: number) => {
    now += seconds * 1_000;
  };
  const gitSource = () =>
    createGitAgentSource({ url: repo, ref: 'main', cacheDir: sandbox.path('hub-data', 'agent-definitions') });
  const registryOf = (source: AgentSource): AgentDefinitionRegistry =>
    createAgentDefinitionRegistry({ source, clock, refreshWaitMs: Number.POSITIVE_INFINITY });

  beforeEach(async () => {
    sandbox = await createGitSandbox();
    repo = await sandbox.createSourceRepo({ name: 'definitions', files: initialFiles });
    now = Date.parse('2026-01-01T00:00:00Z');
  });

  afterEach(async () => {
    await sandbox.cleanup();
  });

  it('loads every definition of the ref, with its file, commit and cache times', async () => {
    const registry = registryOf(gitSource());
    const head = await sandbox.git(repo, ['rev-parse', 'HEAD']);
    const agents = await registry.list();
    expect(agents.map((agent) => [agent.definition.name, agent.file])).toEqual([
      ['coder', 'agents/coder.yaml'],
      ['reviewer', 'agents/reviewer.yml'],
    ]);
    expect(agents[0]).toMatchObject({
      revision: head,
      loadedAt: '2026-01-01T00:00:00.000Z',
      expiresAt: '2026-01-01T00:01:00.000Z',
      replacementRejected: false,
      definition: { type: 'claude-code', capabilities: { grants: ['github:read'], skills: ['hub-post'] } },
    });
    expect(registry.problems()).toEqual([]);
    expect(registry.status()).toEqual({
      source: { kind: 'git', url: repo, ref: 'main' },
      revision: head,
      refreshedAt: '2026-01-01T00:00:00.000Z',
      nextRefreshAt: '2026-01-01T00:01:00.000Z',
    });
    expect(await registry.get('nobody')).toBeUndefined();
  });

  it('serves a definition from cache until its own cache_ttl has passed, then the committed change', async () => {
    const registry = registryOf(gitSource());
    expect((await registry.get('coder'))?.definition.max_active).toBe(1);
    await sandbox.commitFiles(repo, {
      'agents/coder.yaml': definition('coder', { cache_ttl: '60', max_active: '3' }),
      'agents/reviewer.yml': definition('reviewer', { type: 'codex', cache_ttl: '600', max_active: '5' }),
    });

    advance(59);
    expect((await registry.get('coder'))?.definition.max_active).toBe(1);
    advance(1);
    const coder = await registry.get('coder');
    expect(coder?.definition.max_active).toBe(3);
    expect(coder?.revision).toBe(await sandbox.git(repo, ['rev-parse', 'HEAD']));
    expect(coder?.loadedAt).toBe('2026-01-01T00:01:00.000Z');
    // The reviewer's own cache_ttl (600 s) has not passed: its cached version stays in use.
    expect((await registry.get('reviewer'))?.definition.max_active).toBe(1);
    advance(600);
    expect((await registry.get('reviewer'))?.definition.max_active).toBe(5);
  });

  it('rejects a broken commit with file, field and reason, keeps the last good version, then takes the fix', async () => {
    const registry = registryOf(gitSource());
    await registry.list();
    await sandbox.commitFiles(repo, {
      'agents/coder.yaml': definition('coder', { cache_ttl: '60', brain: '{ temperature: 7 }' }),
      'agents/tester.yaml': 'name: tester\ntype: shell\ntype: codex\n',
    });
    advance(60);
    const coder = await registry.get('coder');
    expect(coder).toMatchObject({
      replacementRejected: true,
      loadedAt: '2026-01-01T00:00:00.000Z',
      definition: { brain: {}, capabilities: { skills: ['hub-post'] } },
    });
    expect(registry.problems()).toEqual([
      { file: 'agents/coder.yaml', field: 'brain.temperature', reason: 'must be at most 2', line: 4 },
      {
        file: 'agents/tester.yaml',
        field: '',
        reason: 'YAML syntax error at line 3, column 1: Map keys must be unique',
        line: 3,
      },
    ]);
    expect((await registry.list()).map((agent) => agent.definition.name)).toEqual(['coder', 'reviewer']);

    await sandbox.commitFiles(repo, {
      'agents/coder.yaml': definition('coder', { cache_ttl: '60', brain: '{ temperature: 0.2 }' }),
    });
    advance(60);
    const fixed = await registry.get('coder');
    expect(fixed).toMatchObject({ replacementRejected: false, definition: { brain: { temperature: 0.2 } } });
    expect(registry.problems()).toEqual([expect.objectContaining({ file: 'agents/tester.yaml' })]);
  });

  it('drops a definition whose file was removed, on the next refresh', async () => {
    const registry = registryOf(gitSource());
    await registry.list();
    await sandbox.git(repo, ['rm', '--quiet', 'agents/reviewer.yml']);
    await sandbox.git(repo, ['commit', '--quiet', '-m', 'remove the reviewer']);
    advance(60);
    expect((await registry.list()).map((agent) => agent.definition.name)).toEqual(['coder']);
    expect(await registry.get('reviewer')).toBeUndefined();
  });

  it('keeps the last good definitions while the repository is unreachable, and says so', async () => {
    const registry = registryOf(gitSource());
    await registry.list();
    await rename(repo, `${repo}-moved`);
    advance(60);
    expect((await registry.list()).map((agent) => agent.definition.name)).toEqual(['coder', 'reviewer']);
    const problems = registry.problems();
    expect(problems).toEqual([
      {
        file: `${repo}@main`,
        field: '',
        reason: expect.stringMatching(
          /^could not be read: Could not fetch from source repository .*; serving the last good definitions/,
        ),
      },
    ]);
    expect(registry.status().lastError).toEqual({
      at: '2026-01-01T00:01:00.000Z',
      message: expect.any(String),
    });

    // Not retried on every use: only after the retry delay (30 s).
    await rename(`${repo}-moved`, repo);
    advance(10);
    await registry.list();
    expect(registry.status().lastError).toBeDefined();
    advance(20);
    await registry.list();
    expect(registry.status().lastError).toBeUndefined();
    expect(registry.problems()).toEqual([]);
  });

  it('starts with nothing but a problem when the repository or the ref does not exist', async () => {
    const missing = createAgentDefinitionRegistry({
      source: createGitAgentSource({
        url: sandbox.path('nowhere'),
        ref: 'main',
        cacheDir: sandbox.path('cache'),
      }),
      clock,
    });
    expect(await missing.refresh()).toMatchObject({
      ok: false,
      definitions: 0,
      error: expect.stringMatching(/does not exist/),
    });
    expect(await missing.list()).toEqual([]);
    await expect(missing.loadSkill('hub-post')).rejects.toThrow(/could not be read/);

    const badRef = registryOf(
      createGitAgentSource({ url: repo, ref: 'release', cacheDir: sandbox.path('cache') }),
    );
    const result = await badRef.refresh();
    expect(result.error).toMatch(/ref "release" is not a branch, tag or commit of .* \(branches: main\)/);
  });

  it('reads a tag, a commit or a folder inside the repository', async () => {
    const first = await sandbox.git(repo, ['rev-parse', 'HEAD']);
    await sandbox.git(repo, ['tag', 'v1']);
    await sandbox.commitFiles(repo, {
      'agents/coder.yaml': definition('coder', { max_active: '2' }),
      'warren/agents/nested.yaml': definition('nested'),
    });
    const cacheDir = sandbox.path('cache');
    const tagged = registryOf(createGitAgentSource({ url: repo, ref: 'v1', cacheDir }));
    expect((await tagged.get('coder'))?.definition.max_active).toBe(1);
    const pinned = registryOf(createGitAgentSource({ url: repo, ref: first.slice(0, 12), cacheDir }));
    expect((await pinned.get('coder'))?.revision).toBe(first);
    const nested = registryOf(
      createGitAgentSource({ url: `file://${repo}`, ref: 'main', path: 'warren', cacheDir }),
    );
    expect((await nested.list()).map((agent) => agent.file)).toEqual(['agents/nested.yaml']);
    const absent = registryOf(createGitAgentSource({ url: repo, ref: 'main', path: 'nope', cacheDir }));
    expect((await absent.refresh()).error).toMatch(/folder "nope" does not exist/);
  });

  it('rejects a definition naming a skill without a folder', async () => {
    await sandbox.commitFiles(repo, {
      'agents/coder.yaml': definition('coder', { capabilities: '{ skills: [hub-post, deploy] }' }),
    });
    const registry = registryOf(gitSource());
    expect(await registry.get('coder')).toBeUndefined();
    expect(registry.problems()).toEqual([
      {
        file: 'agents/coder.yaml',
        field: 'capabilities.skills.1',
        reason: 'skill "deploy" has no folder skills/deploy/ in the agent definitions',
      },
    ]);
  });

  it('reads skills only when asked, from the commit the definitions came from', async () => {
    const counted = countingSource(gitSource());
    const registry = registryOf(counted.source);
    await registry.list();
    await registry.get('coder');
    expect(counted.reads.filter((file) => file.startsWith('skills/'))).toEqual([]);

    const [skillName] = (await registry.get('coder'))!.definition.capabilities.skills;
    const skill = await registry.loadSkill(skillName!);
    expect(skill).toEqual({
      name: 'hub-post',
      instructionsFile: 'skills/hub-post/SKILL.md',
      instructions: '# Posting to the hub\nUse `warren task add`.\n',
      files: [{ path: 'scripts/post.sh', size: 22, content: '#!/bin/sh\necho posted\n' }],
      revision: await sandbox.git(repo, ['rev-parse', 'HEAD']),
    });
    expect(counted.reads.filter((file) => file.startsWith('skills/'))).toEqual([
      'skills/hub-post/SKILL.md',
      'skills/hub-post/scripts/post.sh',
    ]);
    // A commit's skill is read once; README.md stands in for SKILL.md.
    await registry.loadSkill('hub-post');
    expect(counted.reads.filter((file) => file.startsWith('skills/'))).toHaveLength(2);
    expect((await registry.loadSkill('github-pr')).instructionsFile).toBe('skills/github-pr/README.md');
    expect(await registry.skillNames()).toEqual(['github-pr', 'hub-post']);

    // A new commit is seen once the definitions are read again.
    await sandbox.commitFiles(repo, { 'skills/hub-post/SKILL.md': '# Posting, revised\n' });
    expect((await registry.loadSkill('hub-post')).instructions).toBe(
      '# Posting to the hub\nUse `warren task add`.\n',
    );
    await registry.refresh();
    expect((await registry.loadSkill('hub-post')).instructions).toBe('# Posting, revised\n');

    const unknown = registry.loadSkill('deploy');
    await expect(unknown).rejects.toBeInstanceOf(SkillNotFoundError);
    await expect(unknown).rejects.toBeInstanceOf(NotFoundError);
    await expect(unknown).rejects.toThrow(/skill deploy not found: no folder skills\/deploy\//);
  });

  it('answers the scheduler from the cache at once, refreshing in the background once expired', async () => {
    const counted = countingSource(gitSource());
    const registry = registryOf(counted.source);
    expect(registry.limitsOf('coder')).toBeUndefined();
    await registry.refresh();
    expect(registry.limitsOf('coder')).toEqual({ type: 'claude-code', maxActive: 1 });
    expect(registry.limitsOf('nobody')).toBeUndefined();
    expect(counted.opens()).toBe(1);

    await sandbox.commitFiles(repo, { 'agents/coder.yaml': definition('coder', { max_active: '3' }) });
    advance(60);
    expect(registry.limitsOf('coder')).toEqual({ type: 'claude-code', maxActive: 1 });
    await registry.refresh();
    expect(counted.opens()).toBe(2);
    expect(registry.limitsOf('coder')).toEqual({ type: 'claude-code', maxActive: 3 });
  });

  it('hands out the cached definition without waiting, for the claim path, refreshing in the background', async () => {
    const counted = countingSource(gitSource());
    const registry = registryOf(counted.source);
    expect(registry.cached('coder')).toBeUndefined();
    await registry.refresh();
    const head = await sandbox.git(repo, ['rev-parse', 'HEAD']);
    expect(registry.cached('coder')).toMatchObject({ revision: head, definition: { max_active: 1 } });
    expect(registry.cached('nobody')).toBeUndefined();

    await sandbox.commitFiles(repo, { 'agents/coder.yaml': definition('coder', { max_active: '3' }) });
    advance(60);
    // Expired: the cached version answers at once, and a refresh starts behind it.
    expect(registry.cached('coder')?.definition.max_active).toBe(1);
    await waitFor('the background refresh', () => registry.cached('coder')?.definition.max_active === 3, {
      timeoutMs: 10_000,
    });
    expect(counted.opens()).toBe(2);
  });

  it('runs at most one refresh at a time however many callers find the cache expired', async () => {
    const counted = countingSource(gitSource());
    const registry = registryOf(counted.source);
    await Promise.all([registry.list(), registry.list(), registry.get('coder'), registry.refresh()]);
    expect(counted.opens()).toBe(1);
    advance(60);
    await Promise.all([registry.list(), registry.get('coder'), registry.get('reviewer'), registry.list()]);
    expect(counted.opens()).toBe(2);
  });

  it('answers from the cache when a refresh takes longer than the caller waits', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const inner = gitSource();
    let slow = false;
    const registry = createAgentDefinitionRegistry({
      clock,
      refreshWaitMs: 20,
      source: {
        ...inner,
        async open() {
          if (slow) await gate;
          return inner.open();
        },
      },
    });
    await registry.list();
    slow = true;
    await sandbox.commitFiles(repo, { 'agents/coder.yaml': definition('coder', { max_active: '4' }) });
    advance(60);
    expect((await registry.get('coder'))?.definition.max_active).toBe(1);
    release();
    const done = await registry.refresh();
    expect(done.ok).toBe(true);
    expect((await registry.get('coder'))?.definition.max_active).toBe(4);
  });
});

describe('agent definitions from a directory', () => {
  let sandbox: GitSandbox;
  let directory: string;
  let now: number;
  const clock = () => now;

  const write = async (files: FileContents) => {
    for (const [file, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(directory, file)), { recursive: true });
      await writeFile(path.join(directory, file), text);
    }
  };

  beforeEach(async () => {
    sandbox = await createGitSandbox();
    directory = sandbox.path('definitions');
    await write(initialFiles);
    now = Date.parse('2026-01-01T00:00:00Z');
  });

  afterEach(async () => {
    await sandbox.cleanup();
  });

  it('loads, caches, rejects, keeps the last good version and drops removed files', async () => {
    const registry = createAgentDefinitionRegistry({
      source: createDirectoryAgentSource({ directory }),
      clock,
    });
    expect((await registry.list()).map((agent) => agent.definition.name)).toEqual(['coder', 'reviewer']);
    expect(registry.status()).toMatchObject({ source: { kind: 'directory', directory } });
    expect((await registry.get('coder'))?.revision).toBeUndefined();

    await write({ 'agents/coder.yaml': definition('coder', { cache_ttl: '60', max_active: '0' }) });
    await rm(path.join(directory, 'agents/reviewer.yml'));
    now += 30_000;
    expect((await registry.get('coder'))?.definition.max_active).toBe(1);
    now += 30_000;
    expect(await registry.get('coder')).toMatchObject({
      replacementRejected: true,
      definition: { max_active: 1 },
    });
    expect(registry.problems()).toEqual([
      { file: 'agents/coder.yaml', field: 'max_active', reason: 'must be at least 1', line: 4 },
    ]);
    expect((await registry.list()).map((agent) => agent.definition.name)).toEqual(['coder']);
  });

  it('reads a skill as the directory holds it when first asked', async () => {
    const registry = createAgentDefinitionRegistry({
      source: createDirectoryAgentSource({ directory }),
      clock,
    });
    await registry.list();
    await write({ 'skills/hub-post/SKILL.md': '# Changed before anyone asked\n' });
    expect((await registry.loadSkill('hub-post')).instructions).toBe('# Changed before anyone asked\n');
  });

  it('caps what a skill loads and refuses a skill without instructions', async () => {
    await write({
      'skills/big/SKILL.md': '# Big\n',
      'skills/big/huge.txt': 'x'.repeat(300 * 1024),
      'skills/big/image.png': '\u0000PNG',
      'skills/empty/notes.txt': 'no instructions here\n',
    });
    const registry = createAgentDefinitionRegistry({
      source: createDirectoryAgentSource({ directory }),
      clock,
    });
    const big = await registry.loadSkill('big');
    expect(big.files).toEqual([
      { path: 'huge.txt', size: 300 * 1024, omitted: 'too-large' },
      { path: 'image.png', size: 4, omitted: 'binary' },
    ]);
    await expect(registry.loadSkill('empty')).rejects.toThrow(
      'skills/empty/: has no SKILL.md or README.md with the skill',
    );
    await expect(registry.loadSkill('../agents')).rejects.toBeInstanceOf(SkillNotFoundError);
  });

  it('reports a directory that does not exist without throwing', async () => {
    const registry = createAgentDefinitionRegistry({
      source: createDirectoryAgentSource({ directory: sandbox.path('absent') }),
      clock,
    });
    expect(await registry.list()).toEqual([]);
    expect(registry.problems()).toEqual([
      {
        file: sandbox.path('absent'),
        field: '',
        reason: `could not be read: agent definitions directory ${sandbox.path('absent')} does not exist; no definitions are loaded`,
      },
    ]);
  });
});
