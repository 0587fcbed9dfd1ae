/** Public surface of the runner daemon. */
export * from './runner-main.ts';
export * from './start-runner.ts';
export * from './verify-criteria.ts';
export type { AttemptInterruption, AttemptOutcome, RunnerDirectories } from './run-attempt.ts';
