/**
 * The tool interface of Warren's agent loop: what the built-in tools (`tools/`) and the tools of MCP
 * servers (`mcp/`) both implement, so the loop offers them to the model the same way.
 *
 * A tool describes its input as JSON Schema (what the model sees) and checks the model's input itself
 * (`parseInput`): malformed input from a model is an ordinary outcome, answered with a tool error the model
 * can read, never a crash of the loop.
 */
import { z } from 'zod';
import type { Logger } from '../../core/logger.ts';

/** What a tool may use while it runs. Tools are confined to `worktreePath`. */
export interface AgentToolContext {
  /** Absolute, real path of the attempt's worktree; every path a tool touches resolves inside it. */
  worktreePath: string;
  /** Environment for child processes (the task's granted environment, never the runner's own). */
  env: Record<string, string>;
  abortSignal: AbortSignal;
  /** Tells the runner the agent is alive, with an optional progress message. */
  heartbeat(progress?: string): void;
  /** Records a process group a tool started (see `ExecutorContext.trackProcessGroup`). */
  trackProcessGroup?(processGroupId: number): () => void;
  logger: Logger;
}

/** A change a tool made to a file of the worktree (paths relative to the worktree, `/`-separated). */
export interface AgentFileChange {
  path: string;
  change: 'added' | 'modified' | 'deleted';
}

/** What a tool call returns to the model. */
export interface AgentToolResult {
  /** Text given back to the model. Tools cap it; the loop caps it again. */
  output: string;
  /** True when the call failed; the output then says why, in words the model can act on. */
  isError?: boolean;
  /** Files the call changed. */
  fileChanges?: AgentFileChange[];
}

/**
 * What a tool does, for loop and progress detection.
 * - `read`: only looks (read, list, grep, git status): repeated reads with no change are no progress.
 * - `write`: changes files.
 * - `execute`: runs commands (may change files or reveal new information).
 * - `other`: anything else (progress reports, MCP tools of unknown effect).
 */
export type AgentToolKind = 'read' | 'write' | 'execute' | 'other';

/** A tool the agent loop can offer to a model. */
export interface AgentTool {
  /** Unique within one activation; MCP tools are prefixed with their server's name (`server__tool`). */
  readonly name: string;
  readonly description: string;
  readonly kind: AgentToolKind;
  /** JSON Schema (draft 2020-12 or 7) of the input object, as offered to the model. */
  readonly inputJsonSchema: Record<string, unknown>;
  /** Checks the model's input; on failure `error` names the field and the reason. */
  parseInput(input: unknown): { success: true; value: unknown } | { success: false; error: string };
  /** Runs the call. Expected failures are results with `isError`, not throws. */
  execute(input: unknown, context: AgentToolContext): Promise<AgentToolResult>;
}

/** Definition of a tool whose input is a zod schema; see {@link defineAgentTool}. */
export interface AgentToolDefinition<Schema extends z.ZodType> {
  name: string;
  description: string;
  kind: AgentToolKind;
  inputSchema: Schema;
  execute(input: z.output<Schema>, context: AgentToolContext): Promise<AgentToolResult>;
}

/** Builds an {@link AgentTool} from a zod schema: JSON Schema for the model, zod for checking its input. */
export function defineAgentTool<Schema extends z.ZodType>(
  definition: AgentToolDefinition<Schema>,
): AgentTool {
  const inputJsonSchema = z.toJSONSchema(definition.inputSchema, { io: 'input' }) as Record<string, unknown>;
  return {
    name: definition.name,
    description: definition.description,
    kind: definition.kind,
    inputJsonSchema,
    parseInput(input) {
      const parsed = definition.inputSchema.safeParse(input);
      if (parsed.success) return { success: true, value: parsed.data };
      return { success: false, error: formatZodIssues(parsed.error) };
    },
    execute: (input, context) => definition.execute(input as z.output<Schema>, context),
  };
}

/** `field: reason; field: reason` from a zod error, the way a model can fix its call. */
function formatZodIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'input'}: ${issue.message}`)
    .join('; ');
}
