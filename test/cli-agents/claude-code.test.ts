/**
 * The claude-code executor end to end with the real `claude` binary (the pinned version from the CLI-agent
 * cache): a real hub on SQLite, a real runner offering only this executor, a real git repository, and the
 * scripted model server speaking Anthropic Messages over SSE. The scripted model calls Claude Code's own
 * tools (`Edit`, `Bash`), so the CLI itself edits the worktree and runs commands.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createHubClient, type HubClient } from '../../src/client/hub-client.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { ModelEndpointInput } from '../../src/core/model-endpoints.ts';
import type { Task, TaskSpecInput } from '../../src/core/types.ts';
import { createClaudeCodeExecutor } from '../../src/executors/cli-agents/claude-code/claude-code-adapter.ts';
import type { Executor, ExecutorContext, ExecutorEvent } from '../../src/executors/spec.ts';
import { startHub, type RunningHub } from '../../src/hub/start-hub.ts';
import { startRunner, type RunningRunner } from '../../src/runner/start-runner.ts';
import { runGit } from '../../src/vcs/run-git.ts';
import { createGitSandbox, type GitSandbox } from '../../src/vcs/testing/create-git-sandbox.ts';
import { describeWithCliAgent } from '../support/cli-agents/describe-with-cli-agent.ts';
import {
  allText,
  lastToolResult,
  lastUserText,
  startScriptedModelServer,
  type ModelScript,
  type RecordedModelRequest,
  type ScriptedModelServer,
  type ScriptedTurn,
} from '../support/scripted-model-server/index.ts';
import { waitFor } from '../support/wait-for.ts';

const apiKey = 'sk-ant-e2e-endpoint-key-0000001';
const grantedToken = 'granted-deploy-token-7d2e41';
const ungrantedToken = 'ungranted-prod-token-c03b9a';
const runnerSecret = 'runner-secret-never-granted-e61f';
const pricing = { inputPricePerMillionUsd: 3, outputPricePerMillionUsd: 15 };
const sourceFiles = {
  'greet.js': "export const greeting = 'hello';\n",
  'greet.test.js':
    "import assert from 'node:assert/strict';\nimport { greeting } from './greet.js';\nassert.equal(greeting, 'goodbye');\nconsole.log('greeting ok');\n",
  'package.json': '{ "type": "module" }\n',
};
const criterion = { description: 'the greeting test passes', command: 'node greet.test.js' };
// why: the pinned Claude Code runs a scripted task in about a second; a loaded two-core machine can take
// several.
const taskTimeoutMs = 45_000;

function endpoint(url: string): ModelEndpointInput {
  return {
    name: 'anthropic',
    provider: 'anthropic',
    baseUrl: `${url}/v1`,
    apiKeyEnv: 'WARREN_E2E_ANTHROPIC_KEY',
    // The window reaches Claude Code as --autocompact: the real binary must accept it.
    models: [{ id: 'claude-e2e', tier: 'frontier', contextWindow: 200_000, ...pricing }],
  };
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

/** Pids of live processes whose command line names `binaryPath` or whose directory is under `directory`. */
async function processesOf(binaryPath: string, directory: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // A zombie has exited; only its parent's bookkeeping is left.
    const zombie = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
    if (!zombie && (cmdline.includes(binaryPath) || cwd.startsWith(directory))) {
      found.push(`${pid} ${cmdline.replaceAll('\0', ' ')}`);
    }
  }
  return found;
}

