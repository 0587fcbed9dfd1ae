/**
 * A source of agent definitions (a directory or a Git repository) and the read-only tree a refresh reads
 * definitions and skills from. Layout of the tree: `agents/<name>.yaml` and `skills/<name>/` (docs/agents.md).
 */
import type { AgentSourceConfig } from '../../core/agent-source-config.ts';
import type { AgentSourceInfo } from '../../core/api.ts';
import { createDirectoryAgentSource } from './directory-agent-source.ts';
import { createGitAgentSource } from './git-agent-source.ts';

/** The folder of definition files, `agents/<name>.yaml`, at the root of a source. */
export const AGENTS_FOLDER = 'agents';
/** The folder of skills, `skills/<name>/`, at the root of a source. */
export const SKILLS_FOLDER = 'skills';

/** One entry of a {@link AgentSourceTree} listing. */
export interface AgentSourceEntry {
  /** Path relative to the tree's root, `/`-separated (`skills/github-pr/SKILL.md`). */
  path: string;
  /** `other`: a symbolic link or a submodule, which are never read (they could point outside the source). */
  kind: 'file' | 'folder' | 'other';
  /** Size in bytes of a file; 0 for the rest. */
  size: number;
}

/**
 * A read-only view of the definitions as of one moment. A Git tree is one commit, so readers never see a
 * half-updated tree however the repository moves; a directory tree reads the files as they are when read.
 */
export interface AgentSourceTree {
  /** The commit the tree is of (Git); undefined for a directory. */
  readonly revision: string | undefined;
  /**
   * The entries of `folder` (relative to the root): its children, or with `recursive` every file below it.
   * Empty when the folder does not exist. Sorted by path.
   */
  list(folder: string, options?: { recursive?: boolean }): Promise<AgentSourceEntry[]>;
  /** The text (UTF-8) of the file at `path`, relative to the root. */
  read(path: string): Promise<string>;
}

/** Where definitions come from, opened anew by every refresh. */
export interface AgentSource {
  /** What the source is, for the API and logs (credentials in URLs redacted). */
  readonly info: AgentSourceInfo;
  /** A short label for messages: the directory, or `url@ref[:path]`. */
  readonly label: string;
  /**
   * Brings the source up to date (a Git source clones or fetches) and returns the tree to read. Throws an
   * error saying what to check when the source cannot be read (repository unreachable, ref or directory
   * missing).
   */
  open(): Promise<AgentSourceTree>;
}

/** Options of {@link createAgentSource}. */
export interface CreateAgentSourceOptions {
  /** Where a Git source keeps its bare clone (`<dataDir>/agent-definitions`). */
  cacheDir: string;
}

/** The source a hub's `agents` setting names. */
export function createAgentSource(config: AgentSourceConfig, options: CreateAgentSourceOptions): AgentSource {
  if ('git' in config) return createGitAgentSource({ ...config.git, cacheDir: options.cacheDir });
  return createDirectoryAgentSource({ directory: config.directory });
}
