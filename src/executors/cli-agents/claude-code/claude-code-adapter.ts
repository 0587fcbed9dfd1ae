/**
 * The Claude Code agent (`claude`, npm `@anthropic-ai/claude-code`). One activation is one headless run:
 * `-p` with the prompt on stdin (argv is visible to every process and limited in length), `--output-format
 * stream-json --verbose` for JSON lines on stdout, and `--include-partial-messages`, because only the raw
 * stream's `message_delta` carries a model call's final output token count.
 *
 * Permissions: `--permission-mode acceptEdits` lets its file tools (Edit, Write, NotebookEdit) change files
 * in the working directory, the worktree, without asking, and refuses paths outside it; `--allowed-tools
 * Bash` lets it run any shell command, which it needs to run the success criteria (acceptEdits alone
 * allows only read-only and in-directory file commands, and a headless run denies anything that would ask).
 * The shell is not confined, like every shell a task runs. Bypass mode (`--dangerously-skip-permissions`,
 * `--permission-mode bypassPermissions`) is not used: it would lift the file tools' confinement too, and as
 * root Claude Code refuses it ("cannot be used with root/sudo privileges") unless `IS_SANDBOX=1` claims a
 * sandbox that a runner is not. Tools that leave the worktree (`EnterWorktree`) or schedule work for after
 * the run (`CronCreate`, `ScheduleWakeup`) are taken away.
 *
 * Isolation: `CLAUDE_CONFIG_DIR` puts its settings, sessions and caches in the activation home. A fix round
 * continues the session with `--resume <session id>`; sessions are stored per working directory in that
 * config dir, and the executor keeps the same home for the attempt's rounds. `--strict-mcp-config` keeps a
 * repository's `.mcp.json` servers out (Warren decides which tool servers a task gets). The endpoint
 * wiring, the model and the traffic switches are also written to a `--settings` file: command-line
 * settings outrank a repository's `.claude/settings.json`, whose `env` would otherwise win over the
 * process environment (a repository could send the endpoint's key elsewhere). The key itself stays in the
 * environment only.
 */
import path from 'node:path';
import type { ModelAssignment } from '../../../core/model-endpoints.ts';
import type { CliActivation, CliAgentAdapter, CliInvocation } from '../cli-agent-adapter.ts';
import { createCliAgentExecutor, type CliAgentExecutorOptions } from '../create-cli-agent-executor.ts';
import { routedEndpoint } from '../routed-endpoint.ts';
import { createClaudeCodeOutputParser } from './parse-claude-code-output.ts';

// why: the Anthropic SDK inside Claude Code appends `/v1/messages` itself; Warren's base URLs are SDK
// style (`https://api.anthropic.com/v1`), so the version segment is taken off.
const versionSuffix = /\/v1\/*$/;
// why: Claude Code refuses to start without credentials ("Not logged in"); an endpoint that needs no key
// (a local gateway) gets this stand-in, which it ignores.
const placeholderKey = 'warren-endpoint-without-key';
// why: by default Claude Code retries a failed call 10 times with backoff up to ~40 s (about 3 minutes,
// even for a 401); 3 matches Warren's own agent loop, and the runner retries the attempt if need be.
const maxModelRetries = '3';
// why: `--autocompact` refuses windows under 100k tokens ("at least 100k"); a smaller model keeps the
// CLI's own assumption.
const minAutocompactWindow = 100_000;
// Tools that take work out of the worktree or past the end of the run.
const removedTools = ['EnterWorktree', 'ExitWorktree', 'CronCreate', 'ScheduleWakeup'];

/**
 * The switches that keep Claude Code's traffic to the model endpoint: `CLAUDE_CODE_DISABLE_NONESSENTIAL_
 * TRAFFIC` alone stops everything else seen on the wire (telemetry events and their `api.anthropic.com`
 * lookups, the `HEAD /api/hello` warm-up, update checks); the narrower ones are kept in case a later
 * version splits them off again.
 */
