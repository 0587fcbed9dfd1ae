/**
 * The agent loop's system prompt: the agent definition's own, plus Warren's working rules. The task and
 * fix-round messages are shared with the CLI agents (`../task-prompt.ts`).
 */

/** The system prompt used when the agent definition has none. */
export const DEFAULT_AGENT_SYSTEM_PROMPT =
  'You are a careful senior software engineer working autonomously on one task in a git repository.';

// why: these rules are what Warren relies on (it commits, verifies and pushes itself), so every agent
// definition gets them, whatever its own prompt says.
const workingRules = `How you work:
- You are in a git worktree made for this task. Use the tools to read, search, edit and run commands; every path is relative to the worktree root.
- Read the relevant code before changing it. Make the smallest change that fully does the task.
- Run the project's tests or the success criteria's commands yourself before you finish.
- Do not commit, push or switch branches: Warren commits, verifies and pushes your work when you finish.
- Call report_progress now and then on long work so people can follow.
- When the task is done, answer with a short summary of what you changed and why, and call no tool.`;

/** The system prompt: the definition's own, then Warren's working rules. */
export function buildSystemPrompt(definitionPrompt: string | undefined): string {
  return `${(definitionPrompt ?? DEFAULT_AGENT_SYSTEM_PROMPT).trim()}\n\n${workingRules}`;
}
