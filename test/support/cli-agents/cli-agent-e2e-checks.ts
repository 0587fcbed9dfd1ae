/**
 * Scripts and checks the CLI-agent end-to-end tests share: what holds for every CLI (the commit, the
 * redaction, the usage ledger, the fix round, the timeouts), so that each test file keeps only what is
 * particular to its CLI.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { ExecutorEvent } from '../../../src/executors/spec.ts';
import {
  allText,
  endsWithToolResult,
  lastToolResult,
  lastUserText,
  type RecordedModelRequest,
  type ScriptedToolCall,
  type ScriptedTurn,
  type ScriptedUsage,
} from '../scripted-model-server/index.ts';
import { waitFor } from '../wait-for.ts';
import {
  E2E_SECRETS,
  GREETING_INSTRUCTIONS,
  type CliAgentE2e,
  type StartCliAgentE2e,
  type TaskOutcome,
} from './cli-agent-e2e.ts';
import { ofType } from '../../../src/executors/cli-agents/testing/create-parser-fixtures.ts';
import { liveProcesses, survivingProcesses } from './live-processes.ts';

/** The model's last words in {@link oneRoundScript}. */
export const ONE_ROUND_SUMMARY = 'greet.js now exports "goodbye"; node greet.test.js passes.';

/**
 * A script for a task done in one round: `edit` (the CLI's edit call, after `editText` when given); once
 * `editApplied` holds for the request, `shell` (the CLI's shell call, which should run the greeting test);
 * once that printed `greeting ok`, {@link ONE_ROUND_SUMMARY}. `usage` gives the three turns their counts.
 */
export function oneRoundScript(turns: {
  editText?: string;
  edit: ScriptedToolCall[];
  editApplied: (request: RecordedModelRequest) => boolean;
  shell: ScriptedToolCall;
  usage: [ScriptedUsage, ScriptedUsage, ScriptedUsage];
}): ScriptedTurn[] {
  return [
    {
      name: 'edit',
      ...(turns.editText === undefined ? {} : { text: turns.editText }),
      toolCalls: turns.edit,
      usage: turns.usage[0],
    },
    {
      name: 'test and show the environment',
      when: turns.editApplied,
      toolCalls: [turns.shell],
      usage: turns.usage[1],
    },
    {
      name: 'summary',
      when: (request) => lastToolResult(request)?.output.includes('greeting ok') === true,
      text: ONE_ROUND_SUMMARY,
      usage: turns.usage[2],
    },
  ];
}

/**
 * Starts the set-up with `script` (see {@link oneRoundScript}) and runs the greeting task with the grant
 * `deploy:read`; checks it succeeded in its first verification round with greet.js saying goodbye on its
 * branch (the CLI made the edit), that the model answered with the script's turns in order, and that the
 * CLI's first request carried the task's instructions.
 */
export async function runOneRoundTask(
  start: StartCliAgentE2e,
  script: ScriptedTurn[],
): Promise<{ e2e: CliAgentE2e; outcome: TaskOutcome }> {
  const e2e = await start(script);
  const outcome = await e2e.runTask({ grants: ['deploy:read'] });
  const { task, attempt } = outcome;
  expect(task.state, JSON.stringify(attempt.error)).toBe('succeeded');
  expect(attempt.verification.map((round) => round.passed)).toEqual([true]);
  expect(await e2e.committedFile(task, 'greet.js')).toBe("export const greeting = 'goodbye';\n");
  expect(e2e.model.requests.map((request) => request.answeredWith)).toEqual(script.map((turn) => turn.name));
  expect(lastUserText(e2e.model.requests[0]!)).toContain(GREETING_INSTRUCTIONS);
  return { e2e, outcome };
}

/**
 * Checks that no request to the model carried the runner's own secret or the ungranted one (body, headers
 * or path), and that the endpoint key is nowhere in the conversation.
 */
export function expectNoSecretOnTheWire(requests: RecordedModelRequest[], apiKey: string): void {
  for (const request of requests) {
    const raw = JSON.stringify({ body: request.body, headers: request.headers, path: request.path });
    expect(raw).not.toContain(E2E_SECRETS.runner);
    expect(raw).not.toContain(E2E_SECRETS.ungranted);
    expect(allText(request)).not.toContain(apiKey);
  }
}

