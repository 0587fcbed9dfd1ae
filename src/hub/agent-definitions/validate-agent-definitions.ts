/**
 * Offline validation of an agent definitions directory (`warren agents validate`, for CI in the
 * definitions repository): every definition file, and every skill folder loaded as an agent would get it.
 */
import { skillNameSchema, type AgentDefinitionProblem } from '../../core/agent-definition.ts';
import { InvalidInputError, WarrenError } from '../../core/errors.ts';
import { SKILLS_FOLDER } from './agent-source.ts';
import { createDirectoryAgentSource } from './directory-agent-source.ts';
import { loadSkill } from './load-skill.ts';
import { readAgentDefinitions } from './read-agent-definitions.ts';

/** What {@link validateAgentDefinitions} found. */
export interface AgentDefinitionsValidation {
  /** The directory validated (absolute). */
  directory: string;
  /** True when there are no problems. */
  ok: boolean;
  /** The good definitions, by name. */
  definitions: Array<{ name: string; file: string; type: string }>;
  /** The skill folders that load, by name. */
  skills: string[];
  /** Each problem: file, field (empty for the whole file) and reason. */
  problems: AgentDefinitionProblem[];
}

/**
 * Validates the definitions and skills in `directory` (holding `agents/` and `skills/`) without a hub or a
 * network. Throws only when the directory cannot be read at all.
 */
export async function validateAgentDefinitions(directory: string): Promise<AgentDefinitionsValidation> {
  const source = createDirectoryAgentSource({ directory });
  const tree = await source.open();
  const read = await readAgentDefinitions(tree);
  const problems = [...read.problems];

  const skills: string[] = [];
  const folders = (await tree.list(SKILLS_FOLDER)).filter((entry) => entry.kind === 'folder');
  for (const folder of folders) {
    const name = folder.path.slice(SKILLS_FOLDER.length + 1);
    const checked = skillNameSchema.safeParse(name);
    if (!checked.success) {
      problems.push({
        file: `${folder.path}/`,
        field: '',
        reason: `is not a valid skill name: ${checked.error.issues[0]?.message ?? 'invalid'}`,
      });
      continue;
    }
    try {
      await loadSkill(tree, name);
      skills.push(name);
    } catch (error) {
      if (error instanceof InvalidInputError) {
        for (const issue of error.issues)
          problems.push({ file: issue.field, field: '', reason: issue.reason });
      } else if (WarrenError.isInstance(error)) {
        problems.push({ file: `${folder.path}/`, field: '', reason: error.message });
      } else {
        throw error;
      }
    }
  }

  return {
    directory: source.label,
    ok: problems.length === 0,
    definitions: read.definitions.map(({ file, definition }) => ({
      name: definition.name,
      file,
      type: definition.type,
    })),
    skills,
    problems,
  };
}
