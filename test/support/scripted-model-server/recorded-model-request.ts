/**
 * The protocol-neutral record of one request to the scripted model server.
 */

/** The vendor wire protocol a request arrived in. */
export type ModelProtocol =
  /** Anthropic Messages (`POST /v1/messages`). */
  | 'anthropic'
  /** OpenAI chat completions (`POST /v1/chat/completions`). */
  | 'openai-chat'
  /** OpenAI Responses (`POST /v1/responses`). */
  | 'openai-responses'
  /** Gemini (`POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent`). */
  | 'gemini';

/** A tool call the assistant made earlier in the conversation, as the client sent it back. */
export interface RecordedToolCall {
  id: string;
  name: string;
  /** Parsed JSON arguments; the raw string when the client sent arguments that do not parse. */
  input: unknown;
}

/** A tool result the client sent. `output` is text: content parts are joined, objects JSON-encoded. */
export interface RecordedToolResult {
  /** The call it answers; Gemini results without an id carry the function name here. */
  toolCallId: string;
  output: string;
  isError?: boolean;
}

/** One message of the conversation. Tool results sit in their own `tool` messages in every protocol. */
export interface RecordedMessage {
  role: 'user' | 'assistant' | 'tool';
  /** Text parts joined with newlines; reasoning and images are left out. */
  text: string;
  toolCalls: RecordedToolCall[];
  toolResults: RecordedToolResult[];
}

/** A tool the client offered the model. */
export interface RecordedTool {
  name: string;
  description?: string;
  /** The JSON schema as sent (`input_schema`, `parameters`, `parametersJsonSchema`); vendor tools have none. */
  inputSchema: unknown;
}

/** One generation request, normalised so that tests and scripts read every protocol alike. */
export interface RecordedModelRequest {
  /** Position in `server.requests`, from 0; error messages call it `request #index`. */
  index: number;
  protocol: ModelProtocol;
  /** The request path with its query, as received. */
  path: string;
  model: string;
  stream: boolean;
  /** Lower-cased header names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** All system / developer / `instructions` / `systemInstruction` text, joined with newlines. */
  system: string;
  messages: RecordedMessage[];
  tools: RecordedTool[];
  /** The raw parsed JSON body (the raw text when it was not JSON). */
  body: unknown;
  /** What the server answered: the played turn's label, `'fault'` (http-error, cut-stream) or `'error'`. */
  answeredWith?: string;
  /** The label of the turn that was played, faults included: its `name`, or `turn #i` (its script position). */
  turnName?: string;
}

/** The conversation part of a {@link RecordedModelRequest}, as each protocol reads it from a body. */
export type RecordedConversation = Pick<
  RecordedModelRequest,
  'model' | 'stream' | 'system' | 'messages' | 'tools'
>;