describeWithCliAgent('claude-code', 'the claude-code executor with the real Claude Code', (binaryPath) => {
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
    const { token } = await admin.runners.create({ name: 'claude-runner' });
    runner = await startRunner({
      hubUrl: hub.url,
      token,
      workDir: sandbox.path('runner'),
      pollWaitMs: 1_000,
      keepFailedWorktreesMs: 0,
      executors: [recordingEvents(createClaudeCodeExecutor({ binaryPath }), events)],
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
      executor: 'claude-code',
      model: 'anthropic/claude-e2e',
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
    process.env.WARREN_E2E_ANTHROPIC_KEY = apiKey;
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
  });

  it('edits the worktree with the CLI, passes verification, commits, and records events and usage without leaking secrets', async () => {
    const script: ScriptedTurn[] = [
      {
        name: 'edit',
        text: 'I will change the greeting.',
        toolCalls: [
          { name: 'Edit', input: { file_path: 'greet.js', old_string: "'hello'", new_string: "'goodbye'" } },
        ],
        usage: { inputTokens: 12_000, outputTokens: 70 },
      },
      {
        name: 'test and show the environment',
        when: (request: RecordedModelRequest) => lastToolResult(request)?.isError !== true,
        toolCalls: [
          {
            name: 'Bash',
            input: {
              command:
                'node greet.test.js && echo "granted=${DEPLOY_TOKEN:-absent} ungranted=${PROD_TOKEN:-absent} runner=${WARREN_E2E_RUNNER_SECRET:-absent}"',
              description: 'Run the test and show which credentials this shell has',
            },
          },
        ],
        usage: { inputTokens: 12_300, outputTokens: 50 },
      },
      {
        name: 'summary',
        when: (request: RecordedModelRequest) =>
          lastToolResult(request)?.output.includes('greeting ok') === true,
        text: 'greet.js now exports "goodbye"; node greet.test.js passes.',
        usage: { inputTokens: 12_600, outputTokens: 20 },
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

    // What the CLI sent: Anthropic Messages over SSE, the routed model, the key as x-api-key, its tools.
    expect(model.requests.map((request) => request.answeredWith)).toEqual(script.map((turn) => turn.name));
    for (const request of model.requests) {
      expect(request.path).toBe('/v1/messages?beta=true');
      expect(request.model).toBe('claude-e2e');
      expect(request.stream).toBe(true);
      expect(request.headers['x-api-key']).toBe(apiKey);
    }
    expect(model.requests[0]!.tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['Bash', 'Edit', 'Read', 'Write']),
    );
    expect(model.requests[0]!.tools.map((tool) => tool.name)).not.toContain('EnterWorktree');
    expect(lastUserText(model.requests[0]!)).toContain('greet.js must export the greeting "goodbye"');
    // Only model calls reached the server: no telemetry, no warm-up request, no token counting (the hub's
    // own endpoint health check lists the models).
    expect(
      model.httpLog.filter(
        (exchange) =>
          exchange.path !== '/v1/messages?beta=true' &&
          !(exchange.method === 'GET' && exchange.path === '/v1/models'),
      ),
    ).toEqual([]);

    // The CLI's environment: the granted credential, not the other grant's, nor the runner's own.
    const shellOutput = lastToolResult(model.requests[2]!)!.output;
    expect(shellOutput).toContain(`granted=${grantedToken} ungranted=absent runner=absent`);
    for (const request of model.requests) {
      const raw = JSON.stringify({ body: request.body, headers: request.headers, path: request.path });
      expect(raw).not.toContain(runnerSecret);
      expect(raw).not.toContain(ungrantedToken);
      expect(allText(request)).not.toContain(apiKey);
    }

    // The normalised events: text, the CLI's tool calls with their ids and inputs, results, usage.
    const calls = ofType(events, 'tool-call');
    expect(calls.map((event) => [event.toolName, event.input])).toEqual([
      ['Edit', { replace_all: false, ...(script[0]!.toolCalls![0]!.input as object) }],
      ['Bash', script[1]!.toolCalls![0]!.input],
    ]);
    expect(calls.map((event) => event.toolCallId)).toEqual(['toolu_scripted_0_0', 'toolu_scripted_1_0']);
    expect(
      ofType(events, 'tool-result').map((event) => [event.toolCallId, event.toolName, event.isError]),
    ).toEqual(calls.map((call) => [call.toolCallId, call.toolName, undefined]));
    // The granted token reached the model (the agent may use it) but is redacted from the attempt's events.
    expect(JSON.stringify(events)).not.toContain(grantedToken);
    expect(
      ofType(events, 'text-delta')
        .map((event) => event.text)
        .join(''),
    ).toBe(`${script[0]!.text}${script[2]!.text}`);
    expect(ofType(events, 'file-change')).toEqual([
      { type: 'file-change', path: 'greet.js', change: 'modified' },
    ]);

    // Usage: one event per model call with the scripted counts, priced with the endpoint's prices.
    const priced = (turn: ScriptedTurn) => ({
      type: 'usage',
      inputTokens: turn.usage!.inputTokens,
      outputTokens: turn.usage!.outputTokens,
      model: 'claude-e2e',
      endpoint: 'anthropic',
      costUsd:
        (turn.usage!.inputTokens * pricing.inputPricePerMillionUsd +
          turn.usage!.outputTokens * pricing.outputPricePerMillionUsd) /
        1e6,
    });
    expect(ofType(events, 'usage')).toEqual(script.map(priced));
    const inputTokens = script.reduce((sum, turn) => sum + turn.usage!.inputTokens, 0);
    const outputTokens = script.reduce((sum, turn) => sum + turn.usage!.outputTokens, 0);
    const costUsd =
      (inputTokens * pricing.inputPricePerMillionUsd + outputTokens * pricing.outputPricePerMillionUsd) / 1e6;
    expect(attempt.usage).toMatchObject({ inputTokens, outputTokens });
    expect(attempt.usage.costUsd).toBeCloseTo(costUsd, 10);
    expect(task.usage).toMatchObject({ inputTokens, outputTokens, calls: script.length });

    // The attempt's log on the hub shows the tool calls and the model's text.
    const logText = (await admin.tasks.logs(task.id))
      .filter((event) => event.type === 'attempt.log')
      .map((event) => String(event.data.text))
      .join('');
    expect(logText).toContain('tool call Edit');
    expect(logText).toContain('tool call Bash');
    expect(logText).toContain(script[2]!.text);
    expect(logText).not.toContain(grantedToken);
  });

  it('resumes its session in a fix round with the failed verification as the prompt, and passes', async () => {
    const fixPrompt = (request: RecordedModelRequest) =>
      lastUserText(request).includes('verification round 1');
    await start([
      {
        name: 'wrong edit',
        toolCalls: [
          { name: 'Edit', input: { file_path: 'greet.js', old_string: "'hello'", new_string: "'bye'" } },
        ],
      },
      { name: 'claims done', when: (request) => !fixPrompt(request), text: 'Changed the greeting to bye.' },
      {
        name: 'real fix',
        when: fixPrompt,
        toolCalls: [
          { name: 'Edit', input: { file_path: 'greet.js', old_string: "'bye'", new_string: "'goodbye'" } },
        ],
      },
      { name: 'fixed', text: 'The greeting is goodbye now.' },
    ]);
    const task = await runTask({ fixRounds: 1, maxAttempts: 1 });
    const attempt = (await admin.tasks.get(task.id))!.attempts[0]!;
    expect(task.state, JSON.stringify(attempt.error)).toBe('succeeded');
    expect(attempt.verification.map((round) => round.passed)).toEqual([false, true]);
    expect(attempt.verification[0]!.criteria[0]!.output).toContain('AssertionError');
    const { stdout } = await runGit(['show', `${task.result!.branch}:greet.js`], { cwd: source });
    expect(stdout).toContain("'goodbye'");

    // The fix round resumed the session (same Claude Code session id): its first request carries the first
    // round's conversation, then the evidence (the command and its failing output) as the new user message.
    expect(model.requests.map((request) => request.answeredWith)).toEqual([
      'wrong edit',
      'claims done',
      'real fix',
      'fixed',
    ]);
    const sessions = new Set(model.requests.map((request) => request.headers['x-claude-code-session-id']));
    expect(sessions.size).toBe(1);
    const fixRequest = model.requests[2]!;
    expect(
      fixRequest.messages.some((message) => message.toolCalls.some((call) => call.name === 'Edit')),
    ).toBe(true);
    expect(fixRequest.messages.some((message) => message.text.includes('Changed the greeting to bye.'))).toBe(
      true,
    );
    expect(lastUserText(fixRequest)).toContain('node greet.test.js');
    expect(lastUserText(fixRequest)).toContain('AssertionError');
    expect(ofType(events, 'usage')).toHaveLength(4);
  });

  it('is stopped at the attempt timeout while the model never answers, leaving no process behind', async () => {
    await start([{ name: 'never answers', fault: { kind: 'delay', ms: 600_000 } }]);
    const task = await runTask({ timeoutMs: 8_000, maxAttempts: 1 });
    const attempt = (await admin.tasks.get(task.id))!.attempts[0]!;
    expect(['failed', 'dead']).toContain(task.state);
    expect(attempt.error).toMatchObject({ kind: 'timeout' });
    expect(model.requests.map((request) => request.answeredWith)).toEqual([undefined]);
    expect(await processesOf(binaryPath, sandbox.path('runner'))).toEqual([]);
  });

  it('is stopped at the attempt timeout during a hung shell command, whose own process group goes too', async () => {
    // Claude Code starts each Bash command in a session of its own (outside the CLI's process group):
    // the command is gone only if the CLI, told to stop, takes it down.
    await start([
      {
        name: 'hangs in a command',
        toolCalls: [
          {
            name: 'Bash',
            input: {
              command: 'node -e "setTimeout(() => {}, 600000)" hung-command-marker',
              description: 'A command that never ends',
            },
          },
        ],
      },
    ]);
    const created = admin.tasks.create({
      title: 'Hang',
      instructions: 'Run the slow command.',
      repo: source,
      executor: 'claude-code',
      model: 'anthropic/claude-e2e',
      successCriteria: [criterion],
      timeoutMs: 8_000,
      maxAttempts: 1,
    });
    // The command really ran before the timeout.
    await waitFor('the hung command to start', async () =>
      (await processesOf('hung-command-marker', '/nonexistent')).length > 0 ? true : undefined,
    );
    const { task: started } = await created;
    const task = await waitFor<Task>(
      'the task to finish',
      async () => {
        const current = (await admin.tasks.get(started.id))!.task;
        return ['succeeded', 'failed', 'dead'].includes(current.state) ? current : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const attempt = (await admin.tasks.get(task.id))!.attempts[0]!;
    expect(attempt.error).toMatchObject({ kind: 'timeout' });
    expect(await processesOf('hung-command-marker', sandbox.path('runner'))).toEqual([]);
    expect(await processesOf(binaryPath, sandbox.path('runner'))).toEqual([]);
  });
});
