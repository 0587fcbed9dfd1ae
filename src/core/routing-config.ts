/**
 * The routing config: which executor and model each complexity takes, and which model each seniority
 * asks for. Every part has a default, so `{}` is a complete config.
 */
import { z } from 'zod';
import { modelSelectorSchema } from './model-selector.ts';
import { executorNameSchema } from './types.ts';

/** Where tasks of one complexity go: an executor and, for executors that call models, a model selector. */
export const complexityRouteSchema = z.strictObject({
  executor: executorNameSchema,
  model: modelSelectorSchema.optional(),
});
/** One complexity's route. */
export type ComplexityRoute = z.infer<typeof complexityRouteSchema>;

/**
 * The routing config with its defaults. why these defaults: trivial tasks are shell commands that cost no
 * tokens; ordinary work goes to the agent on a cheap model; complex work earns a frontier model.
 */
export const routingConfigSchema = z.strictObject({
  complexity: z
    .strictObject({
      trivial: complexityRouteSchema.default({ executor: 'shell' }),
      standard: complexityRouteSchema.default({ executor: 'agent', model: 'cheap' }),
      complex: complexityRouteSchema.default({ executor: 'agent', model: 'frontier' }),
    })
    .prefault({}),
  seniority: z
    .strictObject({
      junior: modelSelectorSchema.default('cheap'),
      senior: modelSelectorSchema.default('frontier'),
      principal: modelSelectorSchema.default('frontier'),
    })
    .prefault({}),
});
/** A complete routing config. */
export type RoutingConfig = z.output<typeof routingConfigSchema>;
/** A routing config as written, any part left to its default. */
export type RoutingConfigInput = z.input<typeof routingConfigSchema>;

/** The default routing config. */
export const DEFAULT_ROUTING_CONFIG: Readonly<RoutingConfig> = routingConfigSchema.parse({});
