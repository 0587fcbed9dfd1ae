import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGlobTool } from './create-glob-tool.ts';
import { callTool } from './testing/call-tool.ts';
import { createTestWorktree } from './testing/create-test-worktree.ts';
import type { TestWorktree } from './testing/create-test-worktree.ts';

const tool = createGlobTool();

describe('glob', () => {
  let worktree: TestWorktree;
  beforeEach(async () => {
    worktree = await createTestWorktree();
    const files = [
      'src/index.ts',
      'src/lib/util.ts',
      'src/lib/util.test.ts',
      'src/lib/data.json',
      'test/fixture1.txt',
      'test/fixture22.txt',
      'node_modules/pkg/index.ts',
      '.github/workflows/ci.yml',
    ];
    for (const file of files) {
      await mkdir(path.dirname(path.join(worktree.path, file)), { recursive: true });
      await writeFile(path.join(worktree.path, file), '');
    }
  });
  afterEach(async () => {
    await worktree.remove();
  });

  const glob = async (input: unknown) => (await callTool(tool, input, worktree.context())).output.split('\n');

  it('matches ** across directories, sorted, skipping node_modules and .git', async () => {
    await expect(glob({ pattern: '**/*.ts' })).resolves.toEqual([
      'src/index.ts',
      'src/lib/util.test.ts',
      'src/lib/util.ts',
    ]);
    const everything = await glob({ pattern: '**' });
    expect(everything).toContain('README.md');
    expect(everything).toContain('.github/workflows/ci.yml');
    expect(everything.some((file) => file.startsWith('.git/') || file.startsWith('node_modules/'))).toBe(
      false,
    );
  });

  it('supports *, ?, {a,b} and a base path, reporting worktree-relative paths', async () => {
    await expect(glob({ pattern: 'src/*.ts' })).resolves.toEqual(['src/index.ts']);
    await expect(glob({ pattern: 'test/fixture?.txt' })).resolves.toEqual(['test/fixture1.txt']);
    await expect(glob({ pattern: '**/*.{json,yml}' })).resolves.toEqual([
      '.github/workflows/ci.yml',
      'src/lib/data.json',
    ]);
    await expect(glob({ pattern: '*.ts', path: 'src/lib' })).resolves.toEqual([
      'src/lib/util.test.ts',
      'src/lib/util.ts',
    ]);
  });

  it('searches node_modules when the pattern names it', async () => {
    await expect(glob({ pattern: 'node_modules/**/*.ts' })).resolves.toEqual(['node_modules/pkg/index.ts']);
  });

  it('says when nothing matches', async () => {
    const result = await callTool(tool, { pattern: '**/*.py' }, worktree.context());
    expect(result).toEqual({ output: 'No files match "**/*.py" in the worktree' });
  });

  it('does not follow a symbolic link out of the worktree', async () => {
    await writeFile(path.join(worktree.outsidePath, 'secret.ts'), '');
    await symlink(worktree.outsidePath, path.join(worktree.path, 'escape'));
    await expect(glob({ pattern: '**/secret.ts' })).resolves.toEqual([
      'No files match "**/secret.ts" in the worktree',
    ]);
    const result = await callTool(tool, { pattern: '*.ts', path: 'escape' }, worktree.context());
    expect(result).toMatchObject({ isError: true, output: expect.stringContaining('outside the worktree') });
  });

  it('refuses absolute patterns, .. in patterns, and paths outside or in .git', async () => {
    for (const input of [
      { pattern: '/etc/*' },
      { pattern: '../outside/*' },
      { pattern: '*', path: '..' },
      { pattern: '*', path: '.git' },
      { pattern: '.git/*' },
    ]) {
      const result = await callTool(tool, input, worktree.context());
      expect(result.isError, JSON.stringify(input)).toBe(true);
    }
  });

  it('caps the number of results', async () => {
    await mkdir(path.join(worktree.path, 'many'));
    await Promise.all(
      Array.from({ length: 1_010 }, (_, index) =>
        writeFile(path.join(worktree.path, 'many', `f${index}.txt`), ''),
      ),
    );
    const lines = await glob({ pattern: 'many/*.txt' });
    expect(lines).toHaveLength(1_001);
    expect(lines.at(-1)).toContain('stopped at 1000 matches');
  });
});
