/**
 * Reads `gemini --output-format stream-json` (@google/gemini-cli 0.61, `StreamJsonFormatter` and
 * `runNonInteractive`): one JSON object per stdout line, each with `type` and `timestamp`:
 * - `{"type":"init","session_id":…,"model":…}`: first line; the session id is what `--resume` takes.
 * - `{"type":"message","role":"user","content":…}`: the prompt echoed back (ignored).
 * - `{"type":"message","role":"assistant","content":…,"delta":true}`: a piece of the model's text.
 * - `{"type":"tool_use","tool_name":…,"tool_id":…,"parameters":{…}}`: a tool call (the id is the CLI's,
 *   `<tool name>__<model's call id>` or one it makes up).
 * - `{"type":"tool_result","tool_id":…,"status":"success"|"error","output"?:…,"error"?:{type,message}}`:
 *   no tool name; `output` is the tool's display text, absent for edits.
 * - `{"type":"error","severity":"warning"|"error","message":…}`: a loop detected, an invalid stream, the
 *   turn limit; a fatal problem is then reported by the result.
 * - `{"type":"result","status":"success"|"error","error"?:{type,message},"stats":{…,"models":{<model>:
 *   {total_tokens,input_tokens,output_tokens,cached,input}}}}`: last line.
 * The CLI prints no usage per model call: the result's stats add up each model's calls, so a run yields
 * one usage event per model it used (the main model, and any side model such as a routing classifier).
 *
 * Lines are not always there: an error before the session starts (authentication, configuration, an
 * unknown session to resume) goes to stderr only, with exit code 41, 42, 52…; on SIGTERM the CLI exits
 * with code 0 and no result. An API error's result is followed by the exit code `status & 0xff`
 * (401 → 145, 500 → 244).
 */
import type { ExecutorEvent } from '../../spec.ts';
import type { CliOutcome, CliOutputParser } from '../cli-agent-adapter.ts';
import { countOf, isJsonObject, readJsonLine, stdoutLine, stringOf, type JsonObject } from '../json-lines.ts';

// why: the CLI's fatal exit codes (FatalAuthenticationError 41, FatalInputError 42, FatalSandboxError 44,
// FatalConfigError 52, FatalUntrustedWorkspaceError 55): the same configuration fails the same way again.
const permanentExitCodes = new Set([41, 42, 44, 52, 55]);
// why: API errors a retry cannot fix (a bad key, a forbidden or unknown model, a malformed request), by
// HTTP code and by the Gemini API's status names.
const permanentApiError =
  /"code":\s*(400|401|403|404)\b|\b(INVALID_ARGUMENT|UNAUTHENTICATED|PERMISSION_DENIED|NOT_FOUND|FAILED_PRECONDITION)\b/;

/** A fresh parser for one Gemini CLI run. */
export function createGeminiCliOutputParser(): CliOutputParser {
  const toolNames = new Map<string, string>();
  let sessionId: string | undefined;
  let replyText = '';
  let lastReplyText = '';
  let result: JsonObject | undefined;

  /** Text before a tool call is the model thinking aloud; the reply is the text after the last tool. */
  const endReply = (): void => {
    if (replyText.trim() !== '') lastReplyText = replyText;
    replyText = '';
  };

  function resultEvents(event: JsonObject): ExecutorEvent[] {
    result = event;
    const stats = isJsonObject(event.stats) ? event.stats : {};
    const models = isJsonObject(stats.models) ? stats.models : {};
    const events: ExecutorEvent[] = [];
    for (const [model, value] of Object.entries(models)) {
      if (!isJsonObject(value)) continue;
      const inputTokens = countOf(value.input_tokens);
      const candidates = countOf(value.output_tokens);
      // why: thinking tokens are billed as output but only show in total_tokens (the API's
      // totalTokenCount = prompt + candidates + thoughts).
      const thoughts = Math.max(0, countOf(value.total_tokens) - inputTokens - candidates);
      const outputTokens = candidates + thoughts;
      if (inputTokens + outputTokens === 0) continue;
      events.push({ type: 'usage', inputTokens, outputTokens, model });
    }
    return events;
  }

  /** The events of one JSON line (`line` is its text, passed on when it is not an event this reads). */
  function readEvent(event: JsonObject, line: string): ExecutorEvent[] {
    switch (event.type) {
      case 'init':
        sessionId = stringOf(event.session_id) ?? sessionId;
        return [];
      case 'message': {
        if (event.role !== 'assistant') return [];
        const text = stringOf(event.content) ?? '';
        if (text === '') return [];
        replyText += text;
        return [{ type: 'text-delta', text }];
      }
      case 'tool_use': {
        if (typeof event.tool_id !== 'string') return [stdoutLine(line)];
        endReply();
        const toolName = stringOf(event.tool_name) ?? 'unknown';
        toolNames.set(event.tool_id, toolName);
        return [{ type: 'tool-call', toolCallId: event.tool_id, toolName, input: event.parameters ?? {} }];
      }
      case 'tool_result': {
        if (typeof event.tool_id !== 'string') return [stdoutLine(line)];
        const failed = event.status === 'error';
        const error = isJsonObject(event.error) ? event.error : undefined;
        const shown = stringOf(event.output);
        const said = failed && typeof error?.message === 'string' ? error.message : undefined;
        return [
          {
            type: 'tool-result',
            toolCallId: event.tool_id,
            toolName: toolNames.get(event.tool_id) ?? 'unknown',
            output: said ?? shown ?? '',
            ...(failed ? { isError: true } : {}),
          },
        ];
      }
      case 'error': {
        const message = typeof event.message === 'string' ? event.message : JSON.stringify(event);
        return [stdoutLine(`gemini-cli ${event.severity === 'error' ? 'error' : 'warning'}: ${message}`)];
      }
      case 'result':
        endReply();
        return resultEvents(event);
      default:
        return [stdoutLine(line)];
    }
  }

  return {
    line: (line) => readJsonLine(line, (event) => readEvent(event, line)),

    finish(exitCode) {
      endReply();
      if (result === undefined) {
        // Killed, or stopped before the session began. With a non-zero exit the executor shows the exit
        // code and stderr's tail, where the CLI's own message is.
        const outcome: CliOutcome =
          exitCode === 0
            ? { succeeded: false, errorMessage: 'gemini-cli ended without its "result" line' }
            : {
                succeeded: false,
                ...(exitCode !== null && permanentExitCodes.has(exitCode) ? { retryable: false } : {}),
              };
        return { events: [], outcome };
      }
      if (result.status !== 'success') {
        const error = isJsonObject(result.error) ? result.error : {};
        const message =
          typeof error.message === 'string' && error.message !== ''
            ? error.message
            : `the run failed (${stringOf(error.type) ?? 'no reason given'})`;
        const retryable = !permanentApiError.test(message);
        return {
          events: [{ type: 'error', error: { kind: 'agent_error', message, retryable } }],
          outcome: { succeeded: false, errorMessage: message, retryable, ...sessionOf(sessionId) },
        };
      }
      const summary = lastReplyText.trim();
      return {
        events: [],
        outcome: { succeeded: true, ...(summary !== '' ? { summary } : {}), ...sessionOf(sessionId) },
      };
    },
  };
}

function sessionOf(sessionId: string | undefined): { sessionId?: string } {
  return sessionId !== undefined ? { sessionId } : {};
}
