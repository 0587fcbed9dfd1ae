/**
 * The shared CLI-agent executor, driven through a small adapter whose "CLI" is a real Node script written
 * at test time (it prints JSON lines, edits files, dumps its environment, ignores SIGTERM, leaves a
 * grandchild running...). The real CLIs are tested end to end in test/cli-agents/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelAssignment } from '../../core/model-endpoints.ts';
import type { VerificationRound } from '../../core/types.ts';
import type { ExecutorEvent } from '../spec.ts';
import { createTestContext } from '../testing/create-test-context.ts';
import { createTestTask } from '../testing/create-test-task.ts';
import type { CliAgentAdapter, CliOutcome, ResumedSession } from './cli-agent-adapter.ts';
import { createCliAgentExecutor } from './create-cli-agent-executor.ts';

// The stand-in CLI: its behaviour is chosen by FAKE_MODE, which the adapter sets from the task title.
const fakeCliSource = `#!/usr/bin/env node
const fs = require('node:fs');
const { spawn } = require('node:child_process');
const mode = process.env.FAKE_MODE;
const out = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
const prompt = process.argv[process.argv.length - 1];
if (process.env.FAKE_DUMP) fs.writeFileSync(process.env.FAKE_DUMP, JSON.stringify({ env: process.env, argv: process.argv.slice(2), cwd: process.cwd() }));
if (mode === 'edit') {
  out({ type: 'text', text: 'Editing hello.txt; secret ' + (process.env.GRANTED_TOKEN || 'none') });
  out({ type: 'tool', id: 't1', name: 'write', input: { path: 'hello.txt' } });
  fs.writeFileSync('hello.txt', 'hello\\n');
  fs.rmSync('README.md', { force: true });
  out({ type: 'usage', input: 1000, output: 200 });
  out({ type: 'usage', input: 500, output: 100 });
  out({ type: 'result', ok: true, session: 'sess-1', summary: 'wrote hello.txt (prompt ' + prompt.length + ' chars)' });
} else if (mode === 'garbage') {
  process.stdout.write('not json at all\\n{"type":"text","te');
  process.stdout.write('xt":"split across writes"}\\r\\n');
  out({ type: 'mystery' });
  out({ type: 'result', ok: true, session: 'sess-2' });
  process.stdout.write('{"type":"text","text":"truncated');
} else if (mode === 'early-exit') {
  out({ type: 'text', text: 'starting' });
  process.stderr.write('fatal: the model endpoint refused the key\\n');
  process.exit(3);
} else if (mode === 'stubborn') {
  process.on('SIGTERM', () => out({ type: 'text', text: 'ignoring SIGTERM' }));
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  fs.writeFileSync(process.env.FAKE_PIDS, JSON.stringify([process.pid, child.pid]));
  out({ type: 'text', text: 'waiting forever' });
  setInterval(() => {}, 1000);
} else if (mode === 'resume') {
  out({ type: 'result', ok: true, session: process.argv.includes('--resume') ? 'sess-resumed' : 'sess-first', summary: prompt.slice(0, 200) });
}
`;

interface FakeLine {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
  output?: number;
  ok?: boolean;
  session?: string;
  summary?: string;
}

/** What each parser the fake adapter created was told about the session it continues. */
const parsersResumed: Array<ResumedSession | undefined> = [];

