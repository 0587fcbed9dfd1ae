/**
 * One model call of the agent loop: a streamed AI SDK call, retried with backoff when the endpoint answers
 * with a retryable error (429, 5xx) before any output, honouring `retry-after`.
 */
import { APICallError, streamText, type LanguageModel, type ModelMessage, type ToolSet } from 'ai';
import { computeRetryDelay, type RetryPolicy } from '../../core/backoff.ts';
import { sleep } from '../../core/sleep.ts';
import type { ExecutorError } from '../spec.ts';

/** A tool call as the model made it. `invalid`: its input was not JSON, or it named no known tool. */
export interface ModelToolCall {
  toolCallId: string;
  toolName: string;
  input: unknown;
  invalid: boolean;
  /** Why the SDK could not parse the call, when `invalid`. */
  error?: string;
}

/** What one successful call produced. */
export interface ModelCallResult {
  text: string;
  toolCalls: ModelToolCall[];
  /** The assistant message to append to the conversation (text, reasoning and tool calls). */
  assistantMessages: ModelMessage[];
  usage: { inputTokens: number; outputTokens: number };
  /** `stop`, `tool-calls`, `length`, ... as the AI SDK reports it. */
  finishReason: string;
  /** Retries it took. */
  retries: number;
}

/** How a call ended: a result, an abort, or a failure saying whether a later attempt could help. */
export type ModelCallOutcome =
  | { status: 'answered'; result: ModelCallResult }
  | { status: 'aborted' }
  | { status: 'failed'; error: ExecutorError };

/** Retries of one call. */
export interface ModelRetryOptions {
  /** Retries after the first try. */
  maxRetries: number;
  policy: RetryPolicy;
  /** A `retry-after` longer than this is not waited for: the attempt fails retryable with that delay. */
  maxRetryAfterMs: number;
}

/** Options of {@link callModel}. */
export interface CallModelOptions {
  model: LanguageModel;
  system: string;
  messages: ModelMessage[];
  tools: ToolSet;
  maxOutputTokens: number;
  abortSignal: AbortSignal;
  retry: ModelRetryOptions;
  onTextDelta(text: string): void;
  /** Told before each retry wait. */
  onRetry(details: { retry: number; delayMs: number; reason: string }): void;
}

// why: a response body excerpt helps diagnose a refused call; more would flood the attempt's error.
const maxBodyExcerpt = 500;

/** Calls the model once, retrying retryable endpoint errors that came before any output. */
export async function callModel(options: CallModelOptions): Promise<ModelCallOutcome> {
  for (let retries = 0; ; retries += 1) {
    const attempt = await streamOnce(options);
    if (attempt.status === 'answered') return { status: 'answered', result: { ...attempt.result, retries } };
    if (attempt.status === 'aborted') return attempt;
    const { error, emittedOutput } = attempt;
    if (options.abortSignal.aborted) return { status: 'aborted' };
    const classified = classifyModelError(error, emittedOutput);
    if (!classified.retryWithin || retries >= options.retry.maxRetries)
      return { status: 'failed', error: classified.error };
    const retryAfterMs = classified.error.nextRetryDelayMs;
    if (retryAfterMs !== undefined && retryAfterMs > options.retry.maxRetryAfterMs) {
      return { status: 'failed', error: classified.error };
    }
    const delayMs = Math.max(computeRetryDelay(retries + 1, options.retry.policy), retryAfterMs ?? 0);
    options.onRetry({ retry: retries + 1, delayMs, reason: classified.error.message });
    await sleep(delayMs, options.abortSignal);
    if (options.abortSignal.aborted) return { status: 'aborted' };
  }
}

type StreamAttempt =
  | { status: 'answered'; result: Omit<ModelCallResult, 'retries'> }
  | { status: 'aborted' }
  | { status: 'errored'; error: unknown; emittedOutput: boolean };

