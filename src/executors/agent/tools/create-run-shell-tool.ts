import { existsSync } from 'node:fs';
import { z } from 'zod';
import { runProcess } from '../../run-process.ts';
import type { AgentTool } from '../agent-tool.ts';
import { defineBuiltinTool } from './define-builtin-tool.ts';
import { changesBetween, snapshotWorktree } from './snapshot-worktree.ts';
import { toolError } from './tool-error.ts';

/** Options of the `run_shell` tool. */
export interface RunShellToolOptions {
  /** Time limit of a command that gives no `timeout_ms`. Default 120 s. */
  defaultTimeoutMs?: number;
  /** The most `timeout_ms` may ask for. Default 10 min. */
  maxTimeoutMs?: number;
}

// why: long enough for a typical build or test suite, short enough that a hung command (a watcher, a
// prompt waiting for input) does not eat the task's time budget unnoticed.
const defaultTimeoutMs = 120_000;
// why: one command longer than 10 minutes is better split up; the task's own timeout still applies.
const defaultMaxTimeoutMs = 600_000;
// why: test and build output is long and its end (the summary, the failures) matters most; 30 KB
// (about 8k tokens) of tail keeps that without flooding the model's context.
const maxOutputBytes = 30 * 1024;
// why: models write bash (`[[`, `set -o pipefail`, arrays); plain sh only where bash is missing.
const shellCandidates = ['/bin/bash', '/usr/bin/bash', '/bin/sh'];

/**
 * Creates the `run_shell` tool: runs one shell command in the worktree, in its own process group, with
 * the context's environment only (never the runner's), a time limit and the abort signal. A non-zero
 * exit is an ordinary result (the model must see failing tests); a timeout, an abort or a command that
 * cannot start is a tool error. Files the command added, modified or deleted are reported, found with
 * `git status` before and after (ignored files are not seen).
 */
export function createRunShellTool(options: RunShellToolOptions = {}): AgentTool {
  const maxTimeoutMs = options.maxTimeoutMs ?? defaultMaxTimeoutMs;
  const timeoutMs = Math.min(options.defaultTimeoutMs ?? defaultTimeoutMs, maxTimeoutMs);
  const shell = shellCandidates.find((candidate) => existsSync(candidate)) ?? '/bin/sh';
  const inputSchema = z.strictObject({
    command: z.string().min(1).describe(`The command line, run with \`${shell} -c\` in the worktree root.`),
    timeout_ms: z
      .number()
      .int()
      .min(1)
      .max(maxTimeoutMs)
      .optional()
      .describe(`Time limit in milliseconds. Default ${timeoutMs}, at most ${maxTimeoutMs}.`),
  });

  return defineBuiltinTool({
    name: 'run_shell',
    description:
      `Run a shell command with \`${shell} -c\` in the worktree root and return its exit code and ` +
      `combined stdout and stderr (the last ${maxOutputBytes / 1024} KB). Use it to build, run tests, ` +
      'and run git or other tools. A non-zero exit code is reported, not an error. No stdin: do not run ' +
      'interactive commands. Processes left running in the background are killed when the command ends. ' +
      `Time limit ${timeoutMs / 1000} s unless timeout_ms says otherwise.`,
    kind: 'execute',
    inputSchema,
    async execute(input, context) {
      const limitMs = input.timeout_ms ?? timeoutMs;
      const before = await snapshotWorktree(context);
      const result = await runProcess({
        command: [shell, '-c', input.command],
        cwd: context.worktreePath,
        env: context.env,
        timeoutMs: limitMs,
        abortSignal: context.abortSignal,
        maxOutputBytes,
        trackProcessGroup: context.trackProcessGroup?.bind(context),
      });
      if (result.error !== undefined) return toolError(`could not run the command: ${result.error}`);

      // The abort signal has fired when the run is being cancelled; git would not run then anyway.
      const after = before && !result.aborted ? await snapshotWorktree(context, before) : undefined;
      const fileChanges = before && after ? changesBetween(before, after) : [];
      const output = result.output.trimEnd() === '' ? '(no output)' : result.output.trimEnd();
      const seconds = `${(result.durationMs / 1000).toFixed(1)} s`;

      let status: string;
      let isError = false;
      if (result.aborted) {
        status = `[aborted after ${seconds}: the run is being cancelled; the command was killed]`;
        isError = true;
      } else if (result.timedOut) {
        status =
          `[timed out after ${limitMs / 1000} s; the command and everything it started were killed. ` +
          `For a longer command set timeout_ms (at most ${maxTimeoutMs})]`;
        isError = true;
      } else if (result.exitCode === null) {
        status = `[killed by ${result.signal ?? 'a signal'} after ${seconds}]`;
      } else {
        status = `[exit code ${result.exitCode}, ${seconds}]`;
      }
      return {
        output: `${output}\n${status}`,
        ...(isError ? { isError } : {}),
        ...(fileChanges.length > 0 ? { fileChanges } : {}),
      };
    },
  });
}