function fakeAdapter(extra: Record<string, string>): CliAgentAdapter {
  return {
    name: 'fake-cli',
    binary: 'fake-cli',
    providers: ['anthropic'],
    prepare: (activation) => ({
      args: [...activation.extraArgs, activation.prompt],
      env: { FAKE_MODE: activation.context.task.title, FAKE_BASE_URL: activation.baseUrl ?? '', ...extra },
      files: { [path.join(activation.homeDir, 'config.json')]: '{"telemetry":false}\n' },
    }),
    prepareResume: (activation, sessionId) => ({
      args: ['--resume', sessionId, activation.prompt],
      env: { FAKE_MODE: 'resume', ...extra },
    }),
    createParser(resumed) {
      parsersResumed.push(resumed);
      let outcome: CliOutcome = { succeeded: false, errorMessage: 'no result line' };
      return {
        line(line) {
          let parsed: FakeLine;
          try {
            parsed = JSON.parse(line) as FakeLine;
          } catch {
            return [{ type: 'output', stream: 'stdout', text: `${line}\n` }];
          }
          switch (parsed.type) {
            case 'text':
              return [{ type: 'text-delta', text: parsed.text ?? '' }];
            case 'tool':
              return [
                { type: 'tool-call', toolCallId: parsed.id!, toolName: parsed.name!, input: parsed.input },
              ];
            case 'usage':
              return [
                {
                  type: 'usage',
                  inputTokens: (parsed as { input: number }).input,
                  outputTokens: parsed.output ?? 0,
                },
              ];
            case 'result':
              outcome = {
                succeeded: parsed.ok === true,
                ...(parsed.session ? { sessionId: parsed.session } : {}),
                ...(parsed.summary ? { summary: parsed.summary } : {}),
              };
              return [];
            default:
              return [];
          }
        },
        finish: () => ({ events: [], outcome }),
      };
    },
  };
}

const model: ModelAssignment = {
  endpoint: {
    name: 'claude-box',
    provider: 'anthropic',
    baseUrl: 'http://127.0.0.1:9/v1',
    apiKeyEnv: 'WARREN_FAKE_CLI_MODEL_KEY',
  },
  model: 'claude-test',
  pricing: { inputPerMillionUsd: 3, outputPerMillionUsd: 15 },
};

