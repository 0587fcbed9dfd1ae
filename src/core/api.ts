/**
 * The HTTP API's wire contract (under `/v1`): request schemas the hub validates and response shapes the
 * client reads. Shared by `src/hub` and `src/client` so the two can never disagree.
 *
 * Auth: `Authorization: Bearer <token>`. Admin token: every route. Runner token: runner and attempt routes.
 * Enrollment token (the hub's WARREN_ENROLLMENT_TOKEN): `POST /v1/runners/enroll` only.
 * Errors: `{ error: { code, message, issues? } }` with the status from `src/hub/http-status.ts`.
 *
 * Routes
 * - `POST /v1/tasks` (TaskSpecInput; header `Idempotency-Key` optional) → 201 `{ task, created: true }` |
 *   200 `{ task, created: false }`
 * - `POST /v1/tasks/batch` `{ tasks: TaskSpecInput[] }` → 201 `{ results: EnqueueResult[] }`
 * - `GET /v1/tasks?state=a,b&lane=&label=&repo=&cursor=&limit=` → `{ tasks, nextCursor? }`
 * - `GET /v1/tasks/:id` → TaskDetail `{ task, attempts, usageRecords }` (totals on the task and each attempt,
 *   the newest ledger rows)
 * - `POST /v1/tasks/:id/cancel` `{ reason? }` → `{ task }`
 * - `POST /v1/tasks/:id/retry` → `{ task }`
 * - `GET /v1/tasks/:id/logs?after=&limit=` → `{ events }` (attempt.log and attempt.progress events)
 * - `GET /v1/events?after=&taskId=&types=` → `text/event-stream` (`id:` event id, `event:` type, `data:` the
 *   WarrenEvent as JSON; `: keep-alive` comments); resumable with `Last-Event-ID`
 * - `POST /v1/runners` (admin) RunnerCreateRequest → 201 `{ runner, token }` (token shown once)
 * - `POST /v1/runners/enroll` (enrollment token) RunnerCreateRequest → 201 `{ runner, token }`; replaces an
 *   offline runner of that name, 409 for a live one, 403 when the hub has no enrollment token
 * - `GET /v1/runners` → `{ runners }`;  `DELETE /v1/runners/:id` → 204
 * - `POST /v1/runner/register` (runner) RunnerRegisterRequest → `{ runner, config }`
 * - `POST /v1/runner/heartbeat` (runner) RunnerHeartbeatRequest → `{ runner, revokedAttemptIds }`
 * - `POST /v1/runner/claim` (runner) ClaimRequestBody → `{ claims: ClaimedWork[] }` (long poll)
 * - `POST /v1/attempts/:id/heartbeat` AttemptHeartbeatRequest → `{ attempt }`
 * - `POST /v1/attempts/:id/phase` AttemptPhaseRequest → `{ attempt }`
 * - `POST /v1/attempts/:id/logs` AttemptLogsRequest → 204
 * - `POST /v1/attempts/:id/usage` AttemptUsageRequest → 204 (ledger rows, added to attempt and task totals)
 * - `POST /v1/attempts/:id/complete` AttemptCompleteRequest → `{ task }`; with `claim: { limit }` →
 *   `{ task, claims: ClaimedWork[] }`: once the completion is recorded, the hub claims up to `limit` tasks
 *   for the same runner at once, as `POST /v1/runner/claim` with `waitMs: 0` would (free slots, draining)
 * - `POST /v1/attempts/:id/fail` AttemptFailRequest → `{ task }`; `claim` as for complete
 * - `GET /v1/endpoints` → EndpointList `{ endpoints }` (each with its health)
 * - `PUT /v1/endpoints/:name` ModelEndpointInput (`name` optional, else the same) → 201 | 200 EndpointPut
 * - `DELETE /v1/endpoints/:name` → 204
 * - `GET /v1/agents` → AgentDefinitionList `{ source?, agents, problems }` (agent definitions, rejected files)
 * - `GET /v1/agents/:name` → AgentDefinitionDetail `{ agent, skills }` (404 when there is no such agent)
 * - `GET /healthz`, `GET /readyz`, `GET /metrics` (no auth)
 */
