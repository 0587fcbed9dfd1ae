/**
 * Reads `codex exec --json` stdout: one JSON event per line (Codex's `exec_events.rs`).
 *
 * - `thread.started` carries the thread id, which `codex exec resume` takes in a fix round.
 * - `item.started` / `item.completed` carry the thread's items. `agent_message` is the model's text (Codex
 *   prints whole messages, never deltas). `command_execution` (its shell tools), `file_change` (its
 *   `apply_patch` tool; Codex prints it only for a patch that applied), `mcp_tool_call`, `web_search` and
 *   `collab_tool_call` (sub-agents) become a tool call when they start and a tool result when they
 *   complete. An `error` item is a warning that does not stop the run (an unknown model's metadata, for
 *   one). Reasoning summaries, to-do lists and plans are not events.
 * - `turn.completed` ends the turn with its usage; `turn.failed` ends it with an error, after an `error`
 *   line with the same message. `error` lines that start with `Reconnecting...` are Codex retrying a failed
 *   model call.
 *
 * Usage comes once per turn, not per model call, and as the thread's running totals: a run resumed with
 * `codex exec resume` reports the earlier runs' tokens again plus its own (recorded: a first run of 3,300
 * input tokens, resumed for 3,900 more, reports 7,200). The executor tells the parser of a resumed run what
 * the thread reported before, so each `usage` event is what this run added (the sum of its turn's calls).
 */
import type { ExecutorEvent } from '../../spec.ts';
import type { CliOutcome, CliOutputParser } from '../cli-agent-adapter.ts';
import { arrayOf, countOf, objectOf, readJsonLine, stringOf, type JsonObject } from '../json-lines.ts';
import type { ResumedSession } from '../cli-agent-adapter.ts';

/** Token totals as Codex reports them for a thread. */
interface ThreadUsage {
  inputTokens: number;
  outputTokens: number;
}

/** How the turn ended, when it did. */
type TurnEnd = { succeeded: true } | { succeeded: false; message: string };

const reconnecting = /^Reconnecting\.\.\./;

/** Creates a parser for one activation's stdout; `resumed` when the activation continues a thread. */
export function createCodexOutputParser(resumed?: ResumedSession): CliOutputParser {
  const startedItems = new Set<string>();
  let threadId: string | undefined;
  let reported: ThreadUsage = { inputTokens: 0, outputTokens: 0 };
  let lastMessage: string | undefined;
  let wroteText = false;
  let turns = 0;
  let turnEnd: TurnEnd | undefined;
  let lastError: string | undefined;

  const readLine = (event: JsonObject): ExecutorEvent[] => {
    switch (event.type) {
      case 'thread.started': {
        threadId = stringOf(event.thread_id) ?? threadId;
        if (threadId !== undefined && threadId === resumed?.sessionId) reported = resumed.usageSoFar;
        return [];
      }
      case 'turn.started':
        turnEnd = undefined;
        return [];
      case 'item.started':
        return itemStarted(objectOf(event.item) ?? {});
      case 'item.completed':
        return itemCompleted(objectOf(event.item) ?? {});
      case 'turn.completed': {
        turns++;
        turnEnd = { succeeded: true };
        return [...usageEvents(objectOf(event.usage) ?? {}), { type: 'step-end', step: turns }];
      }
      case 'turn.failed': {
        const message = describeError(stringOf(objectOf(event.error)?.message) ?? lastError ?? '');
        turnEnd = { succeeded: false, message: message || 'the turn failed without a message' };
        return [];
      }
      case 'error': {
        const message = describeError(stringOf(event.message) ?? '');
        if (reconnecting.test(message)) {
          return [{ type: 'error', error: { kind: 'model_retry', message, retryable: true } }];
        }
        lastError = message;
        const retryable = isRetryableCodexError(message) ?? true;
        return [{ type: 'error', error: { kind: 'agent_error', message, retryable } }];
      }
      default:
        // item.updated, item.plan.delta, request_user_input (Plan mode only) and later additions.
        return [];
    }
  };

  const itemStarted = (item: JsonObject): ExecutorEvent[] => {
    const call = toolCall(item);
    if (call === undefined || startedItems.has(call.toolCallId)) return [];
    startedItems.add(call.toolCallId);
    return [call];
  };

  const itemCompleted = (item: JsonObject): ExecutorEvent[] => {
    if (item.type === 'agent_message') {
      const text = stringOf(item.text) ?? '';
      if (text === '') return [];
      lastMessage = text;
      const separated = wroteText ? `\n\n${text}` : text;
      wroteText = true;
      return [{ type: 'text-delta', text: separated }];
    }
    if (item.type === 'error') {
      const message = stringOf(item.message) ?? 'Codex reported an error';
      return [{ type: 'error', error: { kind: 'agent_warning', message, retryable: false } }];
    }
    const result = toolResult(item);
    if (result === undefined) return [];
    return [...itemStarted(item), result];
  };

  const usageEvents = (usage: JsonObject): ExecutorEvent[] => {
    const totals = {
      inputTokens: countOf(usage.input_tokens),
      outputTokens: countOf(usage.output_tokens),
    };
    // why max: totals never shrink; should a later Codex report a turn's own usage instead, a smaller
    // figure is taken as that turn's and counted whole.
    const added = {
      inputTokens:
        totals.inputTokens >= reported.inputTokens
          ? totals.inputTokens - reported.inputTokens
          : totals.inputTokens,
      outputTokens:
        totals.outputTokens >= reported.outputTokens
          ? totals.outputTokens - reported.outputTokens
          : totals.outputTokens,
    };
    reported = totals;
    if (added.inputTokens + added.outputTokens === 0) return [];
    return [{ type: 'usage', ...added }];
  };

  return {
    line: (line) => readJsonLine(line, readLine),

    finish(exitCode) {
      const sessionId = threadId !== undefined ? { sessionId: threadId } : {};
      let outcome: CliOutcome;
      if (turnEnd?.succeeded === true) {
        outcome = {
          succeeded: true,
          ...(lastMessage !== undefined ? { summary: lastMessage } : {}),
          ...sessionId,
        };
      } else if (turnEnd?.succeeded === false) {
        const retryable = isRetryableCodexError(turnEnd.message);
        outcome = {
          succeeded: false,
          errorMessage: turnEnd.message,
          ...(retryable !== undefined ? { retryable } : {}),
          ...sessionId,
        };
      } else {
        const ended = exitCode === null ? 'was killed' : `exited with code ${exitCode}`;
        const said = lastError !== undefined ? `; its last error: ${lastError}` : '';
        const retryable = lastError !== undefined ? isRetryableCodexError(lastError) : undefined;
        outcome = {
          succeeded: false,
          errorMessage: `codex ${ended} before its turn ended (no turn.completed or turn.failed line)${said}`,
          ...(retryable !== undefined ? { retryable } : {}),
          ...sessionId,
        };
      }
      return { events: [], outcome };
    },
  };
}

