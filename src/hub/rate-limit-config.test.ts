import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.ts';
import { resolveHubConfig, type HubConfigOverrides } from './hub-config.ts';
import { DEFAULT_RATE_LIMIT_CONFIG } from './rate-limit-config.ts';

function issuesOf(overrides: HubConfigOverrides): InvalidInputError['issues'] {
  try {
    resolveHubConfig(overrides);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as InvalidInputError).issues;
  }
  return [];
}

describe('the rateLimits hub setting', () => {
  it('is on by default, with runner and admin buckets and a cost per action', () => {
    expect(resolveHubConfig().rateLimits).toEqual(DEFAULT_RATE_LIMIT_CONFIG);
    expect(DEFAULT_RATE_LIMIT_CONFIG).toEqual({
      enabled: true,
      runner: { capacity: 2_000, refillPerSecond: 500 },
      admin: { capacity: 2_000, refillPerSecond: 500 },
      costs: {
        'task.create': 2,
        'task.createBatch': 200,
        'task.read': 1,
        'task.list': 2,
        'event.stream': 5,
        'runner.register': 10,
        'runner.claim': 1,
        'attempt.report': 1,
        'endpoint.write': 10,
        'admin.other': 2,
      },
    });
  });

  it('fills what is left out with the defaults', () => {
    const { rateLimits } = resolveHubConfig({
      rateLimits: { runner: { capacity: 50 }, costs: { 'runner.claim': 5, 'runner.register': 3 } },
    });
    expect(rateLimits.enabled).toBe(true);
    expect(rateLimits.runner).toEqual({ capacity: 50, refillPerSecond: 500 });
    expect(rateLimits.admin).toEqual(DEFAULT_RATE_LIMIT_CONFIG.admin);
    expect(rateLimits.costs).toEqual({
      ...DEFAULT_RATE_LIMIT_CONFIG.costs,
      'runner.claim': 5,
      'runner.register': 3,
    });
    expect(resolveHubConfig({ rateLimits: { enabled: false } }).rateLimits.enabled).toBe(false);
  });

  it('refuses bad values, naming each field', () => {
    expect(
      issuesOf({
        rateLimits: {
          enabled: 'yes' as never,
          runner: { capacity: 0, refillPerSecond: Number.POSITIVE_INFINITY },
          admin: { capacity: 10, burst: 3 } as never,
          costs: { 'task.read': -1, 'task.delete': 1 } as never,
        },
      }).map((issue) => issue.field),
    ).toEqual([
      'rateLimits.enabled',
      'rateLimits.runner.capacity',
      'rateLimits.runner.refillPerSecond',
      'rateLimits.admin',
      'rateLimits.costs.task.read',
      'rateLimits.costs',
    ]);
  });

  it('refuses a cost that no bucket it is charged to could ever hold', () => {
    expect(issuesOf({ rateLimits: { runner: { capacity: 5 } } })).toEqual([
      {
        field: 'rateLimits.costs.runner.register',
        reason: '10 is more than runner.capacity (5): the action could never pass',
      },
    ]);
    // A runner never creates tasks, so a batch may cost more than a runner bucket holds.
    expect(issuesOf({ rateLimits: { runner: { capacity: 100 } } })).toEqual([]);
    expect(issuesOf({ rateLimits: { admin: { capacity: 100 } } })).toEqual([
      {
        field: 'rateLimits.costs.task.createBatch',
        reason: '200 is more than admin.capacity (100): the action could never pass',
      },
    ]);
  });
});
