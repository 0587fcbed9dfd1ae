/**
 * Reads `opencode run --format json` (opencode-ai 1.18): one JSON object per stdout line, each
 * `{"type", "timestamp", "sessionID", ...}`, printed as the session's parts complete:
 * - `step_start`: a model call begins.
 * - `text`: a finished text part, whole (`part.text`); OpenCode prints no deltas.
 * - `tool_use`: a finished tool call, call and result in one line: `part.tool`, `part.callID`,
 *   `part.state.status` (`completed` or `error`), `state.input`, and `state.output` or `state.error`.
 * - `step_finish`: a model call ended: `part.reason` (`stop`, `tool-calls`, `length`, ...) and its usage,
 *   `part.tokens` `{input, output, reasoning, cache: {read, write}}` and `part.cost` (dollars, from the
 *   model's configured prices, so 0 for Warren's endpoints, whose prices the config does not carry).
 * - `error`: the session failed: `error.name` (`APIError`, `ProviderAuthError`, `UnknownError`, ...) and
 *   `error.data` (`message`, and for API errors `statusCode`, `isRetryable`, the response).
 * - `reasoning`: thinking text, only with `--thinking` (not used).
 * There is no final result line: a run ends when the session goes idle, with exit code 0, or 1 after an
 * `error`. OpenCode retries model errors it deems transient (429, 5xx, cut streams) itself, with backoff,
 * before it reports one. Subagent sessions (the `task` tool) are not printed.
 */
import type { ExecutorEvent } from '../../spec.ts';
import type { CliOutcome, CliOutputParser } from '../cli-agent-adapter.ts';
import { countOf, isJsonObject, readJsonLine, stdoutLine, stringOf, type JsonObject } from '../json-lines.ts';

/** A fresh parser for one OpenCode run. */
export function createOpencodeOutputParser(): CliOutputParser {
  // why: OpenCode prints a part when its state changes to finished; should one be printed again, it is
  // the same part (same id), not a second call or a second model call to count.
  const seenParts = new Set<string>();
  let sessionId: string | undefined;
  let steps = 0;
  let stepText = '';
  let summary: string | undefined;
  let lastReason: string | undefined;
  let failure: { message: string; retryable?: boolean } | undefined;

  function partEvents(type: string, part: JsonObject, line: string): ExecutorEvent[] {
    switch (type) {
      case 'step_start':
        stepText = '';
        return [];
      case 'text': {
        const text = stringOf(part.text) ?? '';
        if (text === '') return [];
        stepText += text;
        return [{ type: 'text-delta', text }];
      }
      case 'tool_use': {
        const state = isJsonObject(part.state) ? part.state : {};
        const toolCallId = stringOf(part.callID) ?? stringOf(part.id);
        if (toolCallId === undefined) return [stdoutLine(line)];
        const toolName = stringOf(part.tool) ?? 'unknown';
        const failed = state.status === 'error';
        const result = failed ? state.error : state.output;
        return [
          { type: 'tool-call', toolCallId, toolName, input: state.input ?? {} },
          {
            type: 'tool-result',
            toolCallId,
            toolName,
            output: typeof result === 'string' ? result : (result ?? ''),
            ...(failed ? { isError: true } : {}),
          },
        ];
      }
      case 'step_finish': {
        steps += 1;
        lastReason = stringOf(part.reason);
        if (stepText.trim() !== '') summary = stepText;
        stepText = '';
        const events: ExecutorEvent[] = [];
        const usage = usageOf(part);
        if (usage !== undefined) events.push(usage);
        events.push({ type: 'step-end', step: steps, ...(lastReason ? { description: lastReason } : {}) });
        return events;
      }
      default:
        return [];
    }
  }

  /** The events of one JSON line (`line` is its text, passed on when it is not an event this reads). */
  function readEvent(event: JsonObject, line: string): ExecutorEvent[] {
    if (typeof event.type !== 'string') return [stdoutLine(line)];
    if (typeof event.sessionID === 'string' && sessionId === undefined) sessionId = event.sessionID;
    switch (event.type) {
      case 'step_start':
      case 'text':
      case 'tool_use':
      case 'step_finish': {
        if (!isJsonObject(event.part)) return [stdoutLine(line)];
        const id = stringOf(event.part.id);
        if (id !== undefined) {
          if (seenParts.has(id)) return [];
          seenParts.add(id);
        }
        return partEvents(event.type, event.part, line);
      }
      case 'reasoning':
        return [];
      case 'error': {
        failure = errorOf(event.error);
        return [
          {
            type: 'error',
            error: {
              kind: 'agent_error',
              message: failure.message,
              retryable: failure.retryable ?? true,
            },
          },
        ];
      }
      default:
        return [stdoutLine(line)];
    }
  }

  return {
    line: (line) => readJsonLine(line, (event) => readEvent(event, line)),

    finish(exitCode) {
      const session = sessionId !== undefined ? { sessionId } : {};
      let outcome: CliOutcome;
      if (failure !== undefined) {
        outcome = {
          succeeded: false,
          errorMessage: failure.message,
          ...(failure.retryable !== undefined ? { retryable: failure.retryable } : {}),
          ...session,
        };
      } else if (exitCode === 0 && steps > 0) {
        outcome = {
          succeeded: true,
          ...(summary !== undefined && lastReason !== 'tool-calls' ? { summary: summary.trim() } : {}),
          ...session,
        };
      } else if (exitCode === 0) {
        outcome = {
          succeeded: false,
          errorMessage: 'opencode exited without finishing a model call',
          ...session,
        };
      } else {
        // Killed or crashed: the executor adds the exit code (or signal) and stderr's tail.
        outcome = {
          succeeded: false,
          ...(steps === 0
            ? {}
            : { errorMessage: `opencode stopped after ${steps} model call${steps === 1 ? '' : 's'}` }),
          ...session,
        };
      }
      return { events: [], outcome };
    },
  };
}

