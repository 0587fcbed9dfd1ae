/**
 * The executor spec, version 1: what every executor (shell, the agent loop, CLI agents) implements, the
 * context it is given and the one normalised event union it emits.
 *
 * Optional features are optional methods: an executor that cannot resume a session simply has no
 * `resume`. The runner checks for a method before using it.
 */
import type { ClaimedAgent } from '../core/claimed-agent.ts';
import type { Logger } from '../core/logger.ts';
import type { ModelAssignment } from '../core/model-endpoints.ts';
import type { Task, VerificationRound } from '../core/types.ts';

/** The spec version this file describes. */
export const EXECUTOR_SPEC_VERSION = 'v1';

/** Secret environment variables by grant: `{ 'github:read': { GITHUB_TOKEN: '…' } }`. */
export type GrantSecrets = Record<string, Record<string, string>>;

/** Token usage and cost of model calls. */
export interface ExecutorUsage {
  inputTokens: number;
  outputTokens: number;
  /** Dollars, when known. */
  costUsd?: number;
  model?: string;
  /** The model endpoint the call went to (its configured name). */
  endpoint?: string;
}

/** The failure of an executor run, saying whether a retry can help. */
export interface ExecutorError {
  message: string;
  /** Short machine-readable kind: `timeout`, `cancelled`, `exit_code`, `invalid_input`, `spawn_failed`, ... */
  kind: string;
  retryable: boolean;
  /** Wait at least this long before retrying (for example a model's `retry-after`). */
  nextRetryDelayMs?: number;
}

/**
 * The normalised event union every executor emits.
 * - `text-delta`: model text as it streams.
 * - `output`: raw process output (shell commands, CLI agents' stderr).
 * - `tool-call` / `tool-result`: a tool the executor called and what came back.
 * - `file-change`: a file in the worktree was added, modified or deleted.
 * - `usage`: tokens and cost of one model call.
 * - `step-end`: one step (model turn or command) finished.
 * - `run-end`: the run finished; carries the result.
 * - `error`: a problem worth reporting; `retryable` says whether a retry could help.
 */
export type ExecutorEvent =
  | { type: 'text-delta'; text: string }
  | { type: 'output'; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'tool-call'; toolCallId: string; toolName: string; input: unknown }
  | { type: 'tool-result'; toolCallId: string; toolName: string; output: unknown; isError?: boolean }
  | { type: 'file-change'; path: string; change: 'added' | 'modified' | 'deleted' }
  | ({ type: 'usage' } & ExecutorUsage)
  | { type: 'step-end'; step: number; description?: string }
  | { type: 'run-end'; result: ExecutorResult }
  | { type: 'error'; error: ExecutorError };

/** How an executor run ended. Expected outcomes are values, not throws. */
export type ExecutorResult =
  | { status: 'succeeded'; summary?: string; usage?: ExecutorUsage; session?: ExecutorSession }
  | { status: 'failed'; error: ExecutorError; usage?: ExecutorUsage };

/**
 * What an executor needs to continue a run in a verify-fix round (a conversation, a CLI agent's session
 * id). Opaque to the runner, which hands it back to `resume` within the same attempt.
 */
export type ExecutorSession = unknown;

/** Everything an executor gets for one run. */
export interface ExecutorContext {
  /** The task being worked on. */
  task: Task;
  attempt: { id: string; number: number };
  /** Absolute path of the attempt's git worktree; the executor works only here. */
  worktreePath: string;
  /** Aborted on cancel, lease loss, drain timeout or the attempt's timeout. */
  abortSignal: AbortSignal;
  /** Wall-clock budget left for this run, in ms. */
  timeoutMs: number;
  /** Environment granted to the task; executors build child environments from this, never from process.env. */
  env: Record<string, string>;
  /** Evidence of the last failed verification round, when this run is a fix round. */
  feedback?: VerificationRound;
  /**
   * Descriptions of criteria that had passed and failed after the last fix round; the runner reverted
   * that round's changes. Only on fix rounds.
   */
  regressedCriteria?: string[];
  /** The model endpoint and model the hub assigned to this attempt (for executors that call models). */
  model?: ModelAssignment;
  /**
   * Secret environment variables of the task's grants, by grant (`{ 'github:read': { GITHUB_TOKEN } }`).
   * Only grants the task holds are present. Executors hand each tool server only what its grants allow.
   */
  grantSecrets?: GrantSecrets;
  /**
   * The hub's definition of the agent this attempt runs as, with its skills (docs/agents.md). Its
   * description and skills go into the task prompt; the agent loop honours `behavior.max_iterations` and
   * `brain.temperature`. Absent when the attempt has no agent definition.
   */
  agent?: ClaimedAgent;
  /**
   * Absolute path of the directory, outside the worktree, holding the agent's skills as files
   * (`<dir>/<skill>/SKILL.md`, `<dir>/<skill>/scripts/...`); also `WARREN_SKILLS_DIR` in `env`. Only when
   * the agent has skills. Removed with the attempt.
   */
  agentSkillsDir?: string;
  /** Tells the runner the executor is alive, with an optional progress message. */
  heartbeat(progress?: string): void;
  /** Emits a normalised event. */
  emit(event: ExecutorEvent): void;
  /**
   * Records a process group the executor started; returns the function to call when it is gone. The runner
   * keeps the ids in its state file so that a runner restarted after a crash can kill what was left running.
   */
  trackProcessGroup?(processGroupId: number): () => void;
  logger: Logger;
}

/** An executor, spec v1. */
export interface Executor {
  readonly specVersion: typeof EXECUTOR_SPEC_VERSION;
  /** The name tasks use in `executor`, e.g. `shell`. */
  readonly name: string;
  /** Checks a task's `executorInput`; returns field issues (empty when valid). */
  validateInput(input: Record<string, unknown>): Array<{ field: string; reason: string }>;
  /** Runs the task in the worktree. Must honour the abort signal and never throw for expected failures. */
  run(context: ExecutorContext): Promise<ExecutorResult>;
  /**
   * Optional: continues a succeeded run whose work failed verification. `context.feedback` holds the
   * failed round; `session` is what the earlier run or resume returned. Executors without it get no
   * verify-fix rounds.
   */
  resume?(context: ExecutorContext, session: ExecutorSession): Promise<ExecutorResult>;
  /** Optional: whether the executor can run on this machine, and its version (CLI agents detect binaries). */
  detect?(): Promise<{ available: boolean; version?: string; reason?: string }>;
}

/** Builds an executor from configuration. */
export type ExecutorFactory<Options = Record<string, never>> = (options?: Options) => Executor;
