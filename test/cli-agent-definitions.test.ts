/**
 * `warren agents validate|list|show` as a person (or CI) runs them: the real CLI on a definitions directory,
 * and against `warren up` configured with that directory in its config file.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentDefinitionDetail, AgentDefinitionList } from '../src/core/api.ts';
import { createProcessHarness, type ProcessHarness } from './support/create-process-harness.ts';

/** A stack trace line, which the CLI must never show a user. */
const stackLine = /^\s+at .+[(:]\d+/m;

const goodFiles: Record<string, string> = {
  'agents/coder.yaml': [
    'name: coder',
    'type: claude-code',
    'brain: { model: frontier, temperature: 0.7 }',
    'capabilities:',
    '  grants: [github:read]',
    '  skills: [hub-post]',
    'behavior: { respond_to_mentions: true }',
    '',
  ].join('\n'),
  'agents/reviewer.yml': 'name: reviewer\ntype: codex\nmax_active: 2\n',
  'skills/hub-post/SKILL.md': '# Posting to the hub\n',
  'skills/hub-post/post.sh': '#!/bin/sh\n',
};

async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  }
}

describe('warren agents', () => {
  let harness: ProcessHarness;
  let good: string;
  let bad: string;

  beforeAll(async () => {
    harness = await createProcessHarness();
    good = harness.path('good');
    bad = harness.path('bad');
    await writeTree(good, goodFiles);
    await writeTree(bad, {
      ...goodFiles,
      'agents/coder.yaml': goodFiles['agents/coder.yaml']!.replace('temperature: 0.7', 'temperature: 7'),
      'agents/reviewer.yml': 'name: critic\ntype: codex\n',
      'skills/notes/notes.txt': 'no instructions\n',
    });
  });

  afterAll(async () => {
    await harness.cleanup();
  });

  it('validate passes a good directory and fails a bad one naming each file and field, offline', async () => {
    const [passed, failed, failedJson, cwdDefault] = await Promise.all([
      harness.runCli(['agents', 'validate', good]),
      harness.runCli(['agents', 'validate', bad]),
      harness.runCli(['agents', 'validate', bad, '--json']),
      harness.runCli(['agents', 'validate'], { env: { WARREN_HUB_URL: 'http://127.0.0.1:9' } }),
    ]);
    expect(passed).toMatchObject({ code: 0, stderr: '' });
    expect(passed.stdout).toBe(`ok: 2 agent definitions (coder, reviewer) and 1 skill in ${good}\n`);

    expect(failed.code).toBe(1);
    expect(failed.stdout.split('\n').filter(Boolean)).toEqual([
      'agents/coder.yaml:3: brain.temperature: must be at most 2',
      'agents/reviewer.yml:1: name: is "critic" but the file is named reviewer.yml; rename the file to critic.yml or set name: reviewer',
      "skills/notes/: has no SKILL.md or README.md with the skill's instructions",
    ]);
    expect(failed.stderr).toContain(`error: 3 problems in the agent definitions in ${bad}`);
    expect(failed.stderr).not.toMatch(stackLine);

    expect(failedJson.code).toBe(1);
    const validation = JSON.parse(failedJson.stdout) as { ok: boolean; problems: unknown[] };
    expect(validation.ok).toBe(false);
    expect(validation.problems).toContainEqual({
      file: 'agents/coder.yaml',
      field: 'brain.temperature',
      reason: 'must be at most 2',
      line: 3,
    });

    // Run from the repository root, which has no agents/ folder: a problem, not a crash.
    expect(cwdDefault.code).toBe(1);
    expect(cwdDefault.stdout).toContain('agents/: holds no definition files');
  });

  it('list and show what `warren up` loaded from the directory in its config file', async () => {
    const home = harness.path('home');
    await writeTree(home, {
      ...Object.fromEntries(Object.entries(goodFiles).map(([file, text]) => [`definitions/${file}`, text])),
      'definitions/agents/broken.yaml': 'name: broken\ntype: shell\ncache_ttl: -1\n',
      // A relative directory is resolved against the config file's folder.
      'config.json': JSON.stringify({ hub: { agents: { directory: './definitions' } } }),
    });
    const env = { WARREN_HOME: home };
    const up = harness.spawnCli('warren up', ['up', '--port', '0', '--no-runner'], { env });
    await up.waitForLine((line) => line.startsWith('stop:'), 45_000);
    expect(up.stdout()).toContain(
      `agents       ${path.join(home, 'definitions')} (2 definitions, 1 problem: see \`warren agents list\`)`,
    );

    const [listed, listedJson, shown, shownJson, unknown] = await Promise.all([
      harness.runCli(['agents', 'list'], { env }),
      harness.runCli(['agents', 'list', '--json'], { env }),
      harness.runCli(['agents', 'show', 'coder'], { env }),
      harness.runCli(['agents', 'show', 'coder', '--json'], { env }),
      harness.runCli(['agents', 'show', 'nobody'], { env }),
    ]);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    expect(listed.stdout).toContain(`source  ${path.join(home, 'definitions')}`);
    expect(listed.stdout).toMatch(/^coder\s+claude-code\s+frontier\s+1\s+1\s+/m);
    expect(listed.stdout).toMatch(/^reviewer\s+codex\s+-\s+0\s+2\s+/m);
    expect(listed.stdout).toContain('agents/broken.yaml:3: cache_ttl: must be at least 0');

    const list = JSON.parse(listedJson.stdout) as AgentDefinitionList;
    expect(list.agents.map((agent) => agent.definition.name)).toEqual(['coder', 'reviewer']);
    expect(list.source?.source).toEqual({ kind: 'directory', directory: path.join(home, 'definitions') });

    expect(shown).toMatchObject({ code: 0, stderr: '' });
    expect(shown.stdout).toContain('coder  agents/coder.yaml');
    expect(shown.stdout).toContain('respond_to_mentions: true');
    expect(shown.stdout).toMatch(/hub-post\s+found/);
    const detail = JSON.parse(shownJson.stdout) as AgentDefinitionDetail;
    expect(detail.skills).toEqual([{ name: 'hub-post', exists: true }]);

    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('error: no agent definition named nobody');
    expect(unknown.stderr).not.toMatch(stackLine);
  }, 60_000);
});
