/**
 * What `run_shell` uses to tell which files a command changed: `git status` before and after, plus a
 * stat signature of every dirty path, so that a second edit to an already modified file is seen too.
 */
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { AgentFileChange, AgentToolContext } from '../agent-tool.ts';
import { runGitCommand } from './run-git-command.ts';

/** The dirty paths of a worktree at one moment. */
export interface WorktreeSnapshot {
  /** Prefix of the worktree inside its repository (`git rev-parse --show-prefix`), usually empty. */
  prefix: string;
  /** Path relative to the worktree -> its porcelain status (`''` when clean) and stat signature. */
  entries: Map<string, SnapshotEntry>;
}

interface SnapshotEntry {
  /** The two-letter porcelain status (`??`, ` M`, `A `, ...), or `''` for a clean path. */
  status: string;
  /** Size, mode and times from lstat; undefined when the path does not exist. */
  signature: string | undefined;
}

// why: `git status` of a tree with an unignored build directory can list tens of thousands of paths;
// past this many the snapshot is skipped rather than statting them all twice per command.
const maxSnapshotPaths = 20_000;
// why: room for maxSnapshotPaths NUL-separated entries with long paths.
const maxStatusBytes = 16 * 1024 * 1024;

/**
 * The dirty paths of the worktree, or undefined when that cannot be known (not a git repository, git
 * missing, too many paths). `previous` is the snapshot taken before: its paths are statted again even if
 * they are clean now (committed, reverted or deleted by the command).
 */
export async function snapshotWorktree(
  context: AgentToolContext,
  previous?: WorktreeSnapshot,
): Promise<WorktreeSnapshot | undefined> {
  let prefix = previous?.prefix;
  if (prefix === undefined) {
    const prefixResult = await runGitCommand(['rev-parse', '--show-prefix'], context, {
      maxOutputBytes: 64 * 1024,
      discardStderr: true,
    });
    if (prefixResult.exitCode !== 0) return undefined;
    prefix = prefixResult.output.trim();
  }
  const status = await runGitCommand(
    ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames', '--ignore-submodules=dirty'],
    context,
    { maxOutputBytes: maxStatusBytes, discardStderr: true },
  );
  // A cut status (the tail buffer drops its head) cannot be parsed; `[` is never a porcelain status letter.
  if (status.exitCode !== 0 || status.output.startsWith('[')) return undefined;

  const statuses = new Map<string, string>();
  for (const record of status.output.split('\0')) {
    if (record.length < 4) continue;
    const repositoryPath = record.slice(3);
    if (!repositoryPath.startsWith(prefix)) continue;
    statuses.set(repositoryPath.slice(prefix.length).replace(/\/$/, ''), record.slice(0, 2));
  }
  for (const earlier of previous?.entries.keys() ?? []) {
    if (!statuses.has(earlier)) statuses.set(earlier, '');
  }
  if (statuses.size > maxSnapshotPaths) return undefined;

  const entries = new Map<string, SnapshotEntry>();
  await Promise.all(
    [...statuses].map(async ([relativePath, entryStatus]) => {
      const signature = await lstat(path.join(context.worktreePath, relativePath)).then(
        (stats) => `${stats.mode}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`,
        () => undefined,
      );
      entries.set(relativePath, { status: entryStatus, signature });
    }),
  );
  return { prefix, entries };
}

/** The files that changed between two snapshots of the same worktree, sorted by path. */
export function changesBetween(before: WorktreeSnapshot, after: WorktreeSnapshot): AgentFileChange[] {
  const changes: AgentFileChange[] = [];
  for (const [relativePath, now] of after.entries) {
    const earlier = before.entries.get(relativePath);
    let existedBefore: boolean;
    if (earlier === undefined) {
      // Clean before, dirty now: it was a tracked file, unless it is new (untracked or added).
      if (now.status === '') continue;
      existedBefore = !(now.status === '??' || now.status.startsWith('A'));
    } else {
      // Same content signature: at most its status changed (staged, committed), not the file.
      if (earlier.signature === now.signature) continue;
      existedBefore = earlier.signature !== undefined;
    }
    const existsNow = now.signature !== undefined;
    if (existedBefore && existsNow) changes.push({ path: relativePath, change: 'modified' });
    else if (existsNow) changes.push({ path: relativePath, change: 'added' });
    else if (existedBefore) changes.push({ path: relativePath, change: 'deleted' });
  }
  return changes.sort((left, right) => (left.path < right.path ? -1 : left.path > right.path ? 1 : 0));
}
