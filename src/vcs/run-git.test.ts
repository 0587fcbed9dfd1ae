import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitError } from './git-error.ts';
import { runGit } from './run-git.ts';
import { createGitSandbox } from './testing/create-git-sandbox.ts';
import type { GitSandbox } from './testing/create-git-sandbox.ts';

describe('runGit', () => {
  let sandbox: GitSandbox;
  beforeEach(async () => {
    sandbox = await createGitSandbox();
  });
  afterEach(async () => {
    await sandbox.cleanup();
  });

  it('returns stdout of a successful command', async () => {
    const repo = await sandbox.createSourceRepo();
    const { stdout } = await runGit(['rev-parse', '--abbrev-ref', 'HEAD'], { cwd: repo });
    expect(stdout.trim()).toBe('main');
  });

  it('feeds input to stdin', async () => {
    const { stdout } = await runGit(['hash-object', '--stdin'], { cwd: sandbox.root, input: 'hello\n' });
    expect(stdout.trim()).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
  });

  it('commits without a global identity, using the default one', async () => {
    const repo = await sandbox.createSourceRepo();
    const author = await sandbox.git(repo, ['log', '-1', '--format=%an <%ae>']);
    expect(author).toBe('Warren <warren@localhost>');
  });

  it('ignores GIT_DIR inherited from a parent git process', async () => {
    const repo = await sandbox.createSourceRepo();
    const other = await sandbox.createSourceRepo({ name: 'other', defaultBranch: 'other-branch' });
    process.env.GIT_DIR = `${other}/.git`;
    try {
      const { stdout } = await runGit(['rev-parse', '--abbrev-ref', 'HEAD'], { cwd: repo });
      expect(stdout.trim()).toBe('main');
    } finally {
      delete process.env.GIT_DIR;
    }
  });

  it('throws GitError with exit code and stderr on failure', async () => {
    const error = await runGit(['rev-parse', '--verify', 'no-such-ref'], { cwd: sandbox.root }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(GitError);
    const gitError = error as GitError;
    expect(gitError.code).toBe('git_failed');
    expect(gitError.exitCode).toBe(128);
    expect(gitError.stderr).toMatch(/not a git repository/);
    expect(gitError.args).toEqual(['rev-parse', '--verify', 'no-such-ref']);
    expect(gitError.message).toMatch(/^git rev-parse --verify no-such-ref failed with exit code 128: fatal:/);
  });

  it('redacts credentials in URLs from the error', async () => {
    const url = 'https://warren:s3cr3t-t0ken@127.0.0.1:1/repo.git';
    const error = (await runGit(['ls-remote', url], { cwd: sandbox.root, timeoutMs: 20_000 }).catch(
      (caught: unknown) => caught,
    )) as GitError;
    expect(error).toBeInstanceOf(GitError);
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain('s3cr3t-t0ken');
    expect(error.args[1]).toBe('https://***@127.0.0.1:1/repo.git');
  });

  it('kills git and its children when the timeout passes', { timeout: 10_000 }, async () => {
    // The alias runs `sleep` in a shell below git, which holds git's pipes open unless it is killed too.
    const error = (await runGit(['-c', 'alias.hang=!sleep 30', 'hang'], {
      cwd: sandbox.root,
      timeoutMs: 300,
    }).catch((caught: unknown) => caught)) as GitError;
    expect(error).toBeInstanceOf(GitError);
    expect(error.timedOut).toBe(true);
    expect(error.message).toMatch(/timed out after 300 ms/);
  });

  it('kills git when the abort signal fires', { timeout: 10_000 }, async () => {
    const controller = new AbortController();
    const running = runGit(['-c', 'alias.hang=!sleep 30', 'hang'], {
      cwd: sandbox.root,
      abortSignal: controller.signal,
    });
    setTimeout(() => controller.abort(), 100);
    const error = (await running.catch((caught: unknown) => caught)) as GitError;
    expect(error).toBeInstanceOf(GitError);
    expect(error.aborted).toBe(true);
  });

  it('says when the working directory does not exist', async () => {
    await expect(runGit(['status'], { cwd: sandbox.path('missing') })).rejects.toThrow(/does not exist/);
  });
});
