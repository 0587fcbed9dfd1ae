/** Test helper: calls a tool the way the agent loop does, checking the input first. */
import type { AgentTool, AgentToolContext, AgentToolResult } from '../../agent-tool.ts';

/** Parses `input` with the tool's schema and runs it; a parse failure throws (tests pass valid input). */
export function callTool(
  tool: AgentTool,
  input: unknown,
  context: AgentToolContext,
): Promise<AgentToolResult> {
  const parsed = tool.parseInput(input);
  if (!parsed.success) throw new Error(`invalid input for ${tool.name}: ${parsed.error}`);
  return tool.execute(parsed.value, context);
}
