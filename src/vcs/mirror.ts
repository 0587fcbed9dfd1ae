import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { GitError, summarizeStderr } from './git-error.ts';
import { redactCredentials } from './redact-credentials.ts';
import type { KeyedLock } from './repo-lock.ts';
import { runGit } from './run-git.ts';
import { runMirrorGit } from './run-mirror-git.ts';

/** A bare clone of a source repository, kept in the runner's cache and shared by all its worktrees. */
export interface Mirror {
  /** Absolute path of the bare repository. Also the key for the per-repository lock. */
  path: string;
  /** The source as git is given it: an absolute local path or a URL (which may carry credentials). */
  sourceRepo: string;
}

/** Where to keep the mirror of which source. */
export interface EnsureMirrorOptions {
  /** Local path (relative paths are resolved against the current directory) or URL of the source. */
  sourceRepo: string;
  /** Directory holding one bare clone per source repository; created when missing. */
  cacheDir: string;
  /** Serializes writes per mirror; share one lock across everything that touches the same mirrors. */
  lock: KeyedLock;
  /** Time limit for the first clone; defaults to {@link cloneTimeoutMs}. */
  timeoutMs?: number;
}

/** Options for {@link fetchMirror}. */
export interface FetchMirrorOptions {
  lock: KeyedLock;
  /** Time limit for the fetch; defaults to {@link fetchTimeoutMs}. */
  timeoutMs?: number;
}

/** The commit a task starts from. */
export interface BaseRef {
  /** Branch name in the source repository, e.g. `main`. */
  branch: string;
  /** Remote-tracking ref in the mirror, e.g. `refs/remotes/origin/main`. */
  ref: string;
  /** Commit the ref points at now. */
  sha: string;
}

// why: a first clone copies the whole history; 10 minutes fits large repositories on ordinary links.
/** Default time limit for the first clone of a source repository. */
export const cloneTimeoutMs = 10 * 60_000;

// why: an incremental fetch is small, but the first one after a long pause can carry many packs.
/** Default time limit for fetching into an existing mirror (and asking the source for its HEAD). */
export const fetchTimeoutMs = 5 * 60_000;

// why: remote-tracking refs instead of --mirror's `+refs/*:refs/*`, which together with --prune would
// delete the warren/* branches that live only in the mirror.
const fetchRefspec = '+refs/heads/*:refs/remotes/origin/*';

// why: branches tried, in order, when the source does not advertise its HEAD.
const fallbackDefaultBranches = ['main', 'master'];

/**
 * Makes sure a bare clone of `sourceRepo` exists under `cacheDir` and returns it.
 *
 * The directory name is the source's sanitized basename plus a short sha256 of the source with
 * credentials removed, so a rotated token keeps the same mirror (its `origin` URL is updated). A clone
 * is made in a temporary directory and renamed into place, so a crash never leaves half a mirror.
 * Throws {@link GitError} with a message saying what to check when the source cannot be cloned.
 * Call {@link fetchMirror} before each task; this function does not fetch an existing mirror.
 */
export async function ensureMirror(options: EnsureMirrorOptions): Promise<Mirror> {
  const sourceRepo = normalizeSourceRepo(options.sourceRepo);
  const cacheDir = path.resolve(options.cacheDir);
  const mirror: Mirror = { path: path.join(cacheDir, mirrorDirectoryName(sourceRepo)), sourceRepo };

  await options.lock.run(mirror.path, async () => {
    if (await isUsableMirror(mirror)) {
      await updateOriginUrl(mirror);
      return;
    }
    await mkdir(cacheDir, { recursive: true });
    // A damaged leftover (not a bare repository) is in the way of the clone.
    await rm(mirror.path, { recursive: true, force: true });
    const stagingPath = `${mirror.path}.partial-${randomUUID().slice(0, 8)}`;
    try {
      await cloneBare(sourceRepo, stagingPath, cacheDir, options.timeoutMs ?? cloneTimeoutMs);
      await runMirrorGit({ path: stagingPath, sourceRepo }, ['config', 'remote.origin.fetch', fetchRefspec]);
      await moveIntoPlace(stagingPath, mirror);
    } finally {
      await rm(stagingPath, { recursive: true, force: true });
    }
  });
  return mirror;
}

