/**
 * What one CLI coding agent (Claude Code, Codex, OpenCode, Gemini CLI, Aider, Goose) contributes to the
 * shared CLI-agent executor: how to invoke it, how to configure it in its own per-activation home, and
 * how to read its machine output. Everything else (finding the binary, the environment built from
 * scratch, process groups, timeouts, output caps, file-change detection, usage pricing, fix rounds) is the
 * shared executor's job (`create-cli-agent-executor.ts`), so every adapter behaves the same.
 */
import type { ModelAssignment, ModelProvider } from '../../core/model-endpoints.ts';
import type { ExecutorContext, ExecutorEvent } from '../spec.ts';

/** One run of the CLI: a first run, or a fix round continuing an earlier one. */
export interface CliActivation {
  /** The executor context of the attempt. */
  context: ExecutorContext;
  /** Absolute path of the binary to run. */
  binaryPath: string;
  /**
   * The activation's private directory (inside the attempt's scratch space, removed with it). Adapters
   * put the CLI's home, config and session files here; nothing is shared between attempts.
   */
  homeDir: string;
  /** The full prompt: instructions, success criteria, and for a fix round the failed verification. */
  prompt: string;
  /** The model endpoint assigned by routing (or pinned by the task), when there is one. */
  model?: ModelAssignment;
  /** The endpoint's API key, read by the runner; absent when the endpoint needs none. */
  apiKey?: string;
  /**
   * The base URL to give the CLI for the endpoint. It is the endpoint's `baseUrl` (SDK style, usually
   * ending in `/v1`); adapters adjust it to what their CLI expects.
   */
  baseUrl?: string;
  /** Extra arguments from the runner's configuration for this CLI, appended before the prompt. */
  extraArgs: readonly string[];
  /** 1 for the first run, 2+ for fix rounds. */
  round: number;
}

/** How to start the CLI for one activation. */
export interface CliInvocation {
  /** Arguments after the binary. */
  args: string[];
  /**
   * Variables the CLI needs on top of the shared base (PATH, HOME, TMPDIR, LANG and the task's granted
   * credentials): base URL, key, config paths, telemetry switches.
   */
  env: Record<string, string>;
  /** Written to the CLI's stdin, which is then closed; when absent stdin is closed at once. */
  stdin?: string;
  /** Files to write before starting (absolute path → contents), such as config files in the home dir. */
  files?: Record<string, string>;
}

/** The result the parser extracted from the CLI's output. */
export interface CliOutcome {
  /** True when the CLI reported success (a final result without error). */
  succeeded: boolean;
  /** The final answer or summary, when the CLI printed one. */
  summary?: string;
  /** Why the CLI failed, in its own words, when it said. */
  errorMessage?: string;
  /** The CLI's session or thread id, for resuming in a fix round. */
  sessionId?: string;
  /** Whether the CLI's error looks transient (rate limit, overloaded, network): a retry may help. */
  retryable?: boolean;
}

/**
 * Reads the CLI's stdout, one line at a time. Lines arrive whole (the executor splits and caps them).
 * A parser never throws: a line it cannot read becomes an `output` event.
 */
export interface CliOutputParser {
  /** The events one stdout line means (text, tool calls and results, usage of one model call). */
  line(line: string): ExecutorEvent[];
  /**
   * Called once after the process ended (an unterminated last line has been passed to `line` first).
   * Returns any remaining events and the outcome. `exitCode` is null when the process was killed.
   */
  finish(exitCode: number | null): { events: ExecutorEvent[]; outcome: CliOutcome };
}

/** The session a fix round continues, as the executor knows it. */
export interface ResumedSession {
  sessionId: string;
  /** Tokens the session's earlier activations reported, in total. */
  usageSoFar: { inputTokens: number; outputTokens: number };
}

/** One CLI agent. */
export interface CliAgentAdapter {
  /** Executor name, e.g. `claude-code`; also the capability `executor:<name>`. */
  readonly name: string;
  /** The program looked up on PATH when no path is configured, e.g. `claude`. */
  readonly binary: string;
  /** Model providers the CLI can talk to; a task's model must resolve to one of these. */
  readonly providers: readonly ModelProvider[];
  /** Arguments that print the version (default `['--version']`). */
  readonly versionArgs?: readonly string[];
  /** The version in the `--version` output; default: the first `x.y.z`. */
  parseVersion?(output: string): string | undefined;
  /** Builds the invocation of a first run. */
  prepare(activation: CliActivation): CliInvocation | Promise<CliInvocation>;
  /**
   * Builds the invocation of a fix round that continues `sessionId`. Adapters of CLIs that cannot resume
   * leave it out: the executor then starts a fresh run whose prompt carries the task and the evidence.
   */
  prepareResume?(activation: CliActivation, sessionId: string): CliInvocation | Promise<CliInvocation>;
  /**
   * A fresh parser for one activation. A fix round that continues a session gets `resumed`: the session id
   * and the tokens its earlier activations reported (CLIs such as Codex report a resumed session's running
   * totals, so the parser subtracts them).
   */
  createParser(resumed?: ResumedSession): CliOutputParser;
}
