/**
 * The Goose adapter through the real shared CLI-agent executor, with a stand-in for the `goose` binary.
 *
 * Goose is a release binary downloaded from GitHub and cannot be installed on this machine, so these tests
 * do not run Goose. The stand-in (`../testing/stand-in-cli.ts`), a Node script under the name `goose`,
 * records the argv, environment, working directory and stdin it was started with, prints one of the
 * reconstructed stream-json transcripts from test/fixtures/cli-agents/goose and edits a file, as Goose
 * would. What is checked is Warren's side: the command line, stdin and environment the adapter builds,
 * the config file it writes in the private home, that no runner secret reaches the process, and that the
 * executor turns the output into events and a result. Whether real Goose accepts these flags is for a run
 * against the real binary to confirm.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelAssignment } from '../../../core/model-endpoints.ts';
import { createStandInCli } from '../testing/create-stand-in-cli.ts';
import { createGooseExecutor } from './goose-adapter.ts';

const endpointKey = 'sk-standin-endpoint-key-0002';
const grantedToken = 'ghp_grantedStandInToken654321';
const runnerSecret = 'runner-secret-never-in-the-cli-env-43';

describe('the Goose adapter through the CLI-agent executor, with a stand-in for the goose binary', () => {
  const standIn = createStandInCli({
    cli: 'goose',
    createExecutor: createGooseExecutor,
    endpointKey,
    version: 'goose 1.16.1',
    grantedToken,
    runnerSecret,
  });
  beforeEach(() => standIn.setUp());
  afterEach(() => standIn.tearDown());

  function model(provider: ModelAssignment['endpoint']['provider'], baseUrl: string): ModelAssignment {
    return {
      endpoint: {
        name: 'scripted',
        provider,
        baseUrl,
        apiKeyEnv: 'WARREN_TEST_STANDIN_KEY',
        ...(provider === 'openai' ? { headers: { 'X-Route': 'blue' } } : {}),
      },
      model: 'scripted-model',
      pricing: { inputPerMillionUsd: 3, outputPerMillionUsd: 15 },
      contextWindow: 64_000,
    };
  }

  it('runs goose headless with the prompt on stdin, its state in the private home and no runner secret', async () => {
    const { result, started } = await standIn.run(
      {
        fixture: 'edit-success.jsonl',
        edit: { path: 'src/math.js', content: 'export function add(a, b) {\n  return a + b;\n}\n' },
      },
      { model: model('openai-compatible', 'http://127.0.0.1:9/v1') },
    );

    expect(result).toMatchObject({
      status: 'succeeded',
      summary: 'Fixed `add` in src/math.js: it now returns `a + b`, and the tests pass.',
      usage: { inputTokens: 9105, outputTokens: 207, model: 'scripted-model', endpoint: 'scripted' },
    });
    expect(started.argv).toEqual([
      'run',
      '--instructions',
      '-',
      '--name',
      'warren-att_test',
      '--output-format',
      'stream-json',
      '--quiet',
    ]);
    expect(started.cwd).toBe(standIn.worktree);
    expect(started.stdin).toContain('# Task: Fix add');
    expect(started.stdin).toContain('checked by running: `node --test`');

    const home = started.env.HOME!;
    expect(path.isAbsolute(home)).toBe(true);
    expect(home.startsWith(standIn.worktree)).toBe(false);
    expect(started.env).toEqual({
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      LANG: 'C.UTF-8',
      TMPDIR: tmpdir(),
      // The run's tag, by which processes that leave the group are found and stopped.
      WARREN_PROCESS_TAG: expect.any(String),
      GITHUB_TOKEN: grantedToken,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      XDG_STATE_HOME: path.join(home, '.local', 'state'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
      GOOSE_MODE: 'auto',
      GOOSE_DISABLE_KEYRING: '1',
      GOOSE_TELEMETRY_OFF: '1',
      NO_COLOR: '1',
      GOOSE_PROVIDER: 'openai',
      GOOSE_MODEL: 'scripted-model',
      GOOSE_FAST_MODEL: 'scripted-model',
      GOOSE_CONTEXT_LIMIT: '64000',
      OPENAI_HOST: 'http://127.0.0.1:9',
      OPENAI_BASE_PATH: 'v1/chat/completions',
      OPENAI_API_KEY: endpointKey,
    });
    expect(JSON.stringify(started.env)).not.toContain(runnerSecret);
    expect(started.argv.join(' ')).not.toContain(endpointKey);

    const config = await readFile(path.join(home, '.config', 'goose', 'config.yaml'), 'utf8');
    expect(config).toContain('GOOSE_MODE: auto\n');
    expect(config).toContain('GOOSE_TELEMETRY_ENABLED: false\n');
    expect(config).toMatch(/extensions:\n {2}developer:\n(?: {4}.+\n)*? {4}enabled: true\n/);

    expect(
      standIn.events.filter((event) => event.type === 'tool-call').map((event) => event.toolName),
    ).toEqual(['developer__text_editor', 'developer__text_editor', 'developer__shell']);
    expect(standIn.events.filter((event) => event.type === 'usage')).toEqual([
      expect.objectContaining({
        inputTokens: 9105,
        outputTokens: 207,
        endpoint: 'scripted',
        costUsd: (9105 * 3 + 207 * 15) / 1e6,
      }),
    ]);
    expect(standIn.events).toContainEqual({ type: 'file-change', path: 'src/math.js', change: 'modified' });
  });

  it('continues a fix round in the same named session, with only the failed verification on stdin', async () => {
    const { resumed, firstStart, secondStart } = await standIn.fixRound(
      model('openai', 'http://127.0.0.1:9/v1'),
      { first: 'edit-success.jsonl', resumed: 'resumed.jsonl' },
    );

    expect(resumed).toMatchObject({
      status: 'succeeded',
      summary: '`add` now converts its arguments with Number() first.',
    });
    expect(secondStart.env.HOME).toBe(firstStart.env.HOME);
    expect(secondStart.argv).toEqual([
      'run',
      '--instructions',
      '-',
      '--resume',
      '--name',
      'warren-att_test',
      '--output-format',
      'stream-json',
      '--quiet',
    ]);
    expect(secondStart.stdin).toContain('verification round 1');
    expect(secondStart.stdin).toContain("AssertionError: expected add('1', 2) to be 3");
    expect(secondStart.stdin).not.toContain('# Task: Fix add');
    // An OpenAI endpoint's headers go in Goose's own variable.
    expect(secondStart.env.OPENAI_CUSTOM_HEADERS).toBe('X-Route=blue');
  });

  it('points Goose at Anthropic and Google endpoints by their roots', async () => {
    const anthropic = await standIn.run(
      { fixture: 'cache-and-cost.jsonl' },
      { model: model('anthropic', 'http://127.0.0.1:9/v1') },
    );
    expect(anthropic.result.status).toBe('succeeded');
    const anthropicEnv = anthropic.started.env;
    expect(anthropicEnv).toMatchObject({
      GOOSE_PROVIDER: 'anthropic',
      ANTHROPIC_HOST: 'http://127.0.0.1:9',
      ANTHROPIC_API_KEY: endpointKey,
    });
    expect(Object.keys(anthropicEnv).filter((name) => name.startsWith('OPENAI_'))).toEqual([]);

    const google = await standIn.run(
      { fixture: 'cache-and-cost.jsonl' },
      { model: model('google', 'http://127.0.0.1:9/v1beta') },
    );
    expect(google.result.status).toBe('succeeded');
    expect(google.started.env).toMatchObject({
      GOOSE_PROVIDER: 'google',
      GOOGLE_HOST: 'http://127.0.0.1:9',
      GOOGLE_API_KEY: endpointKey,
    });
  });

  it('reports an agent error as a failure that a retry cannot fix, though goose exits 0', async () => {
    const { result } = await standIn.run(
      { fixture: 'auth-error.jsonl' },
      { model: model('openai', 'http://127.0.0.1:9/v1') },
    );
    expect(result).toMatchObject({ status: 'failed', error: { kind: 'agent_error', retryable: false } });
    if (result.status === 'failed')
      expect(result.error.message).toContain('Authentication error: Incorrect API key');
  });

  it('reports an early exit with its code', async () => {
    const { result } = await standIn.run(
      { fixture: 'early-exit.jsonl', exitCode: 1 },
      { model: model('openai', 'http://127.0.0.1:9/v1') },
    );
    expect(result).toMatchObject({ status: 'failed', error: { kind: 'exit_code' } });
    if (result.status === 'failed') expect(result.error.message).toMatch(/^goose exited with code 1/);
  });

  it('starts without an endpoint too, leaving the provider to the task environment', async () => {
    const { result, started } = await standIn.run({ fixture: 'total-tokens-only.jsonl' });
    expect(result.status).toBe('succeeded');
    expect(Object.keys(started.env).filter((name) => name.startsWith('GOOSE_PROVIDER'))).toEqual([]);
    expect(existsSync(path.join(started.env.HOME!, '.config', 'goose', 'config.yaml'))).toBe(true);
  });

  it('detects the stand-in as goose 1.16.1', async () => {
    await standIn.script({ fixture: 'edit-success.jsonl' });
    expect(await standIn.executor().detect!()).toEqual({ available: true, version: '1.16.1' });
  });
});
