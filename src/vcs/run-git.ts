import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { GitError } from './git-error.ts';
import { GIT_REPOSITORY_LOCATING_VARIABLES as repositoryLocatingVariables } from '../core/git-environment.ts';

/** How to run one git command. */
export interface RunGitOptions {
  /** Directory git runs in. */
  cwd: string;
  /** Kill git (and its helpers) after this many milliseconds; defaults to 120 s. */
  timeoutMs?: number;
  /** Extra environment variables; they win over the defaults and over the process environment. */
  env?: Record<string, string>;
  /** Written to git's stdin; without it stdin is empty. */
  input?: string;
  /** Kills git when it fires (task cancelled, runner shutting down). */
  abortSignal?: AbortSignal;
}

/** What a successful git command printed. */
export interface RunGitResult {
  stdout: string;
  stderr: string;
}

// why: long enough for a clone or fetch of a large repository over a slow link, short enough that git
// stuck on a dead network or a held lock does not keep a runner slot forever.
const defaultTimeoutMs = 120_000;

// why: commits must work on machines without a global git config (CI, containers); the process
// environment and options.env still win, so an operator can set a real identity.
const defaultEnvironment: Record<string, string> = {
  GIT_AUTHOR_NAME: 'Warren',
  GIT_AUTHOR_EMAIL: 'warren@localhost',
  GIT_COMMITTER_NAME: 'Warren',
  GIT_COMMITTER_EMAIL: 'warren@localhost',
};

// why: a daemon has nobody to answer a credential prompt; without these git waits on the prompt
// until the timeout instead of failing at once.
const nonInteractiveEnvironment: Record<string, string> = {
  GIT_TERMINAL_PROMPT: '0',
  GCM_INTERACTIVE: 'never',
};

// why: git starts helpers (git-remote-https, ssh, hooks) that hold its pipes open; putting it in its
// own process group lets a timeout kill all of them, so the promise settles instead of hanging.
const killsProcessGroup = process.platform !== 'win32';

/**
 * Runs `git <args>` without a shell and resolves with what it printed.
 *
 * Throws {@link GitError} when git exits non-zero, runs past `timeoutMs` (git and its helpers are
 * killed with SIGKILL), is aborted, or cannot be started. Prompts are disabled, a default identity is
 * set, and variables such as `GIT_DIR` inherited from the parent process are removed.
 */
export function runGit(args: string[], options: RunGitOptions): Promise<RunGitResult> {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const { abortSignal } = options;
  return new Promise<RunGitResult>((resolve, reject) => {
    if (abortSignal?.aborted) {
      reject(
        new GitError({ args, aborted: true, message: `git ${args.join(' ')} was aborted before it started` }),
      );
      return;
    }
    const child = spawn('git', args, {
      cwd: options.cwd,
      env: buildEnvironment(options.env),
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: killsProcessGroup,
      windowsHide: true,
    });
    const stdoutChunks: Buffer[] = [];
    const stderrChunks: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdoutChunks.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderrChunks.push(chunk));
    const output = () => ({
      stdout: Buffer.concat(stdoutChunks).toString('utf8'),
      stderr: Buffer.concat(stderrChunks).toString('utf8'),
    });

    let settled = false;
    const settle = (error: GitError | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      abortSignal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(output());
    };
    const kill = () => {
      try {
        if (killsProcessGroup && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // The process already exited; nothing to kill.
      }
    };
    const onAbort = () => {
      kill();
      settle(
        new GitError({ args, aborted: true, ...output(), message: `git ${args.join(' ')} was aborted` }),
      );
    };
    const timer = setTimeout(() => {
      kill();
      settle(
        new GitError({
          args,
          timedOut: true,
          ...output(),
          message: `git ${args.join(' ')} timed out after ${timeoutMs} ms and was killed`,
        }),
      );
    }, timeoutMs);
    abortSignal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', (error: NodeJS.ErrnoException) => {
      const reason = existsSync(options.cwd)
        ? `could not start git (is it installed and on PATH?): ${error.message}`
        : `could not run git: directory ${options.cwd} does not exist`;
      settle(new GitError({ args, cause: error, message: reason }));
    });
    child.on('close', (exitCode) => {
      if (exitCode === 0) settle(undefined);
      else settle(new GitError({ args, exitCode: exitCode ?? undefined, ...output() }));
    });

    if (child.stdin) {
      // why: git may exit before reading all of stdin; the resulting EPIPE is not our failure.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}

function buildEnvironment(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const inherited: NodeJS.ProcessEnv = { ...process.env };
  for (const name of repositoryLocatingVariables) delete inherited[name];
  return { ...defaultEnvironment, ...inherited, ...nonInteractiveEnvironment, ...extra };
}
