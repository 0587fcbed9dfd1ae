/**
 * The Codex invocation: arguments, environment and `config.toml` for a first run and a fix round. The real
 * binary reads this configuration (with `--strict-config`) in test/cli-agents/codex.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ModelAssignment } from '../../../core/model-endpoints.ts';
import type { CliActivation } from '../cli-agent-adapter.ts';
import { createTestActivation } from '../testing/create-test-activation.ts';
import { codexAdapter } from './codex-adapter.ts';
import { codexConfigToml } from './codex-config.ts';

function assignment(overrides: Partial<ModelAssignment['endpoint']> = {}): ModelAssignment {
  return {
    endpoint: { name: 'openai', provider: 'openai', baseUrl: 'http://127.0.0.1:4000/v1', ...overrides },
    model: 'gpt-5.5',
    pricing: { inputPerMillionUsd: 1.25, outputPerMillionUsd: 10 },
  };
}

function activation(overrides: Partial<CliActivation> = {}): CliActivation {
  return createTestActivation('/work/tree', assignment(), {
    binaryPath: '/opt/codex/bin/codex',
    homeDir: '/scratch/home/.warren-codex',
    prompt: 'Make hello.txt say hello world.',
    apiKey: 'endpoint-key',
    ...overrides,
  });
}

describe('codexAdapter', () => {
  it('runs codex exec with JSON lines, a strict config, the prompt on stdin and a private CODEX_HOME', async () => {
    const invocation = await codexAdapter.prepare(
      activation({ extraArgs: ['-c', 'model_verbosity="high"'] }),
    );
    expect(invocation.args).toEqual([
      'exec',
      '--json',
      '--strict-config',
      '--skip-git-repo-check',
      '-c',
      'model_verbosity="high"',
      '-',
    ]);
    expect(invocation.stdin).toBe('Make hello.txt say hello world.');
    expect(invocation.env).toEqual({
      CODEX_HOME: '/scratch/home/.warren-codex/codex',
      WARREN_CODEX_API_KEY: 'endpoint-key',
    });
    expect(Object.keys(invocation.files ?? {})).toEqual(['/scratch/home/.warren-codex/codex/config.toml']);
  });

  it('resumes the thread in a fix round, with the same configuration', async () => {
    const first = await codexAdapter.prepare(activation());
    const invocation = await codexAdapter.prepareResume!(
      activation({ prompt: 'Verification failed: ...', round: 2 }),
      '01a1fc7d-1f99-7322-9c87-4f943fce00f4',
    );
    expect(invocation.args).toEqual([
      'exec',
      'resume',
      '--json',
      '--strict-config',
      '--skip-git-repo-check',
      '01a1fc7d-1f99-7322-9c87-4f943fce00f4',
      '-',
    ]);
    expect(invocation.stdin).toBe('Verification failed: ...');
    expect(invocation.env).toEqual(first.env);
    expect(invocation.files).toEqual(first.files);
  });

  it('speaks only the OpenAI Responses API', () => {
    expect(codexAdapter.providers).toEqual(['openai']);
  });

  it('leaves the key out of the environment when the endpoint needs none', async () => {
    const { apiKey: _unused, ...withoutKey } = activation();
    const invocation = await codexAdapter.prepare(withoutKey);
    expect(invocation.env).toEqual({ CODEX_HOME: '/scratch/home/.warren-codex/codex' });
    expect(Object.values(invocation.files ?? {})[0]).not.toContain('env_key');
  });
});

describe('codexConfigToml', () => {
  it('points Codex at the endpoint as a Responses provider, with the model, the sandbox and traffic off', () => {
    const config = codexConfigToml({
      model: { ...assignment({ headers: { 'OpenAI-Project': 'proj "x"' } }), contextWindow: 200_000 },
      baseUrl: 'http://127.0.0.1:4000/v1',
      hasApiKey: true,
    });
    const lines = config.split('\n');
    for (const line of [
      'model_provider = "warren"',
      'model = "gpt-5.5"',
      'model_context_window = 200000',
      'approval_policy = "never"',
      'sandbox_mode = "workspace-write"',
      'check_for_update_on_startup = false',
      '[model_providers.warren]',
      'base_url = "http://127.0.0.1:4000/v1"',
      'wire_api = "responses"',
      'env_key = "WARREN_CODEX_API_KEY"',
      'http_headers = { "OpenAI-Project" = "proj \\"x\\"" }',
      'network_access = true',
      'exclude = ["WARREN_CODEX_API_KEY"]',
      'enabled = false',
      'metrics_exporter = "none"',
      'plugins = false',
      'unbounded_connection_retries = false',
    ]) {
      expect(lines, line).toContain(line);
    }
    // Root keys come before the first table, as TOML requires.
    const firstTable = lines.findIndex((line) => line.startsWith('['));
    expect(lines.findIndex((line) => line.startsWith('sandbox_mode'))).toBeLessThan(firstTable);
  });

  it('leaves the provider to Codex when the task has no routed model', () => {
    const config = codexConfigToml({ hasApiKey: false });
    expect(config).not.toContain('model_provider');
    expect(config).not.toContain('[model_providers');
    expect(config).toContain('[analytics]');
    expect(config).toContain('sandbox_mode = "workspace-write"');
  });
});