/**
 * One model call's usage. OpenCode splits the prompt into `input` (not cached), `cache.read` and
 * `cache.write`, and the answer into `output` and `reasoning` (its `SessionUsage`: input = prompt - cache
 * read - cache write, output = completion - reasoning); Warren counts whole prompts and whole answers.
 */
function usageOf(part: JsonObject): ExecutorEvent | undefined {
  if (!isJsonObject(part.tokens)) return undefined;
  const tokens = part.tokens;
  const cache = isJsonObject(tokens.cache) ? tokens.cache : {};
  const inputTokens = countOf(tokens.input) + countOf(cache.read) + countOf(cache.write);
  const outputTokens = countOf(tokens.output) + countOf(tokens.reasoning);
  const cost = countOf(part.cost);
  if (inputTokens + outputTokens === 0 && cost === 0) return undefined;
  return { type: 'usage', inputTokens, outputTokens, ...(cost > 0 ? { costUsd: cost } : {}) };
}

/** The message and retryability of a session error. */
function errorOf(value: unknown): { message: string; retryable?: boolean } {
  if (!isJsonObject(value)) return { message: 'opencode reported an error without details' };
  const name = stringOf(value.name) ?? 'Error';
  const data = isJsonObject(value.data) ? value.data : {};
  const said = typeof data.message === 'string' && data.message !== '' ? data.message : undefined;
  const status = typeof data.statusCode === 'number' ? data.statusCode : undefined;
  const message = `${name}${status !== undefined ? ` (HTTP ${status})` : ''}: ${said ?? 'no message'}`;
  if (typeof data.isRetryable === 'boolean') return { message, retryable: data.isRetryable };
  // why: a missing or refused key and an over-long prompt fail the same way on every try.
  if (name === 'ProviderAuthError' || name === 'ContextOverflowError') return { message, retryable: false };
  return { message };
}
