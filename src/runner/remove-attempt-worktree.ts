import { access, rm } from 'node:fs/promises';
import type { Logger } from '../core/logger.ts';
import { removeWorktree, type KeyedLock } from '../vcs/index.ts';

/** A worktree the runner made, as recorded in its state file. */
export interface RecordedWorktree {
  worktreePath: string;
  /** Undefined when the attempt stopped before its mirror was ready. */
  mirrorPath?: string;
  sourceRepo: string;
  /** The attempt's branch in the mirror; deleted with the worktree. */
  branch?: string;
}

/**
 * Removes an attempt's worktree, its directory and its branch in the mirror. Never throws: a failure is
 * logged and the directory is deleted anyway, so a damaged worktree cannot wedge the runner.
 */
export async function removeAttemptWorktree(
  worktree: RecordedWorktree,
  lock: KeyedLock,
  logger: Logger,
): Promise<void> {
  try {
    if (worktree.mirrorPath !== undefined && (await exists(worktree.mirrorPath))) {
      await removeWorktree({
        mirror: { path: worktree.mirrorPath, sourceRepo: worktree.sourceRepo },
        lock,
        path: worktree.worktreePath,
        deleteBranch: worktree.branch,
      });
      return;
    }
  } catch (error) {
    logger.warn({ err: error, worktreePath: worktree.worktreePath }, 'removing a worktree with git failed');
  }
  await rm(worktree.worktreePath, { recursive: true, force: true }).catch((error: unknown) =>
    logger.warn({ err: error, worktreePath: worktree.worktreePath }, 'deleting a worktree directory failed'),
  );
}

async function exists(target: string): Promise<boolean> {
  try {
    await access(target);
    return true;
  } catch {
    return false;
  }
}
