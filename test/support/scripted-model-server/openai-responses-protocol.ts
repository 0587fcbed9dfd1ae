/**
 * OpenAI Responses (`POST /v1/responses`), as `@ai-sdk/openai` `.responses()` and Codex speak it.
 *
 * Input is a flat list of items: messages, `function_call`s and `function_call_output`s. Clients that
 * let the server store responses (`store: true`, the AI SDK's default) send earlier assistant text back
 * as `{ type: 'item_reference', id }`; the protocol remembers the items it answered with, so that those
 * references read back as the text they stand for.
 *
 * A scripted call to a tool the request offers as `{ type: 'custom' }` (a freeform tool such as Codex's
 * `apply_patch`) goes out as a `custom_tool_call` whose `input` is the scripted input string, streamed
 * with `response.custom_tool_call_input.*` events, as the real API answers custom tools.
 */
import { arrayOf, contentText, objectOf, parseArguments, partsText, stringOf } from './json-value.ts';
import { toolCallId, type ModelAnswer } from './model-answer.ts';
import { modelInfo, openAIErrorBody } from './openai-chat-protocol.ts';
import type {
  RecordedConversation,
  RecordedMessage,
  RecordedModelRequest,
  RecordedTool,
} from './recorded-model-request.ts';
import type { StreamEvent, WireProtocol } from './wire-protocol.ts';

// why: item_reference only points at recent answers; the cap keeps a bench that runs for hours
// from growing the memory without bound.
const REMEMBERED_ITEMS_LIMIT = 10_000;

const TEXT_PART_TYPES = ['input_text', 'output_text', 'text'] as const;

/** Creates the OpenAI Responses protocol, with its own memory of answered output items. */
export function createOpenAIResponsesProtocol(): WireProtocol {
  const rememberedItems = new Map<string, Record<string, unknown>>();
  const remember = (items: Array<Record<string, unknown>>): void => {
    for (const item of items) {
      rememberedItems.set(item.id as string, item);
      if (rememberedItems.size > REMEMBERED_ITEMS_LIMIT) {
        rememberedItems.delete(rememberedItems.keys().next().value!);
      }
    }
  };
  return {
    protocol: 'openai-responses',
    readConversation: (body) => readConversation(body, rememberedItems),
    streamEvents: (answer, request) => {
      const custom = customToolNames(request);
      const events = streamEvents(answer, custom);
      remember(outputItems(answer, custom));
      return events;
    },
    jsonAnswer: (answer, request) => {
      const custom = customToolNames(request);
      remember(outputItems(answer, custom));
      return response(answer, 'completed', custom);
    },
    errorBody: openAIErrorBody,
    modelList: (models) => ({ object: 'list', data: models.map(modelInfo) }),
    modelInfo,
  };
}

function readConversation(
  body: unknown,
  rememberedItems: Map<string, Record<string, unknown>>,
): RecordedConversation {
  const request = objectOf(body);
  const system: string[] = typeof request.instructions === 'string' ? [request.instructions] : [];
  const messages: RecordedMessage[] = [];
  const input =
    typeof request.input === 'string' ? [{ role: 'user', content: request.input }] : arrayOf(request.input);
  // Whether the previous item was assistant output, so that its function calls join that message.
  let afterAssistantOutput = false;
  for (const entry of input) {
    let item = objectOf(entry);
    if (item.type === 'item_reference') item = rememberedItems.get(stringOf(item.id) ?? '') ?? {};
    const type = stringOf(item.type) ?? (item.role !== undefined ? 'message' : '');
    const previous = messages[messages.length - 1];
    switch (type) {
      case 'message': {
        const text = partsText(item.content, TEXT_PART_TYPES);
        if (item.role === 'system' || item.role === 'developer') {
          system.push(text);
          afterAssistantOutput = false;
        } else {
          const role = item.role === 'assistant' ? 'assistant' : 'user';
          messages.push({ role, text, toolCalls: [], toolResults: [] });
          afterAssistantOutput = role === 'assistant';
        }
        break;
      }
      case 'function_call':
      case 'custom_tool_call': {
        const call = {
          id: stringOf(item.call_id) ?? '',
          name: stringOf(item.name) ?? '',
          input: type === 'function_call' ? parseArguments(stringOf(item.arguments) ?? '') : item.input,
        };
        if (afterAssistantOutput && previous?.role === 'assistant') previous.toolCalls.push(call);
        else messages.push({ role: 'assistant', text: '', toolCalls: [call], toolResults: [] });
        afterAssistantOutput = true;
        break;
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        const result = { toolCallId: stringOf(item.call_id) ?? '', output: contentText(item.output) };
        if (previous?.role === 'tool') previous.toolResults.push(result);
        else messages.push({ role: 'tool', text: '', toolCalls: [], toolResults: [result] });
        afterAssistantOutput = false;
        break;
      }
      default:
        // Reasoning items, unresolved references and hosted-tool items carry no conversation text.
        break;
    }
  }
  const tools: RecordedTool[] = arrayOf(request.tools).map((entry) => {
    const tool = objectOf(entry);
    return {
      name: stringOf(tool.name) ?? stringOf(tool.type) ?? '',
      ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
      inputSchema: tool.parameters ?? tool.format,
    };
  });
  return {
    model: stringOf(request.model) ?? '',
    stream: request.stream === true,
    system: system.join('\n'),
    messages,
    tools,
  };
}

