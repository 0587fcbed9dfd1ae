/**
 * The codex executor end to end with the real `codex` binary (the pinned version from the CLI-agent cache):
 * a real hub on SQLite, a real runner offering only this executor, a real git repository, and the scripted
 * model server speaking OpenAI Responses. The scripted model calls Codex's own tools, `apply_patch` (a
 * freeform custom tool: the call carries the raw patch) and `exec_command`, so Codex itself edits the
 * worktree and runs commands, inside its `workspace-write` sandbox.
 */
import { readdir, readFile, readlink, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createHubClient, type HubClient } from '../../src/client/hub-client.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { ModelEndpointInput } from '../../src/core/model-endpoints.ts';
import type { Task, TaskSpecInput } from '../../src/core/types.ts';
import { createCodexExecutor } from '../../src/executors/cli-agents/codex/codex-adapter.ts';
import type { Executor, ExecutorContext, ExecutorEvent } from '../../src/executors/spec.ts';
import { startHub, type RunningHub } from '../../src/hub/start-hub.ts';
import { startRunner, type RunningRunner } from '../../src/runner/start-runner.ts';
import { runGit } from '../../src/vcs/run-git.ts';
import { createGitSandbox, type GitSandbox } from '../../src/vcs/testing/create-git-sandbox.ts';
import { describeWithCliAgent } from '../support/cli-agents/describe-with-cli-agent.ts';
import { PINNED_CLI_AGENTS } from '../support/cli-agents/pinned-cli-agents.ts';
import {
  allText,
  lastToolResult,
  lastUserText,
  offersTool,
  startScriptedModelServer,
  type ModelScript,
  type RecordedModelRequest,
  type ScriptedModelServer,
  type ScriptedTurn,
} from '../support/scripted-model-server/index.ts';
import { waitFor } from '../support/wait-for.ts';

const apiKey = 'codex-e2e-endpoint-key-0000001';
const grantedToken = 'granted-deploy-token-7c2e91';
const ungrantedToken = 'ungranted-prod-token-0d4b58';
const runnerSecret = 'runner-secret-never-granted-e6a3';
const pricing = { inputPricePerMillionUsd: 1.25, outputPricePerMillionUsd: 10 };
// why this model: Codex ships metadata for it, so it offers `apply_patch` as a freeform tool as it does
// against OpenAI; for a model it does not know it warns and offers only its shell tools.
const modelId = 'gpt-5.5';
const sourceFiles = {
  'greet.js': "export const greeting = 'hello';\n",
  'greet.test.js':
    "import assert from 'node:assert/strict';\nimport { greeting } from './greet.js';\nassert.equal(greeting, 'goodbye');\nconsole.log('greeting ok');\n",
  'package.json': '{ "type": "module" }\n',
};
// why outside /tmp: the sandbox lets commands write to /tmp and $TMPDIR as well as the worktree.
const outsideFile = `/warren-codex-e2e-outside-${process.pid}`;
const criterion = { description: 'the greeting test passes', command: 'node greet.test.js' };
// why: Codex starts in well under a second here; a loaded two-core machine can take several.
const taskTimeoutMs = 45_000;

function endpoint(url: string): ModelEndpointInput {
  return {
    name: 'openai',
    provider: 'openai',
    baseUrl: `${url}/v1`,
    apiKeyEnv: 'WARREN_E2E_CODEX_KEY',
    models: [{ id: modelId, tier: 'frontier', ...pricing }],
  };
}

/** An `apply_patch` call that replaces one line of greet.js. */
function patchGreeting(from: string, to: string): ScriptedTurn['toolCalls'] {
  const patch = [
    '*** Begin Patch',
    '*** Update File: greet.js',
    '@@',
    `-export const greeting = '${from}';`,
    `+export const greeting = '${to}';`,
    '*** End Patch',
    '',
  ].join('\n');
  return [{ name: 'apply_patch', input: patch }];
}

/** Wraps an executor so the test sees every normalised event it emits, as the runner does. */
function recordingEvents(executor: Executor, events: ExecutorEvent[]): Executor {
  const recorded = (context: ExecutorContext): ExecutorContext => ({
    ...context,
    emit: (event) => {
      events.push(event);
      context.emit(event);
    },
  });
  return {
    ...executor,
    run: (context) => executor.run(recorded(context)),
    ...(executor.resume
      ? { resume: (context, session) => executor.resume!(recorded(context), session) }
      : {}),
  };
}

function ofType<T extends ExecutorEvent['type']>(events: ExecutorEvent[], type: T) {
  return events.filter((event): event is Extract<ExecutorEvent, { type: T }> => event.type === type);
}

