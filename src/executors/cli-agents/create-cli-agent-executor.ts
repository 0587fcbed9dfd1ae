/**
 * The executor every CLI coding agent runs behind. An adapter (`cli-agent-adapter.ts`) says how to invoke
 * and configure its CLI and how to read its output; this file does the rest the same way for all of them:
 *
 * - finds the binary (configured path, then PATH) and detects its version for the runner's capabilities;
 * - builds the environment from scratch: the task's environment (PATH, LANG, TMPDIR and its granted
 *   credentials, nothing else of the runner's), HOME set to the attempt's private scratch home, then what
 *   the adapter adds (endpoint base URL and key, config paths, telemetry switches);
 * - runs the CLI in the worktree as the leader of its own process group; timeout and abort SIGTERM the
 *   whole group and SIGKILL it after a grace period; nothing of the group outlives the run, nor do the
 *   processes that left it for a session of their own (found by the run's environment tag);
 * - splits stdout into capped lines for the adapter's parser and forwards stderr as `output` (capped);
 * - redacts the task's secret values and the endpoint key from every event;
 * - prices usage with the routed model's prices and records which endpoint served it;
 * - finds the files the run changed with git and emits `file-change` for each;
 * - continues the CLI's session in verify-fix rounds when the adapter can (`prepareResume`), else starts a
 *   fresh run whose prompt carries the evidence.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ModelAssignment } from '../../core/model-endpoints.ts';
import { readEndpointApiKey, resolveApiKeyOnRunner, type ApiKeyResolver } from '../endpoint-api-key.ts';
import { createSecretRedactor } from '../redact-secrets.ts';
import { runProcess, type RunProcessResult } from '../run-process.ts';
import {
  EXECUTOR_SPEC_VERSION,
  type Executor,
  type ExecutorContext,
  type ExecutorError,
  type ExecutorEvent,
  type ExecutorResult,
  type ExecutorUsage,
} from '../spec.ts';
import type { CliActivation, CliAgentAdapter, CliInvocation, CliOutcome } from './cli-agent-adapter.ts';
import { buildCliAgentPrompt } from './cli-agent-prompt.ts';
import { findExecutable } from './find-executable.ts';
import { createLineSplitter } from './split-lines.ts';
import { diffWorktreeTrees, snapshotWorktreeTree } from './worktree-changes.ts';

const runFile = promisify(execFile);

/** How a runner configures one CLI agent. */
export interface CliAgentExecutorOptions {
  /** The binary; default: the adapter's program name looked up on the runner's PATH. */
  binaryPath?: string;
  /** Extra arguments for every activation (placed before the prompt). */
  extraArgs?: readonly string[];
  /** Wait between SIGTERM and SIGKILL when the run is stopped. Default 5 s. */
  killGracePeriodMs?: number;
  /** Reads the endpoint's API key; default: the runner's environment or key file. */
  resolveApiKey?: ApiKeyResolver;
}

/** What a run hands to `resume`: the CLI's session and the home it lives in. */
interface CliSession {
  executor: string;
  sessionId?: string;
  homeDir: string;
  /** Tokens the session's activations reported so far, for parsers of CLIs that report running totals. */
  usageSoFar: { inputTokens: number; outputTokens: number };
}

/** Timings of one activation, for logs and the bench. */
export interface CliActivationTimings {
  /** From the start of `run`/`resume` to the process being spawned (binary, key, config, snapshot). */
  beforeSpawnMs: number;
  /** From spawn to the CLI's first parsed event; the CLI's own start-up. */
  spawnToFirstEventMs?: number;
  /** From the CLI's last event to its exit. */
  lastEventToExitMs?: number;
  /** From the process's end to the result (file changes, outcome). */
  afterExitMs: number;
  /** The process's own wall time. */
  processMs: number;
}

