/**
 * The opencode executor end to end with the real `opencode` binary (the pinned version from the CLI-agent
 * cache): a real hub on SQLite, a real runner offering only this executor, a real git repository, and the
 * scripted model server speaking OpenAI chat completions over SSE to OpenCode's `warren` provider
 * (`@ai-sdk/openai-compatible`). The scripted model calls OpenCode's own tools (`edit`, `bash`), so the CLI
 * itself edits the worktree and runs commands. A last group runs the executor without a hub against the
 * other protocols OpenCode's provider config reaches (OpenAI Responses, Anthropic Messages, Gemini).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelEndpointInput, ModelProvider } from '../../src/core/model-endpoints.ts';
import { createOpencodeExecutor } from '../../src/executors/cli-agents/opencode/opencode-adapter.ts';
import type { ExecutorEvent } from '../../src/executors/spec.ts';
import { createTestContext } from '../../src/executors/testing/create-test-context.ts';
import { createTestTask } from '../../src/executors/testing/create-test-task.ts';
import { createGitSandbox, type GitSandbox } from '../../src/vcs/testing/create-git-sandbox.ts';
import {
  CLI_AGENT_TASK_TIMEOUT_MS,
  E2E_SECRETS,
  GREETING_SOURCE_FILES,
  useCliAgentE2e,
} from '../support/cli-agents/cli-agent-e2e.ts';
import {
  expectAttemptLog,
  expectFixedInSecondRound,
  expectGreetingEditEvents,
  expectNoSecretOnTheWire,
  expectTimeoutDuringHungCommand,
  expectTimeoutWithSilentModel,
  expectUsageRecorded,
  fixRoundScript,
  ONE_ROUND_SUMMARY,
  oneRoundScript,
  runOneRoundTask,
} from '../support/cli-agents/cli-agent-e2e-checks.ts';
import { describeWithCliAgent } from '../support/cli-agents/describe-with-cli-agent.ts';
import { ofType, textOf } from '../../src/executors/cli-agents/testing/create-parser-fixtures.ts';
import { scriptedUsage, scriptedUsageEvent } from '../support/cli-agents/scripted-usage.ts';
import {
  endsWithToolResult,
  lastToolResult,
  lastUserText,
  startScriptedModelServer,
  type ScriptedModelServer,
  type ScriptedToolCall,
  type ScriptedTurn,
} from '../support/scripted-model-server/index.ts';

const apiKey = 'sk-opencode-e2e-endpoint-key-0001';
const pricing = { inputPricePerMillionUsd: 0.5, outputPricePerMillionUsd: 1.5 };
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

/** OpenCode's `edit` call that replaces the greeting. */
function editGreeting(from: string, to: string): ScriptedToolCall[] {
  return [{ name: 'edit', input: { filePath: 'greet.js', oldString: `'${from}'`, newString: `'${to}'` } }];
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

describeWithCliAgent('opencode', 'the opencode executor with the real OpenCode', (binaryPath) => {
  describe('through a hub and a runner', () => {
    const start = useCliAgentE2e({
      createExecutor: () => createOpencodeExecutor({ binaryPath }),
      endpoint,
      apiKey,
      models: ['scripted-coder'],
    });

    it('edits the worktree with the CLI, passes verification, commits, and records events and usage without leaking secrets', async () => {
      const script = oneRoundScript({
        editText: 'I will change the greeting.',
        edit: editGreeting('hello', 'goodbye'),
        editApplied: (request) => lastToolResult(request)?.output.includes('Edit applied') === true,
        shell: {
          name: 'bash',
          input: {
            command: 'node greet.test.js && env | sort',
            description: 'Run the test and show the environment of this shell',
          },
        },
        usage: [
          { inputTokens: 11_000, outputTokens: 70 },
          { inputTokens: 11_300, outputTokens: 50 },
          { inputTokens: 11_600, outputTokens: 20 },
        ],
      });
      const { e2e, outcome } = await runOneRoundTask(start, script);
      const { model, events } = e2e;

      // What the CLI sent: chat completions over SSE, the routed model, the key as a bearer token, its own
      // tools but not `task` (subagents, whose usage OpenCode does not print), the prompt verbatim.
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
      expect(shellOutput).toContain(`DEPLOY_TOKEN=${E2E_SECRETS.granted}`);
      expect(shellOutput).toContain('OPENCODE_DISABLE_MODELS_FETCH=1');
      expect(shellOutput).not.toContain('PROD_TOKEN');
      expect(shellOutput).not.toContain('WARREN_E2E_RUNNER_SECRET');
      expect(shellOutput).not.toContain('WARREN_E2E_OPENCODE_KEY');
      expectNoSecretOnTheWire(model.requests, apiKey);

      // The normalised events: text, the CLI's tool calls with their ids and inputs, results, usage; the
      // granted token redacted.
      expect(
        ofType(events, 'tool-call').map((event) => [event.toolCallId, event.toolName, event.input]),
      ).toEqual([
        ['call_scripted_0_0', 'edit', script[0]!.toolCalls![0]!.input],
        ['call_scripted_1_0', 'bash', script[1]!.toolCalls![0]!.input],
      ]);
      expectGreetingEditEvents(events);
      const results = ofType(events, 'tool-result');
      expect(results[0]!.output).toBe('Edit applied successfully.');
      expect(results[1]!.output).toContain('DEPLOY_TOKEN=[REDACTED]');
      expect(textOf(events)).toBe(`${script[0]!.text}${ONE_ROUND_SUMMARY}`);

      // Usage: one event per model call with the scripted counts, priced with the endpoint's prices.
      expect(ofType(events, 'usage')).toEqual(
        script.map((turn) =>
          scriptedUsageEvent([turn], pricing, { model: 'scripted-coder', endpoint: 'local' }),
        ),
      );
      expectUsageRecorded(outcome, { ...scriptedUsage(script, pricing), calls: script.length });

      // The attempt's log on the hub shows the tool calls and the model's text.
      await expectAttemptLog(e2e, outcome.task.id, ['edit', 'bash']);
    });

    it('continues its session in a fix round with the failed verification as the prompt, and passes', async () => {
      const e2e = await start(fixRoundScript(editGreeting, { afterToolResult: true }));
      await expectFixedInSecondRound(e2e, await e2e.runTask({ fixRounds: 1, maxAttempts: 1 }), 'edit');
      // The fix round continued the session: the same OpenCode session id in every request.
      const sessions = new Set(e2e.model.requests.map((request) => request.headers['x-session-id']));
      expect(sessions.size).toBe(1);
      expect(ofType(e2e.events, 'usage')).toHaveLength(4);
    });

    it('is stopped at the attempt timeout while the model never answers, leaving no process behind', async () => {
      await expectTimeoutWithSilentModel(start, binaryPath);
    });

    it('is stopped at the attempt timeout during a hung shell command, which runs in a session of its own', async () => {
      // OpenCode starts each bash command detached (a new session, outside the CLI's process group) and
      // does not stop it when it is itself terminated: only the executor's sweep takes it down.
      await expectTimeoutDuringHungCommand(start, { shellToolName: 'bash', binaryPath });
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
            toolCalls: editGreeting('hello', 'goodbye'),
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
        const worktree = await sandbox.createSourceRepo({ files: GREETING_SOURCE_FILES });
        const home = sandbox.path('home');
        const events: ExecutorEvent[] = [];
        const executor = createOpencodeExecutor({ binaryPath, resolveApiKey: () => Promise.resolve(apiKey) });
        const result = await executor.run(
          createTestContext(worktree, {
            task: createTestTask({ title: 'Say goodbye', executor: 'opencode' }),
            env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' },
            timeoutMs: CLI_AGENT_TASK_TIMEOUT_MS,
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
