import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.ts';
import { parseRunnerConfig } from './runner-config.ts';

describe('parseRunnerConfig', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'warren-runner-config-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('reads grant secrets from the environment and from files', async () => {
    const file = path.join(directory, 'token');
    await writeFile(file, 'file-secret-value\n');
    const config = parseRunnerConfig(
      {
        agents: [{ name: 'reviewer', systemPrompt: 'Review carefully.' }],
        grants: {
          'github:read': { GITHUB_TOKEN: { fromEnv: 'TEST_GITHUB_TOKEN' } },
          'npm:publish': { NPM_TOKEN: { fromFile: file } },
        },
      },
      { TEST_GITHUB_TOKEN: 'env-secret-value' },
    );
    expect(config.grantSecrets).toEqual({
      'github:read': { GITHUB_TOKEN: 'env-secret-value' },
      'npm:publish': { NPM_TOKEN: 'file-secret-value' },
    });
    expect(config.agents?.[0]?.name).toBe('reviewer');
  });

  it('names the field of a missing secret without printing any value', () => {
    const read = () =>
      parseRunnerConfig({ grants: { 'github:read': { GITHUB_TOKEN: { fromEnv: 'UNSET_VARIABLE_X' } } } }, {});
    expect(read).toThrow(InvalidInputError);
    expect(read).toThrow(
      'runner.grants.github:read.GITHUB_TOKEN: environment variable UNSET_VARIABLE_X is not set',
    );
  });

  it('refuses inline secret values and bad agent definitions, naming the fields', () => {
    try {
      parseRunnerConfig({
        agents: [{ name: 'Bad Name' }],
        grants: { 'github:read': { GITHUB_TOKEN: { value: 'inline' } } },
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      const fields = (error as InvalidInputError).issues.map((issue) => issue.field);
      expect(fields).toContain('runner.agents.0.name');
      expect(fields.some((field) => field.startsWith('runner.grants.github:read.GITHUB_TOKEN'))).toBe(true);
    }
  });

  it('accepts an absent section', () => {
    expect(parseRunnerConfig(undefined)).toEqual({});
  });
});
