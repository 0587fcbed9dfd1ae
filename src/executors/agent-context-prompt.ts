/**
 * The part of the task prompt that comes from the hub's agent definition (`ExecutorContext.agent`): an
 * `## Agent` section (its name and description) and a `## Skills` section (each skill's instructions and
 * the paths of its files in the attempt's skills directory), capped in size. Shared by the agent loop and
 * the CLI agents through `buildTaskPrompt`.
 */
import path from 'node:path';
import type { AgentSkill, AgentSkillFile } from '../core/agent-skill.ts';
import type { ClaimedAgent } from '../core/claimed-agent.ts';

/** Limits of the agent's part of the prompt. */
export const AGENT_CONTEXT_PROMPT_LIMITS = {
  // why: about 8k tokens: room for a few skills' instructions without crowding out the task; what is cut
  // stays readable on disk (`<skills dir>/<skill>/SKILL.md`).
  skillsCharacters: 32_000,
} as const;

/** The environment variable holding the attempt's skills directory (only when the agent has skills). */
export const SKILLS_DIR_ENV = 'WARREN_SKILLS_DIR';

/** The file name a skill's instructions are written under in its folder (`SKILL.md` or `README.md`). */
export function skillInstructionsFileName(skill: Pick<AgentSkill, 'instructionsFile'>): string {
  return path.posix.basename(skill.instructionsFile);
}

/** Where file `relativePath` (`/`-separated, as in `AgentSkillFile.path`) of skill `skillName` lies. */
export function skillFilePath(skillsDir: string, skillName: string, relativePath: string): string {
  return path.join(skillsDir, skillName, ...relativePath.split('/'));
}

/**
 * The agent's sections of the task prompt: `## Agent`, and `## Skills` when the definition names skills.
 * `skillsDir` is where the runner wrote the skills' files; without it files are listed by their path in
 * the skill's folder, as not on disk. The skills section is capped at
 * {@link AGENT_CONTEXT_PROMPT_LIMITS.skillsCharacters} (whole skills first; the first that does not fit is
 * cut and later ones are named only), with a note saying where the full text is.
 */
export function buildAgentContextPrompt(agent: ClaimedAgent, skillsDir?: string): string {
  const sections = [
    `## Agent\nYou are working as agent "${agent.name}"${agent.description?.trim() ? `: ${agent.description.trim()}` : '.'}`,
  ];
  const skills = buildSkillsSection(agent, skillsDir);
  if (skills !== undefined) sections.push(skills);
  return sections.join('\n\n');
}

function buildSkillsSection(agent: ClaimedAgent, skillsDir: string | undefined): string | undefined {
  const unloaded = agent.unloadedSkills ?? [];
  if (agent.skills.length === 0 && unloaded.length === 0) return undefined;
  const where =
    skillsDir === undefined
      ? "The skills' files are not on this machine; only their instructions are below."
      : `Each skill's files are in its folder under ${skillsDir} (also in the environment variable ${SKILLS_DIR_ENV}), outside the worktree: read them with shell commands (cat) and run its scripts from there.`;
  const header = `## Skills\nSkills of agent "${agent.name}": follow a skill's instructions when the task calls for it. ${where}`;
  const limit = AGENT_CONTEXT_PROMPT_LIMITS.skillsCharacters;
  let text = header;
  let notShown: AgentSkill[] = [];
  for (const [index, skill] of agent.skills.entries()) {
    const block = `\n\n${skillBlock(skill, skillsDir)}`;
    if (text.length + block.length <= limit) {
      text += block;
      continue;
    }
    // The first skill that does not fit is cut at a line end within the limit; later ones are named.
    const cut = block.slice(0, limit - text.length);
    const kept = cut.slice(0, Math.max(0, cut.lastIndexOf('\n')));
    if (kept.trim().length > 0) {
      const full =
        skillsDir === undefined
          ? ''
          : ` The full instructions are in ${skillFilePath(skillsDir, skill.name, skillInstructionsFileName(skill))}.`;
      text += `${kept}\n[Skill "${skill.name}" is cut here: the skills section is capped at ${limit} characters.${full}]`;
      notShown = agent.skills.slice(index + 1);
    } else {
      notShown = agent.skills.slice(index);
    }
    break;
  }
  if (notShown.length > 0) {
    const named = notShown.map((skill) =>
      skillsDir === undefined
        ? `- ${skill.name}`
        : `- ${skill.name}: ${skillFilePath(skillsDir, skill.name, skillInstructionsFileName(skill))}`,
    );
    text += `\n\n[Not shown, the skills section being capped at ${limit} characters; read their instructions${skillsDir === undefined ? ' from the agent definitions' : ''}:\n${named.join('\n')}]`;
  }
  for (const skill of unloaded) {
    text += `\n\n### Skill: ${skill.name} (not available)\nThe hub could not load this skill: ${skill.reason}`;
  }
  return text;
}

/** One skill: its folder and files first (short, and what a cut must keep), then its instructions. */
function skillBlock(skill: AgentSkill, skillsDir: string | undefined): string {
  const lines = [`### Skill: ${skill.name}`];
  if (skillsDir !== undefined) lines.push(`Folder: ${path.join(skillsDir, skill.name)}`);
  const files = skill.files.map((file) => `- ${fileLine(skill, file, skillsDir)}`);
  if (skill.omittedFiles !== undefined && skill.omittedFiles > 0) {
    files.push(`- … and ${skill.omittedFiles} more file${skill.omittedFiles === 1 ? '' : 's'}, not loaded`);
  }
  if (files.length > 0) {
    lines.push(skillsDir === undefined ? 'Files (paths in the skill folder):' : 'Files:', ...files);
  }
  lines.push('', skill.instructions.trim() || '(no instructions)');
  return lines.join('\n');
}

function fileLine(skill: AgentSkill, file: AgentSkillFile, skillsDir: string | undefined): string {
  if (file.content === undefined) {
    return `${file.path}: omitted (${omissionReason(file.omitted)}, ${file.size} bytes), not available`;
  }
  return skillsDir === undefined ? file.path : skillFilePath(skillsDir, skill.name, file.path);
}

function omissionReason(omitted: AgentSkillFile['omitted']): string {
  switch (omitted) {
    case 'binary':
      return 'not text';
    case 'too-large':
      return 'over the per-file size cap';
    case 'over-total':
      return "over the skill's total size cap";
    case undefined:
      return 'not loaded';
  }
}
