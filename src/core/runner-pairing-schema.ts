/**
 * Zod schemas of what a runner tells the hub about its pairings and dependency health (registration and
 * heartbeat), and of how the runner's config file declares them.
 */
import { z } from 'zod';
import type { DependencyHealth, RunnerAgentPairing } from './fleet-types.ts';
import { capabilityNameSchema } from './types.ts';

/** Limits of the pairing fields. why: a runner runs a handful of agents; bounds keep runner rows small. */
export const PAIRING_LIMITS = { pairings: 32, offers: 64, healthChecks: 16 } as const;

const healthCheckNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a check name such as "argo" (lowercase, digits, . _ -)');

/** One capability a pairing offers, with its base weight and preferred flag. */
export const capabilityOfferSchema = z.strictObject({
  name: capabilityNameSchema,
  weight: z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1'),
  preferred: z.boolean().default(false),
});

/** A runner-agent pairing as a runner declares it (parses to a `RunnerAgentPairing`). */
export const runnerAgentPairingSchema = z.strictObject({
  agent: z
    .string()
    .regex(
      /^[a-z][a-z0-9-]{0,63}$/,
      'must be an agent definition name such as "gitops" (lowercase, digits, -)',
    ),
  offers: z.array(capabilityOfferSchema).max(PAIRING_LIMITS.offers).default([]),
  healthChecks: z.array(healthCheckNameSchema).max(PAIRING_LIMITS.healthChecks).default([]),
}) satisfies z.ZodType<RunnerAgentPairing, unknown>;

/** A runner's pairings, agent names unique. */
export const runnerAgentPairingsSchema = z
  .array(runnerAgentPairingSchema)
  .max(PAIRING_LIMITS.pairings)
  .refine((pairings) => new Set(pairings.map((pairing) => pairing.agent)).size === pairings.length, {
    message: 'names an agent more than once',
  });

/** One dependency check result as a runner reports it. */
export const dependencyHealthSchema: z.ZodType<DependencyHealth> = z.strictObject({
  name: healthCheckNameSchema,
  healthy: z.boolean(),
  detail: z.string().max(500).optional(),
  checkedAt: z.iso.datetime(),
});

/** A runner's dependency check results. */
export const dependencyHealthListSchema = z
  .array(dependencyHealthSchema)
  .max(PAIRING_LIMITS.healthChecks * PAIRING_LIMITS.pairings);

/** One named dependency health check in the runner's config file. */
export const healthCheckConfigSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  timeoutMs: z.number().int().min(100).max(60_000).optional(),
  intervalMs: z.number().int().min(1_000).max(3_600_000).optional(),
});

/** The runner's named checks. */
export const healthChecksConfigSchema = z.record(healthCheckNameSchema, healthCheckConfigSchema);
