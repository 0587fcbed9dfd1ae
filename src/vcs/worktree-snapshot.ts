/**
 * Snapshots of a worktree's files as git tree objects, so the runner can undo an agent's fix round that
 * broke criteria which had passed.
 */
import { runGit } from './run-git.ts';

/**
 * Records every file of the worktree (tracked, changed and new, honouring .gitignore) as a tree object and
 * returns its id. Stages the files as a side effect: harmless, since the runner commits everything anyway.
 */
export async function snapshotWorktree(worktreePath: string, abortSignal?: AbortSignal): Promise<string> {
  await runGit(['add', '--all'], { cwd: worktreePath, abortSignal });
  const { stdout } = await runGit(['write-tree'], { cwd: worktreePath, abortSignal });
  return stdout.trim();
}

/**
 * Puts the worktree's files back as they were in `treeId`: changed files are restored, files added since
 * are removed. Ignored files (build output) are left alone.
 */
export async function restoreWorktree(
  worktreePath: string,
  treeId: string,
  abortSignal?: AbortSignal,
): Promise<void> {
  // why: staging first puts files created since the last snapshot in the index, so `read-tree -u` knows
  // them and removes them; unstaged new files would otherwise survive the restore.
  await runGit(['add', '--all'], { cwd: worktreePath, abortSignal });
  await runGit(['read-tree', '-u', '--reset', treeId], { cwd: worktreePath, abortSignal });
}
