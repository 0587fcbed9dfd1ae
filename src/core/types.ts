/**
 * Warren's domain types and their zod schemas.
 *
 * Glossary
 * - **task**: a unit of work: instructions, a repository and base branch, an executor with its input,
 *   success criteria, dependencies and limits. Tasks move through the task state machine (`task-state.ts`).
 * - **attempt**: one try at a task by one runner. Each attempt holds a **lease** until it finishes.
 * - **lease**: a time-limited claim on a task, identified by a secret lease token. Every call about an
 *   attempt carries the token; a stale token is refused (**fencing**), so a runner that lost its lease can
 *   never change the task again.
 * - **lane**: the coarse priority class (`high`, `normal`, `low`); within a lane, `priority` orders tasks
 *   (higher first), then age.
 * - **runner**: a daemon that claims tasks from the hub over HTTP and executes them. It advertises
 *   **capabilities** (strings such as `node`, `executor:shell`) and a number of **slots**.
 * - **executor**: the thing that does the work inside a worktree (`shell`, later agents). Every executor
 *   emits the same normalised event union.
 * - **worktree**: a git worktree made for one attempt, on branch `warren/<short-id>-<slug>` cut from the
 *   repository's current base branch.
 * - **success criterion**: a check (`description`, optional `command`) that must pass before a task
 *   succeeds; the results are kept as **evidence** on the attempt.
 * - **dedup key**: at most one active (non-terminal) task may hold a given dedup key; creating another
 *   returns the existing one. An **idempotency key** makes one create request safe to repeat forever.
 * - **grant**: a capability given to a task (later: credentials such as `github:read`).
 * - **hub**: the HTTP API, scheduler and event stream in front of the store.
 * - **model endpoint**: a place agents call models (Anthropic, OpenAI, an OpenAI-compatible server, Gemini),
 *   with the models it offers, their **tiers** (`cheap`, `frontier`, ...) and prices
 *   (`model-endpoints.ts`). The hub checks each endpoint's health.
 * - **model selector**: what a task asks for: a tier, or a pinned `endpoint/model-id` (`model-selector.ts`).
 * - **routing**: at creation the hub settles a task's complexity (with the reason), its executor and its
 *   model selector from the routing config (`route-task.ts`).
 * - **cost ledger**: one row per model call a runner reports (tokens and dollars), summed onto the attempt
 *   and the task (`usage.ts`).
 * - **pairing**: a runner with one agent definition it can run, offering weighted capabilities; fleet
 *   routing scores pairings per task (`fleet-types.ts`, `routing-score.ts`).
 * - **hold**: a named concurrency limit an attempt takes while it is active (e.g. `limit:deploy`, at most
 *   two at once); a claim skips a task whose hold is full.
 * - **breaker**: a circuit breaker per runner and per agent that stops routing to one that keeps failing
 *   (`circuit-breaker.ts`).
 */
import { z } from 'zod';
import type { DependencyHealth, RunnerAgentPairing } from './fleet-types.ts';
import { modelCapabilityOf, modelSelectorSchema } from './model-selector.ts';
import type { UsageTotals } from './usage.ts';

/** Priority lanes, highest first. */
export const LANES = ['high', 'normal', 'low'] as const;
/** A priority lane. */
export type Lane = (typeof LANES)[number];

/** Task complexity, used for routing (trivial tasks go to zero-token executors such as `shell`). */
export const COMPLEXITIES = ['trivial', 'standard', 'complex'] as const;
/** A task complexity. */
export type Complexity = (typeof COMPLEXITIES)[number];

/**
 * How senior an engineer the task calls for; routing maps it to a model selector (by default `junior` to
 * `cheap`, `senior` and `principal` to `frontier`).
 */
export const SENIORITIES = ['junior', 'senior', 'principal'] as const;
/** A seniority. */
export type Seniority = (typeof SENIORITIES)[number];

/**
 * Task states.
 * - `blocked`: waiting for its dependencies to succeed.
 * - `queued`: ready to be claimed by a runner.
 * - `leased`: claimed; an attempt holds a lease but the executor has not started.
 * - `running`: the executor is working in the attempt's worktree.
 * - `verifying`: the success criteria are being checked.
 * - `succeeded`: terminal; the work is committed on the task's branch.
 * - `failed`: the last attempt failed; the task waits for its retry time, then is queued again.
 * - `dead`: terminal; attempts exhausted, a non-retryable failure, or a dependency died or was cancelled.
 * - `cancelled`: terminal; cancelled by a user.
 */
