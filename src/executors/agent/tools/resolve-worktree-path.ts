/**
 * Confines a path an agent asked for to the worktree: lexically (absolute paths, `..`) and through
 * symbolic links, and keeps it out of `.git`.
 */
import { lstat, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';

/** A path inside the worktree, or why it was refused. */
export type ResolvedWorktreePath =
  | {
      ok: true;
      /** Absolute real path (symbolic links resolved); safe to open, create or list. */
      absolutePath: string;
      /** The same path relative to the worktree root, `/`-separated; `.` for the root itself. */
      relativePath: string;
      /** Real path of the worktree root. */
      worktreeRoot: string;
    }
  | {
      ok: false;
      /** Names the requested path and the reason, in words a model can act on. */
      error: string;
    };

// why: the kernel's own limit on symbolic links followed in one lookup (Linux MAXSYMLINKS is 40).
const maxSymbolicLinkDepth = 40;

/**
 * Resolves `requested` (relative to the worktree, or absolute) to a path inside `worktreePath`.
 *
 * Refused: paths outside the worktree, `..` escapes, paths whose nearest existing ancestor (or a
 * dangling symbolic link on the way) resolves outside the worktree, and anything inside a `.git`
 * directory or file (git internals are off limits; in a linked worktree `.git` is a file). The path
 * need not exist. Checked once: a process racing the caller to swap in a symbolic link is not stopped.
 */
export async function resolveWorktreePath(
  worktreePath: string,
  requested: string,
): Promise<ResolvedWorktreePath> {
  const shown = JSON.stringify(requested);
  if (requested.includes('\0')) return { ok: false, error: `path ${shown} contains a NUL character` };
  const worktreeRoot = await realpath(worktreePath);
  const lexical = path.resolve(worktreeRoot, requested === '' ? '.' : requested);
  const lexicalRelative = path.relative(worktreeRoot, lexical);
  if (isOutside(lexicalRelative)) {
    return {
      ok: false,
      error: `path ${shown} is outside the worktree; use a path relative to the worktree root`,
    };
  }
  if (isInsideGit(lexicalRelative)) return { ok: false, error: insideGitError(shown) };

  const real = await realpathAllowingMissing(lexical, 0);
  if (!real.ok) return { ok: false, error: `path ${shown}: ${real.error}` };
  const realRelative = path.relative(worktreeRoot, real.path);
  if (isOutside(realRelative)) {
    return {
      ok: false,
      error: `path ${shown} leads through a symbolic link to ${real.path}, which is outside the worktree`,
    };
  }
  if (isInsideGit(realRelative)) return { ok: false, error: insideGitError(shown) };
  return { ok: true, absolutePath: real.path, relativePath: toPortable(realRelative), worktreeRoot };
}

/** `relative` (from `path.relative`) made `/`-separated, with `.` for the root. */
export function toPortable(relative: string): string {
  if (relative === '') return '.';
  return path.sep === '/' ? relative : relative.split(path.sep).join('/');
}

function isOutside(relative: string): boolean {
  return relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative);
}

function isInsideGit(relative: string): boolean {
  // why: compared case-insensitively because on case-insensitive file systems (macOS) `.GIT` is `.git`.
  return relative.split(path.sep).some((segment) => segment.toLowerCase() === '.git');
}

function insideGitError(shown: string): string {
  return `path ${shown} is inside .git; git internals are off limits (use git_status, git_diff or run_shell with git)`;
}

/**
 * The real path of `target`, which may not exist yet: the real path of its nearest existing ancestor
 * joined with the missing rest. A dangling symbolic link is followed to where it points, so that
 * creating a file through it cannot land outside the worktree.
 */
async function realpathAllowingMissing(
  target: string,
  depth: number,
): Promise<{ ok: true; path: string } | { ok: false; error: string }> {
  if (depth > maxSymbolicLinkDepth) return { ok: false, error: 'too many levels of symbolic links' };
  try {
    return { ok: true, path: await realpath(target) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return { ok: false, error: 'too many levels of symbolic links' };
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
  }
  const link = await lstat(target).catch(() => undefined);
  if (link?.isSymbolicLink()) {
    const pointsTo = path.resolve(path.dirname(target), await readlink(target));
    return realpathAllowingMissing(pointsTo, depth + 1);
  }
  const parent = path.dirname(target);
  if (parent === target) return { ok: true, path: target };
  const realParent = await realpathAllowingMissing(parent, depth);
  if (!realParent.ok) return realParent;
  return { ok: true, path: path.join(realParent.path, path.basename(target)) };
}