import { dependencyHealthListSchema, runnerAgentPairingsSchema } from './runner-pairing-schema.ts';
import { z } from 'zod';
import type { AgentDefinition, AgentDefinitionProblem } from './agent-definition.ts';
import type { ClaimedAgent } from './claimed-agent.ts';
import type { FieldIssue, WarrenErrorCode } from './errors.ts';
import type { Scorecard } from './routing-score.ts';
import type { EndpointHealth, ModelAssignment, ModelEndpoint } from './model-endpoints.ts';
import {
  EVENT_TYPES,
  LANES,
  LIMITS,
  logEntrySchema,
  TASK_STATES,
  type Attempt,
  type AttemptState,
  type Runner,
  type Task,
  type WarrenEvent,
} from './types.ts';
import { USAGE_LIMITS, usageRecordInputSchema, type UsageRecord } from './usage.ts';

/** The error body of every non-2xx answer. */
export interface ErrorBody {
  error: { code: WarrenErrorCode; message: string; issues?: FieldIssue[] };
}

const capabilityList = z
  .array(
    z
      .string()
      .min(1)
      .max(100)
      .regex(/^[a-z0-9][a-z0-9._:/-]*$/, 'must be lowercase letters, digits and . _ : / -'),
  )
  .max(LIMITS.capabilities);

/** `POST /v1/tasks/batch`. why: 1000 per batch keeps one transaction short while amortising HTTP cost. */
export const taskBatchRequestSchema = z.strictObject({
  tasks: z.array(z.unknown()).min(1).max(1_000),
});

/** Query of `GET /v1/tasks`. */
export const listTasksQuerySchema = z.strictObject({
  state: z
    .string()
    .optional()
    .transform((value) => (value ? value.split(',').filter(Boolean) : undefined))
    .pipe(z.array(z.enum(TASK_STATES)).optional()),
  lane: z.enum(LANES).optional(),
  label: z.string().max(64).optional(),
  repo: z.string().max(2_000).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/** Query of `GET /v1/tasks/:id/logs`: events with id greater than `after`, oldest first. */
export const taskLogsQuerySchema = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(5_000).default(1_000),
});

/**
 * Query of `GET /v1/events`. Without `after` (or a `Last-Event-ID` header, which wins) the stream starts
 * with the next new event; `after=0` replays from the beginning.
 */
export const eventStreamQuerySchema = z.strictObject({
  after: z.coerce.number().int().min(0).optional(),
  taskId: z.string().min(1).max(100).optional(),
  types: z
    .string()
    .optional()
    .transform((value) => (value ? value.split(',').filter(Boolean) : undefined))
    .pipe(z.array(z.enum(EVENT_TYPES)).optional()),
});

/** `POST /v1/tasks/:id/cancel`. */
export const cancelTaskRequestSchema = z.strictObject({ reason: z.string().max(500).optional() });

/** `POST /v1/runners`. */
export const runnerCreateRequestSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lowercase letters, digits and . _ -'),
  capabilities: capabilityList.default([]),
  slots: z.number().int().min(1).max(256).default(1),
});

/** `POST /v1/runner/register`. */
export const runnerRegisterRequestSchema = z.strictObject({
  capabilities: capabilityList,
  slots: z.number().int().min(1).max(256),
  version: z.string().max(100).optional(),
  hostname: z.string().max(255).optional(),
  /** The agent definitions this runner runs, with the capabilities each offers (fleet routing). */
  agents: runnerAgentPairingsSchema.optional(),
  /** The first results of the dependency health checks the pairings require. */
  dependencyHealth: dependencyHealthListSchema.optional(),
});

/** `POST /v1/runner/heartbeat`. */
export const runnerHeartbeatRequestSchema = z.strictObject({
  /** `offline`: the runner's last word as it exits, so it shows offline at once rather than after the stale timeout. */
  status: z.enum(['online', 'draining', 'offline']).default('online'),
  /** Attempts the runner believes it holds; the answer lists those the hub has revoked. */
  attemptIds: z.array(z.string().max(100)).max(1_000).default([]),
  /** The latest results of the runner's dependency health checks; replaces the stored ones. */
  dependencyHealth: dependencyHealthListSchema.optional(),
});

/** `POST /v1/runner/claim`. why: 30 s long poll stays under common proxy idle timeouts (60 s). */
export const claimRequestSchema = z.strictObject({
  limit: z.number().int().min(1).max(256).default(1),
  waitMs: z.number().int().min(0).max(30_000).default(30_000),
});

const leaseTokenSchema = z.string().min(1).max(200);

/**
 * The optional `claim` of a completion or failure: claim the runner's next work in the same request,
 * without waiting. The limit is that of `POST /v1/runner/claim`.
 */
const claimNextSchema = z.strictObject({ limit: z.number().int().min(1).max(256) }).optional();

/** `POST /v1/attempts/:id/heartbeat`. */
export const attemptHeartbeatRequestSchema = z.strictObject({
  leaseToken: leaseTokenSchema,
  message: z.string().max(1_000).optional(),
});

