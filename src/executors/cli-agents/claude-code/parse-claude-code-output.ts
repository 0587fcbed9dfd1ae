/**
 * Reads Claude Code's `--output-format stream-json --verbose --include-partial-messages` stdout: one JSON
 * object per line.
 *
 * - `system` lines: `init` carries the session id; `api_retry` says the CLI is retrying a failed model
 *   call (reported as a retryable `error` event); the rest (status, task progress, permission denials,
 *   which also come back as tool results) are not events.
 * - `stream_event` lines wrap the raw Anthropic stream of the main conversation: `text_delta`s become
 *   `text-delta`, and `message_delta` carries the call's final output token count (a stream cut short
 *   ends with `message_stop` alone, and counts what `message_start` said).
 * - `assistant` lines are snapshots of a message, one line per content block, each repeating the message
 *   id and its usage. Tool calls come from them (once per call id). Their usage is the one from
 *   `message_start` (output tokens not yet counted), so it is used only for calls that had no stream
 *   events: subagents' calls, whose stream Claude Code does not print. `<synthetic>` messages are the
 *   CLI's own (an API error it gave up on), not model calls.
 * - `user` lines carry tool results (`tool_result` blocks).
 * - `result` lines end a turn; a run can print several (a background subagent finishing starts another
 *   turn), so the last one decides the outcome. `subtype: 'success'` with `is_error: true` is an API error.
 *
 * Input tokens are everything the model read: `input_tokens` plus cache writes and cache reads, as the AI
 * SDK's Anthropic provider counts them.
 */
import type { ExecutorEvent } from '../../spec.ts';
import type { CliOutcome, CliOutputParser } from '../cli-agent-adapter.ts';
import { arrayOf, countOf, objectOf, readJsonLine, stringOf, type JsonObject } from '../json-lines.ts';

/** The usage of one model call as far as it is known. */
interface CallUsage {
  inputTokens: number;
  outputTokens: number;
  model?: string;
  /** Whether Claude Code printed the raw stream of this call (then its `message_delta` is awaited). */
  streamed: boolean;
  /** Whether a `usage` event was emitted for it. */
  counted: boolean;
}

/** The outcome of the last `result` line. */
interface ResultLine {
  succeeded: boolean;
  text?: string;
  subtype?: string;
  apiErrorStatus?: number;
}

