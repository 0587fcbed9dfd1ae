/**
 * The CLI agents the tests run for real, at pinned versions, and where they are cached. They are never
 * Warren dependencies: `install-cli-agents.ts` installs them into a cache outside the repository (CI calls
 * it from `.ci/run`; the test run's global setup calls it too and does nothing when the cache is full).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/** One pinned CLI agent. */
export interface PinnedCliAgent {
  /** Warren's executor name. */
  executor: 'claude-code' | 'codex' | 'opencode' | 'gemini-cli';
  /** The npm package and the version tested. */
  packageName: string;
  version: string;
  /** The command the package installs. */
  binary: string;
}

// why these versions: the newest each registry served on 2026-11-21 that runs on Node 20 (claude-code's
// package declares Node 22 but ships a native binary, which runs here; its engines warning is harmless).
export const PINNED_CLI_AGENTS: readonly PinnedCliAgent[] = [
  { executor: 'claude-code', packageName: '@anthropic-ai/claude-code', version: '2.1.329', binary: 'claude' },
  { executor: 'codex', packageName: '@openai/codex', version: '0.169.0', binary: 'codex' },
  { executor: 'opencode', packageName: 'opencode-ai', version: '1.18.33', binary: 'opencode' },
  { executor: 'gemini-cli', packageName: '@google/gemini-cli', version: '0.61.0', binary: 'gemini' },
];

/** The cache: `$WARREN_CLI_AGENT_CACHE`, else `$XDG_CACHE_HOME/warren/cli-agents`, else `~/.cache/...`. */
export function cliAgentCacheDir(): string {
  if (process.env.WARREN_CLI_AGENT_CACHE) return path.resolve(process.env.WARREN_CLI_AGENT_CACHE);
  const base = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(base, 'warren', 'cli-agents');
}

/** The install prefix of one pinned agent: each version in its own folder, so pins never collide. */
export function cliAgentInstallDir(agent: PinnedCliAgent): string {
  return path.join(cliAgentCacheDir(), `${agent.packageName.replace('/', '__')}@${agent.version}`);
}

/** The binary of a pinned agent in the cache. */
export function cliAgentBinaryPath(agent: PinnedCliAgent): string {
  return path.join(cliAgentInstallDir(agent), 'node_modules', '.bin', agent.binary);
}

/** The cached binary of an executor, or undefined when it is not installed. */
export function cachedCliAgent(executor: PinnedCliAgent['executor']): string | undefined {
  const agent = PINNED_CLI_AGENTS.find((candidate) => candidate.executor === executor);
  if (!agent) return undefined;
  const binary = cliAgentBinaryPath(agent);
  return existsSync(binary) ? binary : undefined;
}
