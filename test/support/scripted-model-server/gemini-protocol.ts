/**
 * Gemini (`POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent?alt=sse`), as
 * `@ai-sdk/google` and Gemini CLI speak it.
 *
 * The model and whether to stream come from the URL, not the body. Function calls arrive whole in one
 * chunk (Gemini does not stream arguments), and the finish reason is `STOP` for tool calls too:
 * clients tell a tool-call turn by its `functionCall` parts.
 */
import { arrayOf, contentText, objectOf, parseArguments, stringOf } from './json-value.ts';
import { toolCallId, type ModelAnswer } from './model-answer.ts';
import type {
  RecordedConversation,
  RecordedMessage,
  RecordedTool,
  RecordedToolResult,
} from './recorded-model-request.ts';
import type { RouteFacts, StreamEvent, WireProtocol } from './wire-protocol.ts';

// why: the limits of a current Gemini model, for clients that size their context from the listing.
const INPUT_TOKEN_LIMIT = 1_048_576;
const OUTPUT_TOKEN_LIMIT = 65_536;

/** Creates the Gemini protocol. */
export function createGeminiProtocol(): WireProtocol {
  return {
    protocol: 'gemini',
    readConversation,
    streamEvents,
    jsonAnswer,
    errorBody: (status, message) => ({ error: { code: status, message, status: statusName(status) } }),
    modelList: (models) => ({ models: models.map(modelInfo) }),
    modelInfo,
  };
}

function modelInfo(model: string): unknown {
  return {
    name: `models/${model}`,
    version: '001',
    displayName: model,
    description: 'A scripted model for tests.',
    inputTokenLimit: INPUT_TOKEN_LIMIT,
    outputTokenLimit: OUTPUT_TOKEN_LIMIT,
    supportedGenerationMethods: ['generateContent', 'countTokens'],
  };
}

/** Text of Gemini parts (`{ text }`), leaving out thoughts and non-text parts. */
function partsText(parts: unknown): string {
  return arrayOf(parts)
    .map((part) => objectOf(part))
    .filter((part) => typeof part.text === 'string' && part.thought !== true)
    .map((part) => part.text as string)
    .join('\n');
}

/** A `functionResponse.response` as a tool result: `content` (AI SDK), `output` / `error` (Gemini CLI). */
function functionResult(part: Record<string, unknown>): RecordedToolResult {
  const response = objectOf(part.response);
  const toolCallIdOrName = stringOf(part.id) ?? stringOf(part.name) ?? '';
  if ('content' in response) return { toolCallId: toolCallIdOrName, output: contentText(response.content) };
  if ('output' in response) return { toolCallId: toolCallIdOrName, output: contentText(response.output) };
  if ('error' in response)
    return { toolCallId: toolCallIdOrName, output: contentText(response.error), isError: true };
  return { toolCallId: toolCallIdOrName, output: JSON.stringify(part.response ?? null) };
}

function readConversation(body: unknown, route: RouteFacts): RecordedConversation {
  const request = objectOf(body);
  const messages: RecordedMessage[] = [];
  for (const entry of arrayOf(request.contents)) {
    const content = objectOf(entry);
    const parts = arrayOf(content.parts).map((part) => objectOf(part));
    const text = partsText(parts);
    if (content.role === 'model') {
      const toolCalls = parts
        .filter((part) => part.functionCall !== undefined)
        .map((part) => {
          const call = objectOf(part.functionCall);
          const name = stringOf(call.name) ?? '';
          return { id: stringOf(call.id) ?? name, name, input: call.args ?? {} };
        });
      messages.push({ role: 'assistant', text, toolCalls, toolResults: [] });
      continue;
    }
    const toolResults = parts
      .filter((part) => part.functionResponse !== undefined)
      .map((part) => functionResult(objectOf(part.functionResponse)));
    if (toolResults.length > 0) messages.push({ role: 'tool', text: '', toolCalls: [], toolResults });
    if (toolResults.length === 0 || text !== '')
      messages.push({ role: 'user', text, toolCalls: [], toolResults: [] });
  }
  const tools: RecordedTool[] = arrayOf(request.tools).flatMap((entry) => {
    const tool = objectOf(entry);
    const declared = arrayOf(tool.functionDeclarations).map((item) => {
      const declaration = objectOf(item);
      return {
        name: stringOf(declaration.name) ?? '',
        ...(typeof declaration.description === 'string' ? { description: declaration.description } : {}),
        inputSchema: declaration.parameters ?? declaration.parametersJsonSchema,
      };
    });
    // Built-in tools (`{ googleSearch: {} }`) are named by their key.
    const builtIn = Object.keys(tool)
      .filter((key) => key !== 'functionDeclarations')
      .map((key) => ({ name: key, inputSchema: undefined }));
    return [...declared, ...builtIn];
  });
  const systemInstruction = request.systemInstruction;
  return {
    model: route.model ?? '',
    stream: route.stream ?? false,
    system:
      typeof systemInstruction === 'string'
        ? systemInstruction
        : partsText(objectOf(systemInstruction).parts),
    messages,
    tools,
  };
}

function usageMetadata(answer: ModelAnswer): unknown {
  return {
    promptTokenCount: answer.usage.inputTokens,
    candidatesTokenCount: answer.usage.outputTokens,
    totalTokenCount: answer.usage.inputTokens + answer.usage.outputTokens,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: answer.usage.inputTokens }],
  };
}

function functionCallParts(answer: ModelAnswer): unknown[] {
  return answer.toolCalls.map((call, index) => ({
    functionCall: {
      id: toolCallId(answer, index, 'call_scripted_'),
      name: call.name,
      // A malformed scripted input goes out as the raw string.
      args: parseArguments(call.arguments),
    },
  }));
}

function chunk(answer: ModelAnswer, parts: unknown[], final: boolean): unknown {
  return {
    candidates: [
      {
        content: { parts, role: 'model' },
        index: 0,
        ...(final ? { finishReason: 'STOP' } : {}),
      },
    ],
    ...(final ? { usageMetadata: usageMetadata(answer) } : {}),
    modelVersion: answer.model,
    responseId: `scripted-${answer.sequence}`,
  };
}

function streamEvents(answer: ModelAnswer): StreamEvent[] {
  const partGroups: unknown[][] = answer.textPieces.map((piece) => [{ text: piece }]);
  if (answer.toolCalls.length > 0) partGroups.push(functionCallParts(answer));
  if (partGroups.length === 0) partGroups.push([{ text: '' }]);
  return partGroups.map((parts, index) => ({ data: chunk(answer, parts, index === partGroups.length - 1) }));
}

function jsonAnswer(answer: ModelAnswer): unknown {
  const parts = [...(answer.text !== '' ? [{ text: answer.text }] : []), ...functionCallParts(answer)];
  return chunk(answer, parts.length > 0 ? parts : [{ text: '' }], true);
}

/** The `error.status` the real API uses for an HTTP status. */
function statusName(status: number): string {
  switch (status) {
    case 400:
      return 'INVALID_ARGUMENT';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'NOT_FOUND';
    case 429:
      return 'RESOURCE_EXHAUSTED';
    case 503:
      return 'UNAVAILABLE';
    case 504:
      return 'DEADLINE_EXCEEDED';
    default:
      return status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION';
  }
}