/** Creates a parser for one activation's stdout. */
export function createClaudeCodeOutputParser(): CliOutputParser {
  const calls = new Map<string, CallUsage>();
  const toolNames = new Map<string, string>();
  const messagesWithStreamedText = new Set<string>();
  let sessionId: string | undefined;
  let lastResult: ResultLine | undefined;
  let lastApiError: string | undefined;
  let steps = 0;

  /** The `usage` and `step-end` of a call, once. */
  const count = (call: CallUsage): ExecutorEvent[] => {
    if (call.counted) return [];
    call.counted = true;
    steps += 1;
    return [
      {
        type: 'usage',
        inputTokens: call.inputTokens,
        outputTokens: call.outputTokens,
        ...(call.model !== undefined ? { model: call.model } : {}),
      },
      { type: 'step-end', step: steps },
    ];
  };

  const readStreamEvent = (line: JsonObject): ExecutorEvent[] => {
    const event = objectOf(line.event);
    if (event === undefined) return [];
    const messageId = stringOf(line.api_message_id);
    switch (event.type) {
      case 'message_start': {
        const message = objectOf(event.message);
        const id = stringOf(message?.id);
        if (id === undefined || calls.has(id)) return [];
        const usage = readUsage(message?.usage);
        const model = stringOf(message?.model);
        calls.set(id, {
          ...usage,
          ...(model !== undefined ? { model } : {}),
          streamed: true,
          counted: false,
        });
        return [];
      }
      case 'content_block_delta': {
        const delta = objectOf(event.delta);
        if (delta?.type !== 'text_delta' || typeof delta.text !== 'string' || delta.text === '') return [];
        if (messageId !== undefined) messagesWithStreamedText.add(messageId);
        return [{ type: 'text-delta', text: delta.text }];
      }
      case 'message_delta': {
        const call = messageId !== undefined ? calls.get(messageId) : undefined;
        if (call === undefined) return [];
        // The final counts: output tokens always, input tokens when the API repeats them here.
        const usage = objectOf(event.usage);
        if (typeof usage?.output_tokens === 'number') call.outputTokens = usage.output_tokens;
        if (typeof usage?.input_tokens === 'number') call.inputTokens = readUsage(usage).inputTokens;
        return count(call);
      }
      case 'message_stop': {
        // A cut stream ends with a stop but no `message_delta`: the call is over with what it had.
        const call = messageId !== undefined ? calls.get(messageId) : undefined;
        return call !== undefined ? count(call) : [];
      }
      default:
        return [];
    }
  };

  const readAssistant = (line: JsonObject): ExecutorEvent[] => {
    const message = objectOf(line.message);
    if (message === undefined) return [];
    const id = stringOf(message.id);
    const events: ExecutorEvent[] = [];
    if (message.model === '<synthetic>' || line.is_api_error_message === true) {
      const text = contentText(message.content);
      if (line.is_api_error_message === true && text !== '') lastApiError = text;
      return [];
    }
    const isSubagent = typeof line.parent_tool_use_id === 'string';
    for (const block of arrayOf(message.content)) {
      const part = objectOf(block);
      if (part?.type === 'text' && typeof part.text === 'string' && part.text !== '') {
        // The main conversation's text already streamed; a subagent's text is its own business.
        if (!isSubagent && (id === undefined || !messagesWithStreamedText.has(id))) {
          events.push({ type: 'text-delta', text: part.text });
        }
      } else if (part?.type === 'tool_use') {
        const toolCallId = stringOf(part.id);
        const toolName = stringOf(part.name);
        if (toolCallId === undefined || toolName === undefined || toolNames.has(toolCallId)) continue;
        toolNames.set(toolCallId, toolName);
        events.push({ type: 'tool-call', toolCallId, toolName, input: part.input ?? {} });
      }
    }
    if (id !== undefined && !calls.has(id)) {
      const model = stringOf(message.model);
      const call: CallUsage = {
        ...readUsage(message.usage),
        ...(model !== undefined ? { model } : {}),
        streamed: false,
        counted: false,
      };
      calls.set(id, call);
      events.push(...count(call));
    }
    return events;
  };

  const readUser = (line: JsonObject): ExecutorEvent[] => {
    const message = objectOf(line.message);
    const events: ExecutorEvent[] = [];
    for (const block of arrayOf(message?.content)) {
      const part = objectOf(block);
      if (part?.type !== 'tool_result') continue;
      const toolCallId = stringOf(part.tool_use_id);
      if (toolCallId === undefined) continue;
      events.push({
        type: 'tool-result',
        toolCallId,
        toolName: toolNames.get(toolCallId) ?? 'unknown',
        output: contentText(part.content),
        ...(part.is_error === true ? { isError: true } : {}),
      });
    }
    return events;
  };

  const readSystem = (line: JsonObject): ExecutorEvent[] => {
    if (line.subtype === 'init') {
      sessionId = stringOf(line.session_id) ?? sessionId;
      return [];
    }
    if (line.subtype === 'api_retry') {
      const status = typeof line.error_status === 'number' ? `HTTP ${line.error_status}` : 'no HTTP status';
      const kind = stringOf(line.error);
      const attempt = typeof line.attempt === 'number' ? line.attempt : undefined;
      const max = typeof line.max_retries === 'number' ? line.max_retries : undefined;
      const delay = typeof line.retry_delay_ms === 'number' ? Math.round(line.retry_delay_ms) : undefined;
      const message =
        `a model call failed (${status}${kind !== undefined ? `, ${kind}` : ''}); Claude Code retries` +
        `${attempt !== undefined ? ` (${attempt}${max !== undefined ? ` of ${max}` : ''})` : ''}` +
        `${delay !== undefined ? ` in ${delay} ms` : ''}`;
      return [{ type: 'error', error: { kind: 'model_retry', message, retryable: true } }];
    }
    return [];
  };

  const readResult = (line: JsonObject): ExecutorEvent[] => {
    sessionId = stringOf(line.session_id) ?? sessionId;
    const subtype = stringOf(line.subtype);
    const apiErrorStatus = typeof line.api_error_status === 'number' ? line.api_error_status : undefined;
    const text = stringOf(line.result);
    lastResult = {
      succeeded: subtype === 'success' && line.is_error !== true,
      ...(text !== undefined ? { text } : {}),
      ...(subtype !== undefined ? { subtype } : {}),
      ...(apiErrorStatus !== undefined ? { apiErrorStatus } : {}),
    };
    return [];
  };

  const readLine = (line: JsonObject): ExecutorEvent[] => {
    switch (line.type) {
      case 'stream_event':
        return readStreamEvent(line);
      case 'assistant':
        return readAssistant(line);
      case 'user':
        return readUser(line);
      case 'system':
        return readSystem(line);
      case 'result':
        return readResult(line);
      default:
        return [];
    }
  };

  return {
    line: (text) => readJsonLine(text, readLine),

    finish(exitCode) {
      // Calls whose stream was cut (the process was killed mid-answer) still read their input.
      const events = [...calls.values()].filter((call) => !call.counted).flatMap(count);
      return { events, outcome: outcomeOf(lastResult, exitCode, sessionId, lastApiError) };
    },
  };
}

