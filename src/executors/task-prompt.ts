/**
 * The prompts every model-driven executor (the agent loop, CLI agents) builds from a task: the task message
 * (instructions, success criteria, the agent definition and its skills, optionally the repository layout)
 * and the corrective message of a verify-fix round (the failing criteria with their output, and what
 * already passed).
 */
import type { ClaimedAgent } from '../core/claimed-agent.ts';
import type { Task, VerificationRound } from '../core/types.ts';
import { buildAgentContextPrompt } from './agent-context-prompt.ts';

// why: a layout beyond a few hundred paths costs many tokens and adds little; the agent can list and
// search for the rest.
const maxLayoutEntries = 300;
// why: the tail of a failing command holds the assertion and the stack; 8 000 characters is plenty.
const maxFeedbackOutputCharacters = 8_000;

/** The attempt's agent definition and where its skills lie (`ExecutorContext.agent`, `agentSkillsDir`). */
export interface TaskPromptAgent {
  agent?: ClaimedAgent;
  agentSkillsDir?: string;
}

/**
 * The first user message: what to do, how it will be checked, the agent it runs as and its skills (given
 * `agent.agent`, see `agent-context-prompt.ts`), and (given `trackedFiles`) what the repository holds.
 */
export function buildTaskPrompt(task: Task, trackedFiles?: string[], agent: TaskPromptAgent = {}): string {
  const sections = [`# Task: ${task.title}`];
  sections.push(task.instructions.trim() ? task.instructions.trim() : '(no further instructions)');
  if (task.successCriteria.length > 0) {
    const criteria = task.successCriteria.map(
      (criterion, index) =>
        `${index + 1}. ${criterion.description}${criterion.command ? `\n   checked by running: \`${criterion.command}\`` : ''}`,
    );
    sections.push(
      `## Success criteria\nWarren checks these after you finish; all must pass.\n${criteria.join('\n')}`,
    );
  }
  if (agent.agent !== undefined) sections.push(buildAgentContextPrompt(agent.agent, agent.agentSkillsDir));
  // CLI agents explore the repository with their own tools; only the agent loop is given the layout.
  if (trackedFiles === undefined) return sections.join('\n\n');
  const shown = trackedFiles.slice(0, maxLayoutEntries);
  const more = trackedFiles.length - shown.length;
  sections.push(
    `## Repository layout (${trackedFiles.length} tracked file${trackedFiles.length === 1 ? '' : 's'})\n${shown.join('\n')}${more > 0 ? `\n… and ${more} more (use list_directory, glob or grep)` : ''}`,
  );
  return sections.join('\n\n');
}

/**
 * The corrective message of a fix round: each failing criterion with its command and output (tail,
 * capped), and the criteria that passed, which must keep passing.
 */
export function buildFeedbackPrompt(round: VerificationRound, regressed: string[] = []): string {
  const failing = round.criteria.filter((criterion) => !criterion.passed);
  const passing = round.criteria.filter((criterion) => criterion.passed);
  const sections = [
    `Warren checked your work (verification round ${round.round}): ${failing.length} of ${round.criteria.length} success criteria failed. Fix the cause, check it yourself, then answer with a summary again.`,
  ];
  if (regressed.length > 0) {
    sections.push(
      `Your previous changes broke criteria that had passed (${regressed.map((description) => `"${description}"`).join(', ')}); Warren reverted those changes, so the files are as they were before that round.`,
    );
  }
  for (const criterion of failing) {
    const how = criterion.timedOut ? 'timed out' : `exited with code ${criterion.exitCode ?? 'none'}`;
    const output =
      criterion.output.length > maxFeedbackOutputCharacters
        ? `…${criterion.output.slice(-maxFeedbackOutputCharacters)}`
        : criterion.output;
    sections.push(
      `## Failed: ${criterion.description}\n${criterion.command ? `Command \`${criterion.command}\` ${how}.` : how}\nOutput:\n\`\`\`\n${output.trimEnd()}\n\`\`\``,
    );
  }
  if (passing.length > 0) {
    sections.push(
      `## Passed (keep these passing)\n${passing.map((criterion) => `- ${criterion.description}`).join('\n')}`,
    );
  }
  return sections.join('\n\n');
}
