/**
 * The files a CLI agent changed, found with git rather than from the CLI's own reports (which differ per
 * CLI and miss changes made by shell commands): the worktree is recorded as a tree object before and
 * after the run, through a private copy of the index so the worktree's own index is untouched.
 */
import { execFile } from 'node:child_process';
import { copyFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A changed file, as the `file-change` event carries it. */
export interface WorktreeChange {
  path: string;
  change: 'added' | 'modified' | 'deleted';
}

/** Records the worktree's files (tracked, changed and new, honouring .gitignore) as a tree; returns its id. */
export async function snapshotWorktreeTree(worktreePath: string, scratchDir: string): Promise<string> {
  const env = gitEnvironment(path.join(scratchDir, `warren-snapshot-index-${process.pid}-${Date.now()}`));
  try {
    const { stdout: indexPath } = await run(
      'git',
      ['rev-parse', '--path-format=absolute', '--git-path', 'index'],
      {
        cwd: worktreePath,
        env: gitEnvironment(undefined),
      },
    );
    // why: a copy of the real index keeps its stat cache, so `add --all` hashes only changed files.
    await copyFile(indexPath.trim(), env.GIT_INDEX_FILE!).catch(() => undefined);
    await run('git', ['add', '--all'], { cwd: worktreePath, env });
    const { stdout } = await run('git', ['write-tree'], { cwd: worktreePath, env });
    return stdout.trim();
  } finally {
    await rm(env.GIT_INDEX_FILE!, { force: true });
  }
}

/** The files that differ between two snapshots. */
export async function diffWorktreeTrees(
  worktreePath: string,
  before: string,
  after: string,
): Promise<WorktreeChange[]> {
  if (before === after) return [];
  const { stdout } = await run(
    'git',
    ['diff-tree', '-r', '--no-renames', '--name-status', '-z', before, after],
    {
      cwd: worktreePath,
      env: gitEnvironment(undefined),
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  const fields = stdout.split('\0');
  const changes: WorktreeChange[] = [];
  for (let index = 0; index + 1 < fields.length; index += 2) {
    const status = fields[index]!;
    const file = fields[index + 1]!;
    changes.push({ path: file, change: status === 'A' ? 'added' : status === 'D' ? 'deleted' : 'modified' });
  }
  return changes;
}

/** A minimal environment for git: the runner's PATH and nothing that could point git elsewhere. */
function gitEnvironment(indexFile: string | undefined): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    GIT_CONFIG_NOSYSTEM: '1',
    ...(indexFile ? { GIT_INDEX_FILE: indexFile } : {}),
  };
}