function outcomeOf(
  result: ResultLine | undefined,
  exitCode: number | null,
  sessionId: string | undefined,
  lastApiError: string | undefined,
): CliOutcome {
  const session = sessionId !== undefined ? { sessionId } : {};
  if (result === undefined) {
    const how = exitCode === null ? 'was killed' : `exited with code ${exitCode}`;
    return {
      succeeded: false,
      errorMessage: `Claude Code ${how} before printing its result${lastApiError !== undefined ? ` (last error: ${lastApiError})` : ''}`,
      ...session,
    };
  }
  if (result.succeeded) {
    return { succeeded: true, ...(result.text ? { summary: result.text } : {}), ...session };
  }
  const status = result.apiErrorStatus;
  return {
    succeeded: false,
    errorMessage: result.text || describeSubtype(result.subtype),
    // why: rate limits, overload and server errors pass; a bad key, model or request does not.
    retryable: status === undefined ? true : status === 408 || status === 429 || status >= 500,
    ...session,
  };
}

/** Claude Code's error subtypes of a `result` line, in words. */
const subtypeDescriptions: Record<string, string> = {
  error_max_turns: 'it reached its turn limit',
  error_max_budget_usd: 'it reached its budget',
  error_during_execution: 'it failed while running',
};

function describeSubtype(subtype: string | undefined): string {
  return (
    (subtype !== undefined ? subtypeDescriptions[subtype] : undefined) ??
    `it reported ${subtype ?? 'an error'}`
  );
}

/** Token counts of an Anthropic `usage` object; input includes cache writes and reads. */
function readUsage(value: unknown): { inputTokens: number; outputTokens: number } {
  const usage = objectOf(value);
  const number = (field: string): number => countOf(usage?.[field]);
  return {
    inputTokens:
      number('input_tokens') + number('cache_creation_input_tokens') + number('cache_read_input_tokens'),
    outputTokens: number('output_tokens'),
  };
}

/** A tool result's or message's content as text: a string, or its text blocks joined. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  return arrayOf(content)
    .map((block) => {
      const part = objectOf(block);
      return part?.type === 'text' && typeof part.text === 'string' ? part.text : '';
    })
    .filter((text) => text !== '')
    .join('\n');
}
