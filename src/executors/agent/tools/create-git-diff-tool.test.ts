import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGitDiffTool } from './create-git-diff-tool.ts';
import { callTool } from './testing/call-tool.ts';
import { createTestWorktree } from './testing/create-test-worktree.ts';
import type { TestWorktree } from './testing/create-test-worktree.ts';

const tool = createGitDiffTool();

describe('git_diff', () => {
  let worktree: TestWorktree;
  beforeEach(async () => {
    worktree = await createTestWorktree();
    await mkdir(path.join(worktree.path, 'src'));
    await writeFile(path.join(worktree.path, 'src', 'a.ts'), 'one\n');
    worktree.git('add', '.');
    worktree.git('commit', '--quiet', '-m', 'src');
  });
  afterEach(async () => {
    await worktree.remove();
  });

  const diff = (input: unknown) => callTool(tool, input, worktree.context());

  it('shows unstaged changes, all or of one path', async () => {
    await writeFile(path.join(worktree.path, 'README.md'), '# Changed\n');
    await writeFile(path.join(worktree.path, 'src', 'a.ts'), 'two\n');
    const all = await diff({});
    expect(all.isError).toBeUndefined();
    expect(all.output).toContain('+# Changed');
    expect(all.output).toContain('+two');
    const one = await diff({ path: 'src' });
    expect(one.output).toContain('+two');
    expect(one.output).not.toContain('README.md');
  });

  it('shows staged changes with staged: true', async () => {
    await writeFile(path.join(worktree.path, 'src', 'a.ts'), 'staged\n');
    worktree.git('add', 'src/a.ts');
    expect((await diff({})).output).toBe('No unstaged changes to tracked files');
    expect((await diff({ staged: true })).output).toContain('+staged');
  });

  it('says when there is nothing to show', async () => {
    await expect(diff({ path: 'src/a.ts' })).resolves.toEqual({
      output: 'No unstaged changes to tracked files in "src/a.ts"',
    });
  });

  it('treats a path literally, not as pathspec magic', async () => {
    await writeFile(path.join(worktree.path, 'src', 'a.ts'), 'two\n');
    const result = await diff({ path: ':(exclude)README.md' });
    expect(result.output).not.toContain('+two');
  });

  it('cuts a long diff at a line end, keeping its head', async () => {
    const big = Array.from({ length: 20_000 }, (_, index) => `line ${index}`).join('\n');
    await writeFile(path.join(worktree.path, 'src', 'a.ts'), big);
    const result = await diff({});
    expect(result.output.startsWith('diff --git a/src/a.ts b/src/a.ts')).toBe(true);
    expect(result.output).toMatch(
      /\n\+line \d+\n\[diff cut: showing the first 100 KB of \d+ KB; pass path to see one file\]$/,
    );
  });

  it('refuses paths outside the worktree and inside .git', async () => {
    await expect(diff({ path: '../x' })).resolves.toMatchObject({ isError: true });
    await expect(diff({ path: '.git' })).resolves.toMatchObject({ isError: true });
  });

  it('rejects malformed input naming the field', () => {
    expect(tool.parseInput({ staged: 'yes' })).toEqual({
      success: false,
      error: expect.stringContaining('staged'),
    });
  });
});
