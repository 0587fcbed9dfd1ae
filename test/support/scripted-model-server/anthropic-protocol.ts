/**
 * Anthropic Messages (`POST /v1/messages`), as `@ai-sdk/anthropic` and Claude Code speak it.
 *
 * Tool results arrive as `tool_result` blocks inside `user` messages; they are recorded as `tool`
 * messages (before any text of the same user message, the order the API requires). Messages with
 * `role: 'system'` inside `messages` (Claude Code puts its environment block there, after the user's
 * prompt) are system text: they are added to `system`, so `lastUserText` still finds the user's words.
 */
import { arrayOf, contentText, objectOf, parseArguments, partsText, stringOf } from './json-value.ts';
import { toolCallId, type ModelAnswer } from './model-answer.ts';
import type { RecordedConversation, RecordedMessage, RecordedTool } from './recorded-model-request.ts';
import type { StreamEvent, WireProtocol } from './wire-protocol.ts';

// why: a fixed date keeps model listings byte-for-byte stable between runs.
const MODEL_CREATED_AT = '2025-01-01T00:00:00Z';

/** Creates the Anthropic Messages protocol. */
export function createAnthropicProtocol(): WireProtocol {
  return {
    protocol: 'anthropic',
    readConversation,
    streamEvents,
    jsonAnswer,
    errorBody: (status, message) => ({ type: 'error', error: { type: errorType(status), message } }),
    modelList: (models) => ({
      data: models.map(modelInfo),
      has_more: false,
      first_id: models[0] ?? null,
      last_id: models[models.length - 1] ?? null,
    }),
    modelInfo,
  };
}

function modelInfo(model: string): unknown {
  return { type: 'model', id: model, display_name: model, created_at: MODEL_CREATED_AT };
}

function readConversation(body: unknown): RecordedConversation {
  const request = objectOf(body);
  const messages: RecordedMessage[] = [];
  const systemTexts = [partsText(request.system, ['text'])];
  for (const item of arrayOf(request.messages)) {
    const message = objectOf(item);
    const blocks =
      typeof message.content === 'string'
        ? [{ type: 'text', text: message.content }]
        : arrayOf(message.content);
    const text = partsText(blocks, ['text']);
    if (message.role === 'system') {
      systemTexts.push(text);
      continue;
    }
    if (message.role === 'assistant') {
      const toolCalls = blocks
        .map((block) => objectOf(block))
        .filter((block) => block.type === 'tool_use')
        .map((block) => ({
          id: stringOf(block.id) ?? '',
          name: stringOf(block.name) ?? '',
          input: block.input,
        }));
      messages.push({ role: 'assistant', text, toolCalls, toolResults: [] });
      continue;
    }
    const toolResults = blocks
      .map((block) => objectOf(block))
      .filter((block) => block.type === 'tool_result')
      .map((block) => ({
        toolCallId: stringOf(block.tool_use_id) ?? '',
        output: contentText(block.content),
        ...(block.is_error === true ? { isError: true } : {}),
      }));
    if (toolResults.length > 0) messages.push({ role: 'tool', text: '', toolCalls: [], toolResults });
    if (toolResults.length === 0 || text !== '')
      messages.push({ role: 'user', text, toolCalls: [], toolResults: [] });
  }
  const tools: RecordedTool[] = arrayOf(request.tools).map((item) => {
    const tool = objectOf(item);
    return {
      name: stringOf(tool.name) ?? stringOf(tool.type) ?? '',
      ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
      inputSchema: tool.input_schema,
    };
  });
  return {
    model: stringOf(request.model) ?? '',
    stream: request.stream === true,
    system: systemTexts.filter((text) => text !== '').join('\n'),
    messages,
    tools,
  };
}

function usage(answer: ModelAnswer): Record<string, number> {
  return {
    input_tokens: answer.usage.inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: answer.usage.outputTokens,
  };
}

function stopReason(answer: ModelAnswer): string {
  return answer.stopReason === 'tool-use' ? 'tool_use' : 'end_turn';
}

function streamEvents(answer: ModelAnswer): StreamEvent[] {
  const events: StreamEvent[] = [];
  const add = (data: { type: string } & Record<string, unknown>): void => {
    events.push({ event: data.type, data });
  };
  add({
    type: 'message_start',
    message: {
      id: `msg_scripted_${answer.sequence}`,
      type: 'message',
      role: 'assistant',
      model: answer.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      // why: the real API reports the final output count only in message_delta; 1 is what it starts with.
      usage: { ...usage(answer), output_tokens: 1 },
    },
  });
  add({ type: 'ping' });
  let index = 0;
  if (answer.textPieces.length > 0) {
    add({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
    for (const piece of answer.textPieces) {
      add({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
    }
    add({ type: 'content_block_stop', index });
    index++;
  }
  answer.toolCalls.forEach((call, callIndex) => {
    add({
      type: 'content_block_start',
      index,
      content_block: {
        type: 'tool_use',
        id: toolCallId(answer, callIndex, 'toolu_scripted_'),
        name: call.name,
        input: {},
      },
    });
    // why: the real API opens every tool input with an empty partial_json before the pieces.
    for (const piece of ['', ...call.argumentPieces]) {
      add({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
    }
    add({ type: 'content_block_stop', index });
    index++;
  });
  add({
    type: 'message_delta',
    delta: { stop_reason: stopReason(answer), stop_sequence: null },
    usage: usage(answer),
  });
  add({ type: 'message_stop' });
  return events;
}

function jsonAnswer(answer: ModelAnswer): unknown {
  const content: unknown[] = [];
  if (answer.text !== '') content.push({ type: 'text', text: answer.text });
  answer.toolCalls.forEach((call, callIndex) => {
    content.push({
      type: 'tool_use',
      id: toolCallId(answer, callIndex, 'toolu_scripted_'),
      name: call.name,
      // A malformed scripted input goes out as the raw string.
      input: parseArguments(call.arguments),
    });
  });
  return {
    id: `msg_scripted_${answer.sequence}`,
    type: 'message',
    role: 'assistant',
    model: answer.model,
    content,
    stop_reason: stopReason(answer),
    stop_sequence: null,
    usage: usage(answer),
  };
}

/** The `error.type` the real API uses for a status. */
function errorType(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}