// why: a CLI that flushes its session files on SIGTERM needs a moment; 5 s is generous, then SIGKILL.
const defaultKillGracePeriodMs = 5_000;
// why: one stream-json line carries one message or tool result; 4 MiB holds any sane one (a whole file
// read back) while a runaway line cannot take the runner's memory.
const maxLineLength = 4 * 1024 * 1024;
// why: stdout is parsed, so it may be long (a big session); past 256 MiB the run is certainly runaway.
const maxStdoutBytes = 256 * 1024 * 1024;
// why: stderr is diagnostics; 256 KiB of it is plenty in the attempt log.
const maxStderrEventBytes = 256 * 1024;
// why: a tool result in an event is for people following the run; the CLI itself keeps the whole output.
const maxEventTextLength = 16 * 1024;
// why: the end of stderr explains most start-up failures; 4 KiB holds the last few lines.
const maxStderrTailLength = 4 * 1024;
// why: the tail kept for error messages when the CLI fails without saying why.
const maxOutputTailBytes = 64 * 1024;
// why: `--version` of a Node-based CLI takes a second or two cold; 30 s covers a loaded machine.
const detectTimeoutMs = 30_000;

/** Builds the executor of one CLI agent. */
export function createCliAgentExecutor(
  adapter: CliAgentAdapter,
  options: CliAgentExecutorOptions = {},
): Executor & { lastTimings?: CliActivationTimings } {
  const resolveApiKey = options.resolveApiKey ?? resolveApiKeyOnRunner;
  const extraArgs = options.extraArgs ?? [];
  const locate = () => findExecutable(adapter.binary, options.binaryPath, process.env.PATH);

  const executor: Executor & { lastTimings?: CliActivationTimings } = {
    specVersion: EXECUTOR_SPEC_VERSION,
    name: adapter.name,

    validateInput(input) {
      return Object.keys(input).map((key) => ({
        field: `executorInput.${key}`,
        reason: `the ${adapter.name} executor takes no input; configure the CLI on the runner instead`,
      }));
    },

    async detect() {
      const found = await locate();
      if (!found.ok) return { available: false, reason: found.reason };
      const home = await mkdtemp(path.join(os.tmpdir(), `warren-detect-${adapter.name}-`));
      try {
        const { stdout, stderr } = await runFile(found.path, [...(adapter.versionArgs ?? ['--version'])], {
          timeout: detectTimeoutMs,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' },
        });
        const text = `${stdout}\n${stderr}`;
        const version = adapter.parseVersion
          ? adapter.parseVersion(text)
          : /\d+\.\d+\.\d+[\w.-]*/.exec(text)?.[0];
        return version === undefined ? { available: true } : { available: true, version };
      } catch (error) {
        const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
        return { available: false, reason: `${found.path} --version failed: ${reason}` };
      } finally {
        await rmQuietly(home);
      }
    },

    run: (context) => activate(context, undefined),

    resume: (context, session) =>
      activate(context, isCliSession(session, adapter.name) ? session : undefined),
  };

  async function activate(
    context: ExecutorContext,
    previous: CliSession | undefined,
  ): Promise<ExecutorResult> {
    const startedAt = performance.now();
    if (context.abortSignal.aborted)
      return failed('cancelled', `${adapter.name} was cancelled before it started`, true);

    const found = await locate();
    if (!found.ok) return failed('spawn_failed', `${adapter.name}: ${found.reason}`, false);

    const model = context.model;
    if (model && !adapter.providers.includes(model.endpoint.provider)) {
      return failed(
        'invalid_input',
        `${adapter.name} cannot use endpoint "${model.endpoint.name}": it speaks ${model.endpoint.provider}, and ${adapter.name} speaks ${adapter.providers.join(' or ')}`,
        false,
      );
    }
    let apiKey: string | undefined;
    if (model) {
      const key = await readEndpointApiKey(model.endpoint, resolveApiKey);
      // why retryable: another runner may hold the key; this one is misconfigured, not the task.
      if (!key.ok) return failed('missing_credentials', key.message, true);
      apiKey = key.apiKey;
    }

    const secretValues = Object.values(context.grantSecrets ?? {}).flatMap((variables) =>
      Object.values(variables),
    );
    const redact = createSecretRedactor([...secretValues, ...(apiKey ? [apiKey] : [])]);

    const homeDir = previous?.homeDir ?? (await activationHome(context, adapter.name));
    const resuming = previous?.sessionId !== undefined && adapter.prepareResume !== undefined;
    const activation: CliActivation = {
      context,
      binaryPath: found.path,
      homeDir,
      prompt: buildCliAgentPrompt(context, resuming),
      ...(model ? { model, baseUrl: model.endpoint.baseUrl } : {}),
      ...(apiKey ? { apiKey } : {}),
      extraArgs,
      round: (context.feedback?.round ?? 0) + 1,
    };
    let invocation: CliInvocation;
    try {
      invocation =
        resuming && previous?.sessionId
          ? await adapter.prepareResume!(activation, previous.sessionId)
          : await adapter.prepare(activation);
      for (const [file, contents] of Object.entries(invocation.files ?? {})) {
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, contents, { mode: 0o600 });
        await chmod(file, 0o600);
      }
    } catch (error) {
      return failed(
        'spawn_failed',
        `${adapter.name}: preparing its configuration failed: ${describe(error)}`,
        false,
      );
    }

    const env: Record<string, string> = {
      ...context.env,
      HOME: homeDir,
      TMPDIR: context.env.TMPDIR ?? os.tmpdir(),
      ...invocation.env,
    };

    const scratch = env.TMPDIR!;
    const before = await snapshotWorktreeTree(context.worktreePath, scratch).catch(() => undefined);

    const parser = adapter.createParser(
      resuming && previous?.sessionId
        ? { sessionId: previous.sessionId, usageSoFar: previous.usageSoFar }
        : undefined,
    );
    const usage: Required<Pick<ExecutorUsage, 'inputTokens' | 'outputTokens'>> & { costUsd?: number } = {
      inputTokens: 0,
      outputTokens: 0,
    };
    let firstEventAt: number | undefined;
    let lastEventAt: number | undefined;
    let stderrBytes = 0;
    let stderrCapped = false;
    let stderrTail = '';

    const emit = (event: ExecutorEvent) => {
      const now = performance.now();
      firstEventAt ??= now;
      lastEventAt = now;
      const cleaned = cleanEvent(event, redact, model);
      if (cleaned.type === 'usage') {
        usage.inputTokens += cleaned.inputTokens;
        usage.outputTokens += cleaned.outputTokens;
        if (cleaned.costUsd !== undefined) usage.costUsd = (usage.costUsd ?? 0) + cleaned.costUsd;
      }
      if (cleaned.type === 'tool-call') context.heartbeat(`${adapter.name}: ${cleaned.toolName}`);
      context.emit(cleaned);
    };
    const splitter = createLineSplitter((line, truncated) => {
      if (truncated) {
        emit({
          type: 'output',
          stream: 'stdout',
          text: `[${adapter.name} printed a line over ${maxLineLength} characters; it was skipped]\n`,
        });
        return;
      }
      for (const event of safeParse(() => parser.line(line), line)) emit(event);
    }, maxLineLength);

    const spawnedAt = performance.now();
    const processResult = await runProcess({
      command: [found.path, ...invocation.args],
      cwd: context.worktreePath,
      env,
      timeoutMs: context.timeoutMs,
      abortSignal: context.abortSignal,
      maxOutputBytes: maxOutputTailBytes,
      maxStreamedBytes: maxStdoutBytes,
      killGracePeriodMs: options.killGracePeriodMs ?? defaultKillGracePeriodMs,
      // why: CLI agents start shell commands in sessions of their own (Gemini CLI does); they must not
      // outlive the run either.
      sweepEscapedProcesses: true,
      ...(invocation.stdin !== undefined ? { stdin: invocation.stdin } : {}),
      ...(context.trackProcessGroup ? { trackProcessGroup: context.trackProcessGroup.bind(context) } : {}),
      onOutput: (stream, text) => {
        if (stream === 'stdout') {
          splitter.push(text);
          return;
        }
        stderrTail = (stderrTail + text).slice(-maxStderrTailLength);
        if (stderrCapped) return;
        stderrBytes += Buffer.byteLength(text);
        if (stderrBytes > maxStderrEventBytes) {
          stderrCapped = true;
          emit({
            type: 'output',
            stream: 'stderr',
            text: `\n[… ${adapter.name} stderr capped at ${maxStderrEventBytes} bytes …]\n`,
          });
          return;
        }
        emit({ type: 'output', stream: 'stderr', text });
      },
    });
    const exitedAt = performance.now();

    const rest = splitter.end();
    if (rest !== '') for (const event of safeParse(() => parser.line(rest), rest)) emit(event);
    let finished: { events: ExecutorEvent[]; outcome: CliOutcome };
    try {
      finished = parser.finish(processResult.exitCode);
    } catch (error) {
      finished = {
        events: [],
        outcome: { succeeded: false, errorMessage: `reading its output failed: ${describe(error)}` },
      };
    }
    for (const event of finished.events) emit(event);

    if (before !== undefined) {
      const after = await snapshotWorktreeTree(context.worktreePath, scratch).catch(() => undefined);
      if (after !== undefined) {
        const changes = await diffWorktreeTrees(context.worktreePath, before, after).catch(() => []);
        for (const change of changes) context.emit({ type: 'file-change', ...change });
      }
    }

    const result = toResult(processResult, finished.outcome, {
      name: adapter.name,
      redact,
      homeDir,
      stderrTail,
      usageSoFar: {
        inputTokens: (resuming ? (previous?.usageSoFar.inputTokens ?? 0) : 0) + usage.inputTokens,
        outputTokens: (resuming ? (previous?.usageSoFar.outputTokens ?? 0) : 0) + usage.outputTokens,
      },
      usage: usage.inputTokens + usage.outputTokens > 0 || usage.costUsd !== undefined ? usage : undefined,
      model,
    });
    const timings: CliActivationTimings = {
      beforeSpawnMs: spawnedAt - startedAt,
      ...(firstEventAt !== undefined && firstEventAt <= exitedAt
        ? { spawnToFirstEventMs: firstEventAt - spawnedAt }
        : {}),
      ...(lastEventAt !== undefined && lastEventAt <= exitedAt
        ? { lastEventToExitMs: exitedAt - lastEventAt }
        : {}),
      afterExitMs: performance.now() - exitedAt,
      processMs: exitedAt - spawnedAt,
    };
    executor.lastTimings = timings;
    context.logger.debug({ timings, executor: adapter.name }, 'cli agent activation timings');
    return result;
  }

  return executor;
}

