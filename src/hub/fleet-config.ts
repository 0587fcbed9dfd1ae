/**
 * The hub's fleet routing settings (`fleet` in the hub config): how long a task waits for its best
 * candidate, the circuit breakers' policy and the named concurrency limits.
 */
import { z } from 'zod';
import { DEFAULT_BREAKER_POLICY, type BreakerPolicy } from '../core/circuit-breaker.ts';
import { SUCCESS_WINDOW } from '../core/routing-score.ts';
import { capabilityNameSchema } from '../core/types.ts';
import type { ConcurrencyLimit } from './choose-assignments.ts';
import type { LaneShares } from './lane-fairness.ts';

/** Fleet routing settings. */
export interface FleetConfig {
  /**
   * How long a queued task waits for the best candidate to claim it before any eligible runner may take it
   * (a best runner that stopped claiming must not strand work).
   */
  maxDeferMs: number;
  /** How soon a runner that left tasks to a better candidate asks again (jittered ±25 %). */
  reconsiderMs: number;
  /** When breakers open and for how long. */
  breaker: BreakerPolicy;
  /** Named concurrency limits (semaphores), e.g. at most 1 deploy at a time. */
  concurrencyLimits: ConcurrencyLimit[];
  /** Outcomes per pairing that the success rate considers. */
  outcomesPerPairing: number;
  /**
   * The share of claims guaranteed to the lower lanes while higher lanes have work (see `lane-fairness.ts`);
   * the high lane takes the rest. 0 turns a lane's share off (strict lane order).
   */
  laneShares: LaneShares;
}

/** The defaults. */
export const DEFAULT_FLEET_CONFIG: Readonly<FleetConfig> = {
  // why: ten seconds is many claim rounds for an idle best runner, and short next to any real task.
  maxDeferMs: 10_000,
  // why: a second keeps deferred work moving when its winner fills up, at one cheap claim per runner.
  reconsiderMs: 1_000,
  breaker: DEFAULT_BREAKER_POLICY,
  concurrencyLimits: [],
  outcomesPerPairing: SUCCESS_WINDOW,
  // why: a small share, as issue 6 asks: normal work still moves at one claim in 11 under a flood of high
  // work, low work at one in 21.
  laneShares: { normal: 0.1, low: 0.05 },
};

const laneShareSchema = z.number().min(0).max(0.5);

const concurrencyLimitSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a limit name such as "deploys"'),
  limit: z.number().int().min(1).max(10_000),
  match: z
    .strictObject({
      capability: capabilityNameSchema.optional(),
      label: z.string().min(1).max(64).optional(),
      repo: z.string().min(1).max(2_000).optional(),
    })
    .refine((match) => Object.keys(match).length > 0, { message: 'must name a capability, label or repo' }),
});

/** The `fleet` settings as written; every part optional. */
export const fleetConfigSchema = z
  .strictObject({
    maxDeferMs: z.number().int().min(0).max(3_600_000).default(DEFAULT_FLEET_CONFIG.maxDeferMs),
    reconsiderMs: z.number().int().min(50).max(30_000).default(DEFAULT_FLEET_CONFIG.reconsiderMs),
    breaker: z
      .strictObject({
        failureThreshold: z.number().int().min(1).max(1_000).default(DEFAULT_BREAKER_POLICY.failureThreshold),
        baseBackoffMs: z
          .number()
          .int()
          .min(100)
          .max(86_400_000)
          .default(DEFAULT_BREAKER_POLICY.baseBackoffMs),
        maxBackoffMs: z.number().int().min(100).max(86_400_000).default(DEFAULT_BREAKER_POLICY.maxBackoffMs),
      })
      .refine((breaker) => breaker.maxBackoffMs >= breaker.baseBackoffMs, {
        message: 'maxBackoffMs must be at least baseBackoffMs',
        path: ['maxBackoffMs'],
      })
      .default(DEFAULT_BREAKER_POLICY),
    concurrencyLimits: z
      .array(concurrencyLimitSchema)
      .max(100)
      .refine((limits) => new Set(limits.map((limit) => limit.name)).size === limits.length, {
        message: 'names a limit more than once',
      })
      .default([]),
    outcomesPerPairing: z.number().int().min(1).max(100).default(SUCCESS_WINDOW),
    laneShares: z
      .strictObject({ normal: laneShareSchema.optional(), low: laneShareSchema.optional() })
      .refine((shares) => (shares.normal ?? 0) + (shares.low ?? 0) <= 0.5, {
        message: 'the lower lanes may be guaranteed at most half of the claims together',
      })
      .default(DEFAULT_FLEET_CONFIG.laneShares),
  })
  .default(DEFAULT_FLEET_CONFIG);
/** Fleet settings as written. */
export type FleetConfigInput = z.input<typeof fleetConfigSchema>;
