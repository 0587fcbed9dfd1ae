/**
 * The Aider CLI agent (`aider`, a Python program: `pip install aider-chat`). One activation is one
 * `aider --message-file <prompt>` run: Aider sends the message, applies the model's edits to the worktree
 * and exits. Flags are Aider 0.86's (`aider/args.py`); each is explained where it is set. What Aider does
 * on its own that Warren must stop, and how:
 * - it commits (`--no-auto-commits`, `--no-dirty-commits`) and edits `.gitignore` (`--no-gitignore`);
 * - it writes `.aider.chat.history.md`, `.aider.input.history` and `.aider.tags.cache.v4/` into the git root,
 *   which Warren would commit: the histories are moved into the activation home and the repository map,
 *   whose cache cannot be moved, is off (`--map-tokens 0`; `extraArgs` can turn it back on);
 * - it asks questions: `--yes-always` answers them (it answers "Run shell command?" with no: Aider requires
 *   an explicit yes for shell commands, `aider/io.py` `confirm_ask`), so it cannot run the model's commands
 *   and `--no-suggest-shell-commands` keeps the model from proposing them;
 * - it reaches the internet: update check, release notes, analytics, URL scraping and LiteLLM's price list
 *   are switched off below; without a model and key it starts an OpenRouter OAuth flow (`aider/onboarding.py`)
 *   that waits two minutes for a browser, so a run with neither fails before starting.
 * Warren finds the changed files with git, verifies and commits.
 */
import path from 'node:path';
import type { CliActivation, CliAgentAdapter, CliInvocation } from '../cli-agent-adapter.ts';
import { createCliAgentExecutor, type CliAgentExecutorOptions } from '../create-cli-agent-executor.ts';
import { routedEndpoint } from '../routed-endpoint.ts';
import { aiderEndpoint } from './aider-endpoint.ts';
import { createAiderOutputParser } from './parse-aider-output.ts';

/** Flags of every run, with the reason for each (`aider/args.py` names them). */
const unattendedArgs = [
  // Answer every confirmation with yes (edit files not added to the chat, create files, add mentioned files).
  '--yes-always',
  // Plain text without colours or markdown rendering: the output is parsed line by line.
  '--no-pretty',
  // why: without a terminal prompt_toolkit only warns ("Input is not a terminal"); plain input() is enough.
  '--no-fancy-input',
  // One reply per model call with the server's own token counts; streamed replies are counted by Aider's
  // tokenizer instead.
  '--no-stream',
  // Warren commits, once, after verification.
  '--no-auto-commits',
  '--no-dirty-commits',
  // Do not add `.aider*` to the repository's .gitignore.
  '--no-gitignore',
  // No network calls of Aider's own.
  '--no-check-update',
  '--no-show-release-notes',
  '--no-analytics',
  // URLs in the task would be scraped (and offered to a browser) otherwise.
  '--no-detect-urls',
  // Aider declines shell commands under --yes-always; do not let the model think it ran one.
  '--no-suggest-shell-commands',
  // Warnings about unknown models ask to open the docs; the model metadata below describes the model.
  '--no-show-model-warnings',
  // The repository map's cache (.aider.tags.cache.v4/) lives in the worktree and would be committed.
  '--map-tokens',
  '0',
  '--encoding',
  'utf-8',
];

/** Variables every run gets. */
const baseEnv: Record<string, string> = {
  // why: LiteLLM downloads its model price list from GitHub when it is imported unless told not to.
  LITELLM_LOCAL_MODEL_COST_MAP: 'True',
  // why: python-dotenv ≥ 1.2 then skips .env files, so a repository's .env cannot redirect the endpoint; older
  // versions ignore it, and the --env-file below (loaded last, overriding) covers them.
  PYTHON_DOTENV_DISABLED: '1',
  NO_COLOR: '1',
  // why: Rich wraps at 80 columns when stdout is not a terminal, which would split a line such as
  // "Applied edit to <a long path>"; a wide console keeps each message on one line.
  COLUMNS: '10000',
  // why: the task's LANG may be C; Aider prints the model's text, which is UTF-8.
  PYTHONIOENCODING: 'utf-8',
  // why: --yes-always also says yes to "Open URL for more info?"; `true` is a browser that opens nothing.
  BROWSER: 'true',
};