/** Turns the process's end and the parsed outcome into the executor result. */
function toResult(
  processResult: RunProcessResult,
  outcome: CliOutcome,
  run: {
    name: string;
    redact: (text: string) => string;
    homeDir: string;
    stderrTail: string;
    usageSoFar: CliSession['usageSoFar'];
    usage: ExecutorUsage | undefined;
    model: ModelAssignment | undefined;
  },
): ExecutorResult {
  const withUsage = <T extends object>(value: T) =>
    run.usage
      ? {
          ...value,
          usage: {
            ...run.usage,
            ...(run.model ? { model: run.model.model, endpoint: run.model.endpoint.name } : {}),
          },
        }
      : value;
  const fail = (kind: string, message: string, retryable: boolean): ExecutorResult =>
    withUsage({ status: 'failed' as const, error: { kind, message: run.redact(message), retryable } });

  if (processResult.error !== undefined)
    return fail('spawn_failed', `${run.name}: ${processResult.error}`, false);
  if (processResult.aborted)
    return fail('cancelled', `${run.name} was stopped (the attempt was cancelled)`, true);
  if (processResult.timedOut) {
    return fail(
      'timeout',
      `${run.name} ran past the attempt's timeout after ${Math.round(processResult.durationMs / 1000)} s and was stopped`,
      true,
    );
  }
  if (outcome.succeeded && processResult.exitCode === 0) {
    const session: CliSession = {
      executor: run.name,
      homeDir: run.homeDir,
      usageSoFar: run.usageSoFar,
      ...(outcome.sessionId ? { sessionId: outcome.sessionId } : {}),
    };
    return withUsage({
      status: 'succeeded' as const,
      ...(outcome.summary ? { summary: run.redact(capSummary(outcome.summary)) } : {}),
      session,
    });
  }
  const how =
    processResult.exitCode !== null
      ? `exited with code ${processResult.exitCode}`
      : `was killed by ${processResult.signal ?? 'a signal'}`;
  // The CLI's own words first; its last stderr lines too when they may say more (a refusal at start-up).
  const stderr = lastLines(run.stderrTail);
  const said =
    outcome.errorMessage !== undefined
      ? `${outcome.errorMessage}${stderr && !outcome.errorMessage.includes(stderr) ? `\n${run.name} stderr: ${stderr}` : ''}`
      : lastLines(processResult.output);
  return fail(
    outcome.errorMessage !== undefined ? 'agent_error' : 'exit_code',
    `${run.name} ${outcome.succeeded ? `reported success but ${how}` : how}${said ? `: ${said}` : ''}`,
    outcome.retryable ?? true,
  );
}

