import { WarrenError } from '../core/errors.ts';
import { redactCredentials } from './redact-credentials.ts';

/** What went wrong when a git command did not succeed. */
export interface GitErrorOptions {
  /** Replaces the generated message; say what the caller should do. Credentials are redacted. */
  message?: string;
  /** Arguments git was started with (without the leading `git`). */
  args: string[];
  /** Exit status, or undefined when git was killed or never started. */
  exitCode?: number | undefined;
  stderr?: string;
  stdout?: string;
  /** True when git was killed because it ran past its time limit. */
  timedOut?: boolean;
  /** True when git was killed because the caller's abort signal fired. */
  aborted?: boolean;
  cause?: unknown;
}

/**
 * Error thrown when a git command exits non-zero, times out, is aborted or cannot be started.
 *
 * Every field that can contain a repository URL (`message`, `args`, `stderr`, `stdout`) is passed
 * through {@link redactCredentials}, so the error is safe to log and to send to the hub.
 */
export class GitError extends WarrenError {
  /** Arguments git was started with (without the leading `git`), credentials redacted. */
  readonly args: string[];
  /** Exit status, or undefined when git was killed or never started. */
  readonly exitCode: number | undefined;
  /** What git wrote to stderr, credentials redacted. */
  readonly stderr: string;
  /** What git wrote to stdout, credentials redacted; some commands (push --porcelain) report there. */
  readonly stdout: string;
  /** True when git was killed because it ran past its time limit. */
  readonly timedOut: boolean;
  /** True when git was killed because the caller's abort signal fired. */
  readonly aborted: boolean;

  constructor(options: GitErrorOptions) {
    const args = options.args.map(redactCredentials);
    const stderr = redactCredentials(options.stderr ?? '');
    const message =
      options.message === undefined
        ? describeFailure(args, options.exitCode, stderr)
        : redactCredentials(options.message);
    super('git_failed', message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GitError';
    this.args = args;
    this.exitCode = options.exitCode;
    this.stderr = stderr;
    this.stdout = redactCredentials(options.stdout ?? '');
    this.timedOut = options.timedOut ?? false;
    this.aborted = options.aborted ?? false;
  }
}

/** The line of stderr that best explains a failure: git's `fatal:`/`error:` line, else the last line. */
export function summarizeStderr(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  const explanation = lines.find((line) => /^(fatal|error):/i.test(line)) ?? lines.at(-1) ?? '';
  // why: one line is enough for a message; the whole stderr stays on the error for logs.
  return explanation.length > 500 ? `${explanation.slice(0, 500)}...` : explanation;
}

function describeFailure(args: string[], exitCode: number | undefined, stderr: string): string {
  const summary = summarizeStderr(stderr);
  const status = exitCode === undefined ? 'failed' : `failed with exit code ${exitCode}`;
  return `git ${args.join(' ')} ${status}${summary ? `: ${summary}` : ''}`;
}
