/**
 * The Goose adapter through the real shared CLI-agent executor, with a stand-in for the `goose` binary.
 *
 * Goose is a release binary downloaded from GitHub and cannot be installed on this machine, so these tests
 * do not run Goose. The stand-in is a small Node script written at test time under the name `goose`: it
 * records the argv, environment, working directory and stdin it was started with, prints one of the
 * reconstructed stream-json transcripts from test/fixtures/cli-agents/goose and edits a file, as Goose
 * would. What is checked is Warren's side: the command line, stdin and environment the adapter builds,
 * the config file it writes in the private home, that no runner secret reaches the process, and that the
 * executor turns the output into events and a result. Whether real Goose accepts these flags is for a run
 * against the real binary to confirm.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelAssignment } from '../../../core/model-endpoints.ts';
import type { VerificationRound } from '../../../core/types.ts';
import { runProcess } from '../../run-process.ts';
import type { ExecutorContext, ExecutorEvent } from '../../spec.ts';
import { createTestContext } from '../../testing/create-test-context.ts';
import { createTestTask } from '../../testing/create-test-task.ts';
import { createGooseExecutor } from './goose-adapter.ts';

const fixtures = path.resolve(import.meta.dirname, '../../../../test/fixtures/cli-agents/goose');
const endpointKey = 'sk-standin-endpoint-key-0002';
const grantedToken = 'ghp_grantedStandInToken654321';
const runnerSecret = 'runner-secret-never-in-the-cli-env-43';

/** What the stand-in recorded about how it was started. */
interface StandInRecord {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  stdin: string;
}

/** What the stand-in does on its next start. */
interface StandInScript {
  fixture: string;
  exitCode?: number;
  edit?: { path: string; content: string };
}

// The stand-in binary: a Node script (with this Node's absolute path in its shebang, so it needs nothing
// from PATH) reading its instructions from stand-in.json beside it.
const standInSource = `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
const config = JSON.parse(fs.readFileSync(path.join(__dirname, 'stand-in.json'), 'utf8'));
if (process.argv.includes('--version')) {
  process.stdout.write(config.version + '\\n');
  process.exit(0);
}
let stdin = '';
try { stdin = fs.readFileSync(0, 'utf8'); } catch {}
fs.writeFileSync(config.recordPath, JSON.stringify({ argv: process.argv.slice(2), env: process.env, cwd: process.cwd(), stdin }));
if (config.edit) fs.writeFileSync(path.join(process.cwd(), config.edit.path), config.edit.content);
process.stdout.write(fs.readFileSync(config.fixture, 'utf8'));
process.exit(config.exitCode ?? 0);
`;