/** Redacts secrets from an event, caps long texts, and prices usage with the routed model. */
function cleanEvent(
  event: ExecutorEvent,
  redact: (text: string) => string,
  model: ModelAssignment | undefined,
): ExecutorEvent {
  switch (event.type) {
    case 'text-delta':
      return { ...event, text: redact(event.text) };
    case 'output':
      return { ...event, text: redact(event.text) };
    case 'tool-call':
      return { ...event, input: redactValue(event.input, redact) };
    case 'tool-result':
      return { ...event, output: redactValue(event.output, redact) };
    case 'usage': {
      if (!model) return event;
      const { pricing } = model;
      return {
        ...event,
        model: event.model ?? model.model,
        endpoint: model.endpoint.name,
        costUsd:
          event.costUsd ??
          (event.inputTokens * pricing.inputPerMillionUsd +
            event.outputTokens * pricing.outputPerMillionUsd) /
            1_000_000,
      };
    }
    case 'error':
      return { ...event, error: { ...event.error, message: redact(event.error.message) } };
    case 'file-change':
    case 'step-end':
    case 'run-end':
      return event;
  }
}

/** Redacts (and caps) the strings inside a tool input or output. */
function redactValue(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return cap(redact(value));
  if (value === null || value === undefined || typeof value !== 'object') return value;
  const text = JSON.stringify(value);
  if (text === undefined) return value;
  const cleaned = redact(text);
  if (cleaned.length > maxEventTextLength) return cap(cleaned);
  return cleaned === text ? value : (JSON.parse(cleaned) as unknown);
}

