/**
 * The claude-code executor end to end with the real `claude` binary (the pinned version from the CLI-agent
 * cache): a real hub on SQLite, a real runner offering only this executor, a real git repository, and the
 * scripted model server speaking Anthropic Messages over SSE. The scripted model calls Claude Code's own
 * tools (`Edit`, `Bash`), so the CLI itself edits the worktree and runs commands.
 */
import { expect, it } from 'vitest';
import type { ModelEndpointInput } from '../../src/core/model-endpoints.ts';
import { createClaudeCodeExecutor } from '../../src/executors/cli-agents/claude-code/claude-code-adapter.ts';
import {
  CREDENTIALS_SHOWN,
  TEST_AND_SHOW_CREDENTIALS,
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
import { lastToolResult, type ScriptedToolCall } from '../support/scripted-model-server/index.ts';

const apiKey = 'sk-ant-e2e-endpoint-key-0000001';
const pricing = { inputPricePerMillionUsd: 3, outputPricePerMillionUsd: 15 };

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

/** Claude Code's `Edit` call that replaces the greeting. */
function editGreeting(from: string, to: string): ScriptedToolCall[] {
  return [{ name: 'Edit', input: { file_path: 'greet.js', old_string: `'${from}'`, new_string: `'${to}'` } }];
}

describeWithCliAgent('claude-code', 'the claude-code executor with the real Claude Code', (binaryPath) => {
  const start = useCliAgentE2e({
    createExecutor: () => createClaudeCodeExecutor({ binaryPath }),
    endpoint,
    apiKey,
  });

  it('edits the worktree with the CLI, passes verification, commits, and records events and usage without leaking secrets', async () => {
    const script = oneRoundScript({
      editText: 'I will change the greeting.',
      edit: editGreeting('hello', 'goodbye'),
      editApplied: (request) => lastToolResult(request)?.isError !== true,
      shell: {
        name: 'Bash',
        input: {
          command: TEST_AND_SHOW_CREDENTIALS,
          description: 'Run the test and show which credentials this shell has',
        },
      },
      usage: [
        { inputTokens: 12_000, outputTokens: 70 },
        { inputTokens: 12_300, outputTokens: 50 },
        { inputTokens: 12_600, outputTokens: 20 },
      ],
    });
    const { e2e, outcome } = await runOneRoundTask(start, script);
    const { model, events } = e2e;

    // What the CLI sent: Anthropic Messages over SSE, the routed model, the key as x-api-key, its tools.
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
    expect(lastToolResult(model.requests[2]!)!.output).toContain(CREDENTIALS_SHOWN);
    expectNoSecretOnTheWire(model.requests, apiKey);

    // The normalised events: text, the CLI's tool calls with their ids and inputs, results, usage; the
    // granted token redacted.
    const calls = ofType(events, 'tool-call');
    expect(calls.map((event) => [event.toolName, event.input])).toEqual([
      ['Edit', { replace_all: false, ...(script[0]!.toolCalls![0]!.input as object) }],
      ['Bash', script[1]!.toolCalls![0]!.input],
    ]);
    expect(calls.map((event) => event.toolCallId)).toEqual(['toolu_scripted_0_0', 'toolu_scripted_1_0']);
    expectGreetingEditEvents(events);
    expect(textOf(events)).toBe(`${script[0]!.text}${ONE_ROUND_SUMMARY}`);

    // Usage: one event per model call with the scripted counts, priced with the endpoint's prices.
    expect(ofType(events, 'usage')).toEqual(
      script.map((turn) =>
        scriptedUsageEvent([turn], pricing, { model: 'claude-e2e', endpoint: 'anthropic' }),
      ),
    );
    expectUsageRecorded(outcome, { ...scriptedUsage(script, pricing), calls: script.length });

    // The attempt's log on the hub shows the tool calls and the model's text.
    await expectAttemptLog(e2e, outcome.task.id, ['Edit', 'Bash']);
  });

  it('resumes its session in a fix round with the failed verification as the prompt, and passes', async () => {
    const e2e = await start(fixRoundScript(editGreeting));
    await expectFixedInSecondRound(e2e, await e2e.runTask({ fixRounds: 1, maxAttempts: 1 }), 'Edit');
    // The fix round resumed the session: the same Claude Code session id in every request.
    const sessions = new Set(
      e2e.model.requests.map((request) => request.headers['x-claude-code-session-id']),
    );
    expect(sessions.size).toBe(1);
    expect(ofType(e2e.events, 'usage')).toHaveLength(4);
  });

  it('is stopped at the attempt timeout while the model never answers, leaving no process behind', async () => {
    await expectTimeoutWithSilentModel(start, binaryPath);
  });

  it('is stopped at the attempt timeout during a hung shell command, whose own process group goes too', async () => {
    // Claude Code starts each Bash command in a session of its own (outside the CLI's process group):
    // the command is gone only if the CLI, told to stop, takes it down.
    await expectTimeoutDuringHungCommand(start, { shellToolName: 'Bash', binaryPath });
  });
});