// Variables from which Aider picks a default model when --model is absent (aider/onboarding.py), plus
// AIDER_MODEL (configargparse reads every option from AIDER_<NAME>).
const defaultModelVariables = [
  'AIDER_MODEL',
  'ANTHROPIC_API_KEY',
  'DEEPSEEK_API_KEY',
  'OPENROUTER_API_KEY',
  'OPENAI_API_KEY',
  'GEMINI_API_KEY',
  'VERTEXAI_PROJECT',
];

/** The Aider adapter. */
export const aiderAdapter: CliAgentAdapter = {
  name: 'aider',
  binary: 'aider',
  providers: ['openai', 'openai-compatible', 'anthropic'],
  prepare: (activation) => aiderInvocation(activation, false),
  // A fix round reads the chat history file of the earlier rounds back into the conversation.
  prepareResume: (activation) => aiderInvocation(activation, true),
  createParser: createAiderOutputParser,
};

/** Builds the Aider executor; the binary is `aider` on PATH unless configured. */
export function createAiderExecutor(options?: CliAgentExecutorOptions) {
  return createCliAgentExecutor(aiderAdapter, options);
}

function aiderInvocation(activation: CliActivation, restoreHistory: boolean): CliInvocation {
  const directory = path.join(activation.homeDir, 'aider');
  const promptFile = path.join(directory, `prompt-round-${activation.round}.md`);
  const files: Record<string, string> = { [promptFile]: activation.prompt };
  const env: Record<string, string> = { ...baseEnv };
  const args = [
    // The prompt from a file: it may be long (failure evidence), and argv is visible to every process.
    '--message-file',
    promptFile,
    ...unattendedArgs,
    '--chat-history-file',
    path.join(directory, 'chat-history.md'),
    '--input-history-file',
    path.join(directory, 'input-history'),
  ];

  const endpoint = routedEndpoint(activation, aiderEndpoint);
  if (endpoint) {
    args.push('--model', endpoint.model);
    Object.assign(env, endpoint.env);
    // Loaded after the repository's .env and with override, so the endpoint wins (aider/main.py
    // load_dotenv_files loads the --env-file last).
    const envFile = path.join(directory, 'endpoint.env');
    files[envFile] = Object.entries(endpoint.env)
      .map(([name, value]) => dotenvLine(name, value))
      .join('');
    const metadataFile = path.join(directory, 'model-metadata.json');
    files[metadataFile] = `${JSON.stringify(endpoint.metadata, null, 2)}\n`;
    args.push('--env-file', envFile, '--model-metadata-file', metadataFile);
    if (endpoint.settings) {
      // JSON is YAML: Aider reads this file with yaml.safe_load.
      const settingsFile = path.join(directory, 'model-settings.yml');
      files[settingsFile] = `${JSON.stringify(endpoint.settings, null, 2)}\n`;
      args.push('--model-settings-file', settingsFile);
    }
  } else if (!defaultModelVariables.some((name) => activation.context.env[name])) {
    throw new Error(
      `no model endpoint is assigned and the task's environment has none of ${defaultModelVariables.join(', ')}; Aider would start an OpenRouter browser login instead of working`,
    );
  }

  if (restoreHistory) args.push('--restore-chat-history');
  args.push(...activation.extraArgs);
  return { args, env, files };
}

/** One `NAME='value'` line of a .env file as python-dotenv reads it. */
function dotenvLine(name: string, value: string): string {
  if (!value.includes("'") && !/[\r\n]/.test(value)) return `${name}='${value}'\n`;
  return `${name}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"\n`;
}
