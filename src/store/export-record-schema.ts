/**
 * The check every store applies to each record of a `warren export` file before importing it: one zod
 * schema per record kind, discriminated on `kind`.
 *
 * The schemas check what a store needs to hold a record faithfully (required fields, their types, known
 * states, ISO times, id formats, non-negative counts) and reuse the domain's own schemas where there are
 * some. They do not re-apply the limits of a new request (title length, number of labels, ...): a stored
 * record may have outgrown them legitimately (a retry raises `maxAttempts`), and an export must import.
 */
import { z } from 'zod';
import { breakerRecordSchema } from '../core/circuit-breaker.ts';
import type { DependencyHealth, RunnerAgentPairing } from '../core/fleet-types.ts';
import { modelEndpointSchema } from '../core/model-endpoints.ts';
import { modelSelectorSchema } from '../core/model-selector.ts';
import { parseInput } from '../core/parse-input.ts';
import {
  ATTEMPT_STATES,
  COMPLEXITIES,
  EVENT_TYPES,
  LANES,
  RUNNER_STATUSES,
  SENIORITIES,
  TASK_STATES,
  budgetSchema,
  capabilityNameSchema,
  executorNameSchema,
  successCriterionSchema,
  taskIdSchema,
} from '../core/types.ts';
import { usageRecordInputSchema } from '../core/usage.ts';
import type { ExportRecord } from './store.ts';

/** A time as the domain writes it: ISO 8601 (`2030-01-01T00:00:00.000Z`; an offset is accepted). */
const isoTimeSchema = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time' });

const countSchema = z.number().int().min(0);
const positiveIdSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const attemptIdSchema = z.string().regex(/^att_[0-9A-Z]{26}$/, 'must be an attempt id like att_01J…');
const runnerIdSchema = z.string().regex(/^run_[0-9A-Z]{26}$/, 'must be a runner id like run_01J…');

const usageTotalsSchema = z.strictObject({
  inputTokens: countSchema,
  outputTokens: countSchema,
  costUsd: z.number().min(0),
  calls: countSchema,
});

const taskResultSchema = z.strictObject({
  branch: z.string(),
  baseBranch: z.string(),
  baseSha: z.string(),
  commitSha: z.string().optional(),
  changedFiles: z.array(z.string()),
  pushed: z.boolean(),
  summary: z.string().optional(),
});

const attemptErrorSchema = z.strictObject({
  message: z.string(),
  kind: z.string().min(1),
  retryable: z.boolean(),
  nextRetryDelayMs: z.number().min(0).optional(),
});

const verificationRoundSchema = z.strictObject({
  round: z.number().int().min(1),
  passed: z.boolean(),
  criteria: z.array(
    z.strictObject({
      description: z.string(),
      command: z.string().optional(),
      passed: z.boolean(),
      exitCode: z.number().int().nullable(),
      timedOut: z.boolean(),
      durationMs: z.number().min(0),
      output: z.string(),
    }),
  ),
});

/** States in which a task has an active attempt, named by `currentAttemptId`. */
const leasedTaskStates: ReadonlySet<string> = new Set(['leased', 'running', 'verifying']);

const taskSchema = z
  .strictObject({
    id: taskIdSchema,
    title: z.string().min(1),
    instructions: z.string(),
    repo: z.string().min(1),
    baseBranch: z.string().min(1).optional(),
    executor: executorNameSchema,
    executorInput: z.record(z.string(), z.unknown()),
    capabilities: z.array(capabilityNameSchema),
    complexity: z.enum(COMPLEXITIES),
    complexityReason: z.string(),
    model: modelSelectorSchema.optional(),
    seniority: z.enum(SENIORITIES).optional(),
    budget: budgetSchema.optional(),
    grants: z.array(capabilityNameSchema),
    fixRounds: countSchema,
    lane: z.enum(LANES),
    priority: z.number().int(),
    successCriteria: z.array(successCriterionSchema),
    dependsOn: z.array(taskIdSchema),
    dedupKey: z.string().min(1).optional(),
    maxAttempts: z.number().int().min(1),
    timeoutMs: z.number().int().min(1),
    labels: z.array(z.string().min(1)),
    state: z.enum(TASK_STATES),
    stateReason: z.string().optional(),
    requiredCapabilities: z.array(z.string().min(1)),
    usage: usageTotalsSchema,
    attemptCount: countSchema,
    retryAt: isoTimeSchema.optional(),
    currentAttemptId: attemptIdSchema.optional(),
    result: taskResultSchema.optional(),
    idempotencyKey: z.string().min(1).optional(),
    createdAt: isoTimeSchema,
    updatedAt: isoTimeSchema,
    finishedAt: isoTimeSchema.optional(),
  })
  .superRefine((task, context) => {
    // The Store invariant: a task is leased, running or verifying exactly when it has a current attempt.
    const leased = leasedTaskStates.has(task.state);
    if (leased !== (task.currentAttemptId !== undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['currentAttemptId'],
        message: leased
          ? `must be set: a ${task.state} task has a current attempt`
          : `must be absent: a ${task.state} task has no current attempt`,
      });
    }
  });

