/**
 * Agent definitions from a Git repository: a bare clone under the hub's data dir (the runner's mirror
 * helpers from src/vcs), fetched on every refresh; the tree read is one commit, read straight from the
 * clone's objects (`git ls-tree`, `git cat-file`), so no checkout can ever be seen half updated.
 */
import { GitError } from '../../vcs/git-error.ts';
import { ensureMirror, fetchMirror, resolveCommit, type Mirror } from '../../vcs/mirror.ts';
import { redactCredentials } from '../../vcs/redact-credentials.ts';
import { createKeyedLock, type KeyedLock } from '../../vcs/repo-lock.ts';
import { runMirrorGit } from '../../vcs/run-mirror-git.ts';
import type { AgentSource, AgentSourceEntry, AgentSourceTree } from './agent-source.ts';

/** Options of {@link createGitAgentSource}. */
export interface GitAgentSourceOptions {
  /** A URL git understands or a local path (relative paths are resolved against the current directory). */
  url: string;
  /** A branch (followed as it moves), a tag, or a commit sha. */
  ref: string;
  /** The folder holding `agents/` and `skills/`; default the repository's root. */
  path?: string;
  /** Where the bare clone is kept; created when missing. */
  cacheDir: string;
  /** Time limit of one fetch; default {@link agentSourceFetchTimeoutMs}. */
  fetchTimeoutMs?: number;
  /** Time limit of the first clone; default {@link agentSourceCloneTimeoutMs}. */
  cloneTimeoutMs?: number;
}

// why: a definitions repository is small; a minute covers a slow link, and a dead one fails a refresh
// within a minute instead of the runner mirrors' five (the registry keeps serving the last good set).
/** Default time limit of one fetch of a definitions repository. */
export const agentSourceFetchTimeoutMs = 60_000;
// why: the first clone of a small repository; two minutes is generous on any link.
/** Default time limit of the first clone of a definitions repository. */
export const agentSourceCloneTimeoutMs = 120_000;
// why: an error naming a missing ref shows what exists; 20 branch names show the pattern.
const maxBranchesNamed = 20;

/** A source reading one ref of a Git repository. */
export function createGitAgentSource(options: GitAgentSourceOptions): AgentSource {
  const lock = createKeyedLock();
  const folder = options.path?.replace(/^\.\/+/, '').replace(/\/+$/, '') || undefined;
  const url = redactCredentials(options.url);
  const label = `${url}@${options.ref}${folder === undefined ? '' : `:${folder}`}`;
  const fetchTimeoutMs = options.fetchTimeoutMs ?? agentSourceFetchTimeoutMs;
  return {
    info: { kind: 'git', url, ref: options.ref, ...(folder === undefined ? {} : { path: folder }) },
    label,
    async open() {
      const mirror = await ensureMirror({
        sourceRepo: options.url,
        cacheDir: options.cacheDir,
        lock,
        timeoutMs: options.cloneTimeoutMs ?? agentSourceCloneTimeoutMs,
      });
      await fetchMirror(mirror, { lock, timeoutMs: fetchTimeoutMs });
      const revision = await resolveRef(mirror, options.ref, { lock, timeoutMs: fetchTimeoutMs });
      if (folder !== undefined) {
        const kind = await objectKind(mirror, `${revision}:${folder}`);
        if (kind !== 'tree') {
          throw new GitError({
            args: ['cat-file', '-t', `${revision}:${folder}`],
            message: `folder "${folder}" does not exist in ${url} at ${options.ref} (commit ${revision.slice(0, 12)}); check the path of the agents setting`,
          });
        }
      }
      return createGitTree(mirror, revision, folder);
    },
  };
}

/**
 * The commit `ref` names: a branch (as fetched just now), else a tag (tags are fetched for it, so a moved
 * tag is followed), else a commit sha. Throws GitError naming the branches when it is none of these.
 */
async function resolveRef(
  mirror: Mirror,
  ref: string,
  options: { lock: KeyedLock; timeoutMs: number },
): Promise<string> {
  const branch = ref.replace(/^refs\/heads\//, '');
  const branchCommit = await resolveCommit(mirror, `refs/remotes/origin/${branch}`);
  if (branchCommit !== undefined) return branchCommit;
  await options.lock.run(mirror.path, () =>
    runMirrorGit(mirror, ['fetch', '--quiet', '--force', 'origin', '+refs/tags/*:refs/tags/*'], {
      timeoutMs: options.timeoutMs,
    }),
  );
  const tagCommit = await resolveCommit(mirror, `refs/tags/${ref.replace(/^refs\/tags\//, '')}`);
  if (tagCommit !== undefined) return tagCommit;
  if (/^[0-9a-f]{7,40}$/i.test(ref)) {
    const commit = await resolveCommit(mirror, ref);
    if (commit !== undefined) return commit;
  }
  const { stdout } = await runMirrorGit(mirror, [
    'for-each-ref',
    '--format=%(refname:lstrip=3)',
    'refs/remotes/origin/',
  ]);
  const branches = stdout.split('\n').filter((name) => name !== '' && name !== 'HEAD');
  const named =
    branches.length > maxBranchesNamed
      ? [...branches.slice(0, maxBranchesNamed), `... ${branches.length - maxBranchesNamed} more`]
      : branches;
  throw new GitError({
    args: ['rev-parse', '--verify', ref],
    message: `ref "${ref}" is not a branch, tag or commit of ${mirror.sourceRepo} (branches: ${named.length > 0 ? named.join(', ') : 'none'}); check the ref of the agents setting`,
  });
}

/** `tree`, `blob`, ... for an object name, or undefined when there is no such object. */
async function objectKind(mirror: Mirror, name: string): Promise<string | undefined> {
  try {
    return (await runMirrorGit(mirror, ['cat-file', '-t', name])).stdout.trim();
  } catch (error) {
    if (error instanceof GitError) return undefined;
    throw error;
  }
}

/** The tree of `revision` (below `folder`, when given), read from the clone's objects. */
function createGitTree(mirror: Mirror, revision: string, folder: string | undefined): AgentSourceTree {
  const prefix = folder === undefined ? '' : `${folder}/`;
  return {
    revision,
    async list(relativeFolder, options = {}) {
      const inside = relativeFolder.replace(/^\/+|\/+$/g, '');
      const target = `${prefix}${inside}`;
      const args = ['ls-tree', '-l', '-z', ...(options.recursive ? ['-r'] : []), revision];
      if (target !== '') args.push('--', `${target}/`);
      const { stdout } = await runMirrorGit(mirror, args);
      const entries: AgentSourceEntry[] = [];
      for (const record of stdout.split('\0')) {
        // `<mode> <type> <object> <size>\t<path>`; the size is `-` for trees and padded with spaces.
        const match = /^(\d+) (\w+) [0-9a-f]+ +(-|\d+)\t(.+)$/s.exec(record);
        if (!match) continue;
        const [, mode, type, size, fullPath] = match;
        if (!fullPath!.startsWith(prefix)) continue;
        const kind = type === 'tree' ? 'folder' : type === 'blob' && mode !== '120000' ? 'file' : 'other';
        entries.push({
          path: fullPath!.slice(prefix.length),
          kind,
          size: size === '-' ? 0 : Number(size),
        });
      }
      return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },
    async read(relativePath) {
      const { stdout } = await runMirrorGit(mirror, [
        'cat-file',
        'blob',
        `${revision}:${prefix}${relativePath}`,
      ]);
      return stdout;
    },
  };
}
