import { describe, expect, it } from 'vitest';
import { offeredModelSelectors, resolveModelAssignment } from './model-assignment.ts';
import { modelEndpointSchema, type ModelEndpoint } from './model-endpoints.ts';
import { modelCapabilityOf, parseModelSelector } from './model-selector.ts';

const anthropic: ModelEndpoint = modelEndpointSchema.parse({
  name: 'anthropic',
  provider: 'anthropic',
  baseUrl: 'https://api.anthropic.com/v1/',
  apiKeyEnv: 'ANTHROPIC_API_KEY',
  models: [
    { id: 'claude-haiku-4-5', tier: 'cheap', inputPricePerMillionUsd: 1, outputPricePerMillionUsd: 5 },
    {
      id: 'claude-sonnet-4-5',
      tier: 'frontier',
      inputPricePerMillionUsd: 3,
      outputPricePerMillionUsd: 15,
      contextWindow: 200_000,
    },
  ],
});
const local: ModelEndpoint = modelEndpointSchema.parse({
  name: 'ollama',
  provider: 'openai-compatible',
  baseUrl: 'http://127.0.0.1:11434/v1',
  headers: { 'X-Team': 'core' },
  models: [
    { id: 'Qwen/Qwen2.5-Coder:7B', tier: 'cheap', inputPricePerMillionUsd: 0, outputPricePerMillionUsd: 0 },
    { id: 'llama3.1:8b', tier: 'cheap', inputPricePerMillionUsd: 0, outputPricePerMillionUsd: 0 },
  ],
});

describe('modelEndpointSchema', () => {
  it('drops a trailing slash from the base URL', () => {
    expect(anthropic.baseUrl).toBe('https://api.anthropic.com/v1');
  });

  it('names each bad field', () => {
    const result = modelEndpointSchema.safeParse({
      name: 'Bad Name',
      provider: 'azure',
      baseUrl: 'ftp://example.com',
      apiKeyEnv: 'sk-live-123',
      apiKeyFile: 'relative/key',
      headers: { Authorization: 'Bearer x' },
      models: [
        { id: 'a', inputPricePerMillionUsd: -1, outputPricePerMillionUsd: 1 },
        { id: 'a', inputPricePerMillionUsd: 1, outputPricePerMillionUsd: 1, tier: 'Top' },
      ],
    });
    expect(result.success).toBe(false);
    const fields = result.error!.issues.map((issue) => issue.path.join('.'));
    expect(fields).toEqual(
      expect.arrayContaining([
        'name',
        'provider',
        'baseUrl',
        'apiKeyEnv',
        'apiKeyFile',
        'headers.Authorization',
        'models.0.inputPricePerMillionUsd',
        'models.1.tier',
      ]),
    );
  });

  it('refuses a key given both ways, a duplicate model and an endpoint without models', () => {
    const both = modelEndpointSchema.safeParse({
      ...anthropic,
      apiKeyFile: '/etc/warren/key',
      models: [anthropic.models[0], anthropic.models[0]],
    });
    expect(both.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['apiKeyFile', 'give apiKeyEnv or apiKeyFile, not both'],
      ['models.1.id', 'model "claude-haiku-4-5" is listed twice'],
    ]);
    expect(modelEndpointSchema.safeParse({ ...anthropic, models: [] }).success).toBe(false);
  });
});

describe('model selectors', () => {
  it('splits a pin at its first slash', () => {
    expect(parseModelSelector('ollama/Qwen/Qwen2.5-Coder:7B')).toEqual({
      kind: 'pin',
      endpoint: 'ollama',
      model: 'Qwen/Qwen2.5-Coder:7B',
    });
    expect(parseModelSelector('cheap')).toEqual({ kind: 'tier', tier: 'cheap' });
  });

  it('makes a valid capability of any selector, deterministically', () => {
    const pattern = /^[a-z0-9][a-z0-9._:/-]*$/;
    expect(modelCapabilityOf('cheap')).toBe('model:cheap');
    expect(modelCapabilityOf('ollama/Qwen/Qwen2.5-Coder:7B')).toBe('model:ollama/qwen/qwen2.5-coder:7b');
    expect(modelCapabilityOf('x/a+b@c')).toBe('model:x/a-b-c');
    const long = `ollama/${'m'.repeat(150)}`;
    const capability = modelCapabilityOf(long);
    expect(capability).toHaveLength(100);
    expect(capability).toMatch(pattern);
    expect(modelCapabilityOf(long)).toBe(capability);
    expect(modelCapabilityOf(`${long}x`)).not.toBe(capability);
  });
});

describe('resolveModelAssignment', () => {
  it('gives a pin its exact model with everything needed to call it', () => {
    expect(resolveModelAssignment('anthropic/claude-sonnet-4-5', [local, anthropic])).toEqual({
      endpoint: {
        name: 'anthropic',
        provider: 'anthropic',
        baseUrl: 'https://api.anthropic.com/v1',
        apiKeyEnv: 'ANTHROPIC_API_KEY',
      },
      model: 'claude-sonnet-4-5',
      pricing: { inputPerMillionUsd: 3, outputPerMillionUsd: 15 },
      contextWindow: 200_000,
    });
  });

  it('resolves a pin whose capability matches when the case differs', () => {
    expect(resolveModelAssignment('ollama/qwen/qwen2.5-coder:7b', [local])?.model).toBe(
      'Qwen/Qwen2.5-Coder:7B',
    );
  });

  it('gives a tier its cheapest model, ties by endpoint then model id', () => {
    const assignment = resolveModelAssignment('cheap', [anthropic, local]);
    expect(assignment).toMatchObject({ endpoint: { name: 'ollama', headers: { 'X-Team': 'core' } } });
    // Both local models are free; 'Qwen/...' sorts before 'llama...' (upper case first).
    expect(assignment?.model).toBe('Qwen/Qwen2.5-Coder:7B');
    expect(resolveModelAssignment('cheap', [anthropic])?.model).toBe('claude-haiku-4-5');
  });

  it('answers undefined when nothing fits', () => {
    expect(resolveModelAssignment('local', [anthropic, local])).toBeUndefined();
    expect(resolveModelAssignment('anthropic/claude-opus', [anthropic])).toBeUndefined();
    expect(resolveModelAssignment('cheap', [])).toBeUndefined();
  });

  it('lists every selector the endpoints offer', () => {
    expect([...offeredModelSelectors([anthropic, local])].sort()).toEqual([
      'anthropic/claude-haiku-4-5',
      'anthropic/claude-sonnet-4-5',
      'cheap',
      'frontier',
      'ollama/Qwen/Qwen2.5-Coder:7B',
      'ollama/llama3.1:8b',
    ]);
  });
});
