/**
 * What the scripted model server plays: turns, picked per request.
 */
import type { RecordedModelRequest } from './recorded-model-request.ts';

/** A tool call the scripted model makes. */
export interface ScriptedToolCall {
  name: string;
  /** An object is JSON-encoded; a string is sent verbatim (for malformed-argument tests). */
  input: unknown;
  /** The call id; by default one in the protocol's style (`toolu_…`, `call_…`), unique per server. */
  id?: string;
}

/** Token counts reported for a turn, in each protocol's own usage format. */
export interface ScriptedUsage {
  inputTokens: number;
  outputTokens: number;
}

/** A failure the server plays instead of (or part way through) an answer. */
export type ScriptedFault =
  /** Answer this HTTP status with an error body in the protocol's shape (or `body` verbatim). */
  | { kind: 'http-error'; status: number; retryAfterSeconds?: number; body?: string }
  /**
   * Write the first `afterChunks` SSE events of the answer, then destroy the socket. A non-streaming
   * answer sends its headers and half its body instead (nothing at all when `afterChunks` is 0).
   */
  | { kind: 'cut-stream'; afterChunks: number }
  /** Wait, then answer normally. */
  | { kind: 'delay'; ms: number };

/** One answer of the scripted model. */
export interface ScriptedTurn {
  /** Label for error messages and `answeredWith`; by default `turn #i` (position in the script). */
  name?: string;
  /** When given, the turn is only played when this returns true for the conversation so far. */
  when?: (request: RecordedModelRequest) => boolean;
  /** Assistant text, streamed in several chunks. */
  text?: string;
  /** Tool calls after the text; the stop reason becomes tool use. */
  toolCalls?: ScriptedToolCall[];
  /** Reported usage; by default estimated as characters / 4. */
  usage?: ScriptedUsage;
  /** Fault injection instead of (or part way through) an answer. */
  fault?: ScriptedFault;
  /** Keep this turn for later requests too (by default a turn is consumed once played). */
  repeat?: boolean;
}

/**
 * A script: turns played in list order (the first unconsumed turn whose `when` matches), or a function
 * that answers every request, for benches that run forever.
 */
export type ModelScript = ScriptedTurn[] | ((request: RecordedModelRequest) => ScriptedTurn);