/**
 * Checks the events of a run that edited greet.js: a successful result for every tool call, by id and
 * name; greet.js as the one file changed; and the granted secret, which reached the model, redacted.
 */
export function expectGreetingEditEvents(events: ExecutorEvent[]): void {
  const calls = ofType(events, 'tool-call');
  expect(
    ofType(events, 'tool-result').map((event) => [event.toolCallId, event.toolName, event.isError]),
  ).toEqual(calls.map((call) => [call.toolCallId, call.toolName, undefined]));
  expect(JSON.stringify(events)).not.toContain(E2E_SECRETS.granted);
  expect(ofType(events, 'file-change')).toEqual([
    { type: 'file-change', path: 'greet.js', change: 'modified' },
  ]);
}

/**
 * Checks the ledger: the attempt's tokens and cost, and the task's tokens (and number of model calls,
 * when given).
 */
export function expectUsageRecorded(
  { task, attempt }: TaskOutcome,
  expected: { inputTokens: number; outputTokens: number; costUsd: number; calls?: number },
): void {
  const { inputTokens, outputTokens, costUsd, calls } = expected;
  expect(attempt.usage).toMatchObject({ inputTokens, outputTokens });
  expect(attempt.usage.costUsd).toBeCloseTo(costUsd, 10);
  expect(task.usage).toMatchObject({ inputTokens, outputTokens, ...(calls === undefined ? {} : { calls }) });
}

/**
 * Checks the attempt's log on the hub after {@link oneRoundScript}: it shows each of `toolNames` called
 * and the model's last words, and not the granted secret.
 */
export async function expectAttemptLog(e2e: CliAgentE2e, taskId: string, toolNames: string[]): Promise<void> {
  const logText = await e2e.attemptLog(taskId);
  for (const toolName of toolNames) expect(logText).toContain(`tool call ${toolName}`);
  expect(logText).toContain(ONE_ROUND_SUMMARY);
  expect(logText).not.toContain(E2E_SECRETS.granted);
}

/** The turns of {@link fixRoundScript}, in the order they are played. */
const FIX_ROUND_TURNS = ['wrong edit', 'claims done', 'real fix', 'fixed'];

/** Whether a request carries the first failed verification round as the prompt. */
function isFixPrompt(request: RecordedModelRequest): boolean {
  return lastUserText(request).includes('verification round 1');
}

/**
 * A script for a task that passes in its second verification round: the model edits greet.js to `bye`
 * and claims it is done; verification fails; prompted with the failure it edits `bye` to `goodbye`.
 * `editGreeting` is the CLI's own edit call. With `afterToolResult`, the turns that answer a tool's result
 * are played only for a request that ends with one; `usage` gives each of the four turns its counts.
 */
export function fixRoundScript(
  editGreeting: (from: string, to: string) => ScriptedToolCall[],
  options: { afterToolResult?: boolean; usage?: ScriptedUsage[] } = {},
): ScriptedTurn[] {
  const afterToolResult = (request: RecordedModelRequest) =>
    options.afterToolResult !== true || endsWithToolResult(request);
  const turns: ScriptedTurn[] = [
    { toolCalls: editGreeting('hello', 'bye') },
    {
      when: (request) => afterToolResult(request) && !isFixPrompt(request),
      text: 'Changed the greeting to bye.',
    },
    { when: isFixPrompt, toolCalls: editGreeting('bye', 'goodbye') },
    {
      ...(options.afterToolResult ? { when: endsWithToolResult } : {}),
      text: 'The greeting is goodbye now.',
    },
  ];
  return turns.map((turn, index) => ({
    name: FIX_ROUND_TURNS[index],
    ...turn,
    ...(options.usage ? { usage: options.usage[index] } : {}),
  }));
}

/**
 * Checks a task that ran {@link fixRoundScript}: it passed in the second round, after failing the first
 * with the assertion, and its branch says goodbye; the four turns were played in order; and the fix
 * round's first request carries the first round's conversation (the `editToolName` call and the claim),
 * then the evidence (the command and its failing output) as the new user message. Returns that request.
 */
