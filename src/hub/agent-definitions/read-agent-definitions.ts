/**
 * Reading every definition file of a source tree (`agents/*.yaml`, `agents/*.yml`) and checking each: its
 * schema, its name against its file name, duplicates, and that the skills it names have folders.
 */
import {
  AGENT_DEFINITION_LIMITS,
  isAgentDefinitionFileName,
  parseAgentDefinitionFile,
  type AgentDefinition,
  type AgentDefinitionProblem,
} from '../../core/agent-definition.ts';
import { AGENTS_FOLDER, SKILLS_FOLDER, type AgentSourceTree } from './agent-source.ts';
import { listSkillNames } from './load-skill.ts';

/** A definition that passed every check, with the file it came from. */
export interface DefinitionFile {
  /** Relative to the source's root, e.g. `agents/coder.yaml`. */
  file: string;
  definition: AgentDefinition;
}

/** What {@link readAgentDefinitions} found. */
export interface ReadAgentDefinitionsResult {
  /** Good definitions, sorted by name. */
  definitions: DefinitionFile[];
  /** Every rejected file with each field and reason (several per file are possible). */
  problems: AgentDefinitionProblem[];
  /** Every definition file found, good or rejected, sorted. */
  files: string[];
}

// why: a definitions repository with more agents than this is a mistake (a generated folder committed),
// and each file costs a read on every refresh.
const maxDefinitionFiles = 1_000;

/**
 * Reads and checks the tree's definition files. Never throws for a bad file (it becomes a problem); throws
 * only when the tree cannot be read at all (a Git error, an unreadable directory).
 */
export async function readAgentDefinitions(tree: AgentSourceTree): Promise<ReadAgentDefinitionsResult> {
  const problems: AgentDefinitionProblem[] = [];
  const entries = (await tree.list(AGENTS_FOLDER)).filter(
    (entry) => entry.kind === 'file' && isAgentDefinitionFileName(entry.path),
  );
  if (entries.length === 0) {
    problems.push({
      file: `${AGENTS_FOLDER}/`,
      field: '',
      reason: `holds no definition files; put each agent in ${AGENTS_FOLDER}/<name>.yaml`,
    });
  }
  if (entries.length > maxDefinitionFiles) {
    problems.push({
      file: `${AGENTS_FOLDER}/`,
      field: '',
      reason: `holds ${entries.length} definition files; only the first ${maxDefinitionFiles} are read`,
    });
  }

  const parsed: DefinitionFile[] = [];
  for (const entry of entries.slice(0, maxDefinitionFiles)) {
    if (entry.size > AGENT_DEFINITION_LIMITS.fileBytes) {
      problems.push({
        file: entry.path,
        field: '',
        reason: `is ${entry.size} bytes; a definition file may be at most ${AGENT_DEFINITION_LIMITS.fileBytes}`,
      });
      continue;
    }
    const result = parseAgentDefinitionFile(entry.path, await tree.read(entry.path));
    if (result.ok) parsed.push({ file: entry.path, definition: result.definition });
    else problems.push(...result.problems);
  }

  // `coder.yaml` and `coder.yml` both pass the name check; the first (sorted) wins.
  const byName = new Map<string, DefinitionFile>();
  for (const candidate of parsed) {
    const earlier = byName.get(candidate.definition.name);
    if (earlier !== undefined) {
      problems.push({
        file: candidate.file,
        field: 'name',
        reason: `"${candidate.definition.name}" is also defined in ${earlier.file}; keep one of the two files`,
      });
      continue;
    }
    byName.set(candidate.definition.name, candidate);
  }

  const definitions: DefinitionFile[] = [];
  const wantsSkills = [...byName.values()].some((item) => item.definition.capabilities.skills.length > 0);
  const skills = new Set(wantsSkills ? await listSkillNames(tree) : []);
  for (const item of byName.values()) {
    const missing = item.definition.capabilities.skills
      .map((skill, index) => ({ skill, index }))
      .filter(({ skill }) => !skills.has(skill));
    if (missing.length === 0) {
      definitions.push(item);
      continue;
    }
    for (const { skill, index } of missing) {
      problems.push({
        file: item.file,
        field: `capabilities.skills.${index}`,
        reason: `skill "${skill}" has no folder ${SKILLS_FOLDER}/${skill}/ in the agent definitions`,
      });
    }
  }
  definitions.sort((a, b) => (a.definition.name < b.definition.name ? -1 : 1));
  return { definitions, problems, files: entries.map((entry) => entry.path) };
}
