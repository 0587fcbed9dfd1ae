/**
 * The opencode executor end to end with the real `opencode` binary (the pinned version from the CLI-agent
 * cache): a real hub on SQLite, a real runner offering only this executor, a real git repository, and the
 * scripted model server speaking OpenAI chat completions over SSE to OpenCode's `warren` provider
 * (`@ai-sdk/openai-compatible`). The scripted model calls OpenCode's own tools (`edit`, `bash`), so the CLI
 * itself edits the worktree and runs commands. A last group runs the executor without a hub against the
 * other protocols OpenCode's provider config reaches (OpenAI Responses, Anthropic Messages, Gemini).
 */
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHubClient, type HubClient } from '../../src/client/hub-client.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { ModelEndpointInput, ModelProvider } from '../../src/core/model-endpoints.ts';
import type { Task, TaskSpecInput } from '../../src/core/types.ts';
import { createOpencodeExecutor } from '../../src/executors/cli-agents/opencode/opencode-adapter.ts';
import type { Executor, ExecutorContext, ExecutorEvent } from '../../src/executors/spec.ts';
import { createTestContext } from '../../src/executors/testing/create-test-context.ts';
import { createTestTask } from '../../src/executors/testing/create-test-task.ts';
import { startHub, type RunningHub } from '../../src/hub/start-hub.ts';
import { startRunner, type RunningRunner } from '../../src/runner/start-runner.ts';
import { runGit } from '../../src/vcs/run-git.ts';
import { createGitSandbox, type GitSandbox } from '../../src/vcs/testing/create-git-sandbox.ts';
import { describeWithCliAgent } from '../support/cli-agents/describe-with-cli-agent.ts';
import {
  allText,
  endsWithToolResult,
  lastToolResult,
  lastUserText,
  startScriptedModelServer,
  type ModelScript,
  type RecordedModelRequest,
  type ScriptedModelServer,
  type ScriptedTurn,
} from '../support/scripted-model-server/index.ts';
import { waitFor } from '../support/wait-for.ts';

const apiKey = 'sk-opencode-e2e-endpoint-key-0001';
const grantedToken = 'granted-deploy-token-4e7a90';
const ungrantedToken = 'ungranted-prod-token-b82c15';
const runnerSecret = 'runner-secret-never-granted-9d3f';
const pricing = { inputPricePerMillionUsd: 0.5, outputPricePerMillionUsd: 1.5 };
const sourceFiles = {
  'greet.js': "export const greeting = 'hello';\n",
  'greet.test.js':
    "import assert from 'node:assert/strict';\nimport { greeting } from './greet.js';\nassert.equal(greeting, 'goodbye');\nconsole.log('greeting ok');\n",
  'package.json': '{ "type": "module" }\n',
};
const criterion = { description: 'the greeting test passes', command: 'node greet.test.js' };
// why: the pinned OpenCode runs a scripted task in two to four seconds on two cores; a loaded machine can
// take several times that.
const taskTimeoutMs = 45_000;
// why: a context window whose quarter (the answer limit the adapter configures) is not OpenCode's default
// 32 000, so the request shows the limit reached the CLI.
const contextWindow = 64_000;