/** `POST /v1/attempts/:id/phase`. */
export const attemptPhaseRequestSchema = z.strictObject({
  leaseToken: leaseTokenSchema,
  phase: z.enum(['running', 'verifying']),
  message: z.string().max(1_000).optional(),
  branch: z.string().max(300).optional(),
  worktreePath: z.string().max(4_000).optional(),
});

/** `POST /v1/attempts/:id/logs`. */
export const attemptLogsRequestSchema = z.strictObject({
  leaseToken: leaseTokenSchema,
  entries: z.array(logEntrySchema).min(1).max(200),
});

/** `POST /v1/attempts/:id/usage`: model calls to add to the cost ledger. */
export const attemptUsageRequestSchema = z.strictObject({
  leaseToken: leaseTokenSchema,
  records: z.array(usageRecordInputSchema).min(1).max(USAGE_LIMITS.recordsPerRequest),
});

const criterionResultSchema = z.strictObject({
  description: z.string().max(500),
  command: z.string().max(10_000).optional(),
  passed: z.boolean(),
  exitCode: z.number().int().nullable(),
  timedOut: z.boolean(),
  durationMs: z.number().min(0),
  output: z.string().max(LIMITS.logChunkLength),
});

const verificationRoundSchema = z.strictObject({
  round: z.number().int().min(1).max(100),
  passed: z.boolean(),
  criteria: z.array(criterionResultSchema).max(LIMITS.criteria),
});

/** `POST /v1/attempts/:id/complete`. */
export const attemptCompleteRequestSchema = z.strictObject({
  leaseToken: leaseTokenSchema,
  result: z.strictObject({
    branch: z.string().max(300),
    baseBranch: z.string().max(300),
    baseSha: z.string().max(64),
    commitSha: z.string().max(64).optional(),
    changedFiles: z.array(z.string().max(4_000)).max(10_000),
    pushed: z.boolean(),
    summary: z.string().max(10_000).optional(),
  }),
  verification: z.array(verificationRoundSchema).max(20).default([]),
  claim: claimNextSchema,
});

/** `POST /v1/attempts/:id/fail`. */
export const attemptFailRequestSchema = z.strictObject({
  leaseToken: leaseTokenSchema,
  error: z.strictObject({
    message: z.string().max(10_000),
    kind: z.string().min(1).max(100),
    retryable: z.boolean(),
    nextRetryDelayMs: z.number().int().min(0).max(LIMITS.maxTimeoutMs).optional(),
  }),
  verification: z.array(verificationRoundSchema).max(20).default([]),
  branch: z.string().max(300).optional(),
  worktreePath: z.string().max(4_000).optional(),
  claim: claimNextSchema,
});

/** A claimed task as the runner receives it. */
export interface ClaimedWork {
  task: Task;
  attempt: Attempt;
  leaseToken: string;
  /** For a task with a model selector: the model it runs on, chosen among the endpoints up at claim time. */
  model?: ModelAssignment;
  /**
   * The hub's definition of the agent the attempt was assigned to (`attempt.agent`), with its skills
   * loaded; absent when the attempt has no agent or the hub has no definition of that name.
   */
  agent?: ClaimedAgent;
}

/** Settings the hub hands a runner at registration. */
export interface RunnerConfig {
  leaseMs: number;
  /** How often the runner should extend its leases. */
  heartbeatIntervalMs: number;
}

/** How many ledger rows `GET /v1/tasks/:id` carries. why: enough for any task's story; the rest is summed. */
export const TASK_DETAIL_USAGE_RECORDS = 500;

/**
 * `GET /v1/tasks/:id/routing`: the routing decision stored on each attempt and, for a queued task, the one
 * the scheduler would make now. A decision is `{ decidedAt, taskCapabilities, winner, reason, cards }`, the
 * cards being the candidates' scorecards, best first (`src/core/routing-score.ts`).
 */
export interface TaskRouting {
  task: Task;
  attempts: Array<{
    attemptId: string;
    number: number;
    runnerId: string;
    state: AttemptState;
    agent?: string;
    routing?: RoutingDecisionRecord;
  }>;
  now?: RoutingDecisionRecord;
}

/** A routing decision as stored on an attempt (see `RoutingRecord` in the hub). */
export interface RoutingDecisionRecord {
  decidedAt: string;
  taskCapabilities: string[];
  winner: string;
  /** The id of the runner that asked for work when the decision was made: it wins ties. */
  claimant?: string;
  reason: string;
  deferralExpired?: boolean;
  /** Taken ahead of higher lanes' work because its lane was owed its guaranteed share of claims. */
  laneShare?: boolean;
  cards: Scorecard[];
}