describe('the Goose adapter through the CLI-agent executor, with a stand-in for the goose binary', () => {
  let root: string;
  let worktree: string;
  let binaryPath: string;
  let events: ExecutorEvent[];
  let runs: number;
  const homes = new Set<string>();

  beforeEach(async () => {
    root = await realpath(await mkdtemp(path.join(tmpdir(), 'warren-goose-standin-')));
    worktree = path.join(root, 'worktree');
    await mkdir(path.join(worktree, 'src'), { recursive: true });
    await writeFile(
      path.join(worktree, 'src', 'math.js'),
      'export function add(a, b) {\n  return a - b;\n}\n',
    );
    await git(['init', '--quiet', '--initial-branch=main']);
    await git(['add', '--all']);
    await git(['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'initial']);
    await mkdir(path.join(root, 'bin'));
    binaryPath = path.join(root, 'bin', 'goose');
    await writeFile(binaryPath, standInSource);
    await chmod(binaryPath, 0o755);
    events = [];
    runs = 0;
    process.env.WARREN_E2E_RUNNER_SECRET = runnerSecret;
  });

  afterEach(async () => {
    delete process.env.WARREN_E2E_RUNNER_SECRET;
    for (const home of homes) await rm(home, { recursive: true, force: true });
    homes.clear();
    await rm(root, { recursive: true, force: true });
  });

  async function git(args: string[]): Promise<void> {
    const result = await runProcess({
      command: ['git', ...args],
      cwd: worktree,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: worktree },
      timeoutMs: 10_000,
      maxOutputBytes: 10_000,
    });
    if (result.exitCode !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.output}`);
  }

  /** Sets what the stand-in does next; returns where it will record how it was started. */
  async function script(next: StandInScript): Promise<string> {
    runs += 1;
    const recordPath = path.join(root, `record-${runs}.json`);
    await writeFile(
      path.join(root, 'bin', 'stand-in.json'),
      JSON.stringify({
        ...next,
        fixture: path.join(fixtures, next.fixture),
        recordPath,
        version: 'goose 1.16.1',
      }),
    );
    return recordPath;
  }

  async function record(recordPath: string): Promise<StandInRecord> {
    const recorded = JSON.parse(await readFile(recordPath, 'utf8')) as StandInRecord;
    homes.add(recorded.env.HOME!);
    return recorded;
  }

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

  function context(overrides: Partial<ExecutorContext> = {}): ExecutorContext {
    return createTestContext(worktree, {
      task: createTestTask({
        title: 'Fix add',
        instructions: 'add() must return the sum of its arguments.',
        executor: 'goose',
        successCriteria: [{ description: 'tests pass', command: 'node --test' }],
      }),
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: worktree,
        LANG: 'C.UTF-8',
        GITHUB_TOKEN: grantedToken,
      },
      grantSecrets: { 'github:read': { GITHUB_TOKEN: grantedToken } },
      emit: (event) => events.push(event),
      ...overrides,
    });
  }

  const executor = () =>
    createGooseExecutor({ binaryPath, resolveApiKey: () => Promise.resolve(endpointKey) });

  it('runs goose headless with the prompt on stdin, its state in the private home and no runner secret', async () => {
    const recordPath = await script({
      fixture: 'edit-success.jsonl',
      edit: { path: 'src/math.js', content: 'export function add(a, b) {\n  return a + b;\n}\n' },
    });
    const result = await executor().run(
      context({ model: model('openai-compatible', 'http://127.0.0.1:9/v1') }),
    );
    const started = await record(recordPath);

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
    expect(started.cwd).toBe(worktree);
    expect(started.stdin).toContain('# Task: Fix add');
    expect(started.stdin).toContain('checked by running: `node --test`');

    const home = started.env.HOME!;
    expect(path.isAbsolute(home)).toBe(true);
    expect(home.startsWith(worktree)).toBe(false);
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

    expect(events.filter((event) => event.type === 'tool-call').map((event) => event.toolName)).toEqual([
      'developer__text_editor',
      'developer__text_editor',
      'developer__shell',
    ]);
    expect(events.filter((event) => event.type === 'usage')).toEqual([
      expect.objectContaining({
        inputTokens: 9105,
        outputTokens: 207,
        endpoint: 'scripted',
        costUsd: (9105 * 3 + 207 * 15) / 1e6,
      }),
    ]);
    expect(events).toContainEqual({ type: 'file-change', path: 'src/math.js', change: 'modified' });
  });

  it('continues a fix round in the same named session, with only the failed verification on stdin', async () => {
    const first = await script({ fixture: 'edit-success.jsonl' });
    const firstResult = await executor().run(context({ model: model('openai', 'http://127.0.0.1:9/v1') }));
    expect(firstResult.status).toBe('succeeded');
    const firstStart = await record(first);
    if (firstResult.status !== 'succeeded') return;

    const feedback: VerificationRound = {
      round: 1,
      passed: false,
      criteria: [
        {
          description: 'tests pass',
          command: 'node --test',
          passed: false,
          exitCode: 1,
          timedOut: false,
          durationMs: 12,
          output: "AssertionError: expected add('1', 2) to be 3",
        },
      ],
    };
    const second = await script({ fixture: 'resumed.jsonl' });
    const resumed = await executor().resume!(
      context({ model: model('openai', 'http://127.0.0.1:9/v1'), feedback }),
      firstResult.session,
    );
    const secondStart = await record(second);

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
    const anthropic = await script({ fixture: 'cache-and-cost.jsonl' });
    expect(
      (await executor().run(context({ model: model('anthropic', 'http://127.0.0.1:9/v1') }))).status,
    ).toBe('succeeded');
    const anthropicEnv = (await record(anthropic)).env;
    expect(anthropicEnv).toMatchObject({
      GOOSE_PROVIDER: 'anthropic',
      ANTHROPIC_HOST: 'http://127.0.0.1:9',
      ANTHROPIC_API_KEY: endpointKey,
    });
    expect(Object.keys(anthropicEnv).filter((name) => name.startsWith('OPENAI_'))).toEqual([]);

    const google = await script({ fixture: 'cache-and-cost.jsonl' });
    expect(
      (await executor().run(context({ model: model('google', 'http://127.0.0.1:9/v1beta') }))).status,
    ).toBe('succeeded');
    expect((await record(google)).env).toMatchObject({
      GOOSE_PROVIDER: 'google',
      GOOGLE_HOST: 'http://127.0.0.1:9',
      GOOGLE_API_KEY: endpointKey,
    });
  });

  it('reports an agent error as a failure that a retry cannot fix, though goose exits 0', async () => {
    const recordPath = await script({ fixture: 'auth-error.jsonl' });
    const result = await executor().run(context({ model: model('openai', 'http://127.0.0.1:9/v1') }));
    await record(recordPath);
    expect(result).toMatchObject({ status: 'failed', error: { kind: 'agent_error', retryable: false } });
    if (result.status === 'failed')
      expect(result.error.message).toContain('Authentication error: Incorrect API key');
  });

  it('reports an early exit with its code', async () => {
    const recordPath = await script({ fixture: 'early-exit.jsonl', exitCode: 1 });
    const result = await executor().run(context({ model: model('openai', 'http://127.0.0.1:9/v1') }));
    await record(recordPath);
    expect(result).toMatchObject({ status: 'failed', error: { kind: 'exit_code' } });
    if (result.status === 'failed') expect(result.error.message).toMatch(/^goose exited with code 1/);
  });

  it('starts without an endpoint too, leaving the provider to the task environment', async () => {
    const recordPath = await script({ fixture: 'total-tokens-only.jsonl' });
    const result = await executor().run(context());
    const started = await record(recordPath);
    expect(result.status).toBe('succeeded');
    expect(Object.keys(started.env).filter((name) => name.startsWith('GOOSE_PROVIDER'))).toEqual([]);
    expect(existsSync(path.join(started.env.HOME!, '.config', 'goose', 'config.yaml'))).toBe(true);
  });

  it('detects the stand-in as goose 1.16.1', async () => {
    await script({ fixture: 'edit-success.jsonl' });
    expect(await executor().detect!()).toEqual({ available: true, version: '1.16.1' });
  });
});
