import { z } from 'zod';
import { toFieldIssues } from '../../core/parse-input.ts';
import { runProcess } from '../run-process.ts';
import { EXECUTOR_SPEC_VERSION } from '../spec.ts';
import type { Executor, ExecutorContext, ExecutorResult } from '../spec.ts';

// why: a shell task is a short script, not a program; 100 commands is far more than any sane task needs.
const maxCommands = 100;
// why: the tail of a failing command goes into the error message, which the hub caps at 10 000 characters.
const failureTailBytes = 2_000;
// why: kept per command only to quote the tail on failure; the full stream goes to the log.
const maxOutputBytes = 16 * 1024;
// why: a command quoted in a message stays readable at this length.
const maxQuotedCommandLength = 200;

const environmentName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/);

/** The `executorInput` of a `shell` task. */
export const shellInputSchema = z.strictObject({
  /** One command or commands run in order with `/bin/sh -c`; the first non-zero exit stops the run. */
  run: z.union(
    [
      z.string().min(1, 'required'),
      z.array(z.string().min(1, 'must not be empty')).min(1, 'required').max(maxCommands),
    ],
    {
      error: (issue) =>
        issue.input === undefined ? 'required' : 'must be a command string or an array of command strings',
    },
  ),
  /** Extra environment variables for the commands, on top of the granted environment. */
  env: z
    .record(environmentName, z.string().max(10_000), {
      error: (issue) =>
        issue.code === 'invalid_key' ? 'must be an environment variable name such as MY_VAR' : undefined,
    })
    .optional(),
});

/** A parsed shell executor input. */
export type ShellInput = z.infer<typeof shellInputSchema>;

/**
 * Creates the `shell` executor: runs the task's commands in the worktree, one after another.
 *
 * Input `{ run: string | string[], env?: Record<string, string> }`. Each command runs with
 * `/bin/sh -c` in the worktree, with the granted environment plus `env`; the first command that exits
 * non-zero fails the run (retryable). The run honours the abort signal and the remaining timeout.
 */
export function createShellExecutor(): Executor {
  return {
    specVersion: EXECUTOR_SPEC_VERSION,
    name: 'shell',
    validateInput(input) {
      const parsed = shellInputSchema.safeParse(input);
      if (parsed.success) return [];
      return toFieldIssues(parsed.error, 'executorInput');
    },
    run: (context) => runShell(context),
  };
}

async function runShell(context: ExecutorContext): Promise<ExecutorResult> {
  const parsed = shellInputSchema.safeParse(context.task.executorInput);
  if (!parsed.success) {
    const issues = toFieldIssues(parsed.error, 'executorInput');
    const message = issues.map((issue) => `${issue.field}: ${issue.reason}`).join('; ');
    return finish(context, {
      status: 'failed',
      error: { kind: 'invalid_input', retryable: false, message },
    });
  }
  const commands = typeof parsed.data.run === 'string' ? [parsed.data.run] : parsed.data.run;
  const env = { ...context.env, ...parsed.data.env };
  const deadline = Date.now() + context.timeoutMs;

  for (const [index, command] of commands.entries()) {
    const number = index + 1;
    const quoted = quote(command);
    const remainingMs = deadline - Date.now();
    if (context.abortSignal.aborted) return finish(context, cancelled(number, quoted));
    if (remainingMs <= 0) return finish(context, timedOut(number, quoted, context.timeoutMs));
    context.heartbeat(`running command ${number} of ${commands.length}`);
    const result = await runProcess({
      command,
      cwd: context.worktreePath,
      env,
      timeoutMs: remainingMs,
      abortSignal: context.abortSignal,
      maxOutputBytes,
      onOutput: (stream, text) => context.emit({ type: 'output', stream, text }),
      trackProcessGroup: context.trackProcessGroup?.bind(context),
    });
    context.emit({ type: 'step-end', step: number, description: command });
    if (result.error !== undefined) {
      return finish(context, {
        status: 'failed',
        error: {
          kind: 'spawn_failed',
          retryable: true,
          message: `command ${number} ${quoted}: ${result.error}`,
        },
      });
    }
    if (result.aborted) return finish(context, cancelled(number, quoted));
    if (result.timedOut) return finish(context, timedOut(number, quoted, context.timeoutMs));
    if (result.exitCode !== 0) {
      const how =
        result.exitCode === null
          ? `was killed by ${result.signal ?? 'a signal'}`
          : `exited with ${result.exitCode}`;
      const tail = lastBytes(result.output, failureTailBytes).trimEnd();
      return finish(context, {
        status: 'failed',
        error: {
          kind: 'exit_code',
          retryable: true,
          message: `command ${number} ${quoted} ${how}${tail ? `\n${tail}` : ''}`,
        },
      });
    }
  }
  const summary = `ran ${commands.length} command${commands.length === 1 ? '' : 's'}`;
  return finish(context, { status: 'succeeded', summary });
}

function finish(context: ExecutorContext, result: ExecutorResult): ExecutorResult {
  context.emit({ type: 'run-end', result });
  return result;
}

function cancelled(number: number, quoted: string): ExecutorResult {
  return {
    status: 'failed',
    error: { kind: 'cancelled', retryable: true, message: `command ${number} ${quoted} was aborted` },
  };
}

function timedOut(number: number, quoted: string, timeoutMs: number): ExecutorResult {
  return {
    status: 'failed',
    error: {
      kind: 'timeout',
      retryable: true,
      message: `command ${number} ${quoted} ran past the time limit of ${timeoutMs} ms`,
    },
  };
}

function quote(command: string): string {
  const oneLine = command.replace(/\s+/g, ' ').trim();
  return `"${oneLine.length > maxQuotedCommandLength ? `${oneLine.slice(0, maxQuotedCommandLength)}…` : oneLine}"`;
}

function lastBytes(text: string, maxBytes: number): string {
  const buffer = Buffer.from(text);
  if (buffer.length <= maxBytes) return text;
  return `…${buffer.subarray(buffer.length - maxBytes).toString('utf8')}`;
}
