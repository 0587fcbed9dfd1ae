/**
 * Vitest global setup: makes sure the pinned CLI agents are in the cache before any test file looks for
 * them, so `npm test` on a fresh machine runs the real-binary tests too. A warm cache costs a few
 * `--version` calls; a failed install is reported and the affected suites skip visibly (or fail, under
 * `WARREN_REQUIRE_CLI_AGENTS=1`).
 */
import { installCliAgents } from './install-cli-agents.ts';

export default async function setup(): Promise<void> {
  const outcomes = await installCliAgents((line) => console.log(`cli agents: ${line}`));
  for (const outcome of outcomes) {
    if (outcome.status === 'failed') {
      console.warn(
        `cli agents: ${outcome.agent.packageName}@${outcome.agent.version} is not available: ${outcome.detail ?? 'unknown reason'}`,
      );
    }
  }
}