/**
 * Fetches the source's branches into the mirror's `refs/remotes/origin/*`, pruning deleted ones.
 *
 * Runs under the mirror's lock. Call it before every task so the base commit is current.
 */
export async function fetchMirror(mirror: Mirror, options: FetchMirrorOptions): Promise<void> {
  await options.lock.run(mirror.path, async () => {
    try {
      await runMirrorGit(mirror, ['fetch', '--prune', 'origin'], {
        timeoutMs: options.timeoutMs ?? fetchTimeoutMs,
      });
    } catch (error) {
      if (!(error instanceof GitError)) throw error;
      throw rephrase(
        error,
        `Could not fetch from source repository ${mirror.sourceRepo}: ${summarizeStderr(error.stderr) || error.message}. ` +
          'Check that it still exists and that this machine can read it.',
      );
    }
  });
}

/**
 * Resolves the branch a task starts from to its remote-tracking ref and current commit in the mirror.
 *
 * Without `baseBranch` the source's default branch is asked for (`git ls-remote --symref origin HEAD`);
 * if the source does not say, `main` and then `master` are tried. Reads the refs as of the last
 * {@link fetchMirror}. Throws {@link GitError} naming the available branches when the branch is missing.
 */
export async function resolveBaseRef(mirror: Mirror, baseBranch?: string): Promise<BaseRef> {
  const branch =
    baseBranch === undefined ? await detectDefaultBranch(mirror) : baseBranch.replace(/^refs\/heads\//, '');
  const ref = `refs/remotes/origin/${branch}`;
  const sha = await resolveCommit(mirror, ref);
  if (sha === undefined) {
    const branches = await listSourceBranches(mirror);
    throw new GitError({
      args: ['rev-parse', '--verify', `${ref}^{commit}`],
      message:
        `Base branch "${branch}" does not exist in ${mirror.sourceRepo} ` +
        `(branches: ${branches.length > 0 ? branches.join(', ') : 'none'}). ` +
        'Choose an existing base branch, or push the branch to the source repository and fetch the mirror again.',
    });
  }
  return { branch, ref, sha };
}

/** The commit `revision` points at in the mirror, or undefined when it does not exist. */
export async function resolveCommit(mirror: Mirror, revision: string): Promise<string | undefined> {
  try {
    const { stdout } = await runMirrorGit(mirror, [
      'rev-parse',
      '--verify',
      '--quiet',
      `${revision}^{commit}`,
    ]);
    return stdout.trim() || undefined;
  } catch (error) {
    if (error instanceof GitError && error.exitCode === 1) return undefined;
    throw error;
  }
}

function normalizeSourceRepo(sourceRepo: string): string {
  const trimmed = sourceRepo.trim();
  if (trimmed === '') throw new Error('sourceRepo is empty; pass a local path or a URL of a git repository.');
  return isUrl(trimmed) ? trimmed : path.resolve(trimmed);
}

/** URLs (`https://`, `ssh://`, `file://`) and scp-like `user@host:path`; everything else is a local path. */
function isUrl(source: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) return true;
  // why: git's own rule: a colon before the first slash makes `host:path` remote; `C:\` is a drive.
  const colon = source.indexOf(':');
  const slash = source.indexOf('/');
  return colon > 1 && (slash === -1 || colon < slash);
}

function mirrorDirectoryName(sourceRepo: string): string {
  const identity = isUrl(sourceRepo)
    ? redactCredentials(sourceRepo)
        .replace(/:\/\/\*\*\*@/, '://')
        .replace(/\/+$/, '')
        .replace(/\.git$/, '')
    : sourceRepo;
  const basename =
    identity
      .replace(/[/\\]+$/, '')
      .split(/[/\\:]/)
      .at(-1)
      ?.replace(/\.git$/, '') ?? '';
  // why: 40 characters keeps paths short on filesystems with small path limits; the hash keeps it unique.
  const readable =
    basename
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[.-]+/, '')
      .slice(0, 40) || 'repo';
  // why: 12 hex characters (48 bits) make a collision between one runner's sources negligible.
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 12);
  return `${readable}-${hash}.git`;
}

