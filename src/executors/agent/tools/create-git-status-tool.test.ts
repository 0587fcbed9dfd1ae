import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGitStatusTool } from './create-git-status-tool.ts';
import { callTool } from './testing/call-tool.ts';
import { createTestWorktree } from './testing/create-test-worktree.ts';
import type { TestWorktree } from './testing/create-test-worktree.ts';

const tool = createGitStatusTool();

describe('git_status', () => {
  let worktree: TestWorktree;
  beforeEach(async () => {
    worktree = await createTestWorktree();
  });
  afterEach(async () => {
    await worktree.remove();
  });

  it('says when the tree is clean', async () => {
    await expect(callTool(tool, {}, worktree.context())).resolves.toEqual({
      output: '## main\nworking tree clean',
    });
  });

  it('shows the branch and changed, staged and untracked files', async () => {
    await writeFile(path.join(worktree.path, 'README.md'), '# Changed\n');
    await writeFile(path.join(worktree.path, 'staged.txt'), 'x');
    await writeFile(path.join(worktree.path, 'ünïcode.txt'), 'x');
    worktree.git('add', 'staged.txt');
    const result = await callTool(tool, {}, worktree.context());
    expect(result).toEqual({ output: '## main\n M README.md\nA  staged.txt\n?? ünïcode.txt' });
  });

  it('ignores the global git config of the environment', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'warren-git-home-'));
    try {
      // A global config that would hide untracked files is not read.
      await writeFile(path.join(home, '.gitconfig'), '[status]\n\tshowUntrackedFiles = no\n');
      await writeFile(path.join(worktree.path, 'untracked.txt'), 'x');
      const result = await callTool(tool, {}, worktree.context({ env: { ...worktree.env, HOME: home } }));
      expect(result.output).toContain('?? untracked.txt');
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('is a tool error outside a git repository', async () => {
    const plain = await mkdtemp(path.join(tmpdir(), 'warren-git-status-plain-'));
    try {
      const result = await callTool(tool, {}, worktree.context({ worktreePath: plain }));
      expect(result).toEqual({ isError: true, output: expect.stringContaining('not a git repository') });
    } finally {
      await rm(plain, { recursive: true, force: true });
    }
  });

  it('rejects unknown input fields', () => {
    expect(tool.parseInput({ verbose: true })).toMatchObject({ success: false });
    expect(tool.parseInput({})).toMatchObject({ success: true });
  });
});
