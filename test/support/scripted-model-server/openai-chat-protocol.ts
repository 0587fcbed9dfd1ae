/**
 * OpenAI chat completions (`POST /v1/chat/completions`), as `@ai-sdk/openai` `.chat()`,
 * `@ai-sdk/openai-compatible` and most OpenAI-compatible agents speak it.
 *
 * A streamed answer carries its usage only when the request asks for it with
 * `stream_options.include_usage`, in one last chunk with no choices, as the real API does.
 */
import { arrayOf, contentText, objectOf, parseArguments, partsText, stringOf } from './json-value.ts';
import { toolCallId, type ModelAnswer } from './model-answer.ts';
import type {
  RecordedConversation,
  RecordedMessage,
  RecordedModelRequest,
  RecordedTool,
} from './recorded-model-request.ts';
import type { StreamEvent, WireProtocol } from './wire-protocol.ts';

// why: a fixed timestamp keeps model listings byte-for-byte stable between runs.
const MODEL_CREATED_AT = 1_735_689_600;

/** Creates the OpenAI chat completions protocol. */
export function createOpenAIChatProtocol(): WireProtocol {
  return {
    protocol: 'openai-chat',
    readConversation,
    streamEvents,
    jsonAnswer,
    errorBody: openAIErrorBody,
    modelList: (models) => ({ object: 'list', data: models.map(modelInfo) }),
    modelInfo,
  };
}

/** An error body in OpenAI's shape (shared with the Responses API). */
export function openAIErrorBody(status: number, message: string): unknown {
  const [type, code] =
    status === 401
      ? ['invalid_request_error', 'invalid_api_key']
      : status === 429
        ? ['requests', 'rate_limit_exceeded']
        : status >= 500
          ? ['server_error', null]
          : ['invalid_request_error', null];
  return { error: { message, type, param: null, code } };
}

/** A model entry in OpenAI's shape (shared with the Responses API). */
export function modelInfo(model: string): unknown {
  return { id: model, object: 'model', created: MODEL_CREATED_AT, owned_by: 'scripted-model-server' };
}

function readConversation(body: unknown): RecordedConversation {
  const request = objectOf(body);
  const system: string[] = [];
  const messages: RecordedMessage[] = [];
  for (const item of arrayOf(request.messages)) {
    const message = objectOf(item);
    const text = partsText(message.content, ['text', 'input_text', 'output_text']);
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(text);
        break;
      case 'assistant':
        messages.push({
          role: 'assistant',
          text,
          toolCalls: arrayOf(message.tool_calls).map((entry) => {
            const call = objectOf(entry);
            const callFunction = objectOf(call.function);
            return {
              id: stringOf(call.id) ?? '',
              name: stringOf(callFunction.name) ?? '',
              input: parseArguments(stringOf(callFunction.arguments) ?? ''),
            };
          }),
          toolResults: [],
        });
        break;
      case 'tool': {
        const result = {
          toolCallId: stringOf(message.tool_call_id) ?? '',
          output: contentText(message.content),
        };
        const previous = messages[messages.length - 1];
        // Consecutive tool messages answer one assistant turn: keep them together, as the other protocols do.
        if (previous?.role === 'tool') previous.toolResults.push(result);
        else messages.push({ role: 'tool', text: '', toolCalls: [], toolResults: [result] });
        break;
      }
      default:
        messages.push({ role: 'user', text, toolCalls: [], toolResults: [] });
    }
  }
  const tools: RecordedTool[] = arrayOf(request.tools).map((item) => {
    const tool = objectOf(item);
    const toolFunction = objectOf(tool.function);
    return {
      name: stringOf(toolFunction.name) ?? stringOf(tool.name) ?? stringOf(tool.type) ?? '',
      ...(typeof toolFunction.description === 'string' ? { description: toolFunction.description } : {}),
      inputSchema: toolFunction.parameters,
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

function usage(answer: ModelAnswer): unknown {
  return {
    prompt_tokens: answer.usage.inputTokens,
    completion_tokens: answer.usage.outputTokens,
    total_tokens: answer.usage.inputTokens + answer.usage.outputTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function finishReason(answer: ModelAnswer): string {
  return answer.stopReason === 'tool-use' ? 'tool_calls' : 'stop';
}

function streamEvents(answer: ModelAnswer, request: RecordedModelRequest): StreamEvent[] {
  const includeUsage = objectOf(objectOf(request.body).stream_options).include_usage === true;
  const base = {
    id: `chatcmpl-scripted-${answer.sequence}`,
    object: 'chat.completion.chunk',
    created: answer.createdAt,
    model: answer.model,
    system_fingerprint: null,
  };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): StreamEvent => ({
    data: {
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    },
  });
  // why: an empty `content` opens a text part in clients, so an answer without text starts with null.
  const events = [chunk({ role: 'assistant', content: answer.text === '' ? null : '', refusal: null })];
  for (const piece of answer.textPieces) events.push(chunk({ content: piece }));
  answer.toolCalls.forEach((call, index) => {
    events.push(
      chunk({
        tool_calls: [
          {
            index,
            id: toolCallId(answer, index, 'call_scripted_'),
            type: 'function',
            function: { name: call.name, arguments: '' },
          },
        ],
      }),
    );
    for (const piece of call.argumentPieces) {
      events.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  events.push(chunk({}, finishReason(answer)));
  if (includeUsage) events.push({ data: { ...base, choices: [], usage: usage(answer) } });
  events.push({ data: '[DONE]' });
  return events;
}

function jsonAnswer(answer: ModelAnswer): unknown {
  const toolCalls = answer.toolCalls.map((call, index) => ({
    id: toolCallId(answer, index, 'call_scripted_'),
    type: 'function',
    function: { name: call.name, arguments: call.arguments },
  }));
  return {
    id: `chatcmpl-scripted-${answer.sequence}`,
    object: 'chat.completion',
    created: answer.createdAt,
    model: answer.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: answer.text === '' ? null : answer.text,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          annotations: [],
        },
        logprobs: null,
        finish_reason: finishReason(answer),
      },
    ],
    usage: usage(answer),
    system_fingerprint: null,
  };
}
