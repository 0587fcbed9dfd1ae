import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.ts';
import { CliError } from './cli-error.ts';
import { findConfigFile, readConfigFile, withConfigErrors } from './config-file.ts';

const endpoint = {
  name: 'local',
  provider: 'openai-compatible',
  baseUrl: 'http://127.0.0.1:11434/v1',
  models: [{ id: 'llama3.1:8b', tier: 'cheap', inputPricePerMillionUsd: 0, outputPricePerMillionUsd: 0 }],
};

describe('the config file', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'warren-config-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function write(value: unknown): Promise<string> {
    const path = join(directory, 'config.json');
    await writeFile(path, typeof value === 'string' ? value : JSON.stringify(value));
    return path;
  }

  function refusal(call: () => unknown): CliError {
    try {
      call();
    } catch (error) {
      if (error instanceof CliError) return error;
      throw error;
    }
    throw new Error('expected a CliError');
  }

  it('reads the hub section checked and the runner section as written', async () => {
    const path = await write({
      hub: { endpoints: [endpoint], routing: { seniority: { junior: 'local' } } },
      runner: { agents: [], anything: 1 },
    });
    const config = readConfigFile(path);
    expect(config.hub.endpoints).toEqual([endpoint]);
    expect(config.hub.routing?.seniority).toEqual({
      junior: 'local',
      senior: 'frontier',
      principal: 'frontier',
    });
    expect(config.hub.routing?.complexity.trivial).toEqual({ executor: 'shell' });
    expect(config.runner).toEqual({ agents: [], anything: 1 });
  });

  it('names each bad field by its JSON path', async () => {
    const path = await write({
      hub: {
        endpoints: [{ ...endpoint, baseUrl: 'nowhere' }],
        routing: { complexity: { complex: { executor: 'Agent' } } },
        leaseMs: 5,
      },
      extra: true,
    });
    const error = refusal(() => readConfigFile(path));
    expect(error.message).toBe(
      [
        `config file ${path} is not valid:`,
        '  - hub.endpoints[0].baseUrl: must be an http(s) URL',
        '  - hub.routing.complexity.complex.executor: must be an executor name such as "shell"',
        '  - hub: unknown field(s): leaseMs',
        '  - (file): unknown field(s): extra',
      ].join('\n'),
    );
    const missing = refusal(() => readConfigFile(join(directory, 'missing.json')));
    expect(missing.message).toMatch(/^cannot read config file/);
  });

  it('names a duplicate endpoint and refuses a file that is not JSON', async () => {
    const path = await write({ hub: { endpoints: [endpoint, endpoint] } });
    expect(refusal(() => readConfigFile(path)).message).toContain(
      '  - hub.endpoints[1].name: endpoint "local" is listed twice',
    );
    const broken = await write('{ "hub": ');
    expect(refusal(() => readConfigFile(broken)).message).toMatch(/is not valid JSON/);
  });

  it('reads the hub rate limits with their defaults and names a bad one', async () => {
    const config = readConfigFile(await write({ hub: { rateLimits: { runner: { refillPerSecond: 50 } } } }));
    expect(config.hub.rateLimits).toMatchObject({
      enabled: true,
      runner: { capacity: 2_000, refillPerSecond: 50 },
      costs: { 'attempt.report': 1 },
    });
    const path = await write({ hub: { rateLimits: { costs: { 'task.create': -2 } } } });
    expect(refusal(() => readConfigFile(path)).message).toContain(
      '  - hub.rateLimits.costs["task.create"]: must be a number of tokens, 0 or more',
    );
  });

  it("turns the runner's field issues into JSON paths", () => {
    const error = refusal(() =>
      withConfigErrors('/etc/warren.json', () => {
        throw new InvalidInputError([{ field: 'runner.agents.0.name', reason: 'is required' }]);
      }),
    );
    expect(error.message).toContain('  - runner.agents[0].name: is required');
  });

  it('uses the data dir file only when it exists, and an explicit one always', async () => {
    expect(findConfigFile(undefined, directory)).toBeUndefined();
    const path = await write({});
    expect(findConfigFile(undefined, directory)).toBe(path);
    expect(findConfigFile('relative.json', directory)).toBe(join(process.cwd(), 'relative.json'));
  });
});
