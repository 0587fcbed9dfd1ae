/** Runs git for the built-in tools (executors may not import src/vcs). */
import { runProcess } from '../../run-process.ts';
import type { RunProcessResult } from '../../run-process.ts';
import type { AgentToolContext } from '../agent-tool.ts';
import { GIT_REPOSITORY_LOCATING_VARIABLES as repositoryLocatingVariables } from '../../../core/git-environment.ts';

/** How to run one git command in the worktree. */
export interface RunGitCommandOptions {
  /** Most bytes of combined output kept (the tail). */
  maxOutputBytes: number;
  /** Send git's stderr to /dev/null, for output that is parsed rather than shown. */
  discardStderr?: boolean;
}

// why: status and diff of a local worktree take well under a second; 30 s still covers a huge
// repository on a slow disk, and git stuck on a held lock does not stall the agent for long.
const gitTimeoutMs = 30_000;

// why: without a terminal nobody can answer a prompt; these make git fail at once instead of waiting.
const nonInteractiveEnvironment: Record<string, string> = {
  GIT_TERMINAL_PROMPT: '0',
  GCM_INTERACTIVE: 'never',
  GIT_PAGER: 'cat',
};

// why: the user's global and system config (aliases, diff drivers, colour, pagers, hooks paths) must not
// change what the tools print; the repository's own config still applies.
const isolatedConfigEnvironment: Record<string, string> = {
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  // why: read-only commands such as status otherwise refresh the index under a lock, racing the agent's
  // own git commands in run_shell.
  GIT_OPTIONAL_LOCKS: '0',
  // why: paths the agent passes are file names, never pathspec magic such as `:(exclude)`.
  GIT_LITERAL_PATHSPECS: '1',
};

// why: a grant with no PATH still needs to find git in the usual places.
const fallbackPath = '/usr/local/bin:/usr/bin:/bin';

/**
 * Runs `git <args>` in the worktree with the context's environment (never the runner's), no prompts, no
 * global or system config, and `core.quotePath` off so non-ASCII names print as they are. Never throws:
 * a failure is in the result (`exitCode`, `error`, `timedOut`).
 */
export function runGitCommand(
  args: string[],
  context: AgentToolContext,
  options: RunGitCommandOptions,
): Promise<RunProcessResult> {
  const env: Record<string, string> = { PATH: fallbackPath, ...context.env };
  for (const name of repositoryLocatingVariables) delete env[name];
  Object.assign(env, nonInteractiveEnvironment, isolatedConfigEnvironment);
  const gitArguments = ['--no-pager', '-c', 'core.quotePath=false', '-c', 'color.ui=never', ...args];
  return runProcess({
    command: options.discardStderr
      ? ['/bin/sh', '-c', 'exec git "$@" 2>/dev/null', 'git', ...gitArguments]
      : ['git', ...gitArguments],
    cwd: context.worktreePath,
    env,
    timeoutMs: gitTimeoutMs,
    abortSignal: context.abortSignal,
    maxOutputBytes: options.maxOutputBytes,
    trackProcessGroup: context.trackProcessGroup?.bind(context),
  });
}

/** A one-line reason why a git command failed, or undefined when it succeeded (exit code 0). */
export function describeGitFailure(result: RunProcessResult, what: string): string | undefined {
  if (result.error !== undefined) return `${what} could not run: ${result.error}`;
  if (result.aborted) return `${what} was aborted`;
  if (result.timedOut) return `${what} ran past ${gitTimeoutMs / 1000} s and was stopped`;
  if (result.exitCode === 0) return undefined;
  const output = result.output.trim();
  if (/not a git repository/i.test(output)) return `${what} failed: the worktree is not a git repository`;
  return `${what} failed (exit code ${result.exitCode ?? result.signal ?? 'unknown'})${output ? `:\n${output}` : ''}`;
}