export const TASK_STATES = [
  'blocked',
  'queued',
  'leased',
  'running',
  'verifying',
  'succeeded',
  'failed',
  'dead',
  'cancelled',
] as const;
/** A task state; see {@link TASK_STATES} for what each means. */
export type TaskState = (typeof TASK_STATES)[number];

/**
 * Attempt states.
 * - `leased`: the runner holds the lease and is preparing the worktree.
 * - `running`: the executor is running.
 * - `verifying`: success criteria are being checked.
 * - `succeeded`: terminal; the task succeeded with this attempt.
 * - `failed`: terminal; the attempt failed (the task may retry).
 * - `lost`: terminal; the lease expired or the runner abandoned it.
 * - `cancelled`: terminal; the task was cancelled while this attempt held it.
 */
export const ATTEMPT_STATES = [
  'leased',
  'running',
  'verifying',
  'succeeded',
  'failed',
  'lost',
  'cancelled',
] as const;
/** An attempt state; see {@link ATTEMPT_STATES}. */
export type AttemptState = (typeof ATTEMPT_STATES)[number];

/**
 * Runner presence.
 * - `online`: heartbeating, every dependency check it needs passing; claims work.
 * - `degraded`: heartbeating late, or a dependency check it needs is failing; it still claims, but routing
 *   prefers online runners and scores a pairing whose check fails at zero.
 * - `draining`: finishing work, claims nothing.
 * - `offline`: missed heartbeats.
 */
export const RUNNER_STATUSES = ['online', 'degraded', 'draining', 'offline'] as const;
/** A runner's presence. */
export type RunnerStatus = (typeof RUNNER_STATUSES)[number];

/** Upper bounds on inputs. why: every input is bounded so no request can exhaust memory or bloat a row. */
export const LIMITS = {
  titleLength: 200,
  instructionsLength: 100_000,
  criteria: 50,
  dependencies: 100,
  capabilities: 64,
  labels: 32,
  maxAttempts: 100,
  /** why: one day is longer than any sane coding task; longer waits belong to a schedule, not a timeout. */
  maxTimeoutMs: 24 * 60 * 60 * 1000,
  minTimeoutMs: 1_000,
  executorInputBytes: 64 * 1024,
  logChunkLength: 64 * 1024,
  /** why: a task needs a handful of credentials at most; 32 leaves room without bloating rows. */
  grants: 32,
  /** why: each fix round is another full executor run; more than five rarely converges and costs a lot. */
  maxFixRounds: 5,
} as const;

/** A capability (or grant): lowercase letters, digits and `. _ : / -`. */
export const capabilityNameSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9][a-z0-9._:/-]*$/, 'must be lowercase letters, digits and . _ : / -');

/** An executor's name, such as `shell` or `agent`. */
export const executorNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9-]*$/, 'must be an executor name such as "shell"');

/** A task's spending limit; at least one bound. */
export const budgetSchema = z
  .strictObject({
    /** Input plus output tokens over all attempts. */
    maxTokens: z.number().int().min(1).max(1_000_000_000_000).optional(),
    /** Dollars over all attempts. */
    maxCostUsd: z.number().gt(0).max(1_000_000).optional(),
  })
  .refine((budget) => budget.maxTokens !== undefined || budget.maxCostUsd !== undefined, {
    message: 'must set maxTokens or maxCostUsd',
  });
/** A task's spending limit. */
export type Budget = z.infer<typeof budgetSchema>;

/** A task id as created by `createId('tsk')`. */
export const taskIdSchema = z.string().regex(/^tsk_[0-9A-Z]{26}$/, 'must be a task id like tsk_01J…');

/** A check that must pass before a task succeeds. */
export const successCriterionSchema = z.strictObject({
  /** What is checked, in words. */
  description: z.string().trim().min(1).max(500),
  /** A shell command run in the worktree; exit code 0 means the criterion passed. */
  command: z.string().min(1).max(10_000).optional(),
  /** Timeout for the command. */
  timeoutMs: z.number().int().min(1_000).max(LIMITS.maxTimeoutMs).optional(),
});
/** A success criterion. */
export type SuccessCriterion = z.infer<typeof successCriterionSchema>;

/**
 * What a client sends to create a task. Defaults are applied by parsing; `executor` and `complexity` have
 * none: routing settles them (`route-task.ts`).
 */
