/**
 * The spec every vendor protocol of the scripted model server implements.
 */
import type { ModelAnswer } from './model-answer.ts';
import type { ModelProtocol, RecordedConversation, RecordedModelRequest } from './recorded-model-request.ts';

/** One server-sent event. A string `data` is written verbatim (`[DONE]`), anything else as JSON. */
export interface StreamEvent {
  event?: string;
  data: unknown;
}

/** What the router learnt from the URL, for protocols that carry request facts there (Gemini). */
export interface RouteFacts {
  model?: string;
  stream?: boolean;
}

/** One vendor wire protocol: reading requests, and writing answers, errors and model lists. */
export interface WireProtocol {
  readonly protocol: ModelProtocol;
  /** Reads a parsed request body into the protocol-neutral conversation. */
  readConversation(body: unknown, route: RouteFacts): RecordedConversation;
  /** The events of a streamed answer, in order. */
  streamEvents(answer: ModelAnswer, request: RecordedModelRequest): StreamEvent[];
  /** The body of a non-streamed answer. */
  jsonAnswer(answer: ModelAnswer, request: RecordedModelRequest): unknown;
  /** An error body in the vendor's shape, so that clients surface `message`. */
  errorBody(status: number, message: string): unknown;
  /** The body of the vendor's list-models answer. */
  modelList(models: readonly string[]): unknown;
  /** The body of the vendor's get-one-model answer. */
  modelInfo(model: string): unknown;
}
