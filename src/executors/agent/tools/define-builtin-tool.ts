/** The wrapper every built-in tool is defined with. */
import type { z } from 'zod';
import { defineAgentTool } from '../agent-tool.ts';
import type { AgentTool, AgentToolDefinition } from '../agent-tool.ts';
import { toolError } from './tool-error.ts';

/**
 * {@link defineAgentTool}, plus the guarantee the tool interface asks for: a call never throws. An
 * unexpected exception (a bug, an I/O error nobody foresaw) becomes a tool error result naming the tool,
 * and is logged with its stack; the model sees only the message.
 */
export function defineBuiltinTool<Schema extends z.ZodType>(
  definition: AgentToolDefinition<Schema>,
): AgentTool {
  return defineAgentTool({
    ...definition,
    async execute(input, context) {
      try {
        return await definition.execute(input, context);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        context.logger.warn(
          { tool: definition.name, error: error instanceof Error ? error.stack : message },
          'built-in tool failed unexpectedly',
        );
        return toolError(`${definition.name} failed unexpectedly: ${message}`);
      }
    },
  });
}