function sum(turns: ScriptedTurn[], field: 'inputTokens' | 'outputTokens'): number {
  return turns.reduce((total, turn) => total + turn.usage![field], 0);
}

/**
 * Pids of live processes whose command line is under `packageDir` (the npm shim and the native binary it
 * starts) or whose working directory is under `directory`.
 */
async function processesOf(packageDir: string, directory: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    if (cmdline.includes(packageDir) || cwd.startsWith(directory)) {
      found.push(`${pid} ${cmdline.replaceAll('\0', ' ')}`);
    }
  }
  return found;
}

describeWithCliAgent('codex', 'the codex executor with the real Codex CLI', (binaryPath) => {
  let sandbox: GitSandbox;
  let model: ScriptedModelServer;
  let hub: RunningHub;
  let admin: HubClient;
  let runner: RunningRunner;
  let source: string;
  let events: ExecutorEvent[];

  async function start(script: ModelScript): Promise<void> {
    model = await startScriptedModelServer({ script, apiKey });
    hub = await startHub({
      dataDir: sandbox.path('hub'),
      port: 0,
      config: {
        leaseMs: 10_000,
        heartbeatIntervalMs: 300,
        maintenanceIntervalMs: 50,
        endpoints: [endpoint(model.url)],
      },
      logger: silentLogger,
    });
    admin = createHubClient({ baseUrl: hub.url, token: hub.adminToken });
    const { token } = await admin.runners.create({ name: 'codex-runner' });
    runner = await startRunner({
      hubUrl: hub.url,
      token,
      workDir: sandbox.path('runner'),
      pollWaitMs: 1_000,
      keepFailedWorktreesMs: 0,
      executors: [recordingEvents(createCodexExecutor({ binaryPath }), events)],
      grantSecrets: {
        'deploy:read': { DEPLOY_TOKEN: grantedToken },
        'prod:write': { PROD_TOKEN: ungrantedToken },
      },
    });
  }

  async function runTask(spec: Partial<TaskSpecInput>): Promise<Task> {
    const { task: created } = await admin.tasks.create({
      title: 'Say goodbye',
      instructions: 'greet.js must export the greeting "goodbye"; node greet.test.js must pass.',
      repo: source,
      executor: 'codex',
      model: `openai/${modelId}`,
      successCriteria: [criterion],
      timeoutMs: taskTimeoutMs,
      ...spec,
    });
    return waitFor<Task>(
      'the task to finish',
      async () => {
        const current = (await admin.tasks.get(created.id))!.task;
        return ['succeeded', 'failed', 'dead'].includes(current.state) ? current : undefined;
      },
      { timeoutMs: 60_000 },
    );
  }

  beforeEach(async () => {
    process.env.WARREN_E2E_CODEX_KEY = apiKey;
    process.env.WARREN_E2E_RUNNER_SECRET = runnerSecret;
    events = [];
    sandbox = await createGitSandbox();
    source = await sandbox.createSourceRepo({ files: sourceFiles });
  });

  afterEach(async () => {
    await runner?.stop({ drainTimeoutMs: 0 });
    await hub?.close();
    await model?.close();
    await sandbox.cleanup();
    delete process.env.WARREN_E2E_RUNNER_SECRET;
    await rm(outsideFile, { force: true });
  });

  it('detects the binary and its version', async () => {
    await expect(createCodexExecutor({ binaryPath }).detect!()).resolves.toEqual({
      available: true,
      version: PINNED_CLI_AGENTS.find((agent) => agent.executor === 'codex')!.version,
    });
  });

  it('edits the worktree with the CLI, passes verification, commits, and records events and usage without leaking secrets', async () => {
    const script: ScriptedTurn[] = [
      {
        name: 'edit',
        text: 'I will change the greeting.',
        toolCalls: patchGreeting('hello', 'goodbye'),
        usage: { inputTokens: 12_000, outputTokens: 80 },
      },
      {
        name: 'test and show the environment',
        when: (request: RecordedModelRequest) =>
          lastToolResult(request)?.output.includes('Success. Updated the following files') === true,
        toolCalls: [
          {
            name: 'exec_command',
            input: {
              cmd:
                'node greet.test.js && echo "granted=${DEPLOY_TOKEN:-absent} ungranted=${PROD_TOKEN:-absent} runner=${WARREN_E2E_RUNNER_SECRET:-absent} key=${WARREN_CODEX_API_KEY:-absent}"; ' +
                `touch ${outsideFile}; echo "outside=$?"`,
            },
          },
        ],
        usage: { inputTokens: 12_400, outputTokens: 60 },
      },
      {
        name: 'summary',
        when: (request: RecordedModelRequest) =>
          lastToolResult(request)?.output.includes('greeting ok') === true,
        text: 'greet.js now exports "goodbye"; node greet.test.js passes.',
        usage: { inputTokens: 12_900, outputTokens: 20 },
      },
    ];
    await start(script);
    const task = await runTask({ grants: ['deploy:read'] });
    const detail = (await admin.tasks.get(task.id))!;
    const attempt = detail.attempts[0]!;
    expect(task.state, JSON.stringify(attempt.error)).toBe('succeeded');

    // The CLI made the edit; verification passed; the branch holds it.
    expect(attempt.verification.map((round) => round.passed)).toEqual([true]);
    const { stdout } = await runGit(['show', `${task.result!.branch}:greet.js`], { cwd: source });
    expect(stdout).toBe("export const greeting = 'goodbye';\n");

    // What the CLI sent: Responses over SSE to the endpoint's base URL, the routed model, the key as a
    // bearer token, its real tools (apply_patch as a custom tool).
    expect(model.requests.map((request) => request.answeredWith)).toEqual(script.map((turn) => turn.name));
    for (const request of model.requests) {
      expect(request.protocol).toBe('openai-responses');
      expect(request.path).toBe('/v1/responses');
      expect(request.model).toBe(modelId);
      expect(request.stream).toBe(true);
      expect(request.headers.authorization).toBe(`Bearer ${apiKey}`);
      // Codex tells the endpoint what it runs with: the config took effect.
      expect(JSON.parse(request.headers['x-codex-turn-metadata']!)).toMatchObject({
        analytics_enabled: false,
        sandbox_mode: 'workspace-write',
        model: modelId,
      });
    }
    const tools = (model.requests[0]!.body as { tools: Array<{ type: string; name?: string }> }).tools;
    expect(tools).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'custom', name: 'apply_patch' }),
        expect.objectContaining({ type: 'function', name: 'exec_command' }),
      ]),
    );
    expect(lastUserText(model.requests[0]!)).toContain('greet.js must export the greeting "goodbye"');
    // Only model calls reached the server (the hub's endpoint health check aside: `GET /v1/models`):
    // no model listing or side calls of Codex's own; its telemetry is off (see codex-config.ts).
    expect(
      model.httpLog
        .map((exchange) => `${exchange.method} ${exchange.path}`)
        .filter((exchange) => exchange !== 'GET /v1/models'),
    ).toEqual(script.map(() => 'POST /v1/responses'));

    // The CLI's shell: the granted credential, not the other grant's, the runner's own or the endpoint's
    // key; and the sandbox keeps it out of the rest of the file system, even as root.
    const shellOutput = lastToolResult(model.requests[2]!)!.output;
    expect(shellOutput).toContain(`granted=${grantedToken} ungranted=absent runner=absent key=absent`);
    expect(shellOutput).toMatch(/outside=[1-9]/);
    for (const request of model.requests) {
      const raw = JSON.stringify({ body: request.body, headers: request.headers, path: request.path });
      expect(raw).not.toContain(runnerSecret);
      expect(raw).not.toContain(ungrantedToken);
      expect(allText(request)).not.toContain(apiKey);
    }

    // The normalised events: text, the CLI's tool calls with their ids and inputs, results, usage.
    const calls = ofType(events, 'tool-call');
    expect(calls.map((event) => event.toolName)).toEqual(['file_change', 'command_execution']);
    expect(calls[0]!.input).toEqual({
      changes: [{ path: expect.stringMatching(/\/greet\.js$/) as unknown, kind: 'update' }],
    });
    expect(calls[1]!.input).toEqual({
      command: expect.stringContaining('node greet.test.js && echo') as unknown,
    });
    expect(
      ofType(events, 'tool-result').map((event) => [event.toolCallId, event.toolName, event.isError]),
    ).toEqual(calls.map((call) => [call.toolCallId, call.toolName, undefined]));
    // The granted token reached the model (the agent may use it) but is redacted from the attempt's events.
    expect(JSON.stringify(events)).not.toContain(grantedToken);
    expect(
      ofType(events, 'text-delta')
        .map((event) => event.text)
        .join(''),
    ).toBe(`${script[0]!.text}\n\n${script[2]!.text}`);
    expect(ofType(events, 'file-change')).toEqual([
      { type: 'file-change', path: 'greet.js', change: 'modified' },
    ]);

    // Usage: Codex reports one turn's total, priced with the endpoint's prices.
    const inputTokens = sum(script, 'inputTokens');
    const outputTokens = sum(script, 'outputTokens');
    const costUsd =
      (inputTokens * pricing.inputPricePerMillionUsd + outputTokens * pricing.outputPricePerMillionUsd) / 1e6;
    expect(ofType(events, 'usage')).toEqual([
      { type: 'usage', inputTokens, outputTokens, model: modelId, endpoint: 'openai', costUsd },
    ]);
    expect(attempt.usage).toMatchObject({ inputTokens, outputTokens });
    expect(attempt.usage.costUsd).toBeCloseTo(costUsd, 10);
    expect(task.usage).toMatchObject({ inputTokens, outputTokens });

    // The attempt's log on the hub shows the tool calls and the model's text.
    const logText = (await admin.tasks.logs(task.id))
      .filter((event) => event.type === 'attempt.log')
      .map((event) => String(event.data.text))
      .join('');
    expect(logText).toContain('tool call file_change');
    expect(logText).toContain('tool call command_execution');
    expect(logText).toContain(script[2]!.text);
    expect(logText).not.toContain(grantedToken);
  });

  it('resumes its thread in a fix round with the failed verification as the prompt, passes, and counts each token once', async () => {
    const fixPrompt = (request: RecordedModelRequest) =>
      lastUserText(request).includes('verification round 1');
    const script: ScriptedTurn[] = [
      {
        name: 'wrong edit',
        toolCalls: patchGreeting('hello', 'bye'),
        usage: { inputTokens: 10_000, outputTokens: 40 },
      },
      {
        name: 'claims done',
        when: (request) => !fixPrompt(request),
        text: 'Changed the greeting to bye.',
        usage: { inputTokens: 10_300, outputTokens: 10 },
      },
      {
        name: 'real fix',
        when: fixPrompt,
        toolCalls: patchGreeting('bye', 'goodbye'),
        usage: { inputTokens: 11_000, outputTokens: 45 },
      },
      {
        name: 'fixed',
        text: 'The greeting is goodbye now.',
        usage: { inputTokens: 11_400, outputTokens: 12 },
      },
    ];
    await start(script);
    const task = await runTask({ fixRounds: 1, maxAttempts: 1 });
    const attempt = (await admin.tasks.get(task.id))!.attempts[0]!;
    expect(task.state, JSON.stringify(attempt.error)).toBe('succeeded');
    expect(attempt.verification.map((round) => round.passed)).toEqual([false, true]);
    expect(attempt.verification[0]!.criteria[0]!.output).toContain('AssertionError');
    const { stdout } = await runGit(['show', `${task.result!.branch}:greet.js`], { cwd: source });
    expect(stdout).toContain("'goodbye'");

    // The fix round resumed the thread: its first request carries the first round's conversation (the
    // patch call and the claim), then the evidence (the command and its failing output) as the new user
    // message.
    expect(model.requests.map((request) => request.answeredWith)).toEqual(script.map((turn) => turn.name));
    const fixRequest = model.requests[2]!;
    expect(
      fixRequest.messages.some((message) => message.toolCalls.some((call) => call.name === 'apply_patch')),
    ).toBe(true);
    expect(fixRequest.messages.some((message) => message.text.includes('Changed the greeting to bye.'))).toBe(
      true,
    );
    expect(offersTool(fixRequest, 'apply_patch')).toBe(true);
    expect(lastUserText(fixRequest)).toContain('node greet.test.js');
    expect(lastUserText(fixRequest)).toContain('AssertionError');

    // Codex reports the thread's running totals; the resumed round counts only what it added.
    expect(ofType(events, 'usage').map((event) => [event.inputTokens, event.outputTokens])).toEqual([
      [sum(script.slice(0, 2), 'inputTokens'), sum(script.slice(0, 2), 'outputTokens')],
      [sum(script.slice(2), 'inputTokens'), sum(script.slice(2), 'outputTokens')],
    ]);
    expect(attempt.usage).toMatchObject({
      inputTokens: sum(script, 'inputTokens'),
      outputTokens: sum(script, 'outputTokens'),
    });
  });

  it('is stopped at the attempt timeout while the model never answers, leaving no process behind', async () => {
    await start([{ name: 'never answers', fault: { kind: 'delay', ms: 600_000 } }]);
    const task = await runTask({ timeoutMs: 8_000, maxAttempts: 1 });
    const attempt = (await admin.tasks.get(task.id))!.attempts[0]!;
    expect(['failed', 'dead']).toContain(task.state);
    expect(attempt.error).toMatchObject({ kind: 'timeout' });
    expect(model.requests.map((request) => request.answeredWith)).toEqual([undefined]);
    // The npm `codex` is a Node shim that starts the native binary from its package directory.
    const packageDir = path.resolve(binaryPath, '../..');
    expect(await processesOf(packageDir, sandbox.path('runner'))).toEqual([]);
  });
});