/** `GET /v1/tasks/:id` answer. */
export interface TaskDetail {
  /** The task, with its usage totals. */
  task: Task;
  /** Its attempts, oldest first, each with its usage totals. */
  attempts: Attempt[];
  /** The task's newest ledger rows (at most {@link TASK_DETAIL_USAGE_RECORDS}), newest first. */
  usageRecords: UsageRecord[];
}

/** A model endpoint with the hub's view of its health (`status`, `lastCheckedAt`, `lastError`, `nextCheckAt`). */
export interface EndpointWithHealth extends ModelEndpoint, EndpointHealth {}

/** `GET /v1/endpoints` answer, by name. */
export interface EndpointList {
  endpoints: EndpointWithHealth[];
}

/** `PUT /v1/endpoints/:name` answer. */
export interface EndpointPut {
  endpoint: EndpointWithHealth;
  /** False when an endpoint of that name was replaced. */
  created: boolean;
}

/** `GET /v1/tasks` answer. */
export interface TaskList {
  tasks: Task[];
  nextCursor?: string;
}

/** `POST /v1/runners` answer. */
export interface RunnerCreated {
  runner: Runner;
  /** The runner's token, shown only once. */
  token: string;
}

/** `GET /v1/tasks/:id/logs` answer. */
export interface TaskLogs {
  events: WarrenEvent[];
}

/** `POST /v1/runner/register` answer. */
export interface RunnerRegistered {
  runner: Runner;
  config: RunnerConfig;
  /**
   * What is wrong with the registration without stopping the runner, in words: a pairing naming an agent
   * the hub has no definition of, or an agent whose executor the runner does not offer.
   */
  warnings?: string[];
}

/** `POST /v1/runner/heartbeat` answer. */
export interface RunnerHeartbeatResult {
  runner: Runner;
  /** Of the attempt ids sent, those this runner no longer holds (cancelled, expired, finished): abort them. */
  revokedAttemptIds: string[];
}

/**
 * `POST /v1/attempts/:id/complete` and `/fail` answer. `claims` is there only when the request asked to
 * claim; empty when nothing was claimable, the runner is draining or has no free slot.
 */
export interface AttemptEndResult {
  task: Task;
  claims?: ClaimedWork[];
}

/** `POST /v1/runner/claim` answer; empty when the wait ran out, the runner is draining or has no free slot. */
export interface ClaimResult {
  claims: ClaimedWork[];
}

/** Where a hub reads agent definitions from; credentials in a URL are redacted. */
export type AgentSourceInfo =
  { kind: 'directory'; directory: string } | { kind: 'git'; url: string; ref: string; path?: string };

/** An agent definition as the hub serves it: the definition, where it came from and how long it is cached. */
export interface AgentDefinitionEntry {
  definition: AgentDefinition;
  /** Its file, relative to the source's root (`agents/coder.yaml`). */
  file: string;
  /** The commit it was read from (Git sources). */
  revision?: string;
  /** When this version was loaded (ISO). */
  loadedAt: string;
  /** When its `cache_ttl` runs out (ISO): the next use after it reads the source again. */
  expiresAt: string;
  /**
   * True when the file has since changed into a version that was rejected (see `problems`): this, the last
   * good version, stays in use until the file is fixed.
   */
  replacementRejected: boolean;
}

/** The state of a hub's agent definitions source. */
export interface AgentSourceStatus {
  source: AgentSourceInfo;
  /** The commit the definitions in use were read from last (Git sources). */
  revision?: string;
  /** When the source was last read successfully (ISO). */
  refreshedAt?: string;
  /** When the next use reads the source again (ISO). */
  nextRefreshAt?: string;
  /** Set while the last read failed (repository unreachable, ...): the last good definitions are served. */
  lastError?: { at: string; message: string };
}

/** `GET /v1/agents` answer. */
export interface AgentDefinitionList {
  /** The source and its state; absent when the hub has no `agents` setting. */
  source?: AgentSourceStatus;
  /** Definitions in use, by name. */
  agents: AgentDefinitionEntry[];
  /** Rejected files (file, field, reason) and a failed read of the source. */
  problems: AgentDefinitionProblem[];
}

/** `GET /v1/agents/:name` answer. */
export interface AgentDefinitionDetail {
  agent: AgentDefinitionEntry;
  /** The skills the definition names and whether each has a folder in the source. */
  skills: Array<{ name: string; exists: boolean }>;
}
