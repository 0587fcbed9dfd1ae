import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitError } from './git-error.ts';
import { ensureMirror, fetchMirror, resolveBaseRef } from './mirror.ts';
import type { BaseRef, Mirror } from './mirror.ts';
import { createKeyedLock } from './repo-lock.ts';
import type { KeyedLock } from './repo-lock.ts';
import { createGitSandbox } from './testing/create-git-sandbox.ts';
import type { GitSandbox } from './testing/create-git-sandbox.ts';
import { collectOrphanWorktrees, createWorktree, listWorktrees, removeWorktree } from './worktree.ts';

describe('worktree', () => {
  let sandbox: GitSandbox;
  let lock: KeyedLock;
  let source: string;
  let mirror: Mirror;
  let base: BaseRef;
  let root: string;
  beforeEach(async () => {
    sandbox = await createGitSandbox();
    lock = createKeyedLock();
    source = await sandbox.createSourceRepo({ files: { 'README.md': '# hello\n' } });
    mirror = await ensureMirror({ sourceRepo: source, cacheDir: sandbox.path('cache'), lock });
    await fetchMirror(mirror, { lock });
    base = await resolveBaseRef(mirror);
    root = sandbox.path('worktrees');
  });
  afterEach(async () => {
    await sandbox.cleanup();
  });

  it('checks out a new branch at the base commit', async () => {
    const worktree = await createWorktree({
      mirror,
      lock,
      baseRef: base.ref,
      branch: 'warren/task-1',
      path: path.join(root, 'task-1'),
    });
    expect(worktree).toEqual({ path: path.join(root, 'task-1'), branch: 'warren/task-1', baseSha: base.sha });
    expect(await readFile(path.join(worktree.path, 'README.md'), 'utf8')).toBe('# hello\n');
    expect(await sandbox.git(worktree.path, ['symbolic-ref', '--short', 'HEAD'])).toBe('warren/task-1');
    expect(await sandbox.git(worktree.path, ['rev-parse', 'HEAD'])).toBe(base.sha);

    const entries = await listWorktrees(mirror);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ branch: 'warren/task-1', head: base.sha, isDetached: false });
    expect(entries[0]?.path).toBe(path.join(root, 'task-1'));
  });

  it('creates 8 worktrees on one mirror concurrently', async () => {
    // Without the lock some of these fail (about one run in eight with git 2.39: "failed to read
    // .../worktrees/<name>/commondir", as one add's prune or lock-file write meets another's half-made
    // worktree); the test above checks deterministically that the lock is taken.
    const worktrees = await Promise.all(
      Array.from({ length: 8 }, (_unused, index) =>
        createWorktree({
          mirror,
          lock,
          baseRef: base.ref,
          branch: `warren/task-${index}`,
          path: path.join(root, `task-${index}`),
        }),
      ),
    );
    expect(worktrees.map((worktree) => worktree.baseSha)).toEqual(Array(8).fill(base.sha));
    const entries = await listWorktrees(mirror);
    expect(entries.map((entry) => entry.branch).sort()).toEqual(
      Array.from({ length: 8 }, (_unused, index) => `warren/task-${index}`).sort(),
    );
    for (const worktree of worktrees) {
      expect(existsSync(path.join(worktree.path, 'README.md'))).toBe(true);
    }
  });

  it('waits for the mirror lock before touching the mirror', async () => {
    let releaseLock = () => {};
    const held = lock.run(mirror.path, () => new Promise<void>((resolve) => (releaseLock = resolve)));
    let created = false;
    const creating = createWorktree({
      mirror,
      lock,
      baseRef: base.ref,
      branch: 'warren/waits',
      path: path.join(root, 'waits'),
    }).then((worktree) => {
      created = true;
      return worktree;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(created).toBe(false);
    expect(existsSync(path.join(root, 'waits'))).toBe(false);
    releaseLock();
    await held;
    expect((await creating).branch).toBe('warren/waits');
  });

  it('resets a branch left by an earlier attempt', async () => {
    const first = await createWorktree({
      mirror,
      lock,
      baseRef: base.ref,
      branch: 'warren/retry',
      path: path.join(root, 'attempt-1'),
    });
    await writeFile(path.join(first.path, 'work.txt'), 'first attempt\n');
    await sandbox.git(first.path, ['add', '-A']);
    await sandbox.git(first.path, ['commit', '--quiet', '-m', 'first attempt']);
    await removeWorktree({ mirror, lock, path: first.path });

    const second = await createWorktree({
      mirror,
      lock,
      baseRef: base.ref,
      branch: 'warren/retry',
      path: path.join(root, 'attempt-2'),
    });
    expect(await sandbox.git(second.path, ['rev-parse', 'HEAD'])).toBe(base.sha);
    expect(existsSync(path.join(second.path, 'work.txt'))).toBe(false);
  });

  it('recreates a worktree at the same path', async () => {
    const worktreePath = path.join(root, 'same');
    await createWorktree({ mirror, lock, baseRef: base.ref, branch: 'warren/same', path: worktreePath });
    await writeFile(path.join(worktreePath, 'dirty.txt'), 'uncommitted\n');
    await createWorktree({ mirror, lock, baseRef: base.ref, branch: 'warren/same', path: worktreePath });
    expect(existsSync(path.join(worktreePath, 'dirty.txt'))).toBe(false);
    expect(await listWorktrees(mirror)).toHaveLength(1);
  });

  it('rejects an invalid branch name and an unknown base ref', async () => {
    await expect(
      createWorktree({ mirror, lock, baseRef: base.ref, branch: 'bad..name', path: path.join(root, 'x') }),
    ).rejects.toThrow(/"bad\.\.name" is not a valid branch name/);
    await expect(
      createWorktree({
        mirror,
        lock,
        baseRef: 'refs/remotes/origin/nope',
        branch: 'ok',
        path: path.join(root, 'y'),
      }),
    ).rejects.toBeInstanceOf(GitError);
  });

  it('removes a worktree and optionally its branch', async () => {
    const worktree = await createWorktree({
      mirror,
      lock,
      baseRef: base.ref,
      branch: 'warren/remove-me',
      path: path.join(root, 'remove-me'),
    });
    await writeFile(path.join(worktree.path, 'untracked.txt'), 'dirty\n');
    await removeWorktree({ mirror, lock, path: worktree.path, deleteBranch: 'warren/remove-me' });
    expect(existsSync(worktree.path)).toBe(false);
    expect(await listWorktrees(mirror)).toEqual([]);
    expect(await sandbox.git(mirror.path, ['branch', '--list', 'warren/remove-me'])).toBe('');
  });

  it('tolerates removing a worktree whose directory is already gone, or that never existed', async () => {
    const worktree = await createWorktree({
      mirror,
      lock,
      baseRef: base.ref,
      branch: 'warren/gone',
      path: path.join(root, 'gone'),
    });
    await rm(worktree.path, { recursive: true, force: true });
    await removeWorktree({ mirror, lock, path: worktree.path, deleteBranch: 'warren/gone' });
    await removeWorktree({ mirror, lock, path: path.join(root, 'never'), deleteBranch: 'warren/never' });
    expect(await listWorktrees(mirror)).toEqual([]);
  });

  it('collects orphan worktrees and stray directories under the root', async () => {
    const make = (name: string) =>
      createWorktree({
        mirror,
        lock,
        baseRef: base.ref,
        branch: `warren/${name}`,
        path: path.join(root, name),
      });
    const kept = await make('kept');
    const orphan = await make('orphan');
    const vanished = await make('vanished');
    await rm(vanished.path, { recursive: true, force: true });
    const stray = path.join(root, 'stray');
    await mkdir(stray, { recursive: true });
    await writeFile(path.join(stray, 'half-created.txt'), '');
    const elsewhere = await createWorktree({
      mirror,
      lock,
      baseRef: base.ref,
      branch: 'warren/elsewhere',
      path: sandbox.path('elsewhere'),
    });
    // A worktree of another repository sharing the root is not ours to remove.
    const otherSource = await sandbox.createSourceRepo({ name: 'other-source' });
    const foreign = path.join(root, 'foreign');
    await sandbox.git(otherSource, ['worktree', 'add', '--quiet', foreign]);

    const removed = await collectOrphanWorktrees({ mirror, lock, root, keep: new Set([kept.path]) });

    expect(removed).toEqual([orphan.path, stray].sort());
    expect(existsSync(kept.path)).toBe(true);
    expect(existsSync(orphan.path)).toBe(false);
    expect(existsSync(stray)).toBe(false);
    expect(existsSync(foreign)).toBe(true);
    expect((await listWorktrees(mirror)).map((entry) => entry.path).sort()).toEqual(
      [kept.path, elsewhere.path].sort(),
    );
  });

  it('returns nothing to collect when the root does not exist', async () => {
    expect(await collectOrphanWorktrees({ mirror, lock, root, keep: new Set() })).toEqual([]);
  });
});
