/**
 * Writing the skills a claim carries (`ClaimedWork.agent.skills`) as files, into a directory of the
 * attempt outside its worktree, so the agent can read them and run their scripts.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { skillNameSchema } from '../core/agent-definition.ts';
import type { AgentSkill } from '../core/agent-skill.ts';
import type { Logger } from '../core/logger.ts';
import { skillFilePath, skillInstructionsFileName } from '../executors/agent-context-prompt.ts';

/** What {@link writeAgentSkills} wrote. */
export interface WrittenSkills {
  /** Files written, all skills together (instructions included). */
  files: number;
  /** Files left out: their content was omitted by the hub, or their path would leave the skill's folder. */
  skipped: number;
}

/**
 * Writes each skill into `<skillsDir>/<skill>/`: its instructions under their own file name (`SKILL.md` or
 * `README.md`) and every file the hub sent content for, at its path in the skill's folder. A file whose
 * content starts with `#!` is made executable (the hub does not send file modes). Paths that are absolute,
 * hold `..` or name an invalid skill are skipped with a warning, so a claim can never write outside
 * `skillsDir`.
 */
export async function writeAgentSkills(
  skillsDir: string,
  skills: readonly AgentSkill[],
  logger: Logger,
): Promise<WrittenSkills> {
  const written: WrittenSkills = { files: 0, skipped: 0 };
  await mkdir(skillsDir, { recursive: true });
  for (const skill of skills) {
    if (!skillNameSchema.safeParse(skill.name).success) {
      logger.warn({ skill: skill.name }, 'not writing a skill with an invalid name');
      written.skipped += 1 + skill.files.length;
      continue;
    }
    const entries = [
      { path: skillInstructionsFileName(skill), content: skill.instructions },
      ...skill.files.flatMap((file) =>
        file.content === undefined ? [] : [{ path: file.path, content: file.content }],
      ),
    ];
    written.skipped += skill.files.filter((file) => file.content === undefined).length;
    for (const entry of entries) {
      if (!isSafeRelativePath(entry.path)) {
        logger.warn({ skill: skill.name, path: entry.path }, 'not writing a skill file outside its folder');
        written.skipped += 1;
        continue;
      }
      const target = skillFilePath(skillsDir, skill.name, entry.path);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, entry.content);
      // why: scripts are the point of a skill's files, and a file's mode does not travel in the claim.
      if (entry.content.startsWith('#!')) await chmod(target, 0o755);
      written.files += 1;
    }
  }
  return written;
}

/** A `/`-separated relative path with no empty, `.` or `..` segment. */
function isSafeRelativePath(relative: string): boolean {
  if (relative.length === 0 || relative.startsWith('/') || relative.includes('\\')) return false;
  return relative.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}
