/**
 * The OpenCode agent (`opencode`, npm `opencode-ai`, a Bun-compiled binary). One activation is one
 * `opencode run --format json`: the prompt on stdin (argv would be visible to every process, limited in
 * length, and `run` wraps a positional message in quotes), JSON events on stdout.
 *
 * OpenCode keeps everything (config, its SQLite session store, logs, caches) under the XDG directories,
 * which point into the activation home, so a fix round finds the session there and continues it with
 * `--session <id>`. Its configuration is the global config file of that home (`opencode.json`), which
 * declares one custom provider, `warren`, for the routed endpoint: the AI SDK provider package OpenCode
 * has built in for the endpoint's protocol, the endpoint's base URL, key and headers, and the one model.
 *
 * What stays off the network (checked against the scripted model server and the CLI's debug logs):
 * - the model catalogue from models.dev (`OPENCODE_DISABLE_MODELS_FETCH`), fetched at every start otherwise;
 * - the session title, otherwise a model call of its own on the first prompt (`--title`);
 * - the npm install of `@opencode-ai/plugin` into the config directory, which OpenCode starts in the
 *   background at every start unless the directory's lock file already lists it (see `pluginLockFile`);
 * - plugins (`--pure`), sharing, auto-update, LSP downloads, formatters.
 *
 * Confinement: `permission.external_directory: deny` makes OpenCode refuse file tools on paths outside the
 * worktree and shell commands whose arguments name such paths (its own parse of the command; the shell
 * itself has no sandbox). Every permission OpenCode would ask a human about is decided here, because in
 * `run` an unanswered question is rejected and a rejection ends the whole run. Running as root needs
 * nothing special: OpenCode neither checks nor refuses it.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { ModelAssignment, ModelProvider } from '../../../core/model-endpoints.ts';
import type { CliActivation, CliAgentAdapter, CliInvocation } from '../cli-agent-adapter.ts';
import { createCliAgentExecutor, type CliAgentExecutorOptions } from '../create-cli-agent-executor.ts';
import { createOpencodeOutputParser } from './parse-opencode-output.ts';

/** The provider id the config declares for the routed endpoint; models are `warren/<model id>`. */
export const OPENCODE_PROVIDER_ID = 'warren';

/** The AI SDK package OpenCode loads for each protocol; all four are built into the binary (no install). */
const providerPackages: Record<ModelProvider, string> = {
  'openai-compatible': '@ai-sdk/openai-compatible',
  // why: `@ai-sdk/openai` speaks the Responses API (`POST /responses`), as Warren's `openai` endpoints do.
  openai: '@ai-sdk/openai',
  anthropic: '@ai-sdk/anthropic',
  google: '@ai-sdk/google',
};

// why: OpenCode caps a model's answer at 32 000 tokens when the model's limit is unknown; with a known
// context window, an answer limit of a quarter of it leaves the rest to the prompt, which servers such as
// vLLM require (prompt + max_tokens must fit the window).
const defaultOutputLimit = 32_000;

/**
 * Permissions. OpenCode's defaults allow everything except three questions (paths outside the project,
 * `.env` files, a repeated identical tool call); in `run` mode a question is rejected and ends the run, so
 * each gets an answer that lets the agent carry on. `task` (subagents) is denied: their model calls are
 * not reported on stdout, so Warren could not count their tokens or cost.
 */
const permission = {
  external_directory: 'deny',
  doom_loop: 'deny',
  task: 'deny',
  read: { '*': 'allow', '*.env': 'deny', '*.env.*': 'deny', '*.env.example': 'allow' },
};

/**
 * OpenCode installs `@opencode-ai/plugin` with npm into every config directory whose `node_modules` is
 * missing or whose `package-lock.json` does not list it (`Npm.install` in its config loader), at every
 * start, in the background. A lock file that lists it and an existing `node_modules` make that a no-op.
 */
const pluginLockFile = {
  name: 'opencode-config',
  lockfileVersion: 3,
  requires: true,
  packages: { '': { dependencies: { '@opencode-ai/plugin': '*' } } },
};

/** The OpenCode adapter. */
export const opencodeAdapter: CliAgentAdapter = {
  name: 'opencode',
  binary: 'opencode',
  providers: ['openai-compatible', 'openai', 'anthropic', 'google'],
  prepare: (activation) => opencodeInvocation(activation, undefined),
  prepareResume: (activation, sessionId) => opencodeInvocation(activation, sessionId),
  createParser: createOpencodeOutputParser,
};

/** Builds the OpenCode executor; the binary is `opencode` on PATH unless configured. */
export function createOpencodeExecutor(options?: CliAgentExecutorOptions) {
  return createCliAgentExecutor(opencodeAdapter, options);
}

/** Where OpenCode's XDG directories go inside the activation home. */
export function opencodeDirectories(homeDir: string) {
  return {
    config: path.join(homeDir, '.config'),
    data: path.join(homeDir, '.local', 'share'),
    cache: path.join(homeDir, '.cache'),
    state: path.join(homeDir, '.local', 'state'),
  };
}

