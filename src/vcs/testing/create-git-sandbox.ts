import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runGit } from '../run-git.ts';

/** Files to write into a repository, by path relative to its root. */
export type FileContents = Record<string, string>;

/** A temporary directory for git tests, with helpers to build source repositories in it. */
export interface GitSandbox {
  /** Absolute path of the temporary directory. */
  root: string;
  /** A path inside the sandbox. */
  path(...segments: string[]): string;
  /** Runs git in `cwd` and returns its trimmed stdout. */
  git(cwd: string, args: string[]): Promise<string>;
  /** Creates a non-bare repository with one commit on `defaultBranch` (default `main`); returns its path. */
  createSourceRepo(options?: {
    name?: string;
    defaultBranch?: string;
    files?: FileContents;
  }): Promise<string>;
  /** Writes files into `repo` and commits them on the checked-out branch; returns the new commit. */
  commitFiles(repo: string, files: FileContents, message?: string): Promise<string>;
  /** Deletes the sandbox. */
  cleanup(): Promise<void>;
}

/**
 * Creates a {@link GitSandbox} under the OS temp directory.
 *
 * Also points git at an empty global config for this test process, so settings on the developer's
 * machine (init.defaultBranch, commit.gpgsign, hooks) cannot change what the tests see.
 */
export async function createGitSandbox(): Promise<GitSandbox> {
  process.env.GIT_CONFIG_GLOBAL = os.devNull;
  process.env.GIT_CONFIG_NOSYSTEM = '1';
  const root = await mkdtemp(path.join(os.tmpdir(), 'warren-vcs-'));

  const git = async (cwd: string, args: string[]) => (await runGit(args, { cwd })).stdout.trim();
  const writeFiles = async (repo: string, files: FileContents) => {
    for (const [relative, contents] of Object.entries(files)) {
      const target = path.join(repo, relative);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, contents);
    }
  };
  const commitFiles = async (repo: string, files: FileContents, message = 'change') => {
    await writeFiles(repo, files);
    await git(repo, ['add', '-A']);
    await git(repo, ['commit', '--quiet', '-m', message]);
    return git(repo, ['rev-parse', 'HEAD']);
  };

  return {
    root,
    path: (...segments) => path.join(root, ...segments),
    git,
    commitFiles,
    async createSourceRepo(options = {}) {
      const repo = path.join(root, options.name ?? 'source');
      await mkdir(repo, { recursive: true });
      await git(repo, ['init', '--quiet', '-b', options.defaultBranch ?? 'main']);
      await commitFiles(repo, options.files ?? { 'README.md': '# source\n' }, 'initial');
      return repo;
    },
    async cleanup() {
      await rm(root, { recursive: true, force: true });
    },
  };
}
