/**
 * One tool of a connected MCP server, offered to the model as an {@link AgentTool} named `server__tool`.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorCode, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { sha256 } from '../../../core/sha256.ts';
import type { AgentTool, AgentToolResult } from '../agent-tool.ts';
import { redactSecrets } from '../../redact-secrets.ts';

/** What a wrapped MCP tool needs from its server's connection. */
export interface McpToolOptions {
  /** The server's configured name (the tool prefix). */
  serverName: string;
  /** The tool as the server listed it. */
  tool: Tool;
  /** The name offered to the model; see {@link mcpToolName}. */
  name: string;
  client: Client;
  /** Values replaced with `[REDACTED]` in everything given back to the model. */
  secretValues: readonly string[];
  /** A call not answered in this time is an error result. */
  callTimeoutMs: number;
  /** Why calls can no longer reach the server (closed activation, exited process), or undefined. */
  unavailableReason(): string | undefined;
}

// why: model APIs (Anthropic, OpenAI, Gemini) accept tool names matching ^[a-zA-Z0-9_-]{1,64}$.
const maxToolNameLength = 64;
// why: 8 hex digits of sha256 tell apart names that only differ past the cut or in sanitised characters.
const nameHashLength = 8;
// why: about 12k tokens: a whole source file fits, a runaway listing does not; the loop caps again.
const maxOutputCharacters = 50_000;
// why: descriptions go into every model request; a server cannot fill the context with one.
const maxDescriptionCharacters = 4_000;

/**
 * The model-facing name of a server's tool: `server__tool` with characters outside `[a-zA-Z0-9_-]` made
 * `_`. A name that is too long, or already in `taken`, is cut and ends in `_` plus a hash of the tool's
 * original name, so it stays unique and stable between activations.
 */
export function mcpToolName(serverName: string, toolName: string, taken: ReadonlySet<string>): string {
  const prefix = `${serverName}__`;
  const plain = `${prefix}${toolName.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
  if (plain.length <= maxToolNameLength && !taken.has(plain)) return plain;
  const hash = sha256(toolName).toString('hex').slice(0, nameHashLength);
  return `${plain.slice(0, maxToolNameLength - nameHashLength - 1)}_${hash}`;
}

/**
 * Wraps one MCP tool. Its input schema is the server's; `parseInput` only checks that the input is an
 * object (the server validates the rest and answers with an error result the model can read). `execute`
 * never throws: protocol errors, timeouts, aborts and a gone server become error results.
 */
export function createMcpTool(options: McpToolOptions): AgentTool {
  const { serverName, tool } = options;
  const redact = (text: string) => redactSecrets(text, options.secretValues);
  const description = redact(
    truncate(
      tool.description ?? tool.title ?? `Tool "${tool.name}" of the MCP server "${serverName}".`,
      maxDescriptionCharacters,
    ),
  );
  const failure = (message: string): AgentToolResult => ({
    output: truncate(redact(`MCP tool ${serverName}/${tool.name} failed: ${message}`), maxOutputCharacters),
    isError: true,
  });

  return {
    name: options.name,
    description,
    kind: 'other',
    inputJsonSchema: tool.inputSchema,
    parseInput(input) {
      if (input === undefined || input === null) return { success: true, value: {} };
      if (typeof input !== 'object' || Array.isArray(input)) {
        return { success: false, error: 'input: must be an object' };
      }
      return { success: true, value: input };
    },
    async execute(input, context) {
      const unavailable = options.unavailableReason();
      if (unavailable !== undefined) return failure(unavailable);
      if (context.abortSignal.aborted) return failure('the call was aborted');
      try {
        const result = (await options.client.callTool(
          { name: tool.name, arguments: (input ?? {}) as Record<string, unknown> },
          undefined,
          { signal: context.abortSignal, timeout: options.callTimeoutMs },
        )) as CallToolResult;
        return {
          output: truncate(redact(renderResult(result)), maxOutputCharacters),
          isError: result.isError === true,
        };
      } catch (error) {
        const reason = options.unavailableReason();
        return failure(
          describeCallError(error, options.callTimeoutMs, context.abortSignal) +
            (reason ? `; ${reason}` : ''),
        );
      }
    },
  };
}

/** The text of a tool result: text parts joined, other parts summarised one line each. */
function renderResult(result: CallToolResult): string {
  const parts = result.content.map((part) => {
    switch (part.type) {
      case 'text':
        return part.text;
      case 'image':
        return `[image: ${part.mimeType}, ${base64Bytes(part.data)} bytes]`;
      case 'audio':
        return `[audio: ${part.mimeType}, ${base64Bytes(part.data)} bytes]`;
      case 'resource_link':
        return `[resource link: ${part.uri}${part.name ? ` (${part.name})` : ''}]`;
      case 'resource': {
        const mimeType = part.resource.mimeType ? `, ${part.resource.mimeType}` : '';
        return 'text' in part.resource
          ? `[resource: ${part.resource.uri}${mimeType}]\n${part.resource.text}`
          : `[resource: ${part.resource.uri}${mimeType}, ${base64Bytes(part.resource.blob)} bytes]`;
      }
      default:
        return `[${(part as { type: string }).type} content]`;
    }
  });
  if (parts.length === 0 && result.structuredContent !== undefined) {
    return JSON.stringify(result.structuredContent);
  }
  return parts.join('\n');
}

function describeCallError(error: unknown, timeoutMs: number, abortSignal: AbortSignal): string {
  if (abortSignal.aborted) return 'the call was aborted';
  if (error instanceof McpError) {
    if (error.code === Number(ErrorCode.RequestTimeout)) return `no answer within ${timeoutMs} ms`;
    if (error.code === Number(ErrorCode.ConnectionClosed)) return 'the connection to the server closed';
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

function base64Bytes(data: string): number {
  return Math.floor((data.replace(/=+$/, '').length * 3) / 4);
}

function truncate(text: string, maxCharacters: number): string {
  if (text.length <= maxCharacters) return text;
  const omitted = text.length - maxCharacters;
  return `${text.slice(0, maxCharacters)}\n[… ${omitted} more characters cut …]`;
}
