/**
 * The rows of imported records (`Store.importRecords`), shared by every backend: domain values from an
 * export file back to columns, with ISO times turned into epoch ms and JSON values serialized.
 */
import type { BreakerRecord } from '../../core/circuit-breaker.ts';
import { isActiveAttemptState } from '../../core/task-state.ts';
import type { Attempt, Runner, Task, WarrenEvent } from '../../core/types.ts';
import type { UsageRecord } from '../../core/usage.ts';
import type { ExportRecord } from '../store.ts';
import type { AttemptRow, BreakerRow, EventRow, RunnerRow, UsageRecordRow } from './database-schema.ts';
import { agentsColumnOf, dependencyHealthColumnOf } from './runner-row.ts';
import { laneRanks, type TaskRecordColumns } from './task-row.ts';

/**
 * The `tasks` columns of an imported task that both backends store the same way; `required_capabilities`
 * comes canonical (sorted, no duplicates), as enqueueing writes it, for each backend to store its way.
 */
export function taskRecordRowOf(task: Task, leaseEpoch: number): TaskRecordColumns {
  return {
    id: task.id,
    state: task.state,
    lane: task.lane,
    lane_rank: laneRanks[task.lane],
    priority: task.priority,
    title: task.title,
    instructions: task.instructions,
    repo: task.repo,
    base_branch: task.baseBranch ?? null,
    executor: task.executor,
    executor_input: JSON.stringify(task.executorInput),
    capabilities: JSON.stringify(task.capabilities),
    complexity: task.complexity,
    complexity_reason: task.complexityReason,
    model: task.model ?? null,
    seniority: task.seniority ?? null,
    budget: task.budget === undefined ? null : JSON.stringify(task.budget),
    grants: JSON.stringify(task.grants),
    fix_rounds: task.fixRounds,
    success_criteria: JSON.stringify(task.successCriteria),
    depends_on: JSON.stringify(task.dependsOn),
    dedup_key: task.dedupKey ?? null,
    max_attempts: task.maxAttempts,
    timeout_ms: task.timeoutMs,
    labels: JSON.stringify(task.labels),
    required_capabilities: [...new Set(task.requiredCapabilities)].sort(),
    idempotency_key: task.idempotencyKey ?? null,
    attempt_count: task.attemptCount,
    lease_epoch: leaseEpoch,
    retry_at: task.retryAt === undefined ? null : Date.parse(task.retryAt),
    current_attempt_id: task.currentAttemptId ?? null,
    result: task.result === undefined ? null : JSON.stringify(task.result),
    state_reason: task.stateReason ?? null,
    created_at: Date.parse(task.createdAt),
    updated_at: Date.parse(task.updatedAt),
    finished_at: task.finishedAt === undefined ? null : Date.parse(task.finishedAt),
    usage_input_tokens: task.usage.inputTokens,
    usage_output_tokens: task.usage.outputTokens,
    usage_cost_usd: task.usage.costUsd,
    usage_calls: task.usage.calls,
  };
}

/** The `attempts` row of an imported attempt. */
export function attemptRowOf(attempt: Attempt, leaseTokenHash: string): AttemptRow {
  return {
    id: attempt.id,
    task_id: attempt.taskId,
    runner_id: attempt.runnerId,
    number: attempt.number,
    state: attempt.state,
    lease_token_hash: leaseTokenHash,
    fencing_token: attempt.fencingToken,
    lease_expires_at: Date.parse(attempt.leaseExpiresAt),
    progress: attempt.progress ?? null,
    branch: attempt.branch ?? null,
    worktree_path: attempt.worktreePath ?? null,
    error: attempt.error === undefined ? null : JSON.stringify(attempt.error),
    verification: JSON.stringify(attempt.verification),
    result: attempt.result === undefined ? null : JSON.stringify(attempt.result),
    started_at: Date.parse(attempt.startedAt),
    finished_at: attempt.finishedAt === undefined ? null : Date.parse(attempt.finishedAt),
    usage_input_tokens: attempt.usage.inputTokens,
    usage_output_tokens: attempt.usage.outputTokens,
    usage_cost_usd: attempt.usage.costUsd,
    usage_calls: attempt.usage.calls,
    agent: attempt.agent ?? '',
    routing: attempt.routing === undefined ? null : JSON.stringify(attempt.routing),
    holds: attempt.holds === undefined ? null : JSON.stringify(attempt.holds),
  };
}

/**
 * The keys an imported attempt holds now: its `holds` while it is active (leased, running or verifying),
 * none once it has finished. Each becomes an `attempt_holds` row, so that the limits keep counting it.
 */
export function activeHoldKeysOf(attempt: Attempt): readonly string[] {
  if (attempt.holds === undefined || !isActiveAttemptState(attempt.state)) return [];
  return [...new Set(attempt.holds)];
}

/** The `breakers` row of an imported breaker. */
export function breakerRowOf(breaker: BreakerRecord): BreakerRow {
  return { key: breaker.key, record: JSON.stringify(breaker), updated_at: Date.parse(breaker.updatedAt) };
}

/** The `runners` row of an imported runner. */
export function runnerRowOf(runner: Omit<Runner, 'activeAttempts'>, tokenHash: string): RunnerRow {
  return {
    id: runner.id,
    name: runner.name,
    token_hash: tokenHash,
    capabilities: JSON.stringify(runner.capabilities),
    slots: runner.slots,
    status: runner.status,
    version: runner.version ?? null,
    hostname: runner.hostname ?? null,
    last_heartbeat_at: runner.lastHeartbeatAt === undefined ? null : Date.parse(runner.lastHeartbeatAt),
    created_at: Date.parse(runner.createdAt),
    agents: agentsColumnOf(runner.agents),
    dependency_health: dependencyHealthColumnOf(runner.dependencyHealth),
  };
}

/** The `usage_records` row of an imported ledger row. */
export function usageRecordRowOf(usage: UsageRecord): UsageRecordRow {
  return {
    id: usage.id,
    attempt_id: usage.attemptId,
    task_id: usage.taskId,
    runner_id: usage.runnerId,
    endpoint: usage.endpoint,
    model: usage.model,
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cost_usd: usage.costUsd,
    at: Date.parse(usage.at),
  };
}

/** The `events` row of an imported event. */
export function eventRowOf(event: WarrenEvent): EventRow {
  return {
    id: event.id,
    type: event.type,
    task_id: event.taskId ?? null,
    attempt_id: event.attemptId ?? null,
    runner_id: event.runnerId ?? null,
    at: Date.parse(event.at),
    data: JSON.stringify(event.data),
  };
}

/** What a record is, for messages: its kind and id or name. */
export function describeExportRecord(record: ExportRecord): string {
  switch (record.kind) {
    case 'header':
      return 'the header';
    case 'endpoint':
      return `endpoint ${record.endpoint.name}`;
    case 'runner':
      return `runner ${record.runner.id} (${record.runner.name})`;
    case 'task':
      return `task ${record.task.id}`;
    case 'attempt':
      return `attempt ${record.attempt.id}`;
    case 'usage':
      return `usage record ${record.record.id}`;
    case 'event':
      return `event ${record.event.id}`;
    case 'leadership':
      return `leadership ${record.leadership.name}`;
    case 'breaker':
      return `breaker ${record.breaker.key}`;
  }
}
