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

  it('reads CLI agent settings and refuses unknown CLIs and relative paths, naming the fields', () => {
    expect(
      parseRunnerConfig({
        cliAgents: {
          'claude-code': { path: '/opt/claude/bin/claude', args: ['--verbose'] },
          goose: { enabled: false },
        },
      }),
    ).toEqual({
      cliAgents: {
        'claude-code': { binaryPath: '/opt/claude/bin/claude', extraArgs: ['--verbose'] },
        goose: { enabled: false },
      },
    });
    try {
      parseRunnerConfig({ cliAgents: { cursor: {}, codex: { path: 'bin/codex' } } });
      expect.unreachable();
    } catch (error) {
      const issues = (error as InvalidInputError).issues;
      expect(issues.map((issue) => issue.field)).toEqual(
        expect.arrayContaining(['runner.cliAgents.cursor', 'runner.cliAgents.codex.path']),
      );
      expect(issues.find((issue) => issue.field === 'runner.cliAgents.codex.path')?.reason).toBe(
        'must be an absolute path',
      );
    }
  });

  it('accepts an absent section', () => {
    expect(parseRunnerConfig(undefined)).toEqual({});
  });
});
