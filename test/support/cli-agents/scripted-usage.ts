/**
 * What a model script's turns add up to, for checking the usage and cost Warren records.
 */
import type { EndpointModel } from '../../../src/core/model-endpoints.ts';
import type { ExecutorEvent } from '../../../src/executors/spec.ts';
import type { ScriptedTurn } from '../scripted-model-server/index.ts';

/** The prices of an endpoint model. */
export type ModelPricing = Pick<EndpointModel, 'inputPricePerMillionUsd' | 'outputPricePerMillionUsd'>;

/** The tokens of `turns` (each must have `usage`) and their cost at `pricing`. */
export function scriptedUsage(
  turns: ScriptedTurn[],
  pricing: ModelPricing,
): { inputTokens: number; outputTokens: number; costUsd: number } {
  const inputTokens = turns.reduce((sum, turn) => sum + turn.usage!.inputTokens, 0);
  const outputTokens = turns.reduce((sum, turn) => sum + turn.usage!.outputTokens, 0);
  const costUsd =
    (inputTokens * pricing.inputPricePerMillionUsd + outputTokens * pricing.outputPricePerMillionUsd) / 1e6;
  return { inputTokens, outputTokens, costUsd };
}

/**
 * The `usage` event an executor emits for `turns` of the routed `model` on `endpoint`: their tokens, priced
 * at `pricing`.
 */
export function scriptedUsageEvent(
  turns: ScriptedTurn[],
  pricing: ModelPricing,
  routed: { model: string; endpoint: string },
): Extract<ExecutorEvent, { type: 'usage' }> {
  return { type: 'usage', ...scriptedUsage(turns, pricing), ...routed };
}