/** Names of the tools the request offers as freeform `custom` tools (their calls carry a raw string). */
function customToolNames(request: RecordedModelRequest): ReadonlySet<string> {
  const names = arrayOf(objectOf(request.body).tools)
    .map((entry) => objectOf(entry))
    .filter((tool) => tool.type === 'custom')
    .map((tool) => stringOf(tool.name) ?? '');
  return new Set(names);
}

function messageId(answer: ModelAnswer): string {
  return `msg_scripted_${answer.sequence}`;
}

function functionCallItemId(answer: ModelAnswer, index: number): string {
  return `fc_scripted_${answer.sequence}_${index}`;
}

function textPart(text: string): Record<string, unknown> {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

function messageItem(answer: ModelAnswer, status: 'in_progress' | 'completed'): Record<string, unknown> {
  return {
    id: messageId(answer),
    type: 'message',
    status,
    role: 'assistant',
    content: status === 'completed' ? [textPart(answer.text)] : [],
  };
}

function customToolCallItemId(answer: ModelAnswer, index: number): string {
  return `ctc_scripted_${answer.sequence}_${index}`;
}

/** A `function_call` item, or a `custom_tool_call` one (its `input` the raw text) for a custom tool. */
function toolCallItem(
  answer: ModelAnswer,
  index: number,
  status: 'in_progress' | 'completed',
  custom: ReadonlySet<string>,
): Record<string, unknown> {
  const call = answer.toolCalls[index]!;
  const text = status === 'completed' ? call.arguments : '';
  const callId = toolCallId(answer, index, 'call_scripted_');
  if (custom.has(call.name)) {
    return {
      id: customToolCallItemId(answer, index),
      type: 'custom_tool_call',
      status,
      call_id: callId,
      name: call.name,
      input: text,
    };
  }
  return {
    id: functionCallItemId(answer, index),
    type: 'function_call',
    status,
    arguments: text,
    call_id: callId,
    name: call.name,
  };
}

function outputItems(answer: ModelAnswer, custom: ReadonlySet<string>): Array<Record<string, unknown>> {
  return [
    ...(answer.text !== '' ? [messageItem(answer, 'completed')] : []),
    ...answer.toolCalls.map((_call, index) => toolCallItem(answer, index, 'completed', custom)),
  ];
}

function response(
  answer: ModelAnswer,
  status: 'in_progress' | 'completed',
  custom: ReadonlySet<string>,
): Record<string, unknown> {
  const completed = status === 'completed';
  return {
    id: `resp_scripted_${answer.sequence}`,
    object: 'response',
    created_at: answer.createdAt,
    status,
    error: null,
    incomplete_details: null,
    model: answer.model,
    output: completed ? outputItems(answer, custom) : [],
    parallel_tool_calls: true,
    usage: completed
      ? {
          input_tokens: answer.usage.inputTokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: answer.usage.outputTokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: answer.usage.inputTokens + answer.usage.outputTokens,
        }
      : null,
  };
}

function streamEvents(answer: ModelAnswer, custom: ReadonlySet<string>): StreamEvent[] {
  const events: StreamEvent[] = [];
  const add = (type: string, fields: Record<string, unknown>): void => {
    events.push({ event: type, data: { type, sequence_number: events.length, ...fields } });
  };
  add('response.created', { response: response(answer, 'in_progress', custom) });
  add('response.in_progress', { response: response(answer, 'in_progress', custom) });
  let outputIndex = 0;
  if (answer.text !== '') {
    const itemId = messageId(answer);
    const at = { item_id: itemId, output_index: outputIndex, content_index: 0 };
    add('response.output_item.added', {
      output_index: outputIndex,
      item: messageItem(answer, 'in_progress'),
    });
    add('response.content_part.added', { ...at, part: textPart('') });
    for (const piece of answer.textPieces)
      add('response.output_text.delta', { ...at, delta: piece, logprobs: [] });
    add('response.output_text.done', { ...at, text: answer.text, logprobs: [] });
    add('response.content_part.done', { ...at, part: textPart(answer.text) });
    add('response.output_item.done', { output_index: outputIndex, item: messageItem(answer, 'completed') });
    outputIndex++;
  }
  answer.toolCalls.forEach((call, index) => {
    const isCustom = custom.has(call.name);
    const itemId = isCustom ? customToolCallItemId(answer, index) : functionCallItemId(answer, index);
    const at = { item_id: itemId, output_index: outputIndex };
    add('response.output_item.added', {
      output_index: outputIndex,
      item: toolCallItem(answer, index, 'in_progress', custom),
    });
    if (isCustom) {
      for (const piece of call.argumentPieces)
        add('response.custom_tool_call_input.delta', { ...at, delta: piece });
      add('response.custom_tool_call_input.done', { ...at, input: call.arguments });
    } else {
      for (const piece of call.argumentPieces)
        add('response.function_call_arguments.delta', { ...at, delta: piece });
      add('response.function_call_arguments.done', { ...at, arguments: call.arguments });
    }
    add('response.output_item.done', {
      output_index: outputIndex,
      item: toolCallItem(answer, index, 'completed', custom),
    });
    outputIndex++;
  });
  add('response.completed', { response: response(answer, 'completed', custom) });
  return events;
}
