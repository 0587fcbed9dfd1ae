/**
 * Reads `goose run --output-format stream-json`: one JSON object per stdout line
 * (`crates/goose-cli/src/session/mod.rs`, enum `StreamEvent`, `#[serde(tag = "type")]`):
 * - `{"type":"message","message":{id, role, created, content:[…]}}`: a piece of the conversation as the
 *   agent produces it. Replies stream: several events share one message id, each with a fragment of text.
 *   Content items (`crates/goose/src/conversation/message.rs`, tag `type`, camelCase): `text {text}`,
 *   `thinking {thinking}`, `toolRequest {id, toolCall: {status: "success", value: {name, arguments}} |
 *   {status: "error", error}}` in assistant messages, `toolResponse {id, toolResult: {status: "success",
 *   value: {content: [{type: "text", text}], isError}} | {status: "error", error}}` in user messages
 *   (older Goose: `value` is the content array itself).
 * - `{"type":"notification","extension_id":…,"log":{"message":…}}` (or `"progress":{…}`): an extension's log.
 * - `{"type":"model_change","model":…,"mode":…}` (older Goose only).
 * - `{"type":"error","error":"Authentication error: …"}`: the agent loop failed (a `ProviderError`'s text,
 *   `crates/goose/src/providers/errors.rs`); older Goose still ends with `complete` and exit code 0.
 * - `{"type":"complete","total_tokens":N,"input_tokens":N,"output_tokens":N}`: the run ended. The counts are
 *   the session's totals over all model calls: Goose ≥ 1.37 adds the input/output split (PR #8870), older
 *   Goose reports only `total_tokens`, which is then counted as input.
 * Goose prints no per-call usage, so a run yields one usage event, at the end.
 */
import type { ExecutorEvent } from '../../spec.ts';
import type { CliOutcome, CliOutputParser } from '../cli-agent-adapter.ts';
import { arrayOf, isJsonObject, readJsonLine, stdoutLine, stringOf, type JsonObject } from '../json-lines.ts';

/**
 * The session id a finished Goose run reports. Warren names each attempt's Goose session itself
 * (`--name`) in a private home, so a fix round resumes it by that name; there is no id to carry.
 */
export const gooseNamedSession = 'goose-named-session';

// why: ProviderError kinds (errors.rs) that another attempt cannot fix: a bad key, a prompt too long for
// the model, a wrong endpoint, an empty account.
const permanentErrorPrefixes = [
  'Authentication error',
  'Context length exceeded',
  'Endpoint not found',
  'Credits exhausted',
  'Insufficient balance',
  'Unsupported operation',
];

