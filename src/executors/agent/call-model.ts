/**
 * One model call of the agent loop: a streamed call on the AI SDK's language model interface (the
 * provider packages speak each vendor's wire protocol), retried with backoff when the endpoint answers
 * with a retryable error (429, 5xx) before any output, honouring `retry-after`.
 *
 * why the provider interface (`doStream`) and not `streamText`: `streamText` re-validates the whole
 * conversation against its zod message schema on every call, which made Warren's own time per step grow
 * with the conversation (16 ms at 200 steps). The loop keeps the conversation in the provider's prompt
 * format, which needs no conversion or validation.
 */
import {
  APICallError,
  type LanguageModelV3,
  type LanguageModelV3FunctionTool,
  type LanguageModelV3Message,
  type LanguageModelV3StreamPart,
  type SharedV3ProviderMetadata,
} from '@ai-sdk/provider';
import { computeRetryDelay, type RetryPolicy } from '../../core/backoff.ts';
import { sleep } from '../../core/sleep.ts';
import type { ExecutorError } from '../spec.ts';

/** A conversation message, in the provider prompt format. */
export type ConversationMessage = LanguageModelV3Message;
/** A tool as offered to the model. */
export type ModelTool = LanguageModelV3FunctionTool;

/** A tool call as the model made it. `invalid`: its input was not a JSON object. */
export interface ModelToolCall {
  toolCallId: string;
  toolName: string;
  input: unknown;
  invalid: boolean;
  /** Why the input could not be read, when `invalid`. */
  error?: string;
}

/** What one successful call produced. */
export interface ModelCallResult {
  text: string;
  toolCalls: ModelToolCall[];
  /** The assistant message to append to the conversation (text, reasoning and tool calls). */
  assistantMessage: ConversationMessage;
  usage: { inputTokens: number; outputTokens: number };
  /** `stop`, `tool-calls`, `length`, ... */
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
  model: LanguageModelV3;
  /** The conversation, system message first. */
  messages: ConversationMessage[];
  tools: ModelTool[];
  maxOutputTokens: number;
  /** Sampling temperature; the provider's default when absent. */
  temperature?: number;
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
    if (!classified.retryWithin || retries >= options.retry.maxRetries) {
      return { status: 'failed', error: classified.error };
    }
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

type AssistantPart = Extract<ConversationMessage, { role: 'assistant' }>['content'][number];

async function streamOnce(options: CallModelOptions): Promise<StreamAttempt> {
  let text = '';
  let emittedOutput = false;
  const toolCalls: ModelToolCall[] = [];
  const content: AssistantPart[] = [];
  // Text and reasoning arrive as start / delta / end by id; provider metadata (a reasoning signature)
  // must go back to the provider with the part.
  const open = new Map<
    string,
    { type: 'text' | 'reasoning'; text: string; metadata?: SharedV3ProviderMetadata }
  >();
  let usage = { inputTokens: 0, outputTokens: 0 };
  let finishReason = 'unknown';
  let failure: unknown;
  try {
    const { stream } = await options.model.doStream({
      prompt: options.messages,
      tools: options.tools,
      toolChoice: { type: 'auto' },
      maxOutputTokens: options.maxOutputTokens,
      ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
      abortSignal: options.abortSignal,
    });
    const reader = stream.getReader();
    const close = (id: string, metadata?: SharedV3ProviderMetadata): void => {
      const part = open.get(id);
      if (!part) return;
      open.delete(id);
      const providerOptions = metadata ?? part.metadata;
      if (part.type === 'text' && part.text.length === 0) return;
      content.push({ type: part.type, text: part.text, ...(providerOptions ? { providerOptions } : {}) });
    };
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const part: LanguageModelV3StreamPart = value;
      // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- the rest is ignored (default)
      switch (part.type) {
        case 'text-start':
        case 'reasoning-start':
          open.set(part.id, {
            type: part.type === 'text-start' ? 'text' : 'reasoning',
            text: '',
            ...(part.providerMetadata ? { metadata: part.providerMetadata } : {}),
          });
          break;
        case 'text-delta':
        case 'reasoning-delta': {
          const current = open.get(part.id);
          if (current) {
            current.text += part.delta;
            if (part.providerMetadata) current.metadata = part.providerMetadata;
          }
          emittedOutput = true;
          if (part.type === 'text-delta') {
            text += part.delta;
            options.onTextDelta(part.delta);
          }
          break;
        }
        case 'text-end':
        case 'reasoning-end':
          close(part.id, part.providerMetadata);
          break;
        case 'tool-call': {
          emittedOutput = true;
          const parsed = parseToolInput(part.input);
          toolCalls.push({
            toolCallId: part.toolCallId,
            toolName: part.toolName,
            input: parsed.input,
            invalid: !parsed.ok,
            ...(parsed.ok ? {} : { error: parsed.error }),
          });
          content.push({
            type: 'tool-call',
            toolCallId: part.toolCallId,
            toolName: part.toolName,
            // why: vendors require tool-call input to be an object when it is sent back; an unreadable
            // one is answered with a tool error, and the call is recorded with empty input.
            input: parsed.ok ? parsed.input : {},
            ...(part.providerMetadata ? { providerOptions: part.providerMetadata } : {}),
          });
          break;
        }
        case 'finish':
          usage = {
            inputTokens: part.usage.inputTokens.total ?? 0,
            outputTokens: part.usage.outputTokens.total ?? 0,
          };
          finishReason = part.finishReason.unified;
          break;
        case 'error':
          failure ??= part.error;
          break;
        default:
          // Stream start, response metadata, tool input streaming, sources, files and raw chunks: nothing
          // the loop needs.
          break;
      }
    }
    for (const id of [...open.keys()]) close(id);
  } catch (error) {
    failure ??= error;
  }
  if (options.abortSignal.aborted) return { status: 'aborted' };
  if (failure !== undefined) return { status: 'errored', error: failure, emittedOutput };
  return {
    status: 'answered',
    result: { text, toolCalls, assistantMessage: { role: 'assistant', content }, usage, finishReason },
  };
}

/** The tool input as an object: empty input is `{}`; anything but a JSON object is invalid. */
function parseToolInput(
  raw: string,
): { ok: true; input: unknown } | { ok: false; input: unknown; error: string } {
  if (raw.trim() === '') return { ok: true, input: {} };
  try {
    const input: unknown = JSON.parse(raw);
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      return { ok: false, input: raw, error: 'the arguments are not a JSON object' };
    }
    return { ok: true, input };
  } catch (error) {
    return { ok: false, input: raw, error: `the arguments are not valid JSON: ${(error as Error).message}` };
  }
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