function cap(text: string): string {
  return text.length > maxEventTextLength
    ? `${text.slice(0, maxEventTextLength)}\n[… ${text.length - maxEventTextLength} more characters …]`
    : text;
}

/** A parser that throws is a bug; the line is kept as output and the run goes on. */
function safeParse(parse: () => ExecutorEvent[], line: string): ExecutorEvent[] {
  try {
    return parse();
  } catch {
    return [{ type: 'output', stream: 'stdout', text: `${line}\n` }];
  }
}

/** The attempt's scratch home when the runner made one; a fresh private directory otherwise. */
async function activationHome(context: ExecutorContext, name: string): Promise<string> {
  const home = context.env.HOME;
  const insideWorktree =
    home !== undefined &&
    !path.relative(context.worktreePath, home).startsWith('..') &&
    path.isAbsolute(home);
  if (home !== undefined && !insideWorktree) {
    const dir = path.join(home, `.warren-${name}`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return dir;
  }
  // why: a HOME inside the worktree (executor tests) would put the CLI's config into the commit.
  return mkdtemp(path.join(os.tmpdir(), `warren-${name}-`));
}

function isCliSession(value: unknown, name: string): value is CliSession {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as CliSession).executor === name &&
    typeof (value as CliSession).homeDir === 'string' &&
    typeof (value as CliSession).usageSoFar === 'object'
  );
}

function failed(kind: string, message: string, retryable: boolean): ExecutorResult {
  const error: ExecutorError = { kind, message, retryable };
  return { status: 'failed', error };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// why: the summary is shown in task listings and PR bodies; the CLI's transcript has the rest.
function capSummary(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > 2_000 ? `${trimmed.slice(0, 2_000)}…` : trimmed;
}

function lastLines(output: string): string {
  const lines = output.trimEnd().split('\n').slice(-5).join('\n');
  return lines.length > 2_000 ? lines.slice(-2_000) : lines;
}

async function rmQuietly(directory: string): Promise<void> {
  await rm(directory, { recursive: true, force: true }).catch(() => undefined);
}