function endpoint(url: string): ModelEndpointInput {
  return {
    name: 'local',
    provider: 'openai-compatible',
    baseUrl: `${url}/v1`,
    apiKeyEnv: 'WARREN_E2E_OPENCODE_KEY',
    models: [{ id: 'scripted-coder', tier: 'frontier', contextWindow, ...pricing }],
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

/** Pids of live processes whose command line contains `marker` or whose directory is under `directory`. */
async function processesOf(marker: string, directory: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    const procStat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // A zombie has exited; only its parent's bookkeeping is left.
    const zombie = procStat.slice(procStat.lastIndexOf(')') + 2, procStat.lastIndexOf(')') + 3) === 'Z';
    if (!zombie && (cmdline.includes(marker) || cwd.startsWith(directory))) {
      found.push(`${pid} ${cmdline.replaceAll('\0', ' ')}`);
    }
  }
  return found;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

describeWithCliAgent('opencode', 'the opencode executor with the real OpenCode', (binaryPath) => {
  describe('through a hub and a runner', () => {
    let sandbox: GitSandbox;
    let model: ScriptedModelServer;
    let hub: RunningHub;
    let admin: HubClient;
    let runner: RunningRunner;
    let source: string;
    let events: ExecutorEvent[];

    async function start(script: ModelScript): Promise<void> {
      model = await startScriptedModelServer({ script, apiKey, models: ['scripted-coder'] });
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
      const { token } = await admin.runners.create({ name: 'opencode-runner' });
      runner = await startRunner({
        hubUrl: hub.url,
        token,
        workDir: sandbox.path('runner'),
        pollWaitMs: 1_000,
        keepFailedWorktreesMs: 0,
        executors: [recordingEvents(createOpencodeExecutor({ binaryPath }), events)],
        grantSecrets: {
          'deploy:read': { DEPLOY_TOKEN: grantedToken },
          'prod:write': { PROD_TOKEN: ungrantedToken },
        },
      });
    }

    function createTask(spec: Partial<TaskSpecInput>) {
      return admin.tasks.create({
        title: 'Say goodbye',
        instructions: 'greet.js must export the greeting "goodbye"; node greet.test.js must pass.',
        repo: source,
        executor: 'opencode',
        model: 'local/scripted-coder',
        successCriteria: [criterion],
        timeoutMs: taskTimeoutMs,
        ...spec,
      });
    }

    function finished(taskId: string): Promise<Task> {
      return waitFor<Task>(
        'the task to finish',
        async () => {
          const current = (await admin.tasks.get(taskId))!.task;
          return ['succeeded', 'failed', 'dead'].includes(current.state) ? current : undefined;
        },
        { timeoutMs: 60_000 },
      );
    }

    async function runTask(spec: Partial<TaskSpecInput>): Promise<Task> {
      const { task } = await createTask(spec);
      return finished(task.id);
    }

    beforeEach(async () => {
      process.env.WARREN_E2E_OPENCODE_KEY = apiKey;
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
            { name: 'edit', input: { filePath: 'greet.js', oldString: "'hello'", newString: "'goodbye'" } },
          ],
          usage: { inputTokens: 11_000, outputTokens: 70 },
        },
        {
          name: 'test and show the environment',
          when: (request: RecordedModelRequest) =>
            lastToolResult(request)?.output.includes('Edit applied') === true,
          toolCalls: [
            {
              name: 'bash',
              input: {
                command: 'node greet.test.js && env | sort',
                description: 'Run the test and show the environment of this shell',
              },
            },
          ],
          usage: { inputTokens: 11_300, outputTokens: 50 },
        },
        {
          name: 'summary',
          when: (request: RecordedModelRequest) =>
            lastToolResult(request)?.output.includes('greeting ok') === true,
          text: 'greet.js now exports "goodbye"; node greet.test.js passes.',
          usage: { inputTokens: 11_600, outputTokens: 20 },
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

      // What the CLI sent: chat completions over SSE, the routed model, the key as a bearer token, its own
      // tools but not `task` (subagents, whose usage OpenCode does not print), the prompt verbatim.
      expect(model.requests.map((request) => request.answeredWith)).toEqual(script.map((turn) => turn.name));
      for (const request of model.requests) {
        expect(request.path).toBe('/v1/chat/completions');
        expect(request.model).toBe('scripted-coder');
        expect(request.stream).toBe(true);
        expect(request.headers.authorization).toBe(`Bearer ${apiKey}`);
        expect((request.body as { max_tokens?: number }).max_tokens).toBe(contextWindow / 4);
      }
      const tools = model.requests[0]!.tools.map((tool) => tool.name);
      expect(tools).toEqual(expect.arrayContaining(['bash', 'edit', 'read', 'write', 'glob', 'grep']));
      expect(tools).not.toContain('task');
      expect(lastUserText(model.requests[0]!)).toContain('greet.js must export the greeting "goodbye"');
      expect(lastUserText(model.requests[0]!).startsWith('"')).toBe(false);
      // Only model calls reached the server: no title generation, no model catalogue (the hub's own health
      // check lists the models).
      expect(
        model.httpLog.filter(
          (exchange) =>
            exchange.path !== '/v1/chat/completions' &&
            !(exchange.method === 'GET' && exchange.path === '/v1/models'),
        ),
      ).toEqual([]);

      // The CLI's environment, as its shell tool sees it: the granted credential, not the other grant's, nor
      // the runner's own, nor the endpoint key (which is in the config file, not the environment).
      const shellOutput = lastToolResult(model.requests[2]!)!.output;
      expect(shellOutput).toContain(`DEPLOY_TOKEN=${grantedToken}`);
      expect(shellOutput).toContain('OPENCODE_DISABLE_MODELS_FETCH=1');
      expect(shellOutput).not.toContain('PROD_TOKEN');
      expect(shellOutput).not.toContain('WARREN_E2E_RUNNER_SECRET');
      expect(shellOutput).not.toContain('WARREN_E2E_OPENCODE_KEY');
      for (const request of model.requests) {
        const raw = JSON.stringify({ body: request.body, headers: request.headers, path: request.path });
        expect(raw).not.toContain(runnerSecret);
        expect(raw).not.toContain(ungrantedToken);
        expect(allText(request)).not.toContain(apiKey);
      }

      // The normalised events: text, the CLI's tool calls with their ids and inputs, results, usage.
      const calls = ofType(events, 'tool-call');
      expect(calls.map((event) => [event.toolCallId, event.toolName, event.input])).toEqual([
        ['call_scripted_0_0', 'edit', script[0]!.toolCalls![0]!.input],
        ['call_scripted_1_0', 'bash', script[1]!.toolCalls![0]!.input],
      ]);
      const results = ofType(events, 'tool-result');
      expect(results.map((event) => [event.toolCallId, event.toolName, event.isError])).toEqual(
        calls.map((call) => [call.toolCallId, call.toolName, undefined]),
      );
      expect(results[0]!.output).toBe('Edit applied successfully.');
      // The granted token reached the model (the agent may use it) but is redacted from the attempt's events.
      expect(JSON.stringify(events)).not.toContain(grantedToken);
      expect(results[1]!.output).toContain('DEPLOY_TOKEN=[REDACTED]');
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
        model: 'scripted-coder',
        endpoint: 'local',
        costUsd:
          (turn.usage!.inputTokens * pricing.inputPricePerMillionUsd +
            turn.usage!.outputTokens * pricing.outputPricePerMillionUsd) /
          1e6,
      });
      expect(ofType(events, 'usage')).toEqual(script.map(priced));
      const inputTokens = script.reduce((sum, turn) => sum + turn.usage!.inputTokens, 0);
      const outputTokens = script.reduce((sum, turn) => sum + turn.usage!.outputTokens, 0);
      const costUsd =
        (inputTokens * pricing.inputPricePerMillionUsd + outputTokens * pricing.outputPricePerMillionUsd) /
        1e6;
      expect(attempt.usage).toMatchObject({ inputTokens, outputTokens });
      expect(attempt.usage.costUsd).toBeCloseTo(costUsd, 10);
      expect(task.usage).toMatchObject({ inputTokens, outputTokens, calls: script.length });

      // The attempt's log on the hub shows the tool calls and the model's text.
      const logText = (await admin.tasks.logs(task.id))
        .filter((event) => event.type === 'attempt.log')
        .map((event) => String(event.data.text))
        .join('');
      expect(logText).toContain('tool call edit');
      expect(logText).toContain('tool call bash');
      expect(logText).toContain(script[2]!.text);
      expect(logText).not.toContain(grantedToken);
    });

    it('continues its session in a fix round with the failed verification as the prompt, and passes', async () => {
      const fixPrompt = (request: RecordedModelRequest) =>
        lastUserText(request).includes('verification round 1');
      await start([
        {
          name: 'wrong edit',
          toolCalls: [
            { name: 'edit', input: { filePath: 'greet.js', oldString: "'hello'", newString: "'bye'" } },
          ],
        },
        {
          name: 'claims done',
          when: (request) => endsWithToolResult(request) && !fixPrompt(request),
          text: 'Changed the greeting to bye.',
        },
        {
          name: 'real fix',
          when: fixPrompt,
          toolCalls: [
            { name: 'edit', input: { filePath: 'greet.js', oldString: "'bye'", newString: "'goodbye'" } },
          ],
        },
        { name: 'fixed', when: endsWithToolResult, text: 'The greeting is goodbye now.' },
      ]);
      const task = await runTask({ fixRounds: 1, maxAttempts: 1 });
      const attempt = (await admin.tasks.get(task.id))!.attempts[0]!;
      expect(task.state, JSON.stringify(attempt.error)).toBe('succeeded');
      expect(attempt.verification.map((round) => round.passed)).toEqual([false, true]);
      expect(attempt.verification[0]!.criteria[0]!.output).toContain('AssertionError');
      const { stdout } = await runGit(['show', `${task.result!.branch}:greet.js`], { cwd: source });
      expect(stdout).toContain("'goodbye'");

      // The fix round continued the session (same OpenCode session id in every request): its first request
      // carries the first round's conversation, then the evidence (the command and its failing output).
      expect(model.requests.map((request) => request.answeredWith)).toEqual([
        'wrong edit',
        'claims done',
        'real fix',
        'fixed',
      ]);
      const sessions = new Set(model.requests.map((request) => request.headers['x-session-id']));
      expect(sessions.size).toBe(1);
      const fixRequest = model.requests[2]!;
      expect(
        fixRequest.messages.some((message) => message.toolCalls.some((call) => call.name === 'edit')),
      ).toBe(true);
      expect(
        fixRequest.messages.some((message) => message.text.includes('Changed the greeting to bye.')),
      ).toBe(true);
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

    it('is stopped at the attempt timeout during a hung shell command, which runs in a session of its own', async () => {
      // OpenCode starts each bash command detached (a new session, outside the CLI's process group) and
      // does not stop it when it is itself terminated: only the executor's sweep takes it down.
      await start([
        {
          name: 'hangs in a command',
          toolCalls: [
            {
              name: 'bash',
              input: {
                command: 'node -e "setTimeout(() => {}, 600000)" opencode-hung-command-marker',
                description: 'A command that never ends',
              },
            },
          ],
        },
      ]);
      const created = createTask({
        title: 'Hang',
        instructions: 'Run the slow command.',
        timeoutMs: 8_000,
        maxAttempts: 1,
      });
      // The command really ran before the timeout.
      await waitFor('the hung command to start', async () =>
        (await processesOf('opencode-hung-command-marker', '/nonexistent')).length > 0 ? true : undefined,
      );
      const task = await finished((await created).task.id);
      const attempt = (await admin.tasks.get(task.id))!.attempts[0]!;
      expect(attempt.error).toMatchObject({ kind: 'timeout' });
      expect(await processesOf('opencode-hung-command-marker', sandbox.path('runner'))).toEqual([]);
      expect(await processesOf(binaryPath, sandbox.path('runner'))).toEqual([]);
    });
  });

  describe('through its provider config, against each protocol', () => {
    let sandbox: GitSandbox;
    let model: ScriptedModelServer | undefined;

    beforeEach(async () => {
      sandbox = await createGitSandbox();
    });

    afterEach(async () => {
      await model?.close();
      await sandbox.cleanup();
    });

    const protocols: Array<{
      provider: ModelProvider;
      baseUrl: string;
      path: RegExp;
      auth: [string, string];
    }> = [
      {
        provider: 'openai',
        baseUrl: '/v1',
        path: /^\/v1\/responses$/,
        auth: ['authorization', `Bearer ${apiKey}`],
      },
      { provider: 'anthropic', baseUrl: '/v1', path: /^\/v1\/messages$/, auth: ['x-api-key', apiKey] },
      {
        provider: 'google',
        baseUrl: '/v1beta',
        path: /^\/v1beta\/models\/scripted-coder:streamGenerateContent\?alt=sse$/,
        auth: ['x-goog-api-key', apiKey],
      },
    ];

    for (const protocol of protocols) {
      it(`edits the worktree through an endpoint of provider ${protocol.provider}, with no npm install and no other traffic`, async () => {
        const script: ScriptedTurn[] = [
          {
            name: 'edit',
            toolCalls: [
              { name: 'edit', input: { filePath: 'greet.js', oldString: "'hello'", newString: "'goodbye'" } },
            ],
            usage: { inputTokens: 5_000, outputTokens: 40 },
          },
          {
            name: 'done',
            when: endsWithToolResult,
            text: 'Done.',
            usage: { inputTokens: 5_100, outputTokens: 5 },
          },
        ];
        model = await startScriptedModelServer({ script, apiKey });
        const worktree = await sandbox.createSourceRepo({ files: sourceFiles });
        const home = sandbox.path('home');
        const events: ExecutorEvent[] = [];
        const executor = createOpencodeExecutor({ binaryPath, resolveApiKey: () => Promise.resolve(apiKey) });
        const result = await executor.run(
          createTestContext(worktree, {
            task: createTestTask({ title: 'Say goodbye', executor: 'opencode' }),
            env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' },
            timeoutMs: taskTimeoutMs,
            emit: (event) => events.push(event),
            model: {
              endpoint: {
                name: protocol.provider,
                provider: protocol.provider,
                baseUrl: `${model.url}${protocol.baseUrl}`,
              },
              model: 'scripted-coder',
              pricing: { inputPerMillionUsd: 1, outputPerMillionUsd: 2 },
            },
          }),
        );
        expect(result, JSON.stringify(result)).toMatchObject({ status: 'succeeded', summary: 'Done.' });
        expect(await readFile(path.join(worktree, 'greet.js'), 'utf8')).toBe(
          "export const greeting = 'goodbye';\n",
        );

        expect(model.requests.map((request) => request.answeredWith)).toEqual(['edit', 'done']);
        for (const request of model.requests) {
          expect(request.path).toMatch(protocol.path);
          expect(request.headers[protocol.auth[0]]).toBe(protocol.auth[1]);
        }
        expect(model.httpLog.map((exchange) => exchange.path)).toEqual(
          model.requests.map((request) => request.path),
        );
        expect(ofType(events, 'usage').map((event) => [event.inputTokens, event.outputTokens])).toEqual([
          [5_000, 40],
          [5_100, 5],
        ]);

        // OpenCode's state stayed in the activation home; it installed nothing there with npm (npm would have
        // left its cache in ~/.npm and packages in the config directory's node_modules).
        const activationHome = path.join(home, '.warren-opencode');
        expect(await exists(path.join(activationHome, '.local', 'share', 'opencode', 'opencode.db'))).toBe(
          true,
        );
        expect(await exists(path.join(activationHome, '.npm'))).toBe(false);
        expect(await readdir(path.join(activationHome, '.config', 'opencode', 'node_modules'))).toEqual([
          '.keep',
        ]);
      });
    }
  });
});
