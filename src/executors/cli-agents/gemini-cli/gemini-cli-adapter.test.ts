/**
 * The Gemini CLI invocation: arguments, environment and settings file for a first run and a fix round, and
 * how an endpoint's SDK-style base URL becomes Gemini CLI's base URL and API version. The real binary runs
 * in test/cli-agents/gemini-cli.test.ts.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelAssignment } from '../../../core/model-endpoints.ts';
import type { CliActivation } from '../cli-agent-adapter.ts';
import { createTestActivation } from '../testing/create-test-activation.ts';
import { geminiCliAdapter } from './gemini-cli-adapter.ts';
import { geminiCliEndpointEnv } from './gemini-cli-endpoint.ts';

function assignment(baseUrl: string, headers?: Record<string, string>): ModelAssignment {
  return {
    endpoint: { name: 'gemini', provider: 'google', baseUrl, ...(headers ? { headers } : {}) },
    model: 'gemini-2.5-pro',
    pricing: { inputPerMillionUsd: 1.25, outputPerMillionUsd: 10 },
  };
}

function activation(overrides: Partial<CliActivation> = {}): CliActivation {
  return createTestActivation('/work/tree', assignment('http://127.0.0.1:4000/v1beta'), {
    binaryPath: '/opt/gemini/bin/gemini',
    homeDir: '/scratch/home/.warren-gemini-cli',
    prompt: 'Say goodbye.',
    apiKey: 'endpoint-key',
    ...overrides,
  });
}

describe('geminiCliAdapter', () => {
  it('runs headless with stream-json, yolo approvals, a trusted worktree, the routed model and the prompt on stdin', async () => {
    const invocation = await geminiCliAdapter.prepare(activation({ extraArgs: ['--debug'] }));
    expect(invocation.args).toEqual([
      '--output-format',
      'stream-json',
      '--approval-mode',
      'yolo',
      '--skip-trust',
      '--model',
      'gemini-2.5-pro',
      '--debug',
    ]);
    expect(invocation.stdin).toBe('Say goodbye.');
    expect(invocation.env).toEqual({
      GEMINI_CLI_HOME: '/scratch/home/.warren-gemini-cli',
      GEMINI_CLI_NO_RELAUNCH: 'true',
      GEMINI_TELEMETRY_ENABLED: 'false',
      GEMINI_SANDBOX: 'false',
      NO_COLOR: '1',
      GOOGLE_GEMINI_BASE_URL: 'http://127.0.0.1:4000',
      GEMINI_API_KEY: 'endpoint-key',
    });
  });

  it('writes settings with API-key auth, usage statistics, telemetry and local .env files off', async () => {
    const invocation = await geminiCliAdapter.prepare(activation());
    const file = path.join('/scratch/home/.warren-gemini-cli', '.gemini', 'settings.json');
    expect(Object.keys(invocation.files ?? {})).toEqual([file]);
    expect(JSON.parse(invocation.files![file]!)).toMatchObject({
      security: { auth: { selectedType: 'gemini-api-key' } },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
      advanced: { ignoreLocalEnv: true },
    });
  });

  it('continues a session by id in a fix round', async () => {
    const invocation = await geminiCliAdapter.prepareResume!(activation({ round: 2 }), 'session-123');
    expect(invocation.args.slice(-2)).toEqual(['--resume', 'session-123']);
    expect(invocation.args).toContain('--model');
  });

  it('leaves the model and endpoint to the CLI when routing assigned none', async () => {
    const invocation = await geminiCliAdapter.prepare(
      activation({ model: undefined, baseUrl: undefined, apiKey: undefined }),
    );
    expect(invocation.args).not.toContain('--model');
    expect(invocation.env).not.toHaveProperty('GOOGLE_GEMINI_BASE_URL');
    expect(invocation.env).not.toHaveProperty('GEMINI_API_KEY');
  });
});

describe('geminiCliEndpointEnv', () => {
  it('splits the API version off the base URL and keeps a proxy prefix', () => {
    expect(
      geminiCliEndpointEnv(
        assignment('https://generativelanguage.googleapis.com/v1beta'),
        'https://generativelanguage.googleapis.com/v1beta',
        'k',
      ),
    ).toEqual({
      GOOGLE_GEMINI_BASE_URL: 'https://generativelanguage.googleapis.com',
      GEMINI_API_KEY: 'k',
    });
    expect(geminiCliEndpointEnv(assignment('x'), 'https://proxy.example/gemini/v1/', 'k')).toEqual({
      GOOGLE_GEMINI_BASE_URL: 'https://proxy.example/gemini',
      GOOGLE_GENAI_API_VERSION: 'v1',
      GEMINI_API_KEY: 'k',
    });
    expect(geminiCliEndpointEnv(assignment('x'), 'http://localhost:8080/google', 'k')).toMatchObject({
      GOOGLE_GEMINI_BASE_URL: 'http://localhost:8080/google',
    });
  });

  it('passes the endpoint headers and a stand-in key for an endpoint without one', () => {
    const env = geminiCliEndpointEnv(
      assignment('x', { 'X-Project': 'warren', 'X-Route': 'a,b' }),
      'http://localhost:8080/v1beta',
      undefined,
    );
    expect(env.GEMINI_CLI_CUSTOM_HEADERS).toBe('X-Project: warren, X-Route: a,b');
    expect(env.GEMINI_API_KEY).toBe('warren-endpoint-without-key');
  });
});
