/**
 * A CLI usage problem: printed as one line with a hint, exit code 2, no stack trace.
 */

/** An error the CLI prints as `error: <message>` plus an optional hint of what to do. */
export class CliError extends Error {
  readonly hint?: string;
  readonly exitCode: number;

  constructor(message: string, options: { hint?: string; exitCode?: number } = {}) {
    super(message);
    this.name = 'CliError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 2;
  }
}