export const taskSpecSchema = z.strictObject({
  title: z.string().trim().min(1).max(LIMITS.titleLength),
  instructions: z.string().max(LIMITS.instructionsLength).default(''),
  /** Source repository: a local path (absolute) or a git URL. */
  repo: z.string().trim().min(1).max(2_000),
  /** Branch to cut from; when absent the runner uses the repository's default branch. */
  baseBranch: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[A-Za-z0-9._/-]+$/, 'must be a plain branch name')
    .optional(),
  /** Pins the executor; without it routing picks one by complexity. */
  executor: executorNameSchema.optional(),
  /** Executor-specific input, validated by the executor (for `shell`: `{ run: string | string[] }`). */
  executorInput: z
    .record(z.string(), z.unknown())
    .default({})
    .refine((value) => JSON.stringify(value).length <= LIMITS.executorInputBytes, {
      message: `must serialize to at most ${LIMITS.executorInputBytes} bytes`,
    }),
  /** Capabilities the runner must have, besides `executor:<executor>` which is always required. */
  capabilities: z.array(capabilityNameSchema).max(LIMITS.capabilities).default([]),
  /** Without it routing estimates the complexity from the instructions, title and criteria. */
  complexity: z.enum(COMPLEXITIES).optional(),
  /** Pins a model (`endpoint/model-id`) or asks for a tier (`cheap`); used by executors that call models. */
  model: modelSelectorSchema.optional(),
  /** Routing maps a seniority to a model selector when no model is pinned. */
  seniority: z.enum(SENIORITIES).optional(),
  /** Spending limit over all attempts; enforced by the runner. */
  budget: budgetSchema.optional(),
  /** Capability grants (credentials such as `github:read`) the runner gives the task. */
  grants: z.array(capabilityNameSchema).max(LIMITS.grants).default([]),
  /** Verify-fix rounds after the first failed verification, before the attempt fails. */
  fixRounds: z.number().int().min(0).max(LIMITS.maxFixRounds).default(2),
  lane: z.enum(LANES).default('normal'),
  /** Priority within the lane; higher runs first. */
  priority: z.number().int().min(-1_000).max(1_000).default(0),
  successCriteria: z.array(successCriterionSchema).max(LIMITS.criteria).default([]),
  /** Tasks that must succeed before this one is queued. */
  dependsOn: z.array(taskIdSchema).max(LIMITS.dependencies).default([]),
  dedupKey: z.string().min(1).max(200).optional(),
  maxAttempts: z.number().int().min(1).max(LIMITS.maxAttempts).default(3),
  /** Wall-clock limit for one attempt (executor plus verification). why: 30 minutes fits most coding tasks. */
  timeoutMs: z
    .number()
    .int()
    .min(LIMITS.minTimeoutMs)
    .max(LIMITS.maxTimeoutMs)
    .default(30 * 60 * 1000),
  labels: z.array(z.string().min(1).max(64)).max(LIMITS.labels).default([]),
});
/** A parsed task spec with defaults applied. */
export type TaskSpec = z.output<typeof taskSpecSchema>;
/** A task spec as a client may send it (defaults optional). */
export type TaskSpecInput = z.input<typeof taskSpecSchema>;

/** The result of a verification command. */
export interface CriterionResult {
  description: string;
  command?: string;
  passed: boolean;
  /** Exit code; null when the command was killed or there was no command. */
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  /** Combined output, capped (tail kept). */
  output: string;
}

/** One round of verification: every criterion's result. */
export interface VerificationRound {
  round: number;
  passed: boolean;
  criteria: CriterionResult[];
}

/** What a successful attempt produced. */
export interface TaskResult {
  branch: string;
  baseBranch: string;
  baseSha: string;
  /** The commit on `branch`; absent when the executor changed nothing. */
  commitSha?: string;
  changedFiles: string[];
  /** Whether the branch was pushed to the source repository. */
  pushed: boolean;
  summary?: string;
}

/** Why an attempt failed. */
export interface AttemptError {
  message: string;
  /** A short machine-readable kind, e.g. `verification_failed`, `timeout`, `executor_failed`, `lease_expired`. */
  kind: string;
  /** Whether another attempt could help. */
  retryable: boolean;
  /** Asked-for delay before the retry (overrides the backoff when larger). */
  nextRetryDelayMs?: number;
}

/** What routing settled for a task (`routeTask`). */
export interface TaskRoute {
  executor: string;
  complexity: Complexity;
  /** Why the task has this complexity (and route), in words. */
  complexityReason: string;
  /** The model selector the task pinned or routing chose; absent for executors that call no model. */
  model?: string;
}

/** A parsed spec with its route settled: what the store enqueues. */
export type RoutedTaskSpec = Omit<TaskSpec, 'executor' | 'complexity' | 'model'> & TaskRoute;

