/**
 * The Aider adapter through the real shared CLI-agent executor, with a stand-in for the `aider` binary.
 *
 * Aider is a Python package and cannot be installed on this machine (no PyPI), so these tests do not run
 * Aider. The stand-in (`../testing/stand-in-cli.ts`), a Node script under the name `aider`, records the
 * argv, environment, working directory and stdin it was started with, prints one of the reconstructed
 * Aider transcripts from test/fixtures/cli-agents/aider and edits a file, as Aider would. What is checked is
 * Warren's side: the command line and environment the adapter builds, the files it writes in the private
 * home, that no runner secret reaches the process, and that the executor turns the output into events and
 * a result. Whether real Aider accepts these flags is for a run against the real binary to confirm.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelAssignment } from '../../../core/model-endpoints.ts';
import { createStandInCli } from '../testing/create-stand-in-cli.ts';
import { createAiderExecutor } from './aider-adapter.ts';

const endpointKey = 'sk-standin-endpoint-key-0001';
const grantedToken = 'ghp_grantedStandInToken123456';
const runnerSecret = 'runner-secret-never-in-the-cli-env-42';

describe('the Aider adapter through the CLI-agent executor, with a stand-in for the aider binary', () => {
  const standIn = createStandInCli({
    cli: 'aider',
    createExecutor: createAiderExecutor,
    endpointKey,
    version: 'aider 0.86.2',
    grantedToken,
    runnerSecret,
  });
  beforeEach(() => standIn.setUp());
  afterEach(() => standIn.tearDown());

  function model(provider: ModelAssignment['endpoint']['provider'], baseUrl: string): ModelAssignment {
    return {
      endpoint: { name: 'scripted', provider, baseUrl, apiKeyEnv: 'WARREN_TEST_STANDIN_KEY' },
      model: provider === 'anthropic' ? 'claude-scripted' : 'scripted-model',
      pricing: { inputPerMillionUsd: 3, outputPerMillionUsd: 15 },
      contextWindow: 128_000,
    };
  }

  it('runs aider unattended with its state in the private home, the endpoint in env and files, and no runner secret', async () => {
    const { result, started } = await standIn.run(
      {
        fixture: 'edit-success.stdout.txt',
        edit: { path: 'src/math.js', content: 'export function add(a, b) {\n  return a + b;\n}\n' },
      },
      { model: model('openai-compatible', 'http://127.0.0.1:9/v1') },
    );

    expect(result).toMatchObject({
      status: 'succeeded',
      summary: 'The bug is that `add` subtracts. I changed it to add its arguments.',
      usage: { inputTokens: 2600, outputTokens: 70, model: 'scripted-model', endpoint: 'scripted' },
    });

    const home = started.env.HOME!;
    expect(path.isAbsolute(home)).toBe(true);
    expect(home.startsWith(standIn.worktree)).toBe(false);
    expect(started.cwd).toBe(standIn.worktree);
    const aiderDirectory = path.join(home, 'aider');
    const promptFile = path.join(aiderDirectory, 'prompt-round-1.md');
    expect(started.argv).toEqual([
      '--message-file',
      promptFile,
      '--yes-always',
      '--no-pretty',
      '--no-fancy-input',
      '--no-stream',
      '--no-auto-commits',
      '--no-dirty-commits',
      '--no-gitignore',
      '--no-check-update',
      '--no-show-release-notes',
      '--no-analytics',
      '--no-detect-urls',
      '--no-suggest-shell-commands',
      '--no-show-model-warnings',
      '--map-tokens',
      '0',
      '--encoding',
      'utf-8',
      '--chat-history-file',
      path.join(aiderDirectory, 'chat-history.md'),
      '--input-history-file',
      path.join(aiderDirectory, 'input-history'),
      '--model',
      'openai/scripted-model',
      '--env-file',
      path.join(aiderDirectory, 'endpoint.env'),
      '--model-metadata-file',
      path.join(aiderDirectory, 'model-metadata.json'),
    ]);
    expect(started.argv.join(' ')).not.toContain(endpointKey);

    expect(started.env).toEqual({
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      LANG: 'C.UTF-8',
      TMPDIR: tmpdir(),
      // The run's tag, by which processes that leave the group are found and stopped.
      WARREN_PROCESS_TAG: expect.any(String),
      GITHUB_TOKEN: grantedToken,
      LITELLM_LOCAL_MODEL_COST_MAP: 'True',
      PYTHON_DOTENV_DISABLED: '1',
      NO_COLOR: '1',
      COLUMNS: '10000',
      PYTHONIOENCODING: 'utf-8',
      BROWSER: 'true',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      OPENAI_API_BASE: 'http://127.0.0.1:9/v1',
      OPENAI_API_KEY: endpointKey,
    });
    expect(JSON.stringify(started.env)).not.toContain(runnerSecret);

    const prompt = await readFile(promptFile, 'utf8');
    expect(prompt).toContain('# Task: Fix add');
    expect(prompt).toContain('checked by running: `node --test`');
    expect(await readFile(path.join(aiderDirectory, 'endpoint.env'), 'utf8')).toBe(
      `OPENAI_BASE_URL='http://127.0.0.1:9/v1'\nOPENAI_API_BASE='http://127.0.0.1:9/v1'\nOPENAI_API_KEY='${endpointKey}'\n`,
    );
    expect(JSON.parse(await readFile(path.join(aiderDirectory, 'model-metadata.json'), 'utf8'))).toEqual({
      'openai/scripted-model': {
        litellm_provider: 'openai',
        mode: 'chat',
        input_cost_per_token: 3 / 1_000_000,
        output_cost_per_token: 15 / 1_000_000,
        max_input_tokens: 128_000,
      },
    });

    // The executor's events: the edit as a tool call, usage priced with the endpoint's prices, the file
    // change found by git.
    expect(standIn.events).toContainEqual({
      type: 'tool-call',
      toolCallId: 'aider-edit-1',
      toolName: 'edit',
      input: { path: 'src/math.js' },
    });
    const usage = standIn.events.filter((event) => event.type === 'usage');
    expect(usage).toEqual([
      expect.objectContaining({
        inputTokens: 1200,
        outputTokens: 18,
        endpoint: 'scripted',
        costUsd: (1200 * 3 + 18 * 15) / 1e6,
      }),
      expect.objectContaining({
        inputTokens: 1400,
        outputTokens: 52,
        endpoint: 'scripted',
        costUsd: (1400 * 3 + 52 * 15) / 1e6,
      }),
    ]);
    expect(standIn.events).toContainEqual({ type: 'file-change', path: 'src/math.js', change: 'modified' });
  });

  it('continues a fix round with the chat history restored and only the failed verification as the message', async () => {
    const { resumed, firstStart, secondStart } = await standIn.fixRound(
      model('openai', 'http://127.0.0.1:9/v1'),
      { first: 'edit-success.stdout.txt', resumed: 'restored-history.stdout.txt' },
    );

    expect(resumed).toMatchObject({
      status: 'succeeded',
      summary:
        'The test expects `add` to handle strings too; it now converts its arguments to numbers first.',
    });
    expect(secondStart.env.HOME).toBe(firstStart.env.HOME);
    const aiderDirectory = path.join(secondStart.env.HOME!, 'aider');
    expect(secondStart.argv).toContain('--restore-chat-history');
    expect(firstStart.argv).not.toContain('--restore-chat-history');
    const history = secondStart.argv[secondStart.argv.indexOf('--chat-history-file') + 1];
    expect(history).toBe(path.join(aiderDirectory, 'chat-history.md'));
    expect(secondStart.argv.slice(0, 2)).toEqual([
      '--message-file',
      path.join(aiderDirectory, 'prompt-round-2.md'),
    ]);
    const message = await readFile(path.join(aiderDirectory, 'prompt-round-2.md'), 'utf8');
    expect(message).toContain('verification round 1');
    expect(message).toContain("AssertionError: expected add('1', 2) to be 3");
    expect(message).not.toContain('# Task: Fix add');
  });

  it('points LiteLLM at an Anthropic endpoint by its root and an anthropic/ model name', async () => {
    const { result, started } = await standIn.run(
      { fixture: 'anthropic-cache.stdout.txt' },
      { model: model('anthropic', 'http://127.0.0.1:9/v1') },
    );
    expect(result.status).toBe('succeeded');
    expect(started.argv[started.argv.indexOf('--model') + 1]).toBe('anthropic/claude-scripted');
    expect(started.env.ANTHROPIC_API_BASE).toBe('http://127.0.0.1:9');
    expect(started.env.ANTHROPIC_API_KEY).toBe(endpointKey);
    expect(Object.keys(started.env).filter((name) => name.startsWith('OPENAI_'))).toEqual([]);
    expect(standIn.events.filter((event) => event.type === 'usage')).toEqual([
      expect.objectContaining({ inputTokens: 12_300, outputTokens: 300 }),
    ]);
  });

  it('reports a refused key as a failure that a retry cannot fix, though aider exits 0', async () => {
    const { result } = await standIn.run(
      { fixture: 'auth-error.stdout.txt' },
      { model: model('openai', 'http://127.0.0.1:9/v1') },
    );
    expect(result).toMatchObject({ status: 'failed', error: { kind: 'agent_error', retryable: false } });
    if (result.status === 'failed') {
      expect(result.error.message).toMatch(/^aider exited with code 0: litellm\.AuthenticationError/);
    }
  });

  it('refuses to start without a model endpoint or a key aider could pick a model from', async () => {
    const recordPath = await standIn.script({ fixture: 'edit-success.stdout.txt' });
    const result = await standIn.executor().run(standIn.context());
    expect(result).toMatchObject({ status: 'failed', error: { kind: 'spawn_failed', retryable: false } });
    if (result.status === 'failed') expect(result.error.message).toContain('OpenRouter browser login');
    expect(existsSync(recordPath)).toBe(false);
  });

  it('detects the stand-in as aider 0.86.2', async () => {
    await standIn.script({ fixture: 'edit-success.stdout.txt' });
    expect(await standIn.executor().detect!()).toEqual({ available: true, version: '0.86.2' });
  });
});
