/**
 * How the Claude Code adapter invokes `claude`: arguments, environment, the pinned settings file, the
 * prompt on stdin, and fix rounds by `--resume`. The real binary runs in test/cli-agents/claude-code.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ModelAssignment } from '../../../core/model-endpoints.ts';
import type { CliActivation } from '../cli-agent-adapter.ts';
import { createTestActivation } from '../testing/create-test-activation.ts';
import { claudeCodeAdapter, createClaudeCodeExecutor } from './claude-code-adapter.ts';

const home = '/scratch/attempt/home/.warren-claude-code';
const settingsFile = `${home}/warren-claude-settings.json`;

function assignment(baseUrl: string, headers?: Record<string, string>): ModelAssignment {
  return {
    endpoint: { name: 'frontier', provider: 'anthropic', baseUrl, ...(headers ? { headers } : {}) },
    model: 'claude-e2e',
    pricing: { inputPerMillionUsd: 3, outputPerMillionUsd: 15 },
  };
}

function activation(overrides: Partial<CliActivation> = {}): CliActivation {
  return createTestActivation('/scratch/attempt/worktree', assignment('http://127.0.0.1:4100/v1'), {
    binaryPath: '/opt/claude/bin/claude',
    homeDir: home,
    prompt: 'Fix add.\nThe tests must pass.',
    apiKey: 'sk-endpoint-key',
    ...overrides,
  });
}

const routedModelEnv = {
  ANTHROPIC_MODEL: 'claude-e2e',
  ANTHROPIC_DEFAULT_FABLE_MODEL: 'claude-e2e',
  ANTHROPIC_DEFAULT_OPUS_MODEL: 'claude-e2e',
  ANTHROPIC_DEFAULT_SONNET_MODEL: 'claude-e2e',
  ANTHROPIC_DEFAULT_HAIKU_MODEL: 'claude-e2e',
  ANTHROPIC_SMALL_FAST_MODEL: 'claude-e2e',
  CLAUDE_CODE_SUBAGENT_MODEL: 'claude-e2e',
};
const quietEnv = {
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  DISABLE_TELEMETRY: '1',
  DISABLE_ERROR_REPORTING: '1',
  DISABLE_AUTOUPDATER: '1',
  CLAUDE_CODE_MAX_RETRIES: '3',
};

describe('claudeCodeAdapter', () => {
  it('runs headless with stream-json, partial messages, edits allowed in the worktree and the shell allowed', async () => {
    const invocation = await claudeCodeAdapter.prepare(activation({ extraArgs: ['--effort=low'] }));
    expect(invocation.args).toEqual([
      '-p',
      '--output-format=stream-json',
      '--verbose',
      '--include-partial-messages',
      '--permission-mode=acceptEdits',
      '--allowed-tools=Bash',
      '--disallowed-tools=EnterWorktree,ExitWorktree,CronCreate,ScheduleWakeup',
      '--strict-mcp-config',
      `--settings=${settingsFile}`,
      '--model=claude-e2e',
      '--effort=low',
    ]);
    // The prompt goes on stdin, never on the command line.
    expect(invocation.stdin).toBe('Fix add.\nThe tests must pass.');
    expect(invocation.args.join(' ')).not.toContain('Fix add');
    expect(invocation.args.some((arg) => arg.includes('dangerously') || arg.includes('bypass'))).toBe(false);
  });

  it('gives the endpoint without /v1, its key, the routed model for every alias, a private config dir and quiet switches', async () => {
    const invocation = await claudeCodeAdapter.prepare(activation());
    expect(invocation.env).toEqual({
      ...quietEnv,
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:4100',
      ...routedModelEnv,
      CLAUDE_CONFIG_DIR: `${home}/.claude`,
      ANTHROPIC_API_KEY: 'sk-endpoint-key',
    });
    // No IS_SANDBOX: bypass mode is not used, so Claude Code's root check never applies.
    expect(invocation.env).not.toHaveProperty('IS_SANDBOX');
  });

  it('pins the endpoint, model and switches in a --settings file (which outranks a repository), never the key', async () => {
    const invocation = await claudeCodeAdapter.prepare(activation());
    expect(Object.keys(invocation.files ?? {})).toEqual([settingsFile]);
    const settings = JSON.parse(invocation.files![settingsFile]!) as { env: Record<string, string> };
    expect(settings).toEqual({
      env: { ...quietEnv, ANTHROPIC_BASE_URL: 'http://127.0.0.1:4100', ...routedModelEnv },
    });
    expect(invocation.files![settingsFile]).not.toContain('sk-endpoint-key');
  });

  it('keeps a gateway path prefix and drops only the version segment', async () => {
    for (const [baseUrl, expected] of [
      ['https://gateway.example/anthropic/v1', 'https://gateway.example/anthropic'],
      ['https://gateway.example/anthropic/v1/', 'https://gateway.example/anthropic'],
      ['https://api.anthropic.com', 'https://api.anthropic.com'],
      ['https://gateway.example/v1beta', 'https://gateway.example/v1beta'],
    ] as const) {
      const model = assignment(baseUrl);
      const invocation = await claudeCodeAdapter.prepare(activation({ model, baseUrl }));
      expect(invocation.env.ANTHROPIC_BASE_URL, baseUrl).toBe(expected);
    }
  });

  it('sends endpoint headers and a stand-in key to an endpoint that needs none', async () => {
    const model = assignment('http://127.0.0.1:4100/v1', { 'x-team': 'platform', 'x-region': 'eu' });
    const { apiKey: _unused, ...withoutKey } = activation({ model });
    const invocation = await claudeCodeAdapter.prepare(withoutKey);
    expect(invocation.env.ANTHROPIC_API_KEY).toBe('warren-endpoint-without-key');
    expect(invocation.env.ANTHROPIC_CUSTOM_HEADERS).toBe('x-team: platform\nx-region: eu');
  });

  it('without a routed model leaves endpoint, key and model to the CLI and the task environment', async () => {
    const { model: _model, apiKey: _key, baseUrl: _url, ...unrouted } = activation();
    const invocation = await claudeCodeAdapter.prepare(unrouted);
    expect(invocation.env).toEqual({ ...quietEnv, CLAUDE_CONFIG_DIR: `${home}/.claude` });
    expect(invocation.args.some((arg) => arg.startsWith('--model'))).toBe(false);
  });

  it("tells Claude Code the routed model's context window for auto-compaction, when it accepts it", async () => {
    const windowed = (contextWindow: number) => ({
      ...assignment('http://127.0.0.1:4100/v1'),
      contextWindow,
    });
    const large = await claudeCodeAdapter.prepare(activation({ model: windowed(400_000) }));
    expect(large.args).toContain('--autocompact=400000');
    // Below 100k tokens the CLI refuses the option; its own assumption stays.
    const small = await claudeCodeAdapter.prepare(activation({ model: windowed(32_000) }));
    expect(small.args.some((arg) => arg.startsWith('--autocompact'))).toBe(false);
  });

  it('continues the session in a fix round', async () => {
    const invocation = await claudeCodeAdapter.prepareResume!(
      activation({ round: 2, prompt: 'Verification failed.' }),
      '581f69a4-fb52-4a6f-951e-ec3d9f9d8acc',
    );
    expect(invocation.args).toContain('--resume=581f69a4-fb52-4a6f-951e-ec3d9f9d8acc');
    expect(invocation.args.indexOf('--resume=581f69a4-fb52-4a6f-951e-ec3d9f9d8acc')).toBeGreaterThan(
      invocation.args.indexOf('--model=claude-e2e'),
    );
    expect(invocation.stdin).toBe('Verification failed.');
    expect(invocation.env.CLAUDE_CONFIG_DIR).toBe(`${home}/.claude`);
  });

  it('builds an executor named claude-code that speaks Anthropic', () => {
    expect(claudeCodeAdapter).toMatchObject({
      name: 'claude-code',
      binary: 'claude',
      providers: ['anthropic'],
    });
    expect(createClaudeCodeExecutor({ binaryPath: '/opt/claude/bin/claude' }).name).toBe('claude-code');
  });
});
