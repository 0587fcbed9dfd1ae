import { GitError } from './git-error.ts';
import { runGit } from './run-git.ts';

/** What to commit where. */
export interface CommitAllOptions {
  worktreePath: string;
  message: string;
  /** Commit author; the committer stays the runner's identity. Defaults to the runner's identity. */
  author?: { name: string; email: string };
}

/** A commit made by {@link commitAll}. */
export interface CommitResult {
  sha: string;
  /** Paths the commit touched, relative to the worktree root, sorted. A rename lists both paths. */
  changedFiles: string[];
}

/** Where to push a worktree's HEAD. */
export interface PushBranchOptions {
  worktreePath: string;
  /** Source repository as a local path or URL (may carry credentials; they are redacted in errors). */
  remote: string;
  /** Branch to create or update in the remote, without `refs/heads/`. */
  branch: string;
  /** Overwrite the remote branch even when that discards commits (a retried attempt). */
  force?: boolean;
}

/**
 * How a push ended. A rejection (the remote branch moved on, or is checked out in a non-bare source
 * repository) is an expected outcome, not an exception.
 */
export type PushResult =
  /** The remote branch now points at `sha`. */
  | { status: 'pushed'; sha: string }
  /** The remote refused the update; `reason` is git's explanation, e.g. `non-fast-forward`. */
  | { status: 'rejected'; reason: string };

/** How a file differs from the base commit. */
export type FileChange =
  /** New in the worktree (committed, staged or untracked). */
  | 'added'
  /** Content or mode changed. */
  | 'modified'
  /** Gone from the worktree. */
  | 'deleted';

/** One file that differs from the base commit. */
export interface ChangedFile {
  /** Path relative to the worktree root. */
  path: string;
  change: FileChange;
}

/** Which worktree to compare with which commit. */
export interface ChangedFilesOptions {
  worktreePath: string;
  baseSha: string;
}

// why: Warren verifies work in its own step; hooks and signing set up in the host's global git config
// would make unattended commits fail or block on a passphrase prompt.
const unattendedCommitArgs = ['-c', 'commit.gpgsign=false', '-c', 'core.hooksPath=/dev/null'];

/**
 * Stages everything in the worktree (`git add -A`, honouring .gitignore) and commits it.
 *
 * Returns undefined when there is nothing to commit. Hooks and commit signing are disabled.
 */
export async function commitAll(options: CommitAllOptions): Promise<CommitResult | undefined> {
  const cwd = options.worktreePath;
  await runGit(['add', '-A'], { cwd });
  const { stdout } = await runGit(['diff', '--cached', '--name-only', '--no-renames', '-z'], { cwd });
  const staged = splitNul(stdout).sort();
  if (staged.length === 0) return undefined;

  const env = options.author
    ? { GIT_AUTHOR_NAME: options.author.name, GIT_AUTHOR_EMAIL: options.author.email }
    : undefined;
  await runGit([...unattendedCommitArgs, 'commit', '--no-verify', '--quiet', '--file=-'], {
    cwd,
    input: options.message,
    ...(env ? { env } : {}),
  });
  const head = await runGit(['rev-parse', 'HEAD'], { cwd });
  return { sha: head.stdout.trim(), changedFiles: staged };
}

/**
 * Pushes the worktree's HEAD to `refs/heads/<branch>` in `remote` (`git push <remote> HEAD:refs/heads/<branch>`).
 *
 * A local non-bare source repository accepts the push as long as `branch` is not checked out there.
 * Returns `{ status: 'rejected' }` when the remote refuses the update; throws {@link GitError} when the
 * remote cannot be reached or read.
 */
export async function pushBranch(options: PushBranchOptions): Promise<PushResult> {
  const cwd = options.worktreePath;
  const sha = (await runGit(['rev-parse', 'HEAD'], { cwd })).stdout.trim();
  const args = [
    'push',
    '--porcelain',
    '--no-verify',
    ...(options.force ? ['--force'] : []),
    '--',
    options.remote,
    `HEAD:refs/heads/${options.branch}`,
  ];
  try {
    await runGit(args, { cwd });
    return { status: 'pushed', sha };
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    const reason = rejectionReason(error.stdout);
    if (reason === undefined) throw error;
    return { status: 'rejected', reason };
  }
}

/**
 * Files in the worktree that differ from `baseSha`: committed, staged and unstaged changes
 * (`git diff --name-status <baseSha>`) plus untracked files that are not ignored. Sorted by path.
 * Renames are reported as a deletion and an addition.
 */
export async function changedFiles(options: ChangedFilesOptions): Promise<ChangedFile[]> {
  const cwd = options.worktreePath;
  const diff = await runGit(['diff', '--name-status', '--no-renames', '-z', options.baseSha, '--'], { cwd });
  const untracked = await runGit(['ls-files', '--others', '--exclude-standard', '-z'], { cwd });

  const files: ChangedFile[] = [];
  const fields = splitNul(diff.stdout);
  for (let index = 0; index + 1 < fields.length; index += 2) {
    const status = fields[index] ?? '';
    const filePath = fields[index + 1] ?? '';
    files.push({ path: filePath, change: toFileChange(status) });
  }
  for (const filePath of splitNul(untracked.stdout)) files.push({ path: filePath, change: 'added' });
  return files.sort((left, right) => (left.path < right.path ? -1 : left.path > right.path ? 1 : 0));
}

function toFileChange(status: string): FileChange {
  if (status.startsWith('A')) return 'added';
  if (status.startsWith('D')) return 'deleted';
  return 'modified';
}

/** Git's reason from the first rejected ref in `git push --porcelain` output (`!\t<from>:<to>\t[rejected] (reason)`). */
function rejectionReason(porcelain: string): string | undefined {
  const line = porcelain.split('\n').find((candidate) => candidate.startsWith('!'));
  if (line === undefined) return undefined;
  const summary = line.split('\t')[2] ?? line;
  return /\(([^)]*)\)/.exec(summary)?.[1] ?? summary;
}

function splitNul(output: string): string[] {
  return output.split('\0').filter((field) => field !== '');
}
