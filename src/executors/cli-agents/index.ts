/**
 * The CLI agents Warren can drive, and the executors a runner offers for them. Each executor detects its
 * binary when the runner starts; the runner offers only those it finds (with their versions).
 */
import { aiderAdapter } from './aider/aider-adapter.ts';
import type { CliAgentAdapter } from './cli-agent-adapter.ts';
import { claudeCodeAdapter } from './claude-code/claude-code-adapter.ts';
import { codexAdapter } from './codex/codex-adapter.ts';
import { createCliAgentExecutor, type CliAgentExecutorOptions } from './create-cli-agent-executor.ts';
import { geminiCliAdapter } from './gemini-cli/gemini-cli-adapter.ts';
import { gooseAdapter } from './goose/goose-adapter.ts';
import { opencodeAdapter } from './opencode/opencode-adapter.ts';
import type { Executor } from '../spec.ts';

export type { CliAgentAdapter } from './cli-agent-adapter.ts';
export { createCliAgentExecutor, type CliAgentExecutorOptions } from './create-cli-agent-executor.ts';

/** Every CLI agent adapter, by executor name. */
export const CLI_AGENT_ADAPTERS: readonly CliAgentAdapter[] = [
  claudeCodeAdapter,
  codexAdapter,
  opencodeAdapter,
  geminiCliAdapter,
  aiderAdapter,
  gooseAdapter,
];

/** The executor names of the CLI agents. */
export const CLI_AGENT_NAMES = ['claude-code', 'codex', 'opencode', 'gemini-cli', 'aider', 'goose'] as const;
/** One CLI agent's executor name. */
export type CliAgentName = (typeof CLI_AGENT_NAMES)[number];

/** How a runner configures one CLI agent (the config file's `runner.cliAgents.<name>`). */
export interface CliAgentConfig extends Pick<CliAgentExecutorOptions, 'binaryPath' | 'extraArgs'> {
  /** False leaves the CLI out even when it is installed. Default true. */
  enabled?: boolean;
}

/** An executor for every enabled CLI agent; the runner keeps those whose binary it detects. */
export function createCliAgentExecutors(
  config: Partial<Record<CliAgentName, CliAgentConfig>> = {},
): Executor[] {
  return CLI_AGENT_ADAPTERS.flatMap((adapter) => {
    const options = config[adapter.name as CliAgentName] ?? {};
    if (options.enabled === false) return [];
    return [
      createCliAgentExecutor(adapter, {
        ...(options.binaryPath ? { binaryPath: options.binaryPath } : {}),
        ...(options.extraArgs ? { extraArgs: options.extraArgs } : {}),
      }),
    ];
  });
}
