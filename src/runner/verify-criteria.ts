import type { CriterionResult, SuccessCriterion, VerificationRound } from '../core/types.ts';
import { runProcess, type ProcessStream } from '../executors/run-process.ts';

/** How to check a task's success criteria. */
export interface VerifyCriteriaOptions {
  criteria: SuccessCriterion[];
  /** Where the commands run. */
  worktreePath: string;
  /** The complete environment of the commands (the granted environment, never `process.env`). */
  env: Record<string, string>;
  /** 1-based number of this round. Default 1. */
  round?: number;
  /** Stops the running command and skips the rest (task cancelled, lease lost, attempt timeout). */
  abortSignal?: AbortSignal;
  /** Time limit of a criterion without its own `timeoutMs`. Default 10 minutes. */
  defaultTimeoutMs?: number;
  /** Most bytes of output kept per criterion (the tail). Default 16 KiB. */
  maxOutputBytes?: number;
  /** Called before each criterion is checked. */
  onCriterionStart?: (criterion: SuccessCriterion, index: number) => void;
  /** Streams the commands' output as it arrives. */
  onOutput?: (stream: ProcessStream, text: string) => void;
  /** Records each command's process group (see the runner's state file). */
  trackProcessGroup?: (processGroupId: number) => () => void;
}

// why: most test suites finish in minutes; a criterion hanging longer than this is a failure in itself.
const defaultCriterionTimeoutMs = 10 * 60_000;
// why: 50 criteria of 16 KiB keep a failure report under 1 MiB; the tail of a failing test run fits.
const defaultMaxOutputBytes = 16 * 1024;
// why: the note stored for criteria without a command, which agents or humans judge.
const noCommandNote = 'no command: this criterion is checked by an agent or a human, not by the runner';

/**
 * Checks each success criterion in order by running its command in the worktree (exit code 0 passes),
 * and returns the round's evidence. Criteria without a command are recorded as passed with a note.
 *
 * Every criterion is checked even after one fails, so the evidence is complete. When the abort signal
 * fires, the running command is stopped and the remaining criteria are recorded as not passed.
 */
export async function verifyCriteria(options: VerifyCriteriaOptions): Promise<VerificationRound> {
  const results: CriterionResult[] = [];
  for (const [index, criterion] of options.criteria.entries()) {
    options.onCriterionStart?.(criterion, index);
    if (criterion.command === undefined) {
      results.push({
        description: criterion.description,
        passed: true,
        exitCode: null,
        timedOut: false,
        durationMs: 0,
        output: noCommandNote,
      });
      continue;
    }
    if (options.abortSignal?.aborted) {
      results.push(notRun(criterion, 'not run: the attempt was stopped'));
      continue;
    }
    const outcome = await runProcess({
      command: criterion.command,
      cwd: options.worktreePath,
      env: options.env,
      timeoutMs: criterion.timeoutMs ?? options.defaultTimeoutMs ?? defaultCriterionTimeoutMs,
      abortSignal: options.abortSignal,
      maxOutputBytes: options.maxOutputBytes ?? defaultMaxOutputBytes,
      onOutput: options.onOutput,
      trackProcessGroup: options.trackProcessGroup,
    });
    let output = outcome.output;
    if (outcome.error !== undefined) output = `${output}${output ? '\n' : ''}${outcome.error}`;
    if (outcome.timedOut) output = `${output}${output ? '\n' : ''}[timed out and killed]`;
    if (outcome.aborted) output = `${output}${output ? '\n' : ''}[stopped: the attempt was stopped]`;
    results.push({
      description: criterion.description,
      command: criterion.command,
      passed: outcome.exitCode === 0 && !outcome.timedOut && !outcome.aborted,
      exitCode: outcome.exitCode,
      timedOut: outcome.timedOut,
      durationMs: outcome.durationMs,
      output,
    });
  }
  return { round: options.round ?? 1, passed: results.every((result) => result.passed), criteria: results };
}

function notRun(criterion: SuccessCriterion, note: string): CriterionResult {
  return {
    description: criterion.description,
    command: criterion.command,
    passed: false,
    exitCode: null,
    timedOut: false,
    durationMs: 0,
    output: note,
  };
}