export async function expectFixedInSecondRound(
  e2e: CliAgentE2e,
  { task, attempt }: TaskOutcome,
  editToolName: string,
): Promise<RecordedModelRequest> {
  expect(task.state, JSON.stringify(attempt.error)).toBe('succeeded');
  expect(attempt.verification.map((round) => round.passed)).toEqual([false, true]);
  expect(attempt.verification[0]!.criteria[0]!.output).toContain('AssertionError');
  expect(await e2e.committedFile(task, 'greet.js')).toContain("'goodbye'");

  expect(e2e.model.requests.map((request) => request.answeredWith)).toEqual(FIX_ROUND_TURNS);
  const fixRequest = e2e.model.requests[2]!;
  expect(
    fixRequest.messages.some((message) => message.toolCalls.some((call) => call.name === editToolName)),
  ).toBe(true);
  expect(fixRequest.messages.some((message) => message.text.includes('Changed the greeting to bye.'))).toBe(
    true,
  );
  expect(lastUserText(fixRequest)).toContain('node greet.test.js');
  expect(lastUserText(fixRequest)).toContain('AssertionError');
  return fixRequest;
}

/** Checks the attempt ended in a timeout. */
function expectTimedOut({ attempt }: TaskOutcome): void {
  expect(attempt.error).toMatchObject({ kind: 'timeout' });
}

// why: longer than any attempt timeout of these tests: the model (or command) outlasts the attempt.
const foreverMs = 600_000;
// why: long enough for each CLI to start, send its first request and (for a hung command) start the
// command before the attempt times out. OpenCode alone takes about 4 s to its first request on a quiet
// 2-core machine, and over 8 s while other test files run beside it.
const shortTaskTimeoutMs = 20_000;

/**
 * Runs a task whose model never answers, with a short timeout, and checks it was stopped at the timeout
 * with one request sent and no process of the run left: none whose command line contains `processMarker`
 * (the CLI's binary or package directory) working under the runner's directory, and none carrying an
 * executor run's tag there.
 */
export async function expectTimeoutWithSilentModel(
  start: StartCliAgentE2e,
  processMarker: string,
): Promise<void> {
  const e2e = await start([{ name: 'never answers', fault: { kind: 'delay', ms: foreverMs } }]);
  const outcome = await e2e.runTask({ timeoutMs: shortTaskTimeoutMs, maxAttempts: 1 });
  expect(['failed', 'dead']).toContain(outcome.task.state);
  expectTimedOut(outcome);
  expect(e2e.model.requests.map((request) => request.answeredWith)).toEqual([undefined]);
  expect(await survivingProcesses({ commandLineContains: processMarker, cwdUnder: e2e.runnerDir })).toEqual(
    [],
  );
  expect(await survivingProcesses({ tagged: true, cwdUnder: e2e.runnerDir })).toEqual([]);
}

/**
 * Runs a task whose model calls the CLI's shell tool (`shellToolName`, with `command` and `description`)
 * with a command that never ends, and checks the command really started, the attempt was stopped at the
 * timeout, and neither the command nor `binaryPath` is left running.
 */
export async function expectTimeoutDuringHungCommand(
  start: StartCliAgentE2e,
  options: { shellToolName: string; binaryPath: string },
): Promise<void> {
  // why unique: test files run in parallel, and a marker one contains another's would match its command.
  const marker = `hung-command-marker-${randomUUID()}`;
  const e2e = await start([
    {
      name: 'hangs in a command',
      toolCalls: [
        {
          name: options.shellToolName,
          input: {
            command: `node -e "setTimeout(() => {}, ${foreverMs})" ${marker}`,
            description: 'A command that never ends',
          },
        },
      ],
    },
  ]);
  const created = e2e.createTask({
    title: 'Hang',
    instructions: 'Run the slow command.',
    timeoutMs: shortTaskTimeoutMs,
    maxAttempts: 1,
  });
  // The command really ran before the timeout.
  await waitFor('the hung command to start', async () =>
    (await liveProcesses({ commandLineContains: marker })).length > 0 ? true : undefined,
  );
  const outcome = await e2e.taskOutcome((await created).task.id);
  expectTimedOut(outcome);
  // The command (wherever it went: it may have left the CLI's group and session) and the CLI are gone.
  expect(await survivingProcesses({ commandLineContains: marker })).toEqual([]);
  expect(
    await survivingProcesses({ commandLineContains: options.binaryPath, cwdUnder: e2e.runnerDir }),
  ).toEqual([]);
  expect(await survivingProcesses({ tagged: true, cwdUnder: e2e.runnerDir })).toEqual([]);
}