async function isUsableMirror(mirror: Mirror): Promise<boolean> {
  if (!existsSync(mirror.path)) return false;
  try {
    const { stdout } = await runMirrorGit(mirror, ['rev-parse', '--is-bare-repository']);
    return stdout.trim() === 'true';
  } catch (error) {
    if (error instanceof GitError) return false;
    throw error;
  }
}

async function updateOriginUrl(mirror: Mirror): Promise<void> {
  const { stdout } = await runMirrorGit(mirror, ['config', '--get', 'remote.origin.url']);
  if (stdout.trim() !== mirror.sourceRepo) {
    await runMirrorGit(mirror, ['remote', 'set-url', 'origin', mirror.sourceRepo]);
  }
}

async function cloneBare(sourceRepo: string, target: string, cwd: string, timeoutMs: number): Promise<void> {
  try {
    await runGit(['clone', '--bare', '--quiet', '--', sourceRepo, target], { cwd, timeoutMs });
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    const reason = isUrl(sourceRepo)
      ? summarizeStderr(error.stderr) || error.message
      : existsSync(sourceRepo)
        ? `${sourceRepo} is not a git repository (${summarizeStderr(error.stderr) || error.message})`
        : `${sourceRepo} does not exist`;
    throw rephrase(
      error,
      `Could not clone source repository ${sourceRepo}: ${reason}. ` +
        'Check that the path or URL points to an existing git repository and that this machine can read it.',
    );
  }
}

async function moveIntoPlace(stagingPath: string, mirror: Mirror): Promise<void> {
  try {
    await rename(stagingPath, mirror.path);
  } catch (error) {
    // Another process sharing the cache finished its clone first; use that one.
    if (await isUsableMirror(mirror)) return;
    throw error;
  }
}

async function detectDefaultBranch(mirror: Mirror): Promise<string> {
  const { stdout } = await runMirrorGit(mirror, ['ls-remote', '--symref', 'origin', 'HEAD'], {
    timeoutMs: fetchTimeoutMs,
  });
  const advertised = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(stdout)?.[1];
  if (advertised !== undefined) return advertised;
  for (const candidate of fallbackDefaultBranches) {
    if ((await resolveCommit(mirror, `refs/remotes/origin/${candidate}`)) !== undefined) return candidate;
  }
  const branches = await listSourceBranches(mirror);
  throw new GitError({
    args: ['ls-remote', '--symref', 'origin', 'HEAD'],
    stdout,
    message:
      `Could not tell the default branch of ${mirror.sourceRepo}: it does not advertise HEAD and has no ` +
      `${fallbackDefaultBranches.join(' or ')} branch (branches: ${branches.length > 0 ? branches.join(', ') : 'none'}). ` +
      'Pass the base branch explicitly.',
  });
}

async function listSourceBranches(mirror: Mirror): Promise<string[]> {
  const { stdout } = await runMirrorGit(mirror, [
    'for-each-ref',
    '--format=%(refname:lstrip=3)',
    'refs/remotes/origin/',
  ]);
  // why: a message listing hundreds of branches helps nobody; 20 show what the names look like.
  const branches = stdout.split('\n').filter((name) => name !== '' && name !== 'HEAD');
  return branches.length > 20 ? [...branches.slice(0, 20), `... ${branches.length - 20} more`] : branches;
}

function rephrase(error: GitError, message: string): GitError {
  return new GitError({
    message,
    args: error.args,
    exitCode: error.exitCode,
    stderr: error.stderr,
    stdout: error.stdout,
    timedOut: error.timedOut,
    aborted: error.aborted,
    cause: error,
  });
}