async function opencodeInvocation(
  activation: CliActivation,
  resumeSessionId: string | undefined,
): Promise<CliInvocation> {
  const directories = opencodeDirectories(activation.homeDir);
  const configDir = path.join(directories.config, 'opencode');
  const instructions = await repositoryInstructions(activation.context.worktreePath);
  const config = opencodeConfig(activation, instructions);
  const env: Record<string, string> = {
    XDG_CONFIG_HOME: directories.config,
    XDG_DATA_HOME: directories.data,
    XDG_CACHE_HOME: directories.cache,
    XDG_STATE_HOME: directories.state,
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
    // why: a repository's `opencode.json` or `.opencode/` would be merged over this configuration (its
    // providers, permissions and plugins, and an npm install into the worktree); its instructions file is
    // still read, through `instructions` above.
    OPENCODE_DISABLE_PROJECT_CONFIG: '1',
  };
  const args = [
    'run',
    '--format',
    'json',
    '--pure',
    // Errors and retries (a failing endpoint is retried with backoff for a minute or more) go to stderr,
    // which the executor records; a healthy run prints nothing there.
    '--print-logs',
    '--log-level',
    'WARN',
    ...(resumeSessionId !== undefined
      ? ['--session', resumeSessionId]
      : // why `=`: a title starting with `-` would otherwise be read as an option.
        [`--title=${sessionTitle(activation)}`]),
    ...activation.extraArgs,
  ];
  return {
    args,
    env,
    stdin: activation.prompt,
    files: {
      [path.join(configDir, 'opencode.json')]: `${JSON.stringify(config, null, 2)}\n`,
      [path.join(configDir, 'package-lock.json')]: `${JSON.stringify(pluginLockFile, null, 2)}\n`,
      [path.join(configDir, 'node_modules', '.keep')]:
        'Made by Warren: with node_modules present and package-lock.json listing @opencode-ai/plugin, OpenCode skips its npm install.\n',
    },
  };
}

/**
 * The configuration. The endpoint key is written here (the file is private to the activation home) rather
 * than into an environment variable, so the commands the agent runs (the repository's tests and scripts)
 * do not inherit it.
 */
export function opencodeConfig(
  activation: CliActivation,
  instructions: string[] = [],
): Record<string, unknown> {
  const config: Record<string, unknown> = {
    autoupdate: false,
    share: 'disabled',
    // why: snapshots copy the worktree into a git store of OpenCode's own at every step, for its undo;
    // Warren keeps the worktree's history itself.
    snapshot: false,
    formatter: false,
    lsp: false,
    permission,
    ...(instructions.length > 0 ? { instructions } : {}),
  };
  const model = activation.model;
  if (model) {
    const id = `${OPENCODE_PROVIDER_ID}/${model.model}`;
    config.provider = { [OPENCODE_PROVIDER_ID]: providerConfig(model, activation) };
    config.enabled_providers = [OPENCODE_PROVIDER_ID];
    config.model = id;
    // The small model (session titles, summaries) is the same one: no call goes to another endpoint.
    config.small_model = id;
  }
  return config;
}

function providerConfig(model: ModelAssignment, activation: CliActivation): Record<string, unknown> {
  const options: Record<string, unknown> = { baseURL: activation.baseUrl ?? model.endpoint.baseUrl };
  if (activation.apiKey !== undefined) options.apiKey = activation.apiKey;
  if (model.endpoint.headers && Object.keys(model.endpoint.headers).length > 0) {
    options.headers = model.endpoint.headers;
  }
  const limit =
    model.contextWindow !== undefined
      ? {
          limit: {
            context: model.contextWindow,
            output: Math.min(defaultOutputLimit, Math.floor(model.contextWindow / 4)),
          },
        }
      : {};
  return {
    npm: providerPackages[model.endpoint.provider],
    name: `Warren endpoint ${model.endpoint.name}`,
    options,
    models: { [model.model]: { name: model.model, ...limit } },
  };
}

/**
 * The repository's instructions file, by absolute path: `OPENCODE_DISABLE_PROJECT_CONFIG` also stops
 * OpenCode finding it. Like OpenCode, `AGENTS.md` first, else `CLAUDE.md`.
 */
async function repositoryInstructions(worktreePath: string): Promise<string[]> {
  for (const name of ['AGENTS.md', 'CLAUDE.md']) {
    const file = path.join(worktreePath, name);
    const exists = await access(file).then(
      () => true,
      () => false,
    );
    if (exists) return [file];
  }
  return [];
}

// why: a title is only shown in OpenCode's own session list; 100 characters is plenty there.
const maxTitleLength = 100;

function sessionTitle(activation: CliActivation): string {
  const title = activation.context.task.title.trim().replace(/\s+/g, ' ');
  return title === '' ? `warren ${activation.context.attempt.id}` : title.slice(0, maxTitleLength);
}
