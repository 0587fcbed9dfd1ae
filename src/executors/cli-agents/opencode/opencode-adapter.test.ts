/**
 * The OpenCode adapter's invocation: arguments, environment and the files it writes into the activation
 * home. The real binary runs in test/cli-agents/opencode.test.ts.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelAssignment } from '../../../core/model-endpoints.ts';
import { createTestContext } from '../../testing/create-test-context.ts';
import { createTestTask } from '../../testing/create-test-task.ts';
import type { CliActivation } from '../cli-agent-adapter.ts';
import { opencodeAdapter } from './opencode-adapter.ts';

const assignment: ModelAssignment = {
  endpoint: {
    name: 'local',
    provider: 'openai-compatible',
    baseUrl: 'http://127.0.0.1:8000/v1',
    apiKeyEnv: 'LOCAL_KEY',
    headers: { 'x-team': 'warren' },
  },
  model: 'qwen/coder-32b',
  pricing: { inputPerMillionUsd: 0, outputPerMillionUsd: 0 },
  contextWindow: 32_768,
};

describe('opencodeAdapter', () => {
  let root: string;
  let worktree: string;

  function activation(overrides: Partial<CliActivation> = {}): CliActivation {
    return {
      context: createTestContext(worktree, { task: createTestTask({ title: '  Fix   the\nbuild ' }) }),
      binaryPath: '/opt/opencode',
      homeDir: path.join(root, 'home'),
      prompt: 'Do the task.',
      model: assignment,
      apiKey: 'sk-local-key',
      baseUrl: assignment.endpoint.baseUrl,
      extraArgs: ['--variant', 'high'],
      round: 1,
      ...overrides,
    };
  }

  function configOf(files: Record<string, string> | undefined): Record<string, unknown> {
    const file = path.join(root, 'home', '.config', 'opencode', 'opencode.json');
    return JSON.parse(files?.[file] ?? 'null') as Record<string, unknown>;
  }

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'warren-opencode-adapter-'));
    worktree = path.join(root, 'worktree');
    await mkdir(worktree);
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('runs `opencode run` with JSON output, the prompt on stdin and a title instead of a title model call', async () => {
    const invocation = await opencodeAdapter.prepare(activation());
    expect(invocation.args).toEqual([
      'run',
      '--format',
      'json',
      '--pure',
      '--print-logs',
      '--log-level',
      'WARN',
      '--title=Fix the build',
      '--variant',
      'high',
    ]);
    expect(invocation.stdin).toBe('Do the task.');
  });

  it('continues a session in a fix round', async () => {
    const invocation = await opencodeAdapter.prepareResume!(activation({ round: 2 }), 'ses_abc');
    expect(invocation.args).toContain('--session');
    expect(invocation.args[invocation.args.indexOf('--session') + 1]).toBe('ses_abc');
    expect(invocation.args.some((arg) => arg.startsWith('--title'))).toBe(false);
  });

  it('keeps every directory in the activation home and sets only its own switches', async () => {
    const home = path.join(root, 'home');
    const { env } = await opencodeAdapter.prepare(activation());
    expect(env).toEqual({
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
      XDG_STATE_HOME: path.join(home, '.local', 'state'),
      OPENCODE_DISABLE_MODELS_FETCH: '1',
      OPENCODE_DISABLE_AUTOUPDATE: '1',
      OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
      OPENCODE_DISABLE_PROJECT_CONFIG: '1',
    });
    expect(JSON.stringify(env)).not.toContain('sk-local-key');
  });

  it('declares the endpoint as the one provider, with its key, headers, model and limits', async () => {
    const { files } = await opencodeAdapter.prepare(activation());
    const config = configOf(files);
    expect(config).toMatchObject({
      autoupdate: false,
      share: 'disabled',
      snapshot: false,
      model: 'warren/qwen/coder-32b',
      small_model: 'warren/qwen/coder-32b',
      enabled_providers: ['warren'],
      provider: {
        warren: {
          npm: '@ai-sdk/openai-compatible',
          options: {
            baseURL: 'http://127.0.0.1:8000/v1',
            apiKey: 'sk-local-key',
            headers: { 'x-team': 'warren' },
          },
          models: { 'qwen/coder-32b': { name: 'qwen/coder-32b', limit: { context: 32_768, output: 8_192 } } },
        },
      },
      permission: { external_directory: 'deny', doom_loop: 'deny', task: 'deny' },
    });
    expect(config).not.toHaveProperty('instructions');
  });

  it('picks the AI SDK package of each protocol', async () => {
    const packages: Record<string, string> = {};
    for (const provider of ['openai', 'anthropic', 'google'] as const) {
      const model = { ...assignment, endpoint: { ...assignment.endpoint, provider } };
      const config = configOf((await opencodeAdapter.prepare(activation({ model }))).files);
      packages[provider] = (config.provider as { warren: { npm: string } }).warren.npm;
    }
    expect(packages).toEqual({
      openai: '@ai-sdk/openai',
      anthropic: '@ai-sdk/anthropic',
      google: '@ai-sdk/google',
    });
  });

  it('leaves the model to OpenCode when routing assigned none', async () => {
    const config = configOf(
      (await opencodeAdapter.prepare(activation({ model: undefined, apiKey: undefined, baseUrl: undefined })))
        .files,
    );
    expect(config).not.toHaveProperty('provider');
    expect(config).not.toHaveProperty('model');
    expect(config).toMatchObject({ autoupdate: false, share: 'disabled' });
  });

  it('omits the key and the limits it was not given', async () => {
    const model = {
      ...assignment,
      contextWindow: undefined,
      endpoint: { ...assignment.endpoint, headers: undefined },
    };
    const config = configOf((await opencodeAdapter.prepare(activation({ model, apiKey: undefined }))).files);
    expect((config.provider as { warren: unknown }).warren).toEqual({
      npm: '@ai-sdk/openai-compatible',
      name: 'Warren endpoint local',
      options: { baseURL: 'http://127.0.0.1:8000/v1' },
      models: { 'qwen/coder-32b': { name: 'qwen/coder-32b' } },
    });
  });

  it("passes the repository's AGENTS.md (else CLAUDE.md) by absolute path", async () => {
    await writeFile(path.join(worktree, 'CLAUDE.md'), 'claude rules\n');
    expect(configOf((await opencodeAdapter.prepare(activation())).files).instructions).toEqual([
      path.join(worktree, 'CLAUDE.md'),
    ]);
    await writeFile(path.join(worktree, 'AGENTS.md'), 'agent rules\n');
    expect(configOf((await opencodeAdapter.prepare(activation())).files).instructions).toEqual([
      path.join(worktree, 'AGENTS.md'),
    ]);
  });

  it('writes the lock file and node_modules that make OpenCode skip its npm install', async () => {
    const { files } = await opencodeAdapter.prepare(activation());
    const configDir = path.join(root, 'home', '.config', 'opencode');
    const lock = JSON.parse(files![path.join(configDir, 'package-lock.json')]!) as {
      packages: Record<string, { dependencies: Record<string, string> }>;
    };
    expect(Object.keys(lock.packages['']!.dependencies)).toEqual(['@opencode-ai/plugin']);
    expect(files).toHaveProperty([path.join(configDir, 'node_modules', '.keep')]);
  });
});
