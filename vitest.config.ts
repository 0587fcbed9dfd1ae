import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Installs the pinned CLI agents (claude-code, codex, opencode, gemini-cli) into a cache outside the
    // repository when they are missing; the real-binary tests in test/cli-agents/ use them.
    globalSetup: ['./test/support/cli-agents/global-setup.ts'],
    // why: crash and end-to-end tests spawn real processes and git; 2-core CI machines are slow.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // why: heavy end-to-end tests compete for two cores; keep parallelism modest.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // The summary reporter ends the run with a plain `tests: N passed, N failed, N skipped` line for CI.
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