const attemptSchema = z.strictObject({
  id: attemptIdSchema,
  taskId: taskIdSchema,
  runnerId: runnerIdSchema,
  number: z.number().int().min(1),
  state: z.enum(ATTEMPT_STATES),
  fencingToken: z.number().int().min(1),
  leaseExpiresAt: isoTimeSchema,
  startedAt: isoTimeSchema,
  finishedAt: isoTimeSchema.optional(),
  progress: z.string().optional(),
  branch: z.string().optional(),
  worktreePath: z.string().optional(),
  error: attemptErrorSchema.optional(),
  verification: z.array(verificationRoundSchema),
  result: taskResultSchema.optional(),
  usage: usageTotalsSchema,
  agent: z.string().min(1).optional(),
  routing: z.record(z.string(), z.unknown()).optional(),
  holds: z.array(z.string().min(1)).optional(),
});

// A runner's pairings and health results as stored: the shape only, not the limits of a registration.
const runnerAgentPairingSchema: z.ZodType<RunnerAgentPairing> = z.strictObject({
  agent: z.string().min(1),
  offers: z.array(
    z.strictObject({ name: z.string().min(1), weight: z.number().min(0).max(1), preferred: z.boolean() }),
  ),
  healthChecks: z.array(z.string().min(1)),
});

const dependencyHealthSchema: z.ZodType<DependencyHealth> = z.strictObject({
  name: z.string().min(1),
  healthy: z.boolean(),
  detail: z.string().optional(),
  checkedAt: isoTimeSchema,
});

const runnerSchema = z.strictObject({
  id: runnerIdSchema,
  name: z.string().min(1),
  capabilities: z.array(capabilityNameSchema),
  slots: z.number().int().min(1),
  status: z.enum(RUNNER_STATUSES),
  version: z.string().optional(),
  hostname: z.string().optional(),
  lastHeartbeatAt: isoTimeSchema.optional(),
  createdAt: isoTimeSchema,
  // Absent from files made before fleet routing: such runners have no pairings and no health results yet.
  agents: z.array(runnerAgentPairingSchema).default([]),
  dependencyHealth: z.array(dependencyHealthSchema).default([]),
});

const usageRecordSchema = usageRecordInputSchema.extend({
  id: positiveIdSchema,
  attemptId: attemptIdSchema,
  taskId: taskIdSchema,
  runnerId: runnerIdSchema,
  at: isoTimeSchema,
});

const eventSchema = z.strictObject({
  id: positiveIdSchema,
  type: z.enum(EVENT_TYPES),
  taskId: taskIdSchema.optional(),
  attemptId: attemptIdSchema.optional(),
  runnerId: runnerIdSchema.optional(),
  at: isoTimeSchema,
  data: z.record(z.string(), z.unknown()),
});

const leadershipSchema = z.strictObject({
  name: z.string().min(1),
  holder: z.string().min(1),
  term: z.number().int().min(1),
  acquiredAt: isoTimeSchema,
  expiresAt: isoTimeSchema,
});

/** One record of an export file, checked; see {@link ExportRecord} for what each kind holds. */
export const exportRecordSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('header'),
    format: z.literal('warren-export'),
    version: z.literal(1),
    dialect: z.enum(['sqlite', 'postgres']),
    exportedAt: isoTimeSchema,
  }),
  z.strictObject({ kind: z.literal('endpoint'), endpoint: modelEndpointSchema }),
  z.strictObject({ kind: z.literal('runner'), runner: runnerSchema, tokenHash: z.string().min(1) }),
  z.strictObject({ kind: z.literal('task'), task: taskSchema, leaseEpoch: countSchema }),
  z.strictObject({ kind: z.literal('attempt'), attempt: attemptSchema, leaseTokenHash: z.string().min(1) }),
  z.strictObject({ kind: z.literal('usage'), record: usageRecordSchema }),
  z.strictObject({ kind: z.literal('event'), event: eventSchema }),
  z.strictObject({ kind: z.literal('leadership'), leadership: leadershipSchema }),
  z.strictObject({ kind: z.literal('breaker'), breaker: breakerRecordSchema }),
]);

/**
 * `value` as an export record, or InvalidInputError naming each bad field prefixed with `index`, the
 * record's place in its batch (or its line number in a file), e.g. `3.task.state`. The result is a fresh
 * value: a store may keep it without copying.
 */
export function parseExportRecord(value: unknown, index: number): ExportRecord {
  return parseInput(exportRecordSchema, value, String(index));
}