const quietEnv: Record<string, string> = {
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  DISABLE_TELEMETRY: '1',
  DISABLE_ERROR_REPORTING: '1',
  DISABLE_AUTOUPDATER: '1',
  CLAUDE_CODE_MAX_RETRIES: maxModelRetries,
};

/** The Claude Code adapter. */
export const claudeCodeAdapter: CliAgentAdapter = {
  name: 'claude-code',
  binary: 'claude',
  providers: ['anthropic'],
  prepare: (activation) => claudeCodeInvocation(activation, undefined),
  prepareResume: (activation, sessionId) => claudeCodeInvocation(activation, sessionId),
  createParser: createClaudeCodeOutputParser,
};

/** Builds the Claude Code executor; the binary is `claude` on PATH unless configured. */
export function createClaudeCodeExecutor(options?: CliAgentExecutorOptions) {
  return createCliAgentExecutor(claudeCodeAdapter, options);
}

function claudeCodeInvocation(activation: CliActivation, resumeSessionId: string | undefined): CliInvocation {
  const home = activation.homeDir;
  const model = activation.model;
  const pinned: Record<string, string> = {
    ...quietEnv,
    ...routedEndpoint(activation, endpointEnv),
  };
  const settingsFile = path.join(home, 'warren-claude-settings.json');
  const env: Record<string, string> = {
    ...pinned,
    CLAUDE_CONFIG_DIR: path.join(home, '.claude'),
  };
  if (model) {
    env.ANTHROPIC_API_KEY = activation.apiKey ?? placeholderKey;
    const headers = Object.entries(model.endpoint.headers ?? {});
    if (headers.length > 0) {
      env.ANTHROPIC_CUSTOM_HEADERS = headers.map(([name, value]) => `${name}: ${value}`).join('\n');
    }
  }
  const args = [
    '-p',
    '--output-format=stream-json',
    '--verbose',
    '--include-partial-messages',
    '--permission-mode=acceptEdits',
    '--allowed-tools=Bash',
    `--disallowed-tools=${removedTools.join(',')}`,
    '--strict-mcp-config',
    `--settings=${settingsFile}`,
    ...(model ? [`--model=${model.model}`] : []),
    // Claude Code knows the windows of Anthropic's models only; a routed model's configured one wins.
    ...(model?.contextWindow !== undefined && model.contextWindow >= minAutocompactWindow
      ? [`--autocompact=${model.contextWindow}`]
      : []),
    ...(resumeSessionId !== undefined ? [`--resume=${resumeSessionId}`] : []),
    ...activation.extraArgs,
  ];
  return {
    args,
    env,
    stdin: activation.prompt,
    files: { [settingsFile]: `${JSON.stringify({ env: pinned }, null, 2)}\n` },
  };
}

/**
 * Points Claude Code at the routed endpoint and model. Every model alias (and the subagent model) is the
 * routed model: Claude Code sends background work (the Explore subagent, summaries) to a Haiku model by
 * default, which a Warren endpoint may not serve and routing did not choose.
 */
function endpointEnv(model: ModelAssignment, baseUrl: string): Record<string, string> {
  const url = new URL(baseUrl);
  const pathname = url.pathname.replace(versionSuffix, '').replace(/\/+$/, '');
  return {
    ANTHROPIC_BASE_URL: `${url.origin}${pathname}`,
    ANTHROPIC_MODEL: model.model,
    ANTHROPIC_DEFAULT_FABLE_MODEL: model.model,
    ANTHROPIC_DEFAULT_OPUS_MODEL: model.model,
    ANTHROPIC_DEFAULT_SONNET_MODEL: model.model,
    ANTHROPIC_DEFAULT_HAIKU_MODEL: model.model,
    ANTHROPIC_SMALL_FAST_MODEL: model.model,
    CLAUDE_CODE_SUBAGENT_MODEL: model.model,
  };
}
