/**
 * A Vitest reporter that ends the run with one plain line, `tests: N passed, N failed, N skipped`, which CI
 * reads as the closing count (the default reporter's summary is coloured and spread over several lines).
 */
import type { Reporter, RunnerTask, RunnerTestFile } from 'vitest';

/** Counts every test of the run by outcome and prints the closing line. */
export default class SummaryReporter implements Reporter {
  onFinished(files: RunnerTestFile[] = [], errors: unknown[] = []): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const visit = (task: RunnerTask): void => {
      if (task.type === 'suite') {
        for (const child of task.tasks) visit(child);
        // A suite that failed in a hook or at collection has tests that never ran: count it as a failure.
        if (task.result?.state === 'fail' && task.tasks.length === 0) counts.failed += 1;
        return;
      }
      if (task.mode === 'skip' || task.mode === 'todo' || task.result?.state === 'skip') counts.skipped += 1;
      else if (task.result?.state === 'pass') counts.passed += 1;
      else counts.failed += 1;
    };
    for (const file of files) visit(file);
    // Unhandled errors fail the run even when every test passed.
    counts.failed += errors.length;
    process.stdout.write(
      `\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
    );
  }
}
