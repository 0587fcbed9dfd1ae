import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveWorktreePath } from './resolve-worktree-path.ts';
import { createTestWorktree } from './testing/create-test-worktree.ts';
import type { TestWorktree } from './testing/create-test-worktree.ts';

describe('resolveWorktreePath', () => {
  let worktree: TestWorktree;
  beforeEach(async () => {
    worktree = await createTestWorktree();
  });
  afterEach(async () => {
    await worktree.remove();
  });

  it('resolves relative paths, existing or not, to absolute and worktree-relative paths', async () => {
    await expect(resolveWorktreePath(worktree.path, 'README.md')).resolves.toEqual({
      ok: true,
      absolutePath: path.join(worktree.path, 'README.md'),
      relativePath: 'README.md',
      worktreeRoot: worktree.path,
    });
    await expect(resolveWorktreePath(worktree.path, './new/dir/../file.ts')).resolves.toMatchObject({
      ok: true,
      absolutePath: path.join(worktree.path, 'new', 'file.ts'),
      relativePath: 'new/file.ts',
    });
    await expect(resolveWorktreePath(worktree.path, '.')).resolves.toMatchObject({
      ok: true,
      absolutePath: worktree.path,
      relativePath: '.',
    });
  });

  it('accepts an absolute path inside the worktree', async () => {
    const result = await resolveWorktreePath(worktree.path, path.join(worktree.path, 'src', 'a.ts'));
    expect(result).toMatchObject({ ok: true, relativePath: 'src/a.ts' });
  });

  it('refuses .. escapes and absolute paths outside, naming the path', async () => {
    const escape = await resolveWorktreePath(worktree.path, '../../etc/passwd');
    expect(escape).toEqual({
      ok: false,
      error: expect.stringContaining('"../../etc/passwd" is outside the worktree'),
    });
    const sneaky = await resolveWorktreePath(worktree.path, 'src/../../outside/file');
    expect(sneaky.ok).toBe(false);
    const absolute = await resolveWorktreePath(worktree.path, '/etc/passwd');
    expect(absolute).toEqual({ ok: false, error: expect.stringContaining('"/etc/passwd" is outside') });
  });

  it('refuses paths that lead through a symbolic link out of the worktree', async () => {
    await symlink(worktree.outsidePath, path.join(worktree.path, 'escape'));
    await writeFile(path.join(worktree.outsidePath, 'secret.txt'), 'secret');
    for (const requested of ['escape', 'escape/secret.txt', 'escape/new/file.txt']) {
      const result = await resolveWorktreePath(worktree.path, requested);
      expect(result).toEqual({ ok: false, error: expect.stringContaining('outside the worktree') });
    }
  });

  it('follows a dangling symbolic link to where a new file would land', async () => {
    await symlink(path.join(worktree.outsidePath, 'not-yet'), path.join(worktree.path, 'dangling'));
    const result = await resolveWorktreePath(worktree.path, 'dangling');
    expect(result).toEqual({ ok: false, error: expect.stringContaining('outside the worktree') });

    await symlink('target-inside', path.join(worktree.path, 'inside-link'));
    await expect(resolveWorktreePath(worktree.path, 'inside-link')).resolves.toMatchObject({
      ok: true,
      relativePath: 'target-inside',
    });
  });

  it('accepts symbolic links that stay inside the worktree, reporting the real path', async () => {
    await mkdir(path.join(worktree.path, 'real'));
    await symlink('real', path.join(worktree.path, 'alias'));
    await expect(resolveWorktreePath(worktree.path, 'alias/file.txt')).resolves.toMatchObject({
      ok: true,
      relativePath: 'real/file.txt',
    });
  });

  it('refuses a symbolic link loop', async () => {
    await symlink('loop-b', path.join(worktree.path, 'loop-a'));
    await symlink('loop-a', path.join(worktree.path, 'loop-b'));
    const result = await resolveWorktreePath(worktree.path, 'loop-a/file');
    expect(result).toEqual({ ok: false, error: expect.stringContaining('symbolic links') });
  });

  it('refuses anything inside .git, directly, nested, in other case or through a link', async () => {
    await symlink('.git', path.join(worktree.path, 'git-alias'));
    for (const requested of ['.git', '.git/config', 'sub/.git/HEAD', '.GIT/config', 'git-alias/config']) {
      const result = await resolveWorktreePath(worktree.path, requested);
      expect(result, requested).toEqual({ ok: false, error: expect.stringContaining('inside .git') });
    }
  });

  it('refuses .git when it is a file, as in a linked git worktree', async () => {
    const linked = path.join(worktree.outsidePath, 'linked');
    worktree.git('worktree', 'add', '--quiet', '-b', 'feature', linked);
    await expect(resolveWorktreePath(linked, 'README.md')).resolves.toMatchObject({ ok: true });
    await expect(resolveWorktreePath(linked, '.git')).resolves.toMatchObject({ ok: false });
  });

  it('refuses a NUL character', async () => {
    await expect(resolveWorktreePath(worktree.path, 'a\0b')).resolves.toMatchObject({ ok: false });
  });
});
