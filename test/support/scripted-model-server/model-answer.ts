/**
 * The protocol-neutral answer built from a scripted turn; each wire protocol encodes it.
 */
import { allText } from './request-predicates.ts';
import type { RecordedModelRequest } from './recorded-model-request.ts';
import type { ScriptedTurn, ScriptedUsage } from './scripted-turn.ts';

// why: text and tool arguments go out in this many pieces at most, enough to exercise the
// clients' delta handling while keeping the per-request cost (events, writes) small.
const STREAM_PIECES = 3;

/** One tool call of an answer, with its arguments as wire text. */
export interface AnswerToolCall {
  /** The scripted id; the protocol makes one in its own style when absent ({@link toolCallId}). */
  scriptedId: string | undefined;
  name: string;
  arguments: string;
  /** `arguments` cut into pieces for streaming; joined they give `arguments` back. */
  argumentPieces: string[];
}

/** What the scripted model says for one request, before a protocol encodes it. */
export interface ModelAnswer {
  /** Unique per server; protocols build message, response and tool call ids from it. */
  sequence: number;
  model: string;
  /** Unix seconds, for the `created` fields. */
  createdAt: number;
  text: string;
  /** `text` cut into pieces for streaming (none when there is no text). */
  textPieces: string[];
  toolCalls: AnswerToolCall[];
  usage: ScriptedUsage;
  /** `tool-use` when the answer makes tool calls. */
  stopReason: 'end-turn' | 'tool-use';
}

/** Builds the answer for `turn`, estimating usage (characters / 4) unless the turn scripts it. */
export function createModelAnswer(
  turn: ScriptedTurn,
  request: RecordedModelRequest,
  sequence: number,
): ModelAnswer {
  const text = turn.text ?? '';
  const toolCalls = (turn.toolCalls ?? []).map((call): AnswerToolCall => {
    const argumentsText = typeof call.input === 'string' ? call.input : JSON.stringify(call.input ?? {});
    return {
      scriptedId: call.id,
      name: call.name,
      arguments: argumentsText,
      argumentPieces: splitIntoPieces(argumentsText, STREAM_PIECES),
    };
  });
  const outputText = text + toolCalls.map((call) => call.name + call.arguments).join('');
  return {
    sequence,
    model: request.model,
    createdAt: Math.floor(Date.now() / 1000),
    text,
    textPieces: splitIntoPieces(text, STREAM_PIECES),
    toolCalls,
    usage: turn.usage ?? {
      inputTokens: estimateTokens(allText(request)),
      outputTokens: estimateTokens(outputText),
    },
    stopReason: toolCalls.length > 0 ? 'tool-use' : 'end-turn',
  };
}

/** The id of tool call `index` of `answer`: the scripted one, or `prefix` + a per-server unique suffix. */
export function toolCallId(answer: ModelAnswer, index: number, prefix: string): string {
  return answer.toolCalls[index]?.scriptedId ?? `${prefix}${answer.sequence}_${index}`;
}

/** A rough token count: characters / 4, at least 1. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Cuts `text` into at most `count` non-empty pieces of similar length, never inside a code point. */
function splitIntoPieces(text: string, count: number): string[] {
  const codePoints = Array.from(text);
  const size = Math.ceil(codePoints.length / count);
  const pieces: string[] = [];
  for (let start = 0; start < codePoints.length; start += size) {
    pieces.push(codePoints.slice(start, start + size).join(''));
  }
  return pieces;
}