describe('createCliAgentExecutor', () => {
  let root: string;
  let binDir: string;
  let binaryPath: string;
  let scratch: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'warren-fake-cli-repos-'));
    binDir = await mkdtemp(path.join(os.tmpdir(), 'warren-fake-cli-'));
    binaryPath = path.join(binDir, 'fake-cli');
    await writeFile(binaryPath, fakeCliSource);
    await chmod(binaryPath, 0o755);
    process.env.WARREN_FAKE_CLI_MODEL_KEY = 'sk-fake-model-key-123456';
    process.env.WARREN_FAKE_RUNNER_SECRET = 'runner-only-secret-abcdef';
  });
  afterAll(async () => {
    delete process.env.WARREN_FAKE_CLI_MODEL_KEY;
    delete process.env.WARREN_FAKE_RUNNER_SECRET;
    await rm(binDir, { recursive: true, force: true });
    await rm(root, { recursive: true, force: true });
  });

  async function worktree(): Promise<string> {
    const repo = await mkdtemp(path.join(root, 'repo-'));
    await writeFile(path.join(repo, 'README.md'), '# demo\n');
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@warren.invalid', ...args], {
        cwd: repo,
      });
    git('init', '-q');
    git('add', '--all');
    git('commit', '-qm', 'initial');
    scratch = await mkdtemp(path.join(os.tmpdir(), 'warren-fake-cli-scratch-'));
    return repo;
  }

  function contextFor(worktreePath: string, title: string, events: ExecutorEvent[], overrides = {}) {
    return createTestContext(worktreePath, {
      task: createTestTask({ title }),
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: path.join(scratch, 'home'),
        TMPDIR: scratch,
        LANG: 'C.UTF-8',
        GRANTED_TOKEN: 'granted-token-value-42',
      },
      grantSecrets: { 'github:read': { GRANTED_TOKEN: 'granted-token-value-42' } },
      model,
      emit: (event: ExecutorEvent) => events.push(event),
      ...overrides,
    });
  }

  it('runs the CLI in the worktree with an environment built from scratch and reports what it did', async () => {
    const repo = await worktree();
    const dump = path.join(scratch, 'dump.json');
    const executor = createCliAgentExecutor(fakeAdapter({ FAKE_DUMP: dump }), {
      binaryPath,
      extraArgs: ['--verbose'],
    });
    const events: ExecutorEvent[] = [];
    const result = await executor.run(contextFor(repo, 'edit', events));

    expect(result).toMatchObject({
      status: 'succeeded',
      session: {
        executor: 'fake-cli',
        sessionId: 'sess-1',
        usageSoFar: { inputTokens: 1500, outputTokens: 300 },
      },
      usage: { inputTokens: 1500, outputTokens: 300, model: 'claude-test', endpoint: 'claude-box' },
    });
    expect(result.status === 'succeeded' && result.usage?.costUsd).toBeCloseTo(
      (1500 * 3 + 300 * 15) / 1e6,
      10,
    );

    const seen = JSON.parse(await readFile(dump, 'utf8')) as {
      env: Record<string, string>;
      argv: string[];
      cwd: string;
    };
    expect(seen.cwd).toBe(repo);
    expect(seen.argv[0]).toBe('--verbose');
    expect(seen.argv.at(-1)).toContain('# Task: edit');
    expect(seen.env.HOME).toBe(path.join(scratch, 'home', '.warren-fake-cli'));
    expect(seen.env.GRANTED_TOKEN).toBe('granted-token-value-42');
    expect(seen.env.FAKE_BASE_URL).toBe('http://127.0.0.1:9/v1');
    // Nothing of the runner's own environment leaks in.
    expect(seen.env.WARREN_FAKE_RUNNER_SECRET).toBeUndefined();
    expect(seen.env.WARREN_FAKE_CLI_MODEL_KEY).toBeUndefined();
    expect(existsSync(path.join(seen.env.HOME!, 'config.json'))).toBe(true);

    expect(events).toContainEqual({
      type: 'tool-call',
      toolCallId: 't1',
      toolName: 'write',
      input: { path: 'hello.txt' },
    });
    expect(events).toContainEqual({ type: 'file-change', path: 'hello.txt', change: 'added' });
    expect(events).toContainEqual({ type: 'file-change', path: 'README.md', change: 'deleted' });
    const usage = events.filter((event) => event.type === 'usage');
    expect(usage).toHaveLength(2);
    expect(usage[0]).toMatchObject({
      inputTokens: 1000,
      outputTokens: 200,
      endpoint: 'claude-box',
      model: 'claude-test',
    });
    // The granted secret printed by the CLI is redacted in events.
    const text = events.flatMap((event) => (event.type === 'text-delta' ? [event.text] : [])).join('');
    expect(text).toContain('[REDACTED]');
    expect(text).not.toContain('granted-token-value-42');
    expect(executor.lastTimings?.processMs).toBeGreaterThan(0);
  });

  it('reads garbage, lines split across writes and a truncated last line without failing', async () => {
    const repo = await worktree();
    const events: ExecutorEvent[] = [];
    const result = await createCliAgentExecutor(fakeAdapter({}), { binaryPath }).run(
      contextFor(repo, 'garbage', events),
    );
    expect(result).toMatchObject({ status: 'succeeded', session: { sessionId: 'sess-2' } });
    expect(events).toContainEqual({ type: 'text-delta', text: 'split across writes' });
    expect(events).toContainEqual({ type: 'output', stream: 'stdout', text: 'not json at all\n' });
    expect(events).toContainEqual({
      type: 'output',
      stream: 'stdout',
      text: '{"type":"text","text":"truncated\n',
    });
  });

  it('fails an early exit with the exit code and the CLI’s last words', async () => {
    const repo = await worktree();
    const events: ExecutorEvent[] = [];
    const result = await createCliAgentExecutor(fakeAdapter({}), { binaryPath }).run(
      contextFor(repo, 'early-exit', events),
    );
    expect(result.status).toBe('failed');
    if (result.status !== 'failed') return;
    expect(result.error.kind).toBe('agent_error');
    expect(result.error.message).toContain('fake-cli exited with code 3: no result line');
    expect(result.error.message).toContain('fake-cli stderr: fatal: the model endpoint refused the key');
    expect(events).toContainEqual({
      type: 'output',
      stream: 'stderr',
      text: 'fatal: the model endpoint refused the key\n',
    });
  });

  it('kills the whole process group at the timeout, SIGKILLing a CLI that ignores SIGTERM', async () => {
    const repo = await worktree();
    const pidsFile = path.join(scratch, 'pids.json');
    const executor = createCliAgentExecutor(fakeAdapter({ FAKE_PIDS: pidsFile }), {
      binaryPath,
      killGracePeriodMs: 300,
    });
    const result = await executor.run(contextFor(repo, 'stubborn', [], { timeoutMs: 1_500 }));
    expect(result).toMatchObject({ status: 'failed', error: { kind: 'timeout', retryable: true } });
    const pids = JSON.parse(await readFile(pidsFile, 'utf8')) as number[];
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(isAlive(pid), `process ${pid} is still running`).toBe(false);
  });

  it('stops at once when the attempt is aborted', async () => {
    const repo = await worktree();
    const pidsFile = path.join(scratch, 'pids.json');
    const controller = new AbortController();
    const executor = createCliAgentExecutor(fakeAdapter({ FAKE_PIDS: pidsFile }), {
      binaryPath,
      killGracePeriodMs: 200,
    });
    const running = executor.run(contextFor(repo, 'stubborn', [], { abortSignal: controller.signal }));
    setTimeout(() => controller.abort(), 500);
    expect(await running).toMatchObject({ status: 'failed', error: { kind: 'cancelled' } });
    const pids = JSON.parse(await readFile(pidsFile, 'utf8')) as number[];
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });

  it('continues the session in a fix round with only the evidence as prompt', async () => {
    const repo = await worktree();
    const executor = createCliAgentExecutor(fakeAdapter({}), { binaryPath });
    const first = await executor.run(contextFor(repo, 'resume', []));
    expect(first).toMatchObject({ status: 'succeeded', session: { sessionId: 'sess-first' } });
    const feedback: VerificationRound = {
      round: 1,
      passed: false,
      criteria: [
        {
          description: 'tests pass',
          command: 'npm test',
          passed: false,
          exitCode: 1,
          timedOut: false,
          output: 'AssertionError: 2 !== 3',
          durationMs: 5,
        },
      ],
    };
    const second = await executor.resume!(
      contextFor(repo, 'resume', [], { feedback }),
      first.status === 'succeeded' ? first.session : undefined,
    );
    expect(second).toMatchObject({ status: 'succeeded', session: { sessionId: 'sess-resumed' } });
    // The resumed run's parser knows the session it continues and what that session reported so far.
    expect(parsersResumed.at(-1)).toEqual({
      sessionId: 'sess-first',
      usageSoFar: { inputTokens: 0, outputTokens: 0 },
    });
    expect(second.status === 'succeeded' && second.summary).toMatch(
      /^Warren checked your work \(verification round 1\)/,
    );
  });

  it('refuses a model of a provider the CLI does not speak, and a missing binary, with clear errors', async () => {
    const repo = await worktree();
    const openai: ModelAssignment = {
      ...model,
      endpoint: { ...model.endpoint, name: 'gpt-box', provider: 'openai' },
    };
    const wrong = await createCliAgentExecutor(fakeAdapter({}), { binaryPath }).run(
      contextFor(repo, 'edit', [], { model: openai }),
    );
    expect(wrong).toMatchObject({ status: 'failed', error: { kind: 'invalid_input', retryable: false } });
    expect(wrong.status === 'failed' && wrong.error.message).toContain(
      'it speaks openai, and fake-cli speaks anthropic',
    );

    const missing = createCliAgentExecutor(fakeAdapter({}), { binaryPath: path.join(binDir, 'nope') });
    expect(await missing.detect!()).toMatchObject({ available: false });
    const result = await missing.run(contextFor(repo, 'edit', []));
    expect(result).toMatchObject({ status: 'failed', error: { kind: 'spawn_failed' } });
    expect(result.status === 'failed' && result.error.message).toContain('is not an executable file');
  });

  it('detects the version of the binary', async () => {
    const versioned = path.join(binDir, 'versioned-cli');
    await writeFile(versioned, '#!/bin/sh\necho "fake-cli 1.42.7 (build abc)"\n');
    await chmod(versioned, 0o755);
    expect(await createCliAgentExecutor(fakeAdapter({}), { binaryPath: versioned }).detect!()).toEqual({
      available: true,
      version: '1.42.7',
    });
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
