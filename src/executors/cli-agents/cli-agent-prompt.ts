/**
 * The prompt a CLI agent is started with: Warren's working rules for unattended runs, then the task
 * (instructions, success criteria, the agent definition and its skills); in a fix round, the failed
 * verification's evidence.
 */
import type { ExecutorContext } from '../spec.ts';
import { buildFeedbackPrompt, buildTaskPrompt } from '../task-prompt.ts';

// why: these are what Warren relies on (it commits, verifies and pushes itself) and what an unattended
// run needs (nobody answers questions); the CLI's own system prompt covers how to use its tools.
const workingRules = `You are working autonomously on one task in a git worktree made for it. Nobody will answer questions: decide, act and finish.
- Make the smallest change that fully does the task; read the relevant code first.
- Run the success criteria's commands yourself before you finish.
- Do not commit, push or switch branches: Warren commits, verifies and pushes your work when you finish.
- When the task is done, answer with a short summary of what you changed and why.`;

/**
 * The prompt of one activation. A first run gets the rules and the task. A fix round that continues the
 * CLI's session gets only the evidence (the session holds the rest); one that cannot continue starts
 * afresh with the rules, the task and the evidence.
 */
export function buildCliAgentPrompt(context: ExecutorContext, continuesSession: boolean): string {
  const feedback = context.feedback
    ? buildFeedbackPrompt(context.feedback, context.regressedCriteria)
    : undefined;
  if (feedback !== undefined && continuesSession) return feedback;
  const parts = [workingRules, buildTaskPrompt(context.task, undefined, context)];
  if (feedback !== undefined) parts.push(`# An earlier run of this task failed verification\n\n${feedback}`);
  return parts.join('\n\n');
}
