/**
 * Conversion from `usage_records` rows, and from the usage total columns of tasks and attempts, to the
 * domain's ledger values.
 */
import type { UsageRecord, UsageTotals } from '../../core/usage.ts';
import type { UsageColumns, UsageRecordRow } from './database-schema.ts';
import { epochToIso } from './epoch-to-iso.ts';

/** The ledger row stored in `row`. */
export function usageRecordFromRow(row: UsageRecordRow): UsageRecord {
  return {
    id: row.id,
    attemptId: row.attempt_id,
    taskId: row.task_id,
    runnerId: row.runner_id,
    endpoint: row.endpoint,
    model: row.model,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    costUsd: row.cost_usd,
    at: epochToIso(row.at),
  };
}

/** The usage totals kept on a task or attempt row. */
export function usageTotalsFromRow(row: UsageColumns): UsageTotals {
  return {
    inputTokens: row.usage_input_tokens,
    outputTokens: row.usage_output_tokens,
    costUsd: row.usage_cost_usd,
    calls: row.usage_calls,
  };
}
