/**
 * `describe` for tests that run a real CLI agent from the cache. When the agent is not installed the suite
 * is skipped with a visible line saying so, except under `WARREN_REQUIRE_CLI_AGENTS=1` (set by `.ci/run`),
 * where a missing agent fails the run: in CI these tests must run.
 */
import { describe, it } from 'vitest';
import { cachedCliAgent, cliAgentCacheDir, type PinnedCliAgent } from './pinned-cli-agents.ts';

/** Runs `body` with the cached binary of `executor`, or skips visibly (fails under CI) when it is missing. */
export function describeWithCliAgent(
  executor: PinnedCliAgent['executor'],
  title: string,
  body: (binaryPath: string) => void,
): void {
  const binaryPath = cachedCliAgent(executor);
  if (binaryPath) {
    describe(title, () => body(binaryPath));
    return;
  }
  const why = `${executor} is not installed in ${cliAgentCacheDir()}; run \`node --import tsx test/support/cli-agents/install-cli-agents.ts\``;
  if (process.env.WARREN_REQUIRE_CLI_AGENTS === '1') {
    describe(title, () => {
      it('has its CLI agent installed', () => {
        throw new Error(why);
      });
    });
    return;
  }
  console.warn(`SKIPPED ${title}: ${why}`);
  describe.skip(title, () => body(''));
}
