/**
 * Small readers of a recorded request, for `when` predicates and assertions:
 * `when: (request) => lastToolResult(request)?.output.includes('FAIL') ?? false`.
 */
import type { RecordedModelRequest, RecordedToolResult } from './recorded-model-request.ts';

/** The text of the newest `user` message, or `''` when there is none. */
export function lastUserText(request: RecordedModelRequest): string {
  for (let index = request.messages.length - 1; index >= 0; index--) {
    const message = request.messages[index]!;
    if (message.role === 'user') return message.text;
  }
  return '';
}

/** The newest tool result in the conversation, if any. */
export function lastToolResult(request: RecordedModelRequest): RecordedToolResult | undefined {
  for (let index = request.messages.length - 1; index >= 0; index--) {
    const results = request.messages[index]!.toolResults;
    if (results.length > 0) return results[results.length - 1];
  }
  return undefined;
}

/** Whether any tool result in the conversation matches `predicate` (any result at all without one). */
export function hasToolResult(
  request: RecordedModelRequest,
  predicate: (result: RecordedToolResult) => boolean = () => true,
): boolean {
  return request.messages.some((message) => message.toolResults.some(predicate));
}

/** Whether the newest message carries tool results, i.e. the model is asked to go on after its tools ran. */
export function endsWithToolResult(request: RecordedModelRequest): boolean {
  const last = request.messages[request.messages.length - 1];
  return last !== undefined && last.toolResults.length > 0;
}

/** Whether the client offered a tool of this name. */
export function offersTool(request: RecordedModelRequest, name: string): boolean {
  return request.tools.some((tool) => tool.name === name);
}

/**
 * Everything the model was shown, as one string: system text, every message's text, tool call inputs
 * and tool results. For "no secret leaked into the prompt" assertions.
 */
export function allText(request: Pick<RecordedModelRequest, 'system' | 'messages'>): string {
  const lines = [request.system];
  for (const message of request.messages) {
    lines.push(message.text);
    for (const call of message.toolCalls)
      lines.push(typeof call.input === 'string' ? call.input : JSON.stringify(call.input));
    for (const result of message.toolResults) lines.push(result.output);
  }
  return lines.filter((line) => line.length > 0).join('\n');
}