async function streamOnce(options: CallModelOptions): Promise<StreamAttempt> {
  let text = '';
  let emittedOutput = false;
  const toolCalls: ModelToolCall[] = [];
  let usage = { inputTokens: 0, outputTokens: 0 };
  let finishReason = 'unknown';
  let failure: unknown;
  let aborted = false;
  const stream = streamText({
    model: options.model,
    system: options.system,
    messages: options.messages,
    tools: options.tools,
    maxOutputTokens: options.maxOutputTokens,
    abortSignal: options.abortSignal,
    // why: retries are ours (below): they must not repeat a call that already streamed output, and the
    // loop reports each wait as progress.
    maxRetries: 0,
    // why: errors arrive as `error` parts below; the default handler would log them to the console.
    onError: () => undefined,
  });
  try {
    for await (const part of stream.fullStream) {
      // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- only these parts matter here
      switch (part.type) {
        case 'text-delta':
          text += part.text;
          emittedOutput = true;
          options.onTextDelta(part.text);
          break;
        case 'tool-call':
          emittedOutput = true;
          toolCalls.push({
            toolCallId: part.toolCallId,
            toolName: part.toolName,
            input: part.input,
            invalid: part.invalid === true,
            ...(part.invalid === true ? { error: describeError(part.error) } : {}),
          });
          break;
        case 'finish-step':
          usage = { inputTokens: part.usage.inputTokens ?? 0, outputTokens: part.usage.outputTokens ?? 0 };
          finishReason = part.finishReason;
          break;
        case 'error':
          failure ??= part.error;
          break;
        case 'abort':
          aborted = true;
          break;
        default:
          // Start and end markers, reasoning, tool input streaming: the assistant message carries them.
          break;
      }
    }
  } catch (error) {
    failure ??= error;
  }
  if (aborted || options.abortSignal.aborted) return { status: 'aborted' };
  if (failure !== undefined) return { status: 'errored', error: failure, emittedOutput };
  const response = await stream.response;
  const assistantMessages = response.messages.filter((message) => message.role === 'assistant');
  return { status: 'answered', result: { text, toolCalls, assistantMessages, usage, finishReason } };
}

/** What to do about a failed call: retry it here, or fail the attempt (retryable or not). */
export function classifyModelError(
  error: unknown,
  emittedOutput: boolean,
): { retryWithin: boolean; error: ExecutorError } {
  // A 2xx answer whose body broke off (the connection was cut mid-stream): the SDK reports it as a call
  // error, but repeating the call inside the attempt would pay for the same answer twice.
  const brokeOffMidStream =
    APICallError.isInstance(error) &&
    error.statusCode !== undefined &&
    error.statusCode >= 200 &&
    error.statusCode < 300;
  if (APICallError.isInstance(error) && !brokeOffMidStream) {
    const status = error.statusCode;
    const retryAfterMs = retryAfterOf(error.responseHeaders);
    const body = (error.responseBody ?? '').slice(0, maxBodyExcerpt);
    const where = `the model endpoint answered ${status ?? 'an error'}`;
    if (error.isRetryable) {
      return {
        retryWithin: !emittedOutput,
        error: {
          kind: 'model_unavailable',
          retryable: true,
          message: `${where}${body ? `: ${body}` : ''}`,
          ...(retryAfterMs !== undefined ? { nextRetryDelayMs: retryAfterMs } : {}),
        },
      };
    }
    return {
      retryWithin: false,
      error: { kind: 'model_rejected', retryable: false, message: `${where}${body ? `: ${body}` : ''}` },
    };
  }
  const description = describeError(error);
  if (emittedOutput || brokeOffMidStream) {
    return {
      retryWithin: false,
      error: {
        kind: 'model_stream_interrupted',
        retryable: true,
        message: `the model's answer stopped mid-stream: ${description}`,
      },
    };
  }
  return {
    retryWithin: false,
    error: { kind: 'model_unreachable', retryable: true, message: `the model call failed: ${description}` },
  };
}

/** Milliseconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date). */
export function retryAfterOf(headers: Record<string, string> | undefined): number | undefined {
  if (!headers) return undefined;
  const milliseconds = Number.parseFloat(headers['retry-after-ms'] ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return Math.round(milliseconds);
  const value = headers['retry-after'];
  if (!value) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
