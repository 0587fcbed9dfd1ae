import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runGit } from './run-git.ts';
import { restoreWorktree, snapshotWorktree } from './worktree-snapshot.ts';

describe('snapshotWorktree / restoreWorktree', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'warren-snapshot-'));
    await runGit(['init', '--quiet', '--initial-branch=main'], { cwd: directory });
    await writeFile(path.join(directory, 'kept.txt'), 'original\n');
    await writeFile(path.join(directory, '.gitignore'), 'build/\n');
    await runGit(['add', '--all'], { cwd: directory });
    await runGit(['commit', '--quiet', '-m', 'initial'], { cwd: directory });
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('restores changed files, removes files added since, and brings back deleted ones', async () => {
    await writeFile(path.join(directory, 'kept.txt'), 'first round\n');
    await writeFile(path.join(directory, 'added-before.txt'), 'before\n');
    const snapshot = await snapshotWorktree(directory);

    await writeFile(path.join(directory, 'kept.txt'), 'second round broke it\n');
    await rm(path.join(directory, 'added-before.txt'));
    await writeFile(path.join(directory, 'added-after.txt'), 'after\n');
    await restoreWorktree(directory, snapshot);

    expect(await readFile(path.join(directory, 'kept.txt'), 'utf8')).toBe('first round\n');
    expect(await readFile(path.join(directory, 'added-before.txt'), 'utf8')).toBe('before\n');
    await expect(access(path.join(directory, 'added-after.txt'))).rejects.toThrow();
  });

  it('leaves ignored files alone', async () => {
    const snapshot = await snapshotWorktree(directory);
    await mkdir(path.join(directory, 'build'));
    await writeFile(path.join(directory, 'build', 'output.js'), 'compiled\n');
    await restoreWorktree(directory, snapshot);
    expect(await readFile(path.join(directory, 'build', 'output.js'), 'utf8')).toBe('compiled\n');
  });
});
