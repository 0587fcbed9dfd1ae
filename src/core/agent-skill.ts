/**
 * Skills: folders of instructions (and optional scripts) in an agent definitions source
 * (`skills/<name>/SKILL.md`), loaded only when a task of an agent that names them runs, and put into the
 * agent's context.
 */

/** One file of a skill besides its instructions (a script, a template, an example). */
export interface AgentSkillFile {
  /** Path inside the skill's folder, `/`-separated (`scripts/open-pr.sh`). */
  path: string;
  /** Size in bytes. */
  size: number;
  /** The file's text; absent when it was left out (see `omitted`). */
  content?: string;
  /**
   * Why the content was left out: `binary` (not UTF-8 text), `too-large` (over the per-file cap) or
   * `over-total` (the skill's total cap was reached by earlier files).
   */
  omitted?: 'binary' | 'too-large' | 'over-total';
}

/** A skill as loaded for an agent's context. */
export interface AgentSkill {
  name: string;
  /** The instructions file, relative to the source root (`skills/github-pr/SKILL.md`). */
  instructionsFile: string;
  /** Its text: what the agent is told. */
  instructions: string;
  /** The skill folder's other files, sorted by path (at most the loader's cap). */
  files: AgentSkillFile[];
  /** How many more files the folder holds beyond the cap, not listed. */
  omittedFiles?: number;
  /** The commit the skill was read from (Git sources); absent for a directory read as it is. */
  revision?: string;
}
