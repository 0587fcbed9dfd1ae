/**
 * The cost ledger's values: what a runner reports after model calls, and the totals kept on attempts and
 * tasks.
 */
import { z } from 'zod';

/** Token and cost totals of model calls, kept on every attempt and task (all zero at the start). */
export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  /** Dollars, as priced by the endpoint's configured prices. */
  costUsd: number;
  /** Number of model calls. */
  calls: number;
}

/** Totals with nothing counted yet; a fresh object on every call. */
export function emptyUsageTotals(): UsageTotals {
  return { inputTokens: 0, outputTokens: 0, costUsd: 0, calls: 0 };
}

/** Upper bounds of the ledger. */
export const USAGE_LIMITS = {
  /** why: a long agent run reports in batches; 1000 calls per request keeps one transaction short. */
  recordsPerRequest: 1_000,
  /** why: no single model call comes near a billion tokens; the bound stops a runaway counter at the door. */
  tokensPerRecord: 1_000_000_000,
  /** why: one call costing more than $100,000 is a bug, not a bill. */
  costUsdPerRecord: 100_000,
} as const;

/** One model call (or several on the same model, summed) as a runner reports it. */
export const usageRecordInputSchema = z.strictObject({
  /** The endpoint's name. */
  endpoint: z.string().min(1).max(64),
  /** The model id at the endpoint. */
  model: z.string().min(1).max(200),
  inputTokens: z.number().int().min(0).max(USAGE_LIMITS.tokensPerRecord),
  outputTokens: z.number().int().min(0).max(USAGE_LIMITS.tokensPerRecord),
  costUsd: z.number().min(0).max(USAGE_LIMITS.costUsdPerRecord),
});
/** A usage report for one model call. */
export type UsageRecordInput = z.infer<typeof usageRecordInputSchema>;

/** A row of the cost ledger: one reported call, with the attempt, task and runner it was made for. */
export interface UsageRecord extends UsageRecordInput {
  /** Ledger sequence number; strictly increases in the order records were written. */
  id: number;
  attemptId: string;
  taskId: string;
  runnerId: string;
  /** When the hub recorded it (ISO time). */
  at: string;
}

/** `totals` plus `records` (each record is one call). */
export function addUsage(totals: UsageTotals, records: readonly UsageRecordInput[]): UsageTotals {
  const sum = { ...totals };
  for (const record of records) {
    sum.inputTokens += record.inputTokens;
    sum.outputTokens += record.outputTokens;
    sum.costUsd += record.costUsd;
    sum.calls += 1;
  }
  return sum;
}
