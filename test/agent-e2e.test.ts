/**
 * The agent executor end to end: a real hub on SQLite, a real runner, a real git repository with a
 * failing unit test, and the scripted model server speaking each vendor protocol. The scripted model reads
 * the code, makes a wrong fix, runs the tests, claims success anyway, and fixes it for real in the second
 * verification round.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelEndpointInput } from '../src/core/model-endpoints.ts';
import { runGit } from '../src/vcs/run-git.ts';
import { createGitSandbox, type GitSandbox } from '../src/vcs/testing/create-git-sandbox.ts';
import { scriptedUsage } from './support/cli-agents/scripted-usage.ts';
import { startHubWithRunner, type HubWithRunner } from './support/cli-agents/start-hub-with-runner.ts';
import { waitForTaskEnd } from './support/cli-agents/wait-for-task-end.ts';
import {
  allText,
  lastToolResult,
  lastUserText,
  startScriptedModelServer,
  type ScriptedModelServer,
  type ScriptedTurn,
} from './support/scripted-model-server/index.ts';
import { waitFor } from './support/wait-for.ts';

const apiKey = 'sk-e2e-scripted-key-000000001';
const sourceFiles = {
  'math.js': 'export function add(a, b) {\n  return a - b;\n}\n',
  'math.test.js':
    "import assert from 'node:assert/strict';\nimport { add } from './math.js';\nassert.equal(add(2, 3), 5);\nassert.equal(add(-1, 1), 0);\nconsole.log('all tests passed');\n",
  'package.json': '{ "type": "module" }\n',
};

/** The model's side of the story, keyed on what it has seen so far. */
function fixAddScript(): ScriptedTurn[] {
  const toolSaid = (text: string) => (request: Parameters<NonNullable<ScriptedTurn['when']>>[0]) =>
    lastToolResult(request)?.output.includes(text) === true;
  return [
    {
      name: 'read',
      toolCalls: [{ name: 'read_file', input: { path: 'math.js' } }],
      usage: { inputTokens: 1_000, outputTokens: 40 },
    },
    {
      name: 'wrong fix',
      when: toolSaid('a - b'),
      toolCalls: [
        { name: 'edit_file', input: { path: 'math.js', old_string: 'a - b', new_string: 'a * b' } },
      ],
      usage: { inputTokens: 1_100, outputTokens: 60 },
    },
    {
      name: 'run tests',
      when: (request) => lastToolResult(request) !== undefined && !lastToolResult(request)!.isError,
      toolCalls: [{ name: 'run_shell', input: { command: 'node math.test.js' } }],
      usage: { inputTokens: 1_200, outputTokens: 30 },
    },
    {
      name: 'claims done despite the failure',
      when: toolSaid('AssertionError'),
      text: 'I changed add; done.',
      usage: { inputTokens: 1_500, outputTokens: 20 },
    },
    {
      name: 'real fix after feedback',
      when: (request) => lastUserText(request).includes('verification round 1'),
      toolCalls: [
        { name: 'edit_file', input: { path: 'math.js', old_string: 'a * b', new_string: 'a + b' } },
      ],
      usage: { inputTokens: 2_000, outputTokens: 60 },
    },
    {
      name: 'summary',
      text: 'add now returns a + b; the tests pass.',
      usage: { inputTokens: 2_100, outputTokens: 25 },
    },
  ];
}

const protocols: Array<{ name: string; endpoint: (url: string) => ModelEndpointInput; recorded: string }> = [
  {
    name: 'Anthropic Messages',
    recorded: 'anthropic',
    endpoint: (url) => ({
      name: 'frontier',
      provider: 'anthropic',
      baseUrl: `${url}/v1`,
      apiKeyEnv: 'WARREN_E2E_MODEL_KEY',
      models: [
        { id: 'claude-e2e', tier: 'frontier', inputPricePerMillionUsd: 3, outputPricePerMillionUsd: 15 },
      ],
    }),
  },
  {
    name: 'OpenAI-compatible chat completions',
    recorded: 'openai-chat',
    endpoint: (url) => ({
      name: 'local',
      provider: 'openai-compatible',
      baseUrl: `${url}/v1`,
      apiKeyEnv: 'WARREN_E2E_MODEL_KEY',
      models: [
        { id: 'qwen-e2e', tier: 'cheap', inputPricePerMillionUsd: 0.2, outputPricePerMillionUsd: 0.6 },
      ],
    }),
  },
];

