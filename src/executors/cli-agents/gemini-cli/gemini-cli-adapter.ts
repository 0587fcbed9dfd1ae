/**
 * The Gemini CLI agent (`gemini`, npm `@google/gemini-cli`). One activation is one headless run: the
 * prompt on stdin (stdin is not a terminal, so the CLI runs non-interactively; argv would be visible to
 * every process and is limited in length), `--output-format stream-json` for JSON lines on stdout, and
 * `--approval-mode yolo`, the only mode in which a headless run offers its shell tool (`auto_edit` offers
 * the edit tools but not `run_shell_command`, which an agent needs to run the success criteria).
 *
 * Everything the CLI keeps (settings, sessions, the project's temp dir, shell history) lives in
 * `<homeDir>/.gemini`, because `GEMINI_CLI_HOME` (and HOME) point at the activation home. A fix round
 * continues the session with `--resume <session id>`: the same home and the same worktree (sessions are
 * stored per project directory) hold it.
 *
 * Confinement: the CLI's file tools refuse paths outside the workspace (the worktree) and its project
 * temp dir. Its shell tool is not confined (no sandbox: the Docker or Podman one needs an image, and
 * bubblewrap tool sandboxing is not installed on runners), like any shell a task runs. Running as root
 * needs nothing special: the CLI neither checks nor refuses it.
 */
import path from 'node:path';
import type { CliActivation, CliAgentAdapter, CliInvocation } from '../cli-agent-adapter.ts';
import { createCliAgentExecutor, type CliAgentExecutorOptions } from '../create-cli-agent-executor.ts';
import { routedEndpoint } from '../routed-endpoint.ts';
import { geminiCliEndpointEnv } from './gemini-cli-endpoint.ts';
import { createGeminiCliOutputParser } from './parse-gemini-cli-output.ts';

/**
 * The user settings (`<home>/.gemini/settings.json`). Without `security.auth.selectedType` a headless run
 * with `GOOGLE_GEMINI_BASE_URL` set picks the "gateway" auth type, which 0.61 then rejects ("Invalid auth
 * method selected."). A repository's own `.gemini/settings.json` still applies on top (the workspace is
 * trusted); the environment switches below win over it where the CLI has one.
 */
const settings = {
  security: { auth: { selectedType: 'gemini-api-key' } },
  // why: on by default, it sends usage statistics to play.googleapis.com (Clearcut) and adds an
  // installation id header to every model request; no environment variable turns it off.
  privacy: { usageStatisticsEnabled: false },
  telemetry: { enabled: false },
  // Update checks only run in the interactive UI; these keep it that way should that change.
  general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
  // why: Warren builds the CLI's environment from scratch; a repository's `.env` (which the CLI would load
  // into its own environment) must not add proxies, headers or API settings to it.
  advanced: { ignoreLocalEnv: true },
  // The terminal-capability warning ("256-color support not detected") is noise on a pipe.
  ui: { showCompatibilityWarnings: false },
};

/** The Gemini CLI adapter. */
export const geminiCliAdapter: CliAgentAdapter = {
  name: 'gemini-cli',
  binary: 'gemini',
  providers: ['google'],
  prepare: (activation) => geminiCliInvocation(activation, undefined),
  prepareResume: (activation, sessionId) => geminiCliInvocation(activation, sessionId),
  createParser: createGeminiCliOutputParser,
};

/** Builds the Gemini CLI executor; the binary is `gemini` on PATH unless configured. */
export function createGeminiCliExecutor(options?: CliAgentExecutorOptions) {
  return createCliAgentExecutor(geminiCliAdapter, options);
}

function geminiCliInvocation(activation: CliActivation, resumeSessionId: string | undefined): CliInvocation {
  const home = activation.homeDir;
  const env: Record<string, string> = {
    GEMINI_CLI_HOME: home,
    // why: by default `gemini` re-executes itself in a child Node process (to raise the heap limit); one
    // process is quicker to start, lighter, and its process group is simply the CLI.
    GEMINI_CLI_NO_RELAUNCH: 'true',
    // Environment switches win over any settings file, a repository's included.
    GEMINI_TELEMETRY_ENABLED: 'false',
    GEMINI_SANDBOX: 'false',
    // why: fatal errors are printed in red escape codes otherwise, which end up in the attempt's error.
    NO_COLOR: '1',
    ...routedEndpoint(activation, geminiCliEndpointEnv),
  };
  const model = activation.model;
  const args = [
    '--output-format',
    'stream-json',
    '--approval-mode',
    'yolo',
    // why: a headless run in an untrusted folder exits at once (code 55); the worktree is Warren's own.
    '--skip-trust',
    // Without -m the CLI routes each prompt itself ("auto": a classifier call to a flash-lite model
    // first), which a Warren endpoint may not serve.
    ...(model ? ['--model', model.model] : []),
    ...(resumeSessionId !== undefined ? ['--resume', resumeSessionId] : []),
    ...activation.extraArgs,
  ];
  return {
    args,
    env,
    stdin: activation.prompt,
    files: { [path.join(home, '.gemini', 'settings.json')]: `${JSON.stringify(settings, null, 2)}\n` },
  };
}