/** A stored task. */
export interface Task extends RoutedTaskSpec {
  id: string;
  state: TaskState;
  /** Why the task is in its state (dead, cancelled, failed), in words. */
  stateReason?: string;
  /**
   * `capabilities` plus `executor:<executor>` and, with a model selector, `model:<selector>`: what a runner
   * must advertise (the hub adds the model capabilities of healthy endpoints) to claim this task.
   */
  requiredCapabilities: string[];
  /** Tokens and dollars of every attempt's model calls. */
  usage: UsageTotals;
  /** Number of attempts started so far. */
  attemptCount: number;
  /** When a `failed` task becomes `queued` again (ISO time). */
  retryAt?: string;
  currentAttemptId?: string;
  result?: TaskResult;
  idempotencyKey?: string;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
}

/** A stored attempt. The lease token is never part of it: only the claimer ever sees the token. */
export interface Attempt {
  id: string;
  taskId: string;
  runnerId: string;
  /** 1-based attempt number within the task. */
  number: number;
  state: AttemptState;
  /** Monotonic per task: each new lease gets a higher fencing token. */
  fencingToken: number;
  leaseExpiresAt: string;
  startedAt: string;
  finishedAt?: string;
  /** Last progress message reported by the runner. */
  progress?: string;
  branch?: string;
  worktreePath?: string;
  error?: AttemptError;
  verification: VerificationRound[];
  result?: TaskResult;
  /** Tokens and dollars of this attempt's model calls. */
  usage: UsageTotals;
  /** The agent definition that ran it, when the scheduler paired the task with one. */
  agent?: string;
  /** The scheduler's decision and scorecards that gave the task to this runner (opaque to the store). */
  routing?: Record<string, unknown>;
  /** Keys of the named concurrency limits the attempt holds while it is active (see `TaskAssignment`). */
  holds?: string[];
}

/** A stored runner. */
export interface Runner {
  id: string;
  name: string;
  capabilities: string[];
  slots: number;
  status: RunnerStatus;
  version?: string;
  hostname?: string;
  lastHeartbeatAt?: string;
  createdAt: string;
  /** The agent definitions it can run, as it last registered them; empty for a runner without agents. */
  agents: RunnerAgentPairing[];
  /** The last result of each dependency health check it runs, as its last heartbeat reported them. */
  dependencyHealth: DependencyHealth[];
  /** Attempts this runner holds right now (derived). */
  activeAttempts: number;
}

/**
 * Event types on the event stream.
 * - `task.created`: a task was created (data: the task).
 * - `task.state`: a task changed state (data: `{ from, to, reason? }`).
 * - `attempt.state`: an attempt changed state (data: `{ from, to, number, reason? }`).
 * - `attempt.progress`: a runner reported progress (data: `{ message }`).
 * - `attempt.log`: output from the executor or a verification command (data: `{ stream, text }`).
 * - `runner.state`: a runner registered or changed presence (data: `{ status, name }`).
 */
export const EVENT_TYPES = [
  'task.created',
  'task.state',
  'attempt.state',
  'attempt.progress',
  'attempt.log',
  'runner.state',
] as const;
/** An event type; see {@link EVENT_TYPES}. */
export type EventType = (typeof EVENT_TYPES)[number];

/** Streams a log chunk can come from. `system`: the runner's own narration (cloning, verifying, ...). */
export const LOG_STREAMS = ['stdout', 'stderr', 'system'] as const;
/** A log stream. */
export type LogStream = (typeof LOG_STREAMS)[number];

/** One entry on the event stream; `id` is a global, strictly increasing sequence number. */
export interface WarrenEvent {
  id: number;
  type: EventType;
  taskId?: string;
  attemptId?: string;
  runnerId?: string;
  at: string;
  data: Record<string, unknown>;
}

/** A log chunk sent by a runner. */
export const logEntrySchema = z.strictObject({
  stream: z.enum(LOG_STREAMS),
  text: z.string().max(LIMITS.logChunkLength),
});
/** A log chunk. */
export type LogEntry = z.infer<typeof logEntrySchema>;

/** A runner's identity for one attempt call: attempt id plus the lease token it got at claim time. */
export interface LeaseFence {
  attemptId: string;
  leaseToken: string;
  /** The runner making the call; the store refuses a fence presented by another runner. */
  runnerId: string;
}

/** The effective capabilities a runner needs for a routed spec (see {@link Task.requiredCapabilities}). */
export function requiredCapabilitiesOf(
  spec: Pick<RoutedTaskSpec, 'capabilities' | 'executor' | 'model'>,
): string[] {
  const required = [`executor:${spec.executor}`, ...spec.capabilities];
  if (spec.model !== undefined) required.push(modelCapabilityOf(spec.model));
  return [...new Set(required)].sort();
}