/** A fresh parser for one Goose run. */
export function createGooseOutputParser(): CliOutputParser {
  const toolNames = new Map<string, string>();
  const seenToolRequests = new Set<string>();
  const seenToolResponses = new Set<string>();
  let replyId: string | undefined;
  let replyText = '';
  let lastReplyText = '';
  let error: string | undefined;
  let completed = false;

  function messageEvents(message: JsonObject): ExecutorEvent[] {
    const events: ExecutorEvent[] = [];
    const content = arrayOf(message.content);
    const id = stringOf(message.id);
    if (message.role === 'assistant') {
      for (const item of content) {
        if (!isJsonObject(item)) continue;
        if (item.type === 'text' && typeof item.text === 'string' && item.text !== '') {
          if (id !== replyId) {
            if (replyText.trim() !== '') lastReplyText = replyText;
            replyId = id;
            replyText = '';
          }
          replyText += item.text;
          events.push({ type: 'text-delta', text: item.text });
        } else if (item.type === 'toolRequest' && typeof item.id === 'string') {
          if (seenToolRequests.has(item.id)) continue;
          seenToolRequests.add(item.id);
          const call = isJsonObject(item.toolCall) ? item.toolCall : {};
          const value = isJsonObject(call.value) ? call.value : {};
          const toolName = stringOf(value.name) ?? 'invalid_tool_call';
          toolNames.set(item.id, toolName);
          const input = call.status === 'error' ? { error: call.error } : (value.arguments ?? {});
          events.push({ type: 'tool-call', toolCallId: item.id, toolName, input });
        } else if (item.type === 'systemNotification' && typeof item.msg === 'string') {
          events.push(stdoutLine(item.msg));
        }
      }
    } else {
      for (const item of content) {
        if (!isJsonObject(item) || item.type !== 'toolResponse' || typeof item.id !== 'string') continue;
        if (seenToolResponses.has(item.id)) continue;
        seenToolResponses.add(item.id);
        const result = isJsonObject(item.toolResult) ? item.toolResult : {};
        const failed = result.status === 'error';
        const value = result.value;
        const parts = Array.isArray(value)
          ? value
          : isJsonObject(value) && Array.isArray(value.content)
            ? value.content
            : [];
        const text = failed
          ? typeof result.error === 'string'
            ? result.error
            : JSON.stringify(result.error ?? 'tool failed')
          : parts
              .filter(isJsonObject)
              .map((part) => stringOf(part.text) ?? '')
              .filter((part) => part !== '')
              .join('\n');
        events.push({
          type: 'tool-result',
          toolCallId: item.id,
          toolName: toolNames.get(item.id) ?? 'unknown',
          output: text,
          ...(failed || (isJsonObject(value) && value.isError === true) ? { isError: true } : {}),
        });
      }
    }
    return events;
  }

  /** The events of one JSON line (`line` is its text, passed on when it is not an event this reads). */
  function readEvent(event: JsonObject, line: string): ExecutorEvent[] {
    switch (event.type) {
      case 'message':
        return isJsonObject(event.message) ? messageEvents(event.message) : [stdoutLine(line)];
      case 'notification': {
        const log = isJsonObject(event.log) ? event.log : undefined;
        if (log && typeof log.message === 'string') {
          const source = typeof event.extension_id === 'string' ? `[${event.extension_id}] ` : '';
          return [stdoutLine(`${source}${log.message}`)];
        }
        return [];
      }
      case 'model_change':
        return [stdoutLine(`model: ${String(event.model)} (${String(event.mode)})`)];
      case 'error':
        error = typeof event.error === 'string' ? event.error : JSON.stringify(event.error);
        return [];
      case 'complete': {
        completed = true;
        const input = count(event.input_tokens);
        const outputTokens = count(event.output_tokens);
        const total = count(event.total_tokens);
        if (input === undefined && outputTokens === undefined && total === undefined) return [];
        const split = input !== undefined || outputTokens !== undefined;
        return [
          {
            type: 'usage',
            inputTokens: split ? (input ?? 0) : (total ?? 0),
            outputTokens: split ? (outputTokens ?? 0) : 0,
          },
        ];
      }
      default:
        return [stdoutLine(line)];
    }
  }

  return {
    // A line that is not JSON is passed on: Goose prints some notices as text even in stream-json mode.
    line: (line) => readJsonLine(line, (event) => readEvent(event, line)),

    finish(exitCode) {
      const events: ExecutorEvent[] = [];
      let outcome: CliOutcome;
      if (error !== undefined) {
        const retryable = !permanentErrorPrefixes.some((prefix) => error!.startsWith(prefix));
        events.push({ type: 'error', error: { kind: 'agent_error', message: error, retryable } });
        outcome = { succeeded: false, errorMessage: error, retryable };
      } else if (!completed) {
        // Killed, crashed or stopped before its last event. With a non-zero exit the executor shows the
        // exit code and the output's tail, where Goose's own error (on stderr) is.
        outcome =
          exitCode === 0
            ? { succeeded: false, errorMessage: 'goose ended without its "complete" event' }
            : { succeeded: false };
      } else {
        const summary = (replyText.trim() !== '' ? replyText : lastReplyText).trim();
        outcome = {
          succeeded: true,
          ...(summary !== '' ? { summary } : {}),
          sessionId: gooseNamedSession,
        };
      }
      return { events, outcome };
    },
  };
}

/** A count Goose reported (0 included), or undefined when it reported none. */
function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
