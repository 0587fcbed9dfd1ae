import { lstat, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { canonicalPath, isSameOrInside } from './canonical-path.ts';
import { GitError } from './git-error.ts';
import type { Mirror } from './mirror.ts';
import { resolveCommit } from './mirror.ts';
import type { KeyedLock } from './repo-lock.ts';
import { runMirrorGit } from './run-mirror-git.ts';

/** Where and on which branch to check out a task's working copy. */
export interface CreateWorktreeOptions {
  mirror: Mirror;
  lock: KeyedLock;
  /** Commit-ish in the mirror to start from, usually {@link BaseRef.ref} or a sha. */
  baseRef: string;
  /** Branch created in the mirror (e.g. `warren/task-123`); reset to the base if it already exists. */
  branch: string;
  /** Directory for the worktree; must not exist or be empty. */
  path: string;
}

/** A task's working copy, linked to a mirror. */
export interface Worktree {
  /** Absolute path of the working copy. */
  path: string;
  branch: string;
  /** Commit the branch was created at; diffs and secret scans compare against it. */
  baseSha: string;
}

/** Which worktree to remove. */
export interface RemoveWorktreeOptions {
  mirror: Mirror;
  lock: KeyedLock;
  path: string;
  /** Also delete this branch from the mirror (not from the source repository). */
  deleteBranch?: string;
}

/** A linked worktree as git records it. */
export interface WorktreeEntry {
  /** Absolute path, symlinks resolved, as git stores it. */
  path: string;
  /** Checked-out commit; undefined while a worktree is being created. */
  head: string | undefined;
  /** Checked-out branch without `refs/heads/`; undefined when detached. */
  branch: string | undefined;
  isDetached: boolean;
  /** Locked worktrees are skipped by `git worktree prune`; `git worktree add` locks while it runs. */
  isLocked: boolean;
  /** Git knows the directory is gone and the next prune will forget it. */
  isPrunable: boolean;
}

/** Which worktrees to keep when cleaning up after a crash. */
export interface CollectOrphanWorktreesOptions {
  mirror: Mirror;
  lock: KeyedLock;
  /** Directory the runner creates worktrees in. Only worktrees and directories below it are removed. */
  root: string;
  /** Worktree paths still in use (attempts this runner still holds). */
  keep: Set<string>;
}

/**
 * Creates a worktree on a new branch at `baseRef`: `git worktree add -b <branch> <path> <sha>`.
 *
 * Runs under the mirror's lock, because concurrent `git worktree add` on one repository race on its
 * lock files. When the branch exists from an earlier attempt it is reset with `-B`; a worktree
 * registered at the same path is removed first. `baseRef` is resolved to a sha before checkout, so the
 * returned `baseSha` is exactly the checked-out commit even if a fetch moves the ref meanwhile.
 */
export async function createWorktree(options: CreateWorktreeOptions): Promise<Worktree> {
  const { mirror, branch } = options;
  const worktreePath = path.resolve(options.path);
  await assertValidBranchName(mirror, branch);
  return options.lock.run(mirror.path, async () => {
    const baseSha = await resolveCommit(mirror, options.baseRef);
    if (baseSha === undefined) {
      throw new GitError({
        args: ['rev-parse', '--verify', `${options.baseRef}^{commit}`],
        message: `Base ref "${options.baseRef}" does not name a commit in the mirror of ${mirror.sourceRepo}; fetch the mirror and resolve the base ref again.`,
      });
    }
    // Forget worktrees whose directories are gone, so their branches and paths can be reused.
    await runMirrorGit(mirror, ['worktree', 'prune']);
    const canonical = await canonicalPath(worktreePath);
    const worktrees = await listWorktrees(mirror);
    if (worktrees.some((entry) => entry.path === canonical)) {
      await removeRegisteredWorktree(mirror, canonical);
    }
    const branchExists = (await resolveCommit(mirror, `refs/heads/${branch}`)) !== undefined;
    await mkdir(path.dirname(worktreePath), { recursive: true });
    await runMirrorGit(mirror, [
      'worktree',
      'add',
      branchExists ? '-B' : '-b',
      branch,
      worktreePath,
      baseSha,
    ]);
    return { path: worktreePath, branch, baseSha };
  });
}

/**
 * Removes a worktree and its directory, and optionally its branch in the mirror.
 *
 * Tolerant of work already done: a directory deleted by hand, a worktree git no longer knows, or a
 * branch that is gone are not errors. Runs under the mirror's lock.
 */
export async function removeWorktree(options: RemoveWorktreeOptions): Promise<void> {
  const { mirror, deleteBranch } = options;
  const worktreePath = await canonicalPath(options.path);
  await options.lock.run(mirror.path, async () => {
    await removeRegisteredWorktree(mirror, worktreePath);
    await rm(worktreePath, { recursive: true, force: true });
    await runMirrorGit(mirror, ['worktree', 'prune']);
    if (
      deleteBranch !== undefined &&
      (await resolveCommit(mirror, `refs/heads/${deleteBranch}`)) !== undefined
    ) {
      await runMirrorGit(mirror, ['branch', '-D', '--', deleteBranch]);
    }
  });
}

/** The mirror's linked worktrees, parsed from `git worktree list --porcelain` (the bare repository itself is left out). */
export async function listWorktrees(mirror: Mirror): Promise<WorktreeEntry[]> {
  const { stdout } = await runMirrorGit(mirror, ['worktree', 'list', '--porcelain']);
  const entries: WorktreeEntry[] = [];
  let isMain = true;
  for (const block of stdout.split(/\n\n+/)) {
    const lines = block.split('\n').filter((line) => line !== '');
    const worktreeLine = lines.find((line) => line.startsWith('worktree '));
    if (worktreeLine === undefined) continue;
    // why: git always lists the main working tree (here the bare repository) first.
    if (isMain) {
      isMain = false;
      continue;
    }
    const valueOf = (key: string) => lines.find((line) => line.startsWith(`${key} `))?.slice(key.length + 1);
    const has = (key: string) => lines.some((line) => line === key || line.startsWith(`${key} `));
    entries.push({
      path: worktreeLine.slice('worktree '.length),
      head: valueOf('HEAD'),
      branch: valueOf('branch')?.replace(/^refs\/heads\//, ''),
      isDetached: has('detached'),
      isLocked: has('locked'),
      isPrunable: has('prunable'),
    });
  }
  return entries;
}

/**
 * Removes worktrees under `root` that are not in `keep`, and stray directories directly under `root`
 * that no worktree accounts for (left by a crash mid-create). Returns the removed paths, sorted.
 *
 * Called when a runner starts. Directories that belong to another repository (their `.git` points
 * elsewhere, or is a directory) and directories containing the mirror are left alone, so `root` may be
 * shared by several mirrors as long as each worktree sits directly under it.
 */
export async function collectOrphanWorktrees(options: CollectOrphanWorktreesOptions): Promise<string[]> {
  const { mirror } = options;
  const root = await canonicalPath(options.root);
  const keep = new Set(await Promise.all([...options.keep].map((kept) => canonicalPath(kept))));
  const mirrorPath = await canonicalPath(mirror.path);

  return options.lock.run(mirror.path, async () => {
    await runMirrorGit(mirror, ['worktree', 'prune']);
    const removed: string[] = [];
    const live: string[] = [...keep];
    for (const entry of await listWorktrees(mirror)) {
      if (isSameOrInside(root, entry.path) && !keep.has(entry.path)) {
        await removeRegisteredWorktree(mirror, entry.path);
        await rm(entry.path, { recursive: true, force: true });
        removed.push(entry.path);
      } else {
        live.push(entry.path);
      }
    }

    for (const child of await listDirectories(root)) {
      if (removed.includes(child)) continue;
      if (live.some((livePath) => isSameOrInside(child, livePath))) continue;
      if (isSameOrInside(child, mirrorPath)) continue;
      if (await belongsToAnotherRepository(child, mirrorPath)) continue;
      await rm(child, { recursive: true, force: true });
      removed.push(child);
    }

    await runMirrorGit(mirror, ['worktree', 'prune']);
    return removed.sort();
  });
}

async function assertValidBranchName(mirror: Mirror, branch: string): Promise<void> {
  try {
    if (branch.startsWith('-')) throw new Error('starts with "-"');
    await runMirrorGit(mirror, ['check-ref-format', '--branch', branch]);
  } catch (error) {
    throw new GitError({
      args: ['check-ref-format', '--branch', branch],
      message: `"${branch}" is not a valid branch name; use letters, digits, "/", "-" and "_" (see git check-ref-format).`,
      cause: error,
    });
  }
}

/** `git worktree remove` when git knows the worktree; unknown or vanished worktrees are left to prune. */
async function removeRegisteredWorktree(mirror: Mirror, worktreePath: string): Promise<void> {
  try {
    // why: a second --force also removes locked worktrees; `git worktree add` locks its worktree
    // until it finishes, so one interrupted by a crash stays locked forever.
    await runMirrorGit(mirror, ['worktree', 'remove', '--force', '--force', worktreePath]);
  } catch (error) {
    // Not a worktree (any more), or its directory is already gone: the caller deletes and prunes.
    if (!(error instanceof GitError)) throw error;
  }
}

async function listDirectories(root: string): Promise<string[]> {
  try {
    const entries = await readdir(root, { withFileTypes: true });
    return entries.filter((entry) => entry.isDirectory()).map((entry) => path.join(root, entry.name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Whether `directory` is a repository or a worktree of a repository other than the mirror that still exists. */
async function belongsToAnotherRepository(directory: string, mirrorPath: string): Promise<boolean> {
  const dotGit = path.join(directory, '.git');
  let isFile: boolean;
  try {
    isFile = (await lstat(dotGit)).isFile();
  } catch {
    return false;
  }
  if (!isFile) return true;
  const gitdir = /^gitdir:\s*(.+)$/m.exec(await readFile(dotGit, 'utf8'))?.[1]?.trim();
  if (gitdir === undefined) return false;
  const target = await canonicalPath(path.resolve(directory, gitdir));
  if (isSameOrInside(mirrorPath, target)) return false;
  try {
    await lstat(target);
    return true;
  } catch {
    return false;
  }
}
