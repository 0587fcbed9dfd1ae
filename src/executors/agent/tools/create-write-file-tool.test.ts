import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWriteFileTool } from './create-write-file-tool.ts';
import { callTool } from './testing/call-tool.ts';
import { createTestWorktree } from './testing/create-test-worktree.ts';
import type { TestWorktree } from './testing/create-test-worktree.ts';

const tool = createWriteFileTool();

describe('write_file', () => {
  let worktree: TestWorktree;
  beforeEach(async () => {
    worktree = await createTestWorktree();
  });
  afterEach(async () => {
    await worktree.remove();
  });

  const write = (input: unknown) => callTool(tool, input, worktree.context());

  it('creates a file and its parent directories, reported as added', async () => {
    const result = await write({ path: 'src/deep/new.ts', content: 'export {};\n' });
    expect(result).toEqual({
      output: 'Created "src/deep/new.ts" (11 bytes)',
      fileChanges: [{ path: 'src/deep/new.ts', change: 'added' }],
    });
    await expect(readFile(path.join(worktree.path, 'src/deep/new.ts'), 'utf8')).resolves.toBe('export {};\n');
  });

  it('overwrites an existing file, reported as modified', async () => {
    const result = await write({ path: 'README.md', content: '# New\n' });
    expect(result.fileChanges).toEqual([{ path: 'README.md', change: 'modified' }]);
    await expect(readFile(path.join(worktree.path, 'README.md'), 'utf8')).resolves.toBe('# New\n');
  });

  it('reports no change when the content is the same', async () => {
    const result = await write({ path: 'README.md', content: '# Test\n' });
    expect(result.output).toContain('nothing changed');
    expect(result.fileChanges).toBeUndefined();
  });

  it('refuses a directory and a path blocked by a file', async () => {
    await mkdir(path.join(worktree.path, 'src'));
    await expect(write({ path: 'src', content: 'x' })).resolves.toMatchObject({ isError: true });
    const blocked = await write({ path: 'README.md/child.txt', content: 'x' });
    expect(blocked).toMatchObject({ isError: true, output: expect.stringContaining('README.md/child.txt') });
  });

  it('refuses to write outside the worktree or into .git', async () => {
    await symlink(worktree.outsidePath, path.join(worktree.path, 'escape'));
    await symlink(path.join(worktree.outsidePath, 'planted'), path.join(worktree.path, 'dangling'));
    for (const requested of [
      '../outside/x.txt',
      path.join(worktree.outsidePath, 'x.txt'),
      'escape/x.txt',
      'dangling',
      '.git/hooks/pre-commit',
    ]) {
      const result = await write({ path: requested, content: 'pwned' });
      expect(result.isError, requested).toBe(true);
    }
    await expect(readFile(path.join(worktree.outsidePath, 'x.txt'))).rejects.toThrow();
    await expect(readFile(path.join(worktree.outsidePath, 'planted'))).rejects.toThrow();
    await expect(readFile(path.join(worktree.path, '.git/hooks/pre-commit'))).rejects.toThrow();
  });

  it('rejects malformed input naming the field', () => {
    expect(tool.parseInput({ path: 'a.txt' })).toEqual({
      success: false,
      error: expect.stringContaining('content'),
    });
    expect(tool.parseInput({ path: 3, content: '' })).toEqual({
      success: false,
      error: expect.stringContaining('path'),
    });
  });

  it('keeps a file written through an inside link inside', async () => {
    await mkdir(path.join(worktree.path, 'real'));
    await symlink('real', path.join(worktree.path, 'alias'));
    await writeFile(path.join(worktree.path, 'real', 'a.txt'), 'old');
    const result = await write({ path: 'alias/a.txt', content: 'new' });
    expect(result.fileChanges).toEqual([{ path: 'real/a.txt', change: 'modified' }]);
  });
});
