/**
 * Git for Warren runners: a bare mirror per source repository, a worktree per attempt, commits, pushes
 * and secret scanning. Uses the git command line only; imports nothing outside src/core.
 */
export { changedFiles, commitAll, pushBranch } from './commit.ts';
export type {
  ChangedFile,
  ChangedFilesOptions,
  CommitAllOptions,
  CommitResult,
  FileChange,
  PushBranchOptions,
  PushResult,
} from './commit.ts';
export { GitError } from './git-error.ts';
export type { GitErrorOptions } from './git-error.ts';
export { cloneTimeoutMs, ensureMirror, fetchMirror, fetchTimeoutMs, resolveBaseRef } from './mirror.ts';
export type { BaseRef, EnsureMirrorOptions, FetchMirrorOptions, Mirror } from './mirror.ts';
export { redactCredentials } from './redact-credentials.ts';
export { createKeyedLock } from './repo-lock.ts';
export type { KeyedLock } from './repo-lock.ts';
export { runGit } from './run-git.ts';
export type { RunGitOptions, RunGitResult } from './run-git.ts';
export { scanForSecrets } from './secret-scan.ts';
export type { ScanForSecretsOptions, SecretFinding, SecretRule } from './secret-scan.ts';
export { collectOrphanWorktrees, createWorktree, listWorktrees, removeWorktree } from './worktree.ts';
export type {
  CollectOrphanWorktreesOptions,
  CreateWorktreeOptions,
  RemoveWorktreeOptions,
  Worktree,
  WorktreeEntry,
} from './worktree.ts';
export { restoreWorktree, snapshotWorktree } from './worktree-snapshot.ts';
