/**
 * The Codex agent (`codex`, npm `@openai/codex`; the npm binary is a Node shim that starts Codex's native
 * binary as its child, which is why the executor stops the whole process group). One activation is one
 * `codex exec` run: `--json` for JSON lines on stdout, the prompt on stdin (`-`: argv is visible to every
 * process and limited in length), `--skip-git-repo-check` (Warren decides where it runs), and
 * `--strict-config` so that a configuration key this version does not know fails the run instead of being
 * ignored (the keys that keep its traffic on the endpoint among them).
 *
 * Isolation and configuration: `CODEX_HOME` is a directory of the activation home, holding the
 * `config.toml` written here (`codex-config.ts`: the routed endpoint as a custom Responses-API provider,
 * the model, the `workspace-write` sandbox, `approval_policy = "never"`, telemetry, plugin sync and update
 * checks off) and Codex's sessions. The endpoint's key stays in the environment (`WARREN_CODEX_API_KEY`,
 * the provider's `env_key`), kept from the agent's commands. A repository cannot redirect the endpoint:
 * Codex reads a project's `.codex/config.toml` only for trusted projects, and the private home trusts none.
 *
 * Fix rounds: `codex exec resume <thread id> -` continues the thread of the earlier run, stored in the same
 * home; `resume` takes no `--sandbox` flag, so the sandbox lives in `config.toml`, which both read.
 */
import path from 'node:path';
import type { CliActivation, CliAgentAdapter, CliInvocation } from '../cli-agent-adapter.ts';
import { createCliAgentExecutor, type CliAgentExecutorOptions } from '../create-cli-agent-executor.ts';
import { codexApiKeyVariable, codexConfigToml } from './codex-config.ts';
import { createCodexOutputParser } from './parse-codex-output.ts';

/** Flags of every activation, first run or resumed. */
const commonFlags = ['--json', '--strict-config', '--skip-git-repo-check'];

/** The Codex adapter. */
export const codexAdapter: CliAgentAdapter = {
  name: 'codex',
  binary: 'codex',
  // Codex speaks only OpenAI's Responses API to a custom provider; `openai-compatible` endpoints speak
  // chat completions, which Codex no longer does.
  providers: ['openai'],
  prepare: (activation) => codexInvocation(activation, undefined),
  prepareResume: (activation, sessionId) => codexInvocation(activation, sessionId),
  createParser: (resumed) => createCodexOutputParser(resumed),
};

/** Builds the Codex executor; the binary is `codex` on PATH unless configured. */
export function createCodexExecutor(options?: CliAgentExecutorOptions) {
  return createCliAgentExecutor(codexAdapter, options);
}

function codexInvocation(activation: CliActivation, resumeThreadId: string | undefined): CliInvocation {
  const codexHome = path.join(activation.homeDir, 'codex');
  const configFile = path.join(codexHome, 'config.toml');
  const config = codexConfigToml({
    ...(activation.model ? { model: activation.model } : {}),
    ...(activation.baseUrl !== undefined ? { baseUrl: activation.baseUrl } : {}),
    hasApiKey: activation.apiKey !== undefined,
  });
  const env: Record<string, string> = { CODEX_HOME: codexHome };
  if (activation.apiKey !== undefined) env[codexApiKeyVariable] = activation.apiKey;
  const args =
    resumeThreadId === undefined
      ? ['exec', ...commonFlags, ...activation.extraArgs, '-']
      : ['exec', 'resume', ...commonFlags, ...activation.extraArgs, resumeThreadId, '-'];
  return { args, env, stdin: activation.prompt, files: { [configFile]: config } };
}
