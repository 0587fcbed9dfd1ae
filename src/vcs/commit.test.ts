import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changedFiles, commitAll, pushBranch } from './commit.ts';
import { GitError } from './git-error.ts';
import { ensureMirror, fetchMirror, resolveBaseRef } from './mirror.ts';
import { createKeyedLock } from './repo-lock.ts';
import { createGitSandbox } from './testing/create-git-sandbox.ts';
import type { GitSandbox } from './testing/create-git-sandbox.ts';
import { createWorktree } from './worktree.ts';
import type { Worktree } from './worktree.ts';

describe('commit', () => {
  let sandbox: GitSandbox;
  let source: string;
  let worktree: Worktree;
  beforeEach(async () => {
    sandbox = await createGitSandbox();
    const lock = createKeyedLock();
    source = await sandbox.createSourceRepo({
      files: { 'README.md': '# hello\n', 'src/keep.ts': 'export {};\n', 'src/old.ts': 'old\n' },
    });
    const mirror = await ensureMirror({ sourceRepo: source, cacheDir: sandbox.path('cache'), lock });
    await fetchMirror(mirror, { lock });
    const base = await resolveBaseRef(mirror);
    worktree = await createWorktree({
      mirror,
      lock,
      baseRef: base.ref,
      branch: 'warren/task-1',
      path: sandbox.path('worktrees', 'task-1'),
    });
  });
  afterEach(async () => {
    await sandbox.cleanup();
  });

  const editWorktree = async () => {
    await writeFile(path.join(worktree.path, 'README.md'), '# hello, world\n');
    await writeFile(path.join(worktree.path, 'src', 'new.ts'), 'export const value = 1;\n');
    await rm(path.join(worktree.path, 'src', 'old.ts'));
  };

  it('returns undefined when there is nothing to commit', async () => {
    expect(await commitAll({ worktreePath: worktree.path, message: 'nothing' })).toBeUndefined();
    expect(await sandbox.git(worktree.path, ['rev-parse', 'HEAD'])).toBe(worktree.baseSha);
  });

  it('commits added, modified and deleted files with the given author', async () => {
    await editWorktree();
    const commit = await commitAll({
      worktreePath: worktree.path,
      message: 'Task 1: greet the world\n\nBody line.',
      author: { name: 'Agent Smith', email: 'agent@example.com' },
    });
    expect(commit).toBeDefined();
    expect(commit!.changedFiles).toEqual(['README.md', 'src/new.ts', 'src/old.ts']);
    expect(commit!.sha).toBe(await sandbox.git(worktree.path, ['rev-parse', 'HEAD']));
    expect(await sandbox.git(worktree.path, ['log', '-1', '--format=%an <%ae>|%cn|%B'])).toBe(
      'Agent Smith <agent@example.com>|Warren|Task 1: greet the world\n\nBody line.',
    );
    expect(await sandbox.git(worktree.path, ['status', '--porcelain'])).toBe('');
  });

  it('lists changed files against the base, committed or not, including untracked ones', async () => {
    await editWorktree();
    await commitAll({ worktreePath: worktree.path, message: 'first part' });
    await writeFile(path.join(worktree.path, 'src', 'keep.ts'), 'export const kept = true;\n');
    await writeFile(path.join(worktree.path, 'untracked.txt'), 'new\n');
    await writeFile(path.join(worktree.path, '.gitignore'), 'ignored.log\n');
    await writeFile(path.join(worktree.path, 'ignored.log'), 'noise\n');

    expect(await changedFiles({ worktreePath: worktree.path, baseSha: worktree.baseSha })).toEqual([
      { path: '.gitignore', change: 'added' },
      { path: 'README.md', change: 'modified' },
      { path: 'src/keep.ts', change: 'modified' },
      { path: 'src/new.ts', change: 'added' },
      { path: 'src/old.ts', change: 'deleted' },
      { path: 'untracked.txt', change: 'added' },
    ]);
  });

  it('pushes the branch to the source repository', async () => {
    await editWorktree();
    const commit = await commitAll({ worktreePath: worktree.path, message: 'task 1' });
    const result = await pushBranch({ worktreePath: worktree.path, remote: source, branch: 'warren/task-1' });
    expect(result).toEqual({ status: 'pushed', sha: commit!.sha });
    expect(await sandbox.git(source, ['rev-parse', 'refs/heads/warren/task-1'])).toBe(commit!.sha);
    // The source's own checkout is untouched.
    expect(await sandbox.git(source, ['symbolic-ref', '--short', 'HEAD'])).toBe('main');
  });

  it('reports a rejected non-fast-forward push, and overwrites it with force', async () => {
    await editWorktree();
    await commitAll({ worktreePath: worktree.path, message: 'first attempt' });
    await pushBranch({ worktreePath: worktree.path, remote: source, branch: 'warren/task-1' });
    await sandbox.git(worktree.path, ['reset', '--quiet', '--hard', worktree.baseSha]);
    await writeFile(path.join(worktree.path, 'second.txt'), 'second attempt\n');
    const second = await commitAll({ worktreePath: worktree.path, message: 'second attempt' });

    const rejected = await pushBranch({
      worktreePath: worktree.path,
      remote: source,
      branch: 'warren/task-1',
    });
    expect(rejected).toEqual({ status: 'rejected', reason: 'non-fast-forward' });

    const forced = await pushBranch({
      worktreePath: worktree.path,
      remote: source,
      branch: 'warren/task-1',
      force: true,
    });
    expect(forced).toEqual({ status: 'pushed', sha: second!.sha });
    expect(await sandbox.git(source, ['rev-parse', 'refs/heads/warren/task-1'])).toBe(second!.sha);
  });

  it('reports a push to the branch checked out in a non-bare source as rejected', async () => {
    await editWorktree();
    await commitAll({ worktreePath: worktree.path, message: 'task 1' });
    const result = await pushBranch({
      worktreePath: worktree.path,
      remote: source,
      branch: 'main',
      force: true,
    });
    expect(result.status).toBe('rejected');
  });

  it('throws GitError when the remote does not exist', async () => {
    await expect(
      pushBranch({ worktreePath: worktree.path, remote: sandbox.path('missing'), branch: 'x' }),
    ).rejects.toBeInstanceOf(GitError);
  });
});
