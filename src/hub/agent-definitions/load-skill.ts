/**
 * Loading a skill (`skills/<name>/`) from a source tree, only when asked: its instructions (`SKILL.md`,
 * else `README.md`) and its other files (scripts, templates), within size caps.
 */
import { skillNameSchema } from '../../core/agent-definition.ts';
import type { AgentSkill, AgentSkillFile } from '../../core/agent-skill.ts';
import { InvalidInputError, NotFoundError } from '../../core/errors.ts';
import { SKILLS_FOLDER, type AgentSourceTree } from './agent-source.ts';

/** Size caps of a loaded skill; what it loads goes into an agent's context, which is finite. */
export const SKILL_LIMITS = {
  // why: 256 KiB is about 64k tokens, more than any useful set of instructions; a larger file is a mistake.
  instructionsBytes: 256 * 1024,
  // why: a script or template over 256 KiB is data, not something to put in front of a model.
  fileBytes: 256 * 1024,
  // why: 1 MiB over all files keeps one skill from filling an agent's context window on its own.
  totalBytes: 1024 * 1024,
  // why: a skill folder with more files than this is a checked-in dependency tree, not a skill.
  files: 200,
} as const;

/** The instructions file of a skill, in order of preference. */
export const SKILL_INSTRUCTION_FILES = ['SKILL.md', 'README.md'] as const;

/** A skill named by an agent (or asked for) that has no folder in the source. */
export class SkillNotFoundError extends NotFoundError {
  constructor(name: string, detail: string) {
    super('skill', name);
    this.name = 'SkillNotFoundError';
    this.message = `skill ${name} not found: ${detail}`;
  }
}

/** The names of the skill folders in the tree (`skills/<name>/` with a valid skill name), sorted. */
export async function listSkillNames(tree: AgentSourceTree): Promise<string[]> {
  const entries = await tree.list(SKILLS_FOLDER);
  return entries
    .filter((entry) => entry.kind === 'folder')
    .map((entry) => entry.path.slice(SKILLS_FOLDER.length + 1))
    .filter((name) => skillNameSchema.safeParse(name).success);
}

/**
 * Reads skill `name` from `tree`. Throws SkillNotFoundError when it has no folder, and InvalidInputError
 * naming the file when the folder has no instructions file or the instructions are too large or not text.
 * Other files over the caps are listed without their content (`omitted` says why).
 */
export async function loadSkill(tree: AgentSourceTree, name: string): Promise<AgentSkill> {
  if (!skillNameSchema.safeParse(name).success) {
    throw new SkillNotFoundError(name, 'not a skill name (lowercase letters, digits, _ and -)');
  }
  const folder = `${SKILLS_FOLDER}/${name}`;
  const entries = (await tree.list(folder, { recursive: true })).filter((entry) => entry.kind === 'file');
  if (entries.length === 0) {
    throw new SkillNotFoundError(
      name,
      `no folder ${folder}/ with files in the agent definitions${tree.revision ? ` (commit ${tree.revision.slice(0, 12)})` : ''}`,
    );
  }
  const instructionsEntry = SKILL_INSTRUCTION_FILES.map((file) =>
    entries.find((entry) => entry.path === `${folder}/${file}`),
  ).find((entry) => entry !== undefined);
  if (instructionsEntry === undefined) {
    throw new InvalidInputError([
      {
        field: `${folder}/`,
        reason: `has no ${SKILL_INSTRUCTION_FILES.join(' or ')} with the skill's instructions`,
      },
    ]);
  }
  if (instructionsEntry.size > SKILL_LIMITS.instructionsBytes) {
    throw new InvalidInputError([
      {
        field: instructionsEntry.path,
        reason: `is ${instructionsEntry.size} bytes; instructions may be at most ${SKILL_LIMITS.instructionsBytes}`,
      },
    ]);
  }
  const instructions = await tree.read(instructionsEntry.path);
  if (!isText(instructions)) {
    throw new InvalidInputError([{ field: instructionsEntry.path, reason: 'is not UTF-8 text' }]);
  }

  const others = entries.filter((entry) => entry !== instructionsEntry);
  const files: AgentSkillFile[] = [];
  let totalBytes = instructionsEntry.size;
  for (const entry of others.slice(0, SKILL_LIMITS.files)) {
    const file: AgentSkillFile = { path: entry.path.slice(folder.length + 1), size: entry.size };
    if (entry.size > SKILL_LIMITS.fileBytes) file.omitted = 'too-large';
    else if (totalBytes + entry.size > SKILL_LIMITS.totalBytes) file.omitted = 'over-total';
    else {
      const content = await tree.read(entry.path);
      if (isText(content)) {
        file.content = content;
        totalBytes += entry.size;
      } else {
        file.omitted = 'binary';
      }
    }
    files.push(file);
  }
  const skill: AgentSkill = { name, instructionsFile: instructionsEntry.path, instructions, files };
  if (others.length > SKILL_LIMITS.files) skill.omittedFiles = others.length - SKILL_LIMITS.files;
  if (tree.revision !== undefined) skill.revision = tree.revision;
  return skill;
}

/** Whether decoded file content is text: no NUL and no undecodable bytes (U+FFFD). */
function isText(content: string): boolean {
  return !content.includes('\u0000') && !content.includes('\uFFFD');
}
