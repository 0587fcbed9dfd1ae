/**
 * The codex executor end to end with the real `codex` binary (the pinned version from the CLI-agent cache):
 * a real hub on SQLite, a real runner offering only this executor, a real git repository, and the scripted
 * model server speaking OpenAI Responses. The scripted model calls Codex's own tools, `apply_patch` (a
 * freeform custom tool: the call carries the raw patch) and `exec_command`, so Codex itself edits the
 * worktree and runs commands, inside its `workspace-write` sandbox.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { ModelEndpointInput } from '../../src/core/model-endpoints.ts';
import { createCodexExecutor } from '../../src/executors/cli-agents/codex/codex-adapter.ts';
import { E2E_SECRETS, useCliAgentE2e } from '../support/cli-agents/cli-agent-e2e.ts';
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
import { PINNED_CLI_AGENTS } from '../support/cli-agents/pinned-cli-agents.ts';
import { ofType, textOf } from '../../src/executors/cli-agents/testing/create-parser-fixtures.ts';
import { scriptedUsage, scriptedUsageEvent } from '../support/cli-agents/scripted-usage.ts';
import {
  lastToolResult,
  offersTool,
  type ScriptedToolCall,
  type ScriptedTurn,
} from '../support/scripted-model-server/index.ts';

const apiKey = 'codex-e2e-endpoint-key-0000001';
const pricing = { inputPricePerMillionUsd: 1.25, outputPricePerMillionUsd: 10 };
// why this model: Codex ships metadata for it, so it offers `apply_patch` as a freeform tool as it does
// against OpenAI; for a model it does not know it warns and offers only its shell tools.
const modelId = 'gpt-5.5';
// why outside /tmp: the sandbox lets commands write to /tmp and $TMPDIR as well as the worktree.
const outsideFile = `/warren-codex-e2e-outside-${process.pid}`;

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
function patchGreeting(from: string, to: string): ScriptedToolCall[] {
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

describeWithCliAgent('codex', 'the codex executor with the real Codex CLI', (binaryPath) => {
  const start = useCliAgentE2e({
    createExecutor: () => createCodexExecutor({ binaryPath }),
    endpoint,
    apiKey,
  });

  afterEach(async () => {
    await rm(outsideFile, { force: true });
  });

  it('detects the binary and its version', async () => {
    await expect(createCodexExecutor({ binaryPath }).detect!()).resolves.toEqual({
      available: true,
      version: PINNED_CLI_AGENTS.find((agent) => agent.executor === 'codex')!.version,
    });
  });

  it('edits the worktree with the CLI, passes verification, commits, and records events and usage without leaking secrets', async () => {
    const script = oneRoundScript({
      editText: 'I will change the greeting.',
      edit: patchGreeting('hello', 'goodbye'),
      editApplied: (request) =>
        lastToolResult(request)?.output.includes('Success. Updated the following files') === true,
      shell: {
        name: 'exec_command',
        input: {
          cmd:
            'node greet.test.js && echo "granted=${DEPLOY_TOKEN:-absent} ungranted=${PROD_TOKEN:-absent} runner=${WARREN_E2E_RUNNER_SECRET:-absent} key=${WARREN_CODEX_API_KEY:-absent}"; ' +
            `touch ${outsideFile}; echo "outside=$?"`,
        },
      },
      usage: [
        { inputTokens: 12_000, outputTokens: 80 },
        { inputTokens: 12_400, outputTokens: 60 },
        { inputTokens: 12_900, outputTokens: 20 },
      ],
    });
    const { e2e, outcome } = await runOneRoundTask(start, script);
    const { model, events } = e2e;

    // What the CLI sent: Responses over SSE to the endpoint's base URL, the routed model, the key as a
    // bearer token, its real tools (apply_patch as a custom tool).
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
    expect(shellOutput).toContain(`granted=${E2E_SECRETS.granted} ungranted=absent runner=absent key=absent`);
    expect(shellOutput).toMatch(/outside=[1-9]/);
    expectNoSecretOnTheWire(model.requests, apiKey);

    // The normalised events: text, the CLI's tool calls with their inputs, results, usage; the granted
    // token redacted.
    const calls = ofType(events, 'tool-call');
    expect(calls.map((event) => event.toolName)).toEqual(['file_change', 'command_execution']);
    expect(calls[0]!.input).toEqual({
      changes: [{ path: expect.stringMatching(/\/greet\.js$/) as unknown, kind: 'update' }],
    });
    expect(calls[1]!.input).toEqual({
      command: expect.stringContaining('node greet.test.js && echo') as unknown,
    });
    expectGreetingEditEvents(events);
    expect(textOf(events)).toBe(`${script[0]!.text}\n\n${ONE_ROUND_SUMMARY}`);

    // Usage: Codex reports one turn's total, priced with the endpoint's prices.
    expect(ofType(events, 'usage')).toEqual([
      scriptedUsageEvent(script, pricing, { model: modelId, endpoint: 'openai' }),
    ]);
    expectUsageRecorded(outcome, scriptedUsage(script, pricing));

    // The attempt's log on the hub shows the tool calls and the model's text.
    await expectAttemptLog(e2e, outcome.task.id, ['file_change', 'command_execution']);
  });

  it('resumes its thread in a fix round with the failed verification as the prompt, passes, and counts each token once', async () => {
    const script = fixRoundScript(patchGreeting, {
      usage: [
        { inputTokens: 10_000, outputTokens: 40 },
        { inputTokens: 10_300, outputTokens: 10 },
        { inputTokens: 11_000, outputTokens: 45 },
        { inputTokens: 11_400, outputTokens: 12 },
      ],
    });
    const e2e = await start(script);
    const outcome = await e2e.runTask({ fixRounds: 1, maxAttempts: 1 });
    // The fix round resumed the thread, with the patch tool still offered.
    const fixRequest = await expectFixedInSecondRound(e2e, outcome, 'apply_patch');
    expect(offersTool(fixRequest, 'apply_patch')).toBe(true);

    // Codex reports the thread's running totals; the resumed round counts only what it added.
    const tokens = (turns: ScriptedTurn[]) => {
      const { inputTokens, outputTokens } = scriptedUsage(turns, pricing);
      return [inputTokens, outputTokens];
    };
    expect(ofType(e2e.events, 'usage').map((event) => [event.inputTokens, event.outputTokens])).toEqual([
      tokens(script.slice(0, 2)),
      tokens(script.slice(2)),
    ]);
    const [inputTokens, outputTokens] = tokens(script);
    expect(outcome.attempt.usage).toMatchObject({ inputTokens, outputTokens });
  });

  it('is stopped at the attempt timeout while the model never answers, leaving no process behind', async () => {
    // The npm `codex` is a Node shim that starts the native binary from its package directory.
    await expectTimeoutWithSilentModel(start, path.resolve(binaryPath, '../..'));
  });
});
