import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.ts';
import { DEFAULT_ROUTING_CONFIG } from '../core/routing-config.ts';
import { DEFAULT_HUB_CONFIG, resolveHubConfig } from './hub-config.ts';

const endpoint = {
  name: 'local',
  provider: 'openai-compatible' as const,
  baseUrl: 'http://127.0.0.1:11434/v1/',
  models: [{ id: 'm', tier: 'cheap', inputPricePerMillionUsd: 0, outputPricePerMillionUsd: 0 }],
};

describe('resolveHubConfig', () => {
  it('fills defaults, keeps overrides and validates endpoints and routing', () => {
    expect(resolveHubConfig()).toEqual(DEFAULT_HUB_CONFIG);
    const config = resolveHubConfig({
      leaseMs: 5_000,
      endpointUpIntervalMs: undefined,
      endpoints: [endpoint],
      routing: { complexity: { complex: { executor: 'codex' } } },
    });
    expect(config.leaseMs).toBe(5_000);
    expect(config.endpointUpIntervalMs).toBe(60_000);
    expect(config.endpoints[0]?.baseUrl).toBe('http://127.0.0.1:11434/v1');
    expect(config.routing).toEqual({
      ...DEFAULT_ROUTING_CONFIG,
      complexity: { ...DEFAULT_ROUTING_CONFIG.complexity, complex: { executor: 'codex' } },
    });
  });

  it('refuses endpoints listed twice and bad fields, naming each', () => {
    let error: unknown;
    try {
      resolveHubConfig({
        endpoints: [endpoint, endpoint, { ...endpoint, name: 'other', provider: 'azure' as never }],
      });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues).toEqual([
      { field: 'endpoints.1.name', reason: 'endpoint "local" is listed twice' },
      expect.objectContaining({ field: 'endpoints.2.provider' }),
    ]);
  });

  it('defaults the leader lease and renewal, and refuses a renewal that is not under the lease', () => {
    expect(resolveHubConfig()).toMatchObject({ leaderLeaseMs: 15_000, leaderRenewIntervalMs: 5_000 });
    expect(resolveHubConfig({ leaderLeaseMs: 300, leaderRenewIntervalMs: 100 })).toMatchObject({
      leaderLeaseMs: 300,
      leaderRenewIntervalMs: 100,
    });
    const fieldsOf = (overrides: Parameters<typeof resolveHubConfig>[0]): string[] => {
      try {
        resolveHubConfig(overrides);
        return [];
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidInputError);
        return (error as InvalidInputError).issues.map((issue) => issue.field);
      }
    };
    expect(fieldsOf({ leaderRenewIntervalMs: 15_000 })).toEqual(['leaderRenewIntervalMs']);
    expect(fieldsOf({ leaderLeaseMs: 4_000 })).toEqual(['leaderRenewIntervalMs']);
    expect(fieldsOf({ leaderLeaseMs: 0, leaderRenewIntervalMs: Number.NaN })).toEqual([
      'leaderLeaseMs',
      'leaderRenewIntervalMs',
    ]);
  });

  it('fills the fleet defaults and refuses bad fleet settings, naming each', () => {
    expect(resolveHubConfig({ fleet: { laneShares: { low: 0.2 } } }).fleet).toMatchObject({
      maxDeferMs: 10_000,
      laneShares: { low: 0.2 },
    });
    let error: unknown;
    try {
      resolveHubConfig({
        fleet: {
          laneShares: { normal: 0.4, low: 0.3 },
          concurrencyLimits: [{ name: 'deploys', limit: 0, match: {} }],
        },
      });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    const fields = (error as InvalidInputError).issues.map((issue) => issue.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'fleet.laneShares',
        'fleet.concurrencyLimits.0.limit',
        'fleet.concurrencyLimits.0.match',
      ]),
    );
  });
});