describe.each(protocols)('an agent task over $name', ({ endpoint, recorded }) => {
  let sandbox: GitSandbox;
  let model: ScriptedModelServer;
  let hubWithRunner: HubWithRunner;
  let source: string;

  beforeEach(async () => {
    process.env.WARREN_E2E_MODEL_KEY = apiKey;
    sandbox = await createGitSandbox();
    model = await startScriptedModelServer({ script: fixAddScript(), apiKey });
    hubWithRunner = await startHubWithRunner({
      sandbox,
      config: {
        leaseMs: 5_000,
        endpoints: [endpoint(model.url)],
        // why: endpoints are re-checked quickly, so the outage test sees them go down and come back in time.
        endpointUpIntervalMs: 100,
        endpointDownInitialDelayMs: 100,
        endpointDownMaxDelayMs: 200,
      },
      runnerName: 'agent-runner',
      runner: { keepFailedWorktreesMs: 0 },
    });
    source = await sandbox.createSourceRepo({ files: sourceFiles });
  });

  afterEach(async () => {
    await hubWithRunner.stop();
    await model.close();
    await sandbox.cleanup();
  });

  it('fixes a failing test in the second verification round, with evidence, tokens and cost recorded', async () => {
    const { hub, admin } = hubWithRunner;
    const configured = endpoint(model.url);
    const pricing = configured.models[0]!;
    const { task: created } = await admin.tasks.create({
      title: 'Fix add',
      instructions: 'add(a, b) must return the sum of a and b. The tests in math.test.js must pass.',
      repo: source,
      executor: 'agent',
      model: `${configured.name}/${pricing.id}`,
      successCriteria: [{ description: 'unit tests pass', command: 'node math.test.js' }],
      fixRounds: 2,
    });
    const task = await waitForTaskEnd(admin, created.id);
    const detail = (await admin.tasks.get(created.id))!;
    expect(task.state, JSON.stringify(detail.attempts.at(-1)?.error)).toBe('succeeded');

    // The branch holds the real fix.
    const branch = task.result!.branch;
    const { stdout } = await runGit(['show', `${branch}:math.js`], { cwd: source });
    expect(stdout).toContain('return a + b;');

    // Evidence: round 1 failed with the assertion, round 2 passed.
    const attempt = detail.attempts[0]!;
    expect(attempt.verification.map((round) => round.passed)).toEqual([false, true]);
    expect(attempt.verification[0]!.criteria[0]!.output).toContain('AssertionError');

    // Tokens and cost: every scripted call, priced by the endpoint's prices.
    const calls = fixAddScript();
    const { inputTokens, outputTokens, costUsd } = scriptedUsage(calls, pricing);
    expect(task.usage).toMatchObject({ inputTokens, outputTokens, calls: calls.length });
    expect(task.usage.costUsd).toBeCloseTo(costUsd, 10);
    expect(attempt.usage).toMatchObject({ inputTokens, outputTokens });

    // What Warren sent: the protocol, the key, the tools, and the failing output in the fix round.
    expect(model.requests.map((request) => request.protocol)).toEqual(calls.map(() => recorded));
    expect(model.requests.map((request) => request.answeredWith)).toEqual(calls.map((turn) => turn.name));
    expect(model.requests[0]!.tools.map((tool) => tool.name)).toContain('edit_file');
    const fixRequest = model.requests[4]!;
    expect(lastUserText(fixRequest)).toContain('node math.test.js');
    expect(lastUserText(fixRequest)).toContain('AssertionError');
    for (const request of model.requests) expect(allText(request)).not.toContain(apiKey);

    // The ledger is visible through the API and on /metrics.
    const metrics = await (await fetch(`${hub.url}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`warren_model_tokens_total\\{[^}]*endpoint="${configured.name}"[^}]*\\} `),
    );
    // The runner removes the worktree after it has reported the success, so this is waited for.
    const worktreeFile = path.join(sandbox.path('runner'), 'worktrees', attempt.id, 'math.js');
    await waitFor('the worktree to be removed', () =>
      readFile(worktreeFile).then(
        () => false,
        () => true,
      ),
    );
  });

  it('never routes to an endpoint that is down: the task waits, then runs when it comes back', async () => {
    const { admin } = hubWithRunner;
    await model.close();
    const configured = endpoint(model.url);
    await waitFor('the endpoint to be marked down', async () => {
      const endpoints = await admin.endpoints.list();
      return (
        endpoints.find((candidate) => candidate.name === configured.name)?.status === 'down' || undefined
      );
    });
    const { task } = await admin.tasks.create({
      title: 'Fix add while the model is down',
      repo: source,
      executor: 'agent',
      model: `${configured.name}/${configured.models[0]!.id}`,
      successCriteria: [{ description: 'unit tests pass', command: 'node math.test.js' }],
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await admin.tasks.get(task.id))!.task.state).toBe('queued');

    // The endpoint comes back on the same address: the task is claimed and done.
    model = await startScriptedModelServer({
      script: fixAddScript(),
      apiKey,
      port: Number(new URL(model.url).port),
    });
    const finished = await waitForTaskEnd(admin, task.id);
    expect(finished.state).toBe('succeeded');
  });
});

describe('verify-fix rounds never regress', () => {
  let sandbox: GitSandbox;
  let model: ScriptedModelServer;
  let hubWithRunner: HubWithRunner;

  beforeEach(async () => {
    process.env.WARREN_E2E_MODEL_KEY = apiKey;
    sandbox = await createGitSandbox();
  });

  afterEach(async () => {
    await hubWithRunner.stop();
    await model.close();
    await sandbox.cleanup();
  });

  it('undoes a fix round that breaks a criterion which had passed, and tells the agent', async () => {
    model = await startScriptedModelServer({
      apiKey,
      script: [
        { name: 'claims done', text: 'Nothing to change, I think.' },
        {
          name: 'breaks the greeting',
          when: (request) => lastUserText(request).includes('verification round 1'),
          toolCalls: [
            { name: 'edit_file', input: { path: 'greet.js', old_string: "'hello'", new_string: "'bye'" } },
          ],
        },
        { name: 'claims done again', text: 'Changed the greeting.' },
        {
          name: 'real fix',
          when: (request) => lastUserText(request).includes('reverted'),
          toolCalls: [
            { name: 'edit_file', input: { path: 'math.js', old_string: 'a - b', new_string: 'a + b' } },
          ],
        },
        { name: 'summary', text: 'Fixed add.' },
      ],
    });
    hubWithRunner = await startHubWithRunner({
      sandbox,
      config: { leaseMs: 5_000, endpoints: [protocols[0]!.endpoint(model.url)] },
      runnerName: 'agent-runner',
    });
    const { admin } = hubWithRunner;
    const source = await sandbox.createSourceRepo({
      files: {
        ...sourceFiles,
        'greet.js': "export const greet = () => 'hello';\n",
        'greet.test.js':
          "import assert from 'node:assert/strict';\nimport { greet } from './greet.js';\nassert.equal(greet(), 'hello');\n",
      },
    });

    const { task: created } = await admin.tasks.create({
      title: 'Fix add without breaking the greeting',
      repo: source,
      executor: 'agent',
      model: 'frontier/claude-e2e',
      successCriteria: [
        { description: 'greeting works', command: 'node greet.test.js' },
        { description: 'add works', command: 'node math.test.js' },
      ],
      fixRounds: 2,
    });
    const task = await waitForTaskEnd(admin, created.id);
    const attempt = (await admin.tasks.get(created.id))!.attempts[0]!;
    expect(task.state, JSON.stringify(attempt.error)).toBe('succeeded');
    expect(attempt.verification.map((round) => round.criteria.map((criterion) => criterion.passed))).toEqual([
      [true, false],
      [false, false],
      [true, true],
    ]);
    // The broken greeting was undone before the agent's next round, so the branch keeps it intact.
    const { stdout } = await runGit(['show', `${task.result!.branch}:greet.js`], { cwd: source });
    expect(stdout).toContain("'hello'");
    const realFix = model.requests.find((request) => request.answeredWith === 'real fix')!;
    expect(lastUserText(realFix)).toContain('"greeting works"');
  });
});