/** The tool call an item stands for, when it is one. */
function toolCall(item: JsonObject): Extract<ExecutorEvent, { type: 'tool-call' }> | undefined {
  const toolCallId = stringOf(item.id);
  if (toolCallId === undefined) return undefined;
  switch (item.type) {
    case 'command_execution':
      return {
        type: 'tool-call',
        toolCallId,
        toolName: 'command_execution',
        input: { command: item.command },
      };
    case 'file_change':
      return { type: 'tool-call', toolCallId, toolName: 'file_change', input: { changes: item.changes } };
    case 'mcp_tool_call':
      return { type: 'tool-call', toolCallId, toolName: mcpToolName(item), input: item.arguments ?? {} };
    case 'web_search':
      return { type: 'tool-call', toolCallId, toolName: 'web_search', input: { query: item.query } };
    case 'collab_tool_call':
      return {
        type: 'tool-call',
        toolCallId,
        toolName: `collab_${stringOf(item.tool) ?? 'tool'}`,
        input: { prompt: item.prompt, receiverThreadIds: item.receiver_thread_ids },
      };
    default:
      return undefined;
  }
}

/** The tool result a completed item stands for, when it is one. */
function toolResult(item: JsonObject): Extract<ExecutorEvent, { type: 'tool-result' }> | undefined {
  const call = toolCall(item);
  if (call === undefined) return undefined;
  const base = { type: 'tool-result' as const, toolCallId: call.toolCallId, toolName: call.toolName };
  const failed = item.status === 'failed' || item.status === 'declined';
  switch (item.type) {
    case 'command_execution': {
      const exitCode = typeof item.exit_code === 'number' ? item.exit_code : undefined;
      const isError = failed || (exitCode !== undefined && exitCode !== 0);
      return { ...base, output: stringOf(item.aggregated_output) ?? '', ...(isError ? { isError } : {}) };
    }
    case 'file_change': {
      const changes = arrayOf(item.changes).map((change) => {
        const { kind, path } = objectOf(change) ?? {};
        return `${stringOf(kind) ?? 'change'} ${stringOf(path) ?? '?'}`;
      });
      return { ...base, output: changes.join('\n'), ...(failed ? { isError: true } : {}) };
    }
    case 'mcp_tool_call': {
      const error = stringOf(objectOf(item.error)?.message);
      if (error !== undefined || failed) return { ...base, output: error ?? 'failed', isError: true };
      const result = objectOf(item.result) ?? {};
      return { ...base, output: result.structured_content ?? result.content ?? null };
    }
    case 'web_search':
      return { ...base, output: item.action ?? null };
    default:
      return { ...base, output: item.agents_states ?? null, ...(failed ? { isError: true } : {}) };
  }
}

function mcpToolName(item: JsonObject): string {
  return `mcp__${stringOf(item.server) ?? 'server'}__${stringOf(item.tool) ?? 'tool'}`;
}

/**
 * A readable error message: Codex passes an endpoint's error body through verbatim for some statuses (a
 * 400 arrives as `{"error":{"message":...,"type":...}}`); its `message` and `type` are what matter.
 */
function describeError(message: string): string {
  const trimmed = message.trim();
  if (!trimmed.startsWith('{')) return trimmed;
  try {
    const error = objectOf(objectOf(JSON.parse(trimmed) as unknown)?.error);
    const text = stringOf(error?.message);
    if (text === undefined) return trimmed;
    const type = stringOf(error?.type);
    return type !== undefined ? `${text} (${type})` : text;
  } catch {
    return trimmed;
  }
}

/**
 * Whether a Codex error looks transient: rate limits, overload, server errors and network failures may
 * pass; a rejected key or request will not. `undefined` when the message does not say.
 */
export function isRetryableCodexError(message: string): boolean | undefined {
  const status = /unexpected status (\d{3})/.exec(message)?.[1];
  if (status !== undefined) {
    const code = Number(status);
    return code === 408 || code === 409 || code === 429 || code >= 500;
  }
  if (
    /invalid_request_error|unauthori[sz]ed|invalid api key|authentication|permission|quota|usage limit/i.test(
      message,
    )
  ) {
    return false;
  }
  if (
    /high demand|overloaded|rate limit|connection failed|error sending request|stream disconnected|timed out|timeout/i.test(
      message,
    )
  ) {
    return true;
  }
  return undefined;
}
