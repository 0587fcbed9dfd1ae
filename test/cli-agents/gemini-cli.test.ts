/**
 * The gemini-cli executor end to end with the real `gemini` binary (the pinned version from the CLI-agent
 * cache): a real hub on SQLite, a real runner offering only this executor, a real git repository, and the
 * scripted model server speaking Gemini (`streamGenerateContent?alt=sse`). The scripted model calls Gemini
 * CLI's own tools (`replace`, `run_shell_command`), so the CLI itself edits the worktree and runs commands.
 */
import { expect, it } from 'vitest';
import type { ModelEndpointInput } from '../../src/core/model-endpoints.ts';
import { createGeminiCliExecutor } from '../../src/executors/cli-agents/gemini-cli/gemini-cli-adapter.ts';
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

const apiKey = 'gemini-e2e-endpoint-key-0000001';
const pricing = { inputPricePerMillionUsd: 1.25, outputPricePerMillionUsd: 10 };

function endpoint(url: string): ModelEndpointInput {
  return {
    name: 'gemini',
    provider: 'google',
    baseUrl: `${url}/v1beta`,
    apiKeyEnv: 'WARREN_E2E_GEMINI_KEY',
    models: [{ id: 'gemini-2.5-pro', tier: 'frontier', ...pricing }],
  };
}

/** Gemini CLI's `replace` call that replaces the greeting. */
function replaceGreeting(from: string, to: string): ScriptedToolCall[] {
  return [
    {
      name: 'replace',
      input: {
        file_path: 'greet.js',
        old_string: `'${from}'`,
        new_string: `'${to}'`,
        instruction: `Make the greeting ${to}.`,
      },
    },
  ];
}

describeWithCliAgent('gemini-cli', 'the gemini-cli executor with the real Gemini CLI', (binaryPath) => {
  const start = useCliAgentE2e({
    createExecutor: () => createGeminiCliExecutor({ binaryPath }),
    endpoint,
    apiKey,
  });

  it('edits the worktree with the CLI, passes verification, commits, and records events and usage without leaking secrets', async () => {
    const script = oneRoundScript({
      edit: replaceGreeting('hello', 'goodbye'),
      editApplied: (request) => lastToolResult(request)?.isError !== true,
      shell: {
        name: 'run_shell_command',
        input: {
          command: TEST_AND_SHOW_CREDENTIALS,
          description: 'Run the test and show which credentials this shell has.',
        },
      },
      usage: [
        { inputTokens: 9_000, outputTokens: 70 },
        { inputTokens: 9_300, outputTokens: 50 },
        { inputTokens: 9_600, outputTokens: 20 },
      ],
    });
    const { e2e, outcome } = await runOneRoundTask(start, script);
    const { model, events } = e2e;

    // What the CLI sent: Gemini over SSE, the routed model, the key as x-goog-api-key, its real tools.
    for (const request of model.requests) {
      expect(request.path).toBe('/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse');
      expect(request.headers['x-goog-api-key']).toBe(apiKey);
    }
    expect(model.requests[0]!.tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['replace', 'write_file', 'read_file', 'run_shell_command']),
    );
    // Only model calls reached the server: no usage statistics, no update checks, no other endpoint.
    expect(model.httpLog.filter((exchange) => !exchange.path.startsWith('/v1beta/models'))).toEqual([]);

    // The CLI's environment: the granted credential, not the other grant's, nor the runner's own.
    expect(lastToolResult(model.requests[2]!)!.output).toContain(CREDENTIALS_SHOWN);
    expectNoSecretOnTheWire(model.requests, apiKey);

    // The normalised events: text, the CLI's tool calls with their inputs, results, usage; the granted
    // token redacted.
    expect(ofType(events, 'tool-call').map((event) => [event.toolName, event.input])).toEqual([
      ['replace', script[0]!.toolCalls![0]!.input],
      ['run_shell_command', script[1]!.toolCalls![0]!.input],
    ]);
    expectGreetingEditEvents(events);
    expect(textOf(events)).toBe(ONE_ROUND_SUMMARY);

    // Usage: the CLI reports the session's total per model, priced with the endpoint's prices.
    expect(ofType(events, 'usage')).toEqual([
      scriptedUsageEvent(script, pricing, { model: 'gemini-2.5-pro', endpoint: 'gemini' }),
    ]);
    expectUsageRecorded(outcome, scriptedUsage(script, pricing));

    // The attempt's log on the hub shows the tool calls and the model's text.
    await expectAttemptLog(e2e, outcome.task.id, ['replace', 'run_shell_command']);
  });

  it('continues its session in a fix round with the failed verification as the prompt, and passes', async () => {
    const e2e = await start(fixRoundScript(replaceGreeting));
    // The fix round resumed the session.
    await expectFixedInSecondRound(e2e, await e2e.runTask({ fixRounds: 1, maxAttempts: 1 }), 'replace');
  });

  it('is stopped at the attempt timeout while the model never answers, leaving no process behind', async () => {
    await expectTimeoutWithSilentModel(start, binaryPath);
  });
});
