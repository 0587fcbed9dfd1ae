/**
 * The start and end every bench script shares: progress lines on standard error, a watchdog that stops a
 * run going on past `--max-seconds`, and the top level that runs `main`, reports a crash and exits.
 */
import { exitAfterInterrupt } from './child-processes.ts';

/** Writes a progress line (on standard error, so that it never follows a bench's last-line JSON). */
export type Progress = (line: string) => void;

/** A progress writer that stamps each line with the seconds since it was made. */
export function createProgress(): Progress {
  const startedAt = performance.now();
  return (line) =>
    process.stderr.write(`[${((performance.now() - startedAt) / 1_000).toFixed(1).padStart(5)} s] ${line}\n`);
}

/** Stops the bench (children killed, exit status 1) once it has run `maxSeconds`. */
export function startWatchdog(bench: string, maxSeconds: number): void {
  const timer = setTimeout(() => {
    process.stderr.write(`\n${bench}: still running after --max-seconds ${maxSeconds}; stopping\n`);
    exitAfterInterrupt(1);
  }, maxSeconds * 1_000);
  timer.unref();
}

/**
 * Runs a bench's `main`: a crash is written to standard error with the bench's name and sets exit status
 * 1; either way the process then exits.
 */
export async function runBench(bench: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    process.stderr.write(
      `${bench}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  } finally {
    // why: the exit handler kills any child still alive; exit now rather than wait on stray handles.
    process.exit();
  }
}
