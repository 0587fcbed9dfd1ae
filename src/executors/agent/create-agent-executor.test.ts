import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  allText,
  lastToolResult,
  lastUserText,
  startScriptedModelServer,
  type ModelScript,
  type ScriptedModelServer,
} from '../../../test/support/scripted-model-server/index.ts';
import type { ClaimedAgent } from '../../core/claimed-agent.ts';
import type { ModelAssignment } from '../../core/model-endpoints.ts';
import type { TaskSpecInput, VerificationRound } from '../../core/types.ts';
import { runProcess } from '../run-process.ts';
import type { ExecutorContext, ExecutorEvent, ExecutorResult } from '../spec.ts';
import { createTestContext } from '../testing/create-test-context.ts';
import { createTestTask } from '../testing/create-test-task.ts';
import type { AgentDefinitionInput } from './agent-definition.ts';
import { createAgentExecutor, type AgentExecutorOptions } from './create-agent-executor.ts';

const apiKey = 'sk-test-scripted-key-0001';
const envReportServer = path.resolve(import.meta.dirname, '../../../test/support/env-report-mcp-server.ts');
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const secretToken = 'ghp_grantedSecretValue123456';

describe('the agent executor against the scripted model server', () => {
  let server: ScriptedModelServer | undefined;
  let worktree: string;
  let events: ExecutorEvent[];

  beforeEach(async () => {
    worktree = await realpath(await mkdtemp(path.join(tmpdir(), 'warren-agent-')));
    await writeFile(path.join(worktree, 'math.js'), 'export function add(a, b) {\n  return a - b;\n}\n');
    await git(['init', '--quiet', '--initial-branch=main']);
    await git(['add', '--all']);
    await git(['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'initial']);
    events = [];
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(worktree, { recursive: true, force: true });
  });

  async function git(args: string[]): Promise<void> {
    const result = await runProcess({
      command: ['git', ...args],
      cwd: worktree,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: worktree },
      timeoutMs: 10_000,
      maxOutputBytes: 10_000,
    });
    if (result.exitCode !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.output}`);
  }

  async function serve(script: ModelScript): Promise<ModelAssignment> {
    server = await startScriptedModelServer({ script, apiKey });
    process.env.WARREN_TEST_SCRIPTED_KEY = apiKey;
    return {
      endpoint: {
        name: 'scripted',
        provider: 'anthropic',
        baseUrl: `${server.url}/v1`,
        apiKeyEnv: 'WARREN_TEST_SCRIPTED_KEY',
      },
      model: 'claude-scripted',
      pricing: { inputPerMillionUsd: 3, outputPerMillionUsd: 15 },
    };
  }

  function contextFor(
    model: ModelAssignment,
    spec: Partial<TaskSpecInput> = {},
    overrides: Partial<ExecutorContext> = {},
  ): ExecutorContext {
    return createTestContext(worktree, {
      task: createTestTask({
        title: 'fix add',
        instructions: 'Make add return the sum.',
        executor: 'agent',
        ...spec,
      }),
      emit: (event) => events.push(event),
      model,
      ...overrides,
    });
  }

  function executor(options: AgentExecutorOptions = {}) {
    return createAgentExecutor({
      modelRetry: { maxRetries: 2, policy: { baseDelayMs: 5, maxDelayMs: 20, factor: 2, jitter: 0 } },
      ...options,
    });
  }

  it('reads, edits and answers; usage and cost are reported per call', async () => {
    const model = await serve([
      {
        toolCalls: [{ name: 'read_file', input: { path: 'math.js' } }],
        usage: { inputTokens: 1000, outputTokens: 50 },
      },
      {
        when: (request) => lastToolResult(request)?.output.includes('a - b') === true,
        toolCalls: [
          { name: 'edit_file', input: { path: 'math.js', old_string: 'a - b', new_string: 'a + b' } },
        ],
        usage: { inputTokens: 1200, outputTokens: 60 },
      },
      { text: 'Changed add to return a + b.', usage: { inputTokens: 1300, outputTokens: 20 } },
    ]);
    const result = await executor().run(contextFor(model));
    expect(result).toMatchObject({ status: 'succeeded', summary: 'Changed add to return a + b.' });
    expect(await readFile(path.join(worktree, 'math.js'), 'utf8')).toContain('return a + b;');

    const usage = events.filter((event) => event.type === 'usage');
    expect(usage.map((event) => [event.inputTokens, event.outputTokens])).toEqual([
      [1000, 50],
      [1200, 60],
      [1300, 20],
    ]);
    expect(usage[0]).toMatchObject({
      endpoint: 'scripted',
      model: 'claude-scripted',
      costUsd: (1000 * 3 + 50 * 15) / 1e6,
    });
    expect(events).toContainEqual({ type: 'file-change', path: 'math.js', change: 'modified' });
    if (result.status !== 'succeeded') throw new Error('unreachable');
    expect(result.usage).toMatchObject({ inputTokens: 3500, outputTokens: 130 });

    const first = server!.requests[0]!;
    expect(first.system).toContain('Do not commit');
    expect(first.messages[0]?.text).toContain('Make add return the sum.');
    expect(first.messages[0]?.text).toContain('math.js');
    expect(first.tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining([
        'read_file',
        'write_file',
        'edit_file',
        'grep',
        'glob',
        'run_shell',
        'git_diff',
        'report_progress',
      ]),
    );
    expect(first.headers['x-api-key']).toBe(apiKey);
  });

  it.each([
    { provider: 'openai' as const, path: '/v1', protocol: 'openai-responses' },
    { provider: 'google' as const, path: '/v1beta', protocol: 'gemini' },
    { provider: 'openai-compatible' as const, path: '/v1', protocol: 'openai-chat' },
  ])('runs the same loop over the $protocol protocol', async ({ provider, path: basePath, protocol }) => {
    const anthropic = await serve([
      {
        toolCalls: [{ name: 'read_file', input: { path: 'math.js' } }],
        usage: { inputTokens: 100, outputTokens: 5 },
      },
      {
        when: (request) => lastToolResult(request)?.output.includes('a - b') === true,
        toolCalls: [
          { name: 'edit_file', input: { path: 'math.js', old_string: 'a - b', new_string: 'a + b' } },
        ],
        usage: { inputTokens: 120, outputTokens: 6 },
      },
      { text: 'Done.', usage: { inputTokens: 130, outputTokens: 2 } },
    ]);
    const model: ModelAssignment = {
      ...anthropic,
      endpoint: { ...anthropic.endpoint, provider, baseUrl: `${server!.url}${basePath}` },
    };
    const result = await executor().run(contextFor(model));
    expect(result).toMatchObject({ status: 'succeeded', summary: 'Done.' });
    expect(await readFile(path.join(worktree, 'math.js'), 'utf8')).toContain('return a + b;');
    expect(server!.requests.map((request) => request.protocol)).toEqual([protocol, protocol, protocol]);
    const usage = events.filter((event) => event.type === 'usage');
    expect(usage.map((event) => [event.inputTokens, event.outputTokens])).toEqual([
      [100, 5],
      [120, 6],
      [130, 2],
    ]);
  });

  it('answers malformed arguments, unknown tools and path escapes with tool errors, not crashes', async () => {
    const model = await serve([
      { toolCalls: [{ name: 'read_file', input: '{"path": "math.js"' }] },
      { toolCalls: [{ name: 'delete_everything', input: { really: true } }] },
      { toolCalls: [{ name: 'read_file', input: { path: '../../etc/passwd' } }] },
      { toolCalls: [{ name: 'edit_file', input: { path: 'math.js' } }] },
      { text: 'Giving up politely.' },
    ]);
    const result = await executor().run(contextFor(model));
    expect(result.status).toBe('succeeded');
    const results = server!.requests.slice(1).map((request) => lastToolResult(request));
    expect(results[0]?.output).toMatch(/could not be read/);
    expect(results[1]?.output).toMatch(/Unknown tool "delete_everything"/);
    expect(results[2]?.output).toMatch(/outside|escape/i);
    expect(results[3]?.output).toMatch(/old_string/);
    expect(results.every((toolResult) => toolResult?.isError === true)).toBe(true);
  });

  it('retries 500 and 429 with backoff, honouring retry-after', async () => {
    const times: number[] = [];
    const arrived = () => {
      times.push(Date.now());
      return true;
    };
    const model = await serve([
      { when: arrived, fault: { kind: 'http-error', status: 500 } },
      { when: arrived, fault: { kind: 'http-error', status: 429, retryAfterSeconds: 1 } },
      { when: arrived, text: 'done' },
    ]);
    const result = await executor().run(contextFor(model));
    expect(result.status).toBe('succeeded');
    expect(times).toHaveLength(3);
    // The third request waited for the 429's retry-after of one second, not the 5 ms backoff.
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(950);
    expect(
      events
        .filter((event) => event.type === 'error')
        .map((event) => event.type === 'error' && event.error.kind),
    ).toEqual(['model_retry', 'model_retry']);
  });

  it('fails the attempt as retryable when the endpoint keeps failing, passing on a long retry-after', async () => {
    const failing = await serve([{ fault: { kind: 'http-error', status: 503 }, repeat: true }]);
    const result = await executor().run(contextFor(failing));
    expect(result).toMatchObject({ status: 'failed', error: { kind: 'model_unavailable', retryable: true } });
    expect(server!.requests).toHaveLength(3);

    server!.setScript([{ fault: { kind: 'http-error', status: 429, retryAfterSeconds: 600 } }]);
    const throttled = await executor().run(contextFor(failing));
    expect(throttled).toMatchObject({
      status: 'failed',
      error: { kind: 'model_unavailable', retryable: true, nextRetryDelayMs: 600_000 },
    });
  });

  it('fails as retryable when the stream is cut mid-answer', async () => {
    const model = await serve([
      {
        text: 'I will now explain at great length what I am going to do',
        fault: { kind: 'cut-stream', afterChunks: 3 },
      },
    ]);
    const result = await executor().run(contextFor(model));
    expect(result).toMatchObject({
      status: 'failed',
      error: { kind: 'model_stream_interrupted', retryable: true },
    });
  });

  it('stops before a call that would exceed the task budget', async () => {
    const model = await serve([
      {
        toolCalls: [{ name: 'read_file', input: { path: 'math.js' } }],
        usage: { inputTokens: 9_000, outputTokens: 500 },
      },
      { text: 'never played', repeat: true },
    ]);
    const result = await executor().run(contextFor(model, { budget: { maxTokens: 10_000 } }));
    expect(result).toMatchObject({ status: 'failed', error: { kind: 'budget-exceeded', retryable: false } });
    expect(server!.requests).toHaveLength(1);
    // The one call allowed was capped so that it could not overspend either.
    expect((server!.requests[0]!.body as { max_tokens: number }).max_tokens).toBeLessThanOrEqual(10_000);
  });

  it('counts earlier attempts against the task budget in dollars', async () => {
    const model = await serve([{ text: 'never played', repeat: true }]);
    const context = contextFor(model, { budget: { maxCostUsd: 0.01 } });
    context.task.usage = { inputTokens: 3000, outputTokens: 100, costUsd: 0.0099, calls: 2 };
    const result = await executor().run(context);
    expect(result).toMatchObject({ status: 'failed', error: { kind: 'budget-exceeded' } });
    expect(server!.requests).toHaveLength(0);
  });

  it('ends with no-progress when the model repeats the same call', async () => {
    const model = await serve([
      { toolCalls: [{ name: 'read_file', input: { path: 'math.js' } }], repeat: true },
    ]);
    const result = await executor().run(contextFor(model));
    expect(result).toMatchObject({ status: 'failed', error: { kind: 'no-progress', retryable: false } });
    expect(server!.requests).toHaveLength(3);
  });

  it('keeps granted secrets out of prompts: tool output is redacted', async () => {
    const model = await serve([
      { toolCalls: [{ name: 'run_shell', input: { command: 'echo token=$GITHUB_TOKEN' } }] },
      { text: 'printed it' },
    ]);
    const context = contextFor(
      model,
      { grants: ['github:read'], instructions: `Use ${secretToken} carefully.` },
      {
        grantSecrets: { 'github:read': { GITHUB_TOKEN: secretToken } },
      },
    );
    context.env = { ...context.env, GITHUB_TOKEN: secretToken };
    const result = await executor().run(context);
    expect(result.status).toBe('succeeded');
    const lastRequest = server!.requests.at(-1)!;
    expect(lastToolResult(lastRequest)?.output).toContain('token=[REDACTED]');
    for (const request of server!.requests) expect(allText(request)).not.toContain(secretToken);
    expect(JSON.stringify(events)).not.toContain(secretToken);
  });

  it('continues the conversation in a fix round with the failed verification as feedback', async () => {
    const model = await serve([
      { text: 'First try done.' },
      {
        when: (request) => lastUserText(request).includes('verification round 1'),
        toolCalls: [
          { name: 'edit_file', input: { path: 'math.js', old_string: 'a - b', new_string: 'a + b' } },
        ],
      },
      { text: 'Fixed after feedback.' },
    ]);
    const agent = executor();
    const context = contextFor(model, {
      successCriteria: [{ description: 'tests pass', command: 'node test.js' }],
    });
    const first = await agent.run(context);
    if (first.status !== 'succeeded') throw new Error('first run failed');
    const feedback: VerificationRound = {
      round: 1,
      passed: false,
      criteria: [
        {
          description: 'tests pass',
          command: 'node test.js',
          passed: false,
          exitCode: 1,
          timedOut: false,
          durationMs: 5,
          output: 'AssertionError: 3 !== -1',
        },
      ],
    };
    const second: ExecutorResult = await agent.resume!({ ...context, feedback }, first.session);
    expect(second).toMatchObject({ status: 'succeeded', summary: 'Fixed after feedback.' });
    const fixRequest = server!.requests[1]!;
    expect(lastUserText(fixRequest)).toContain('AssertionError: 3 !== -1');
    expect(lastUserText(fixRequest)).toContain('node test.js');
    // The fix round continues the same conversation: the first task message is still there.
    expect(fixRequest.messages[0]?.text).toContain('Make add return the sum.');
  });

  it('offers MCP tools with a server prefix; a server sees a granted secret only with its grant', async () => {
    const model = await serve([
      { toolCalls: [{ name: 'granted__report_env', input: { names: ['GITHUB_TOKEN'] } }] },
      { toolCalls: [{ name: 'ungranted__report_env', input: { names: ['GITHUB_TOKEN'] } }] },
      { text: 'reported' },
    ]);
    const mcpServer = (name: string, grants: string[]) => ({
      name,
      command: process.execPath,
      args: ['--import', tsxLoader, envReportServer],
      grants,
    });
    const agent = executor({
      agents: [
        { name: 'reporter', mcpServers: [mcpServer('granted', ['github:read']), mcpServer('ungranted', [])] },
      ],
    });
    const context = contextFor(
      model,
      { grants: ['github:read'], executorInput: { agent: 'reporter' } },
      { grantSecrets: { 'github:read': { GITHUB_TOKEN: secretToken } } },
    );
    context.env = { ...context.env, GITHUB_TOKEN: secretToken };
    const result = await agent.run(context);
    expect(result.status).toBe('succeeded');
    const offered = server!.requests[0]!.tools.map((tool) => tool.name);
    expect(offered).toEqual(
      expect.arrayContaining(['granted__report_env', 'ungranted__report_env', 'read_file']),
    );

    const granted = JSON.parse(lastToolResult(server!.requests[1]!)!.output) as {
      names: string[];
      values: Record<string, unknown>;
    };
    expect(granted.names).toContain('GITHUB_TOKEN');
    expect(granted.values.GITHUB_TOKEN).toBe('[REDACTED]');
    const ungranted = JSON.parse(lastToolResult(server!.requests[2]!)!.output) as { names: string[] };
    expect(ungranted.names).not.toContain('GITHUB_TOKEN');
    for (const request of server!.requests) expect(allText(request)).not.toContain(secretToken);
  });

  it("honours the hub's agent definition: max_iterations caps the steps, temperature is sent, skills are in the task", async () => {
    const model = await serve([
      { toolCalls: [{ name: 'read_file', input: { path: 'math.js' } }], repeat: true },
    ]);
    const agent: ClaimedAgent = {
      name: 'careful',
      type: 'agent',
      description: 'Fixes arithmetic.',
      brain: { temperature: 0.3 },
      behavior: { respond_to_mentions: false, max_iterations: 2 },
      grants: [],
      mcpServers: [],
      skills: [
        {
          name: 'arithmetic',
          instructionsFile: 'skills/arithmetic/SKILL.md',
          instructions: 'Check signs twice.',
          files: [],
        },
      ],
    };
    // why: a model the Anthropic SDK knows takes sampling parameters; it drops them for unknown Claude ids.
    const known = { ...model, model: 'claude-sonnet-4-5' };
    const result = await executor().run(contextFor(known, {}, { agent, agentSkillsDir: '/tmp/skills-dir' }));
    // Without the cap the repeated call would run a third time and end as no-progress.
    expect(result).toMatchObject({ status: 'failed', error: { kind: 'max-steps', retryable: true } });
    expect(server!.requests).toHaveLength(2);
    for (const request of server!.requests) {
      expect((request.body as { temperature?: number }).temperature).toBe(0.3);
    }
    const first = allText(server!.requests[0]!);
    expect(first).toContain('You are working as agent "careful": Fixes arithmetic.');
    expect(first).toContain('Check signs twice.');
    expect(first).toContain('Folder: /tmp/skills-dir/arithmetic');
  });

  it('sends no temperature without an agent definition', async () => {
    const model = await serve([{ text: 'done' }]);
    await executor().run(contextFor({ ...model, model: 'claude-sonnet-4-5' }));
    expect(server!.requests[0]!.body).not.toHaveProperty('temperature');
  });

  it('refuses unknown agent definitions and bad executor input, naming the field', () => {
    const agent = executor({ agents: [{ name: 'reviewer' } satisfies AgentDefinitionInput] });
    expect(agent.validateInput({ agent: 'reviewer' })).toEqual([]);
    expect(agent.validateInput({ agent: 'nobody' })[0]).toMatchObject({ field: 'executorInput.agent' });
    expect(agent.validateInput({ maxSteps: 'many' })[0]).toMatchObject({ field: 'executorInput.maxSteps' });
  });

  it('fails clearly without a model assignment or API key', async () => {
    const model = await serve([]);
    const unassigned = await executor().run(contextFor(model, {}, { model: undefined }));
    expect(unassigned).toMatchObject({ status: 'failed', error: { kind: 'model_unassigned' } });
    const noKey = await executor().run(
      contextFor({ ...model, endpoint: { ...model.endpoint, apiKeyEnv: 'WARREN_TEST_UNSET_KEY_VARIABLE' } }),
    );
    expect(noKey).toMatchObject({ status: 'failed', error: { kind: 'model_unavailable' } });
    if (noKey.status === 'failed') expect(noKey.error.message).toContain('WARREN_TEST_UNSET_KEY_VARIABLE');
  });
});
