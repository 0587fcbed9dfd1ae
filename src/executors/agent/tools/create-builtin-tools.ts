import type { AgentTool } from '../agent-tool.ts';
import { createEditFileTool } from './create-edit-file-tool.ts';
import { createGitDiffTool } from './create-git-diff-tool.ts';
import { createGitStatusTool } from './create-git-status-tool.ts';
import { createGlobTool } from './create-glob-tool.ts';
import { createGrepTool } from './create-grep-tool.ts';
import { createListDirectoryTool } from './create-list-directory-tool.ts';
import { createReadFileTool } from './create-read-file-tool.ts';
import { createReportProgressTool } from './create-report-progress-tool.ts';
import { createRunShellTool } from './create-run-shell-tool.ts';
import { createWriteFileTool } from './create-write-file-tool.ts';

/** Options of {@link createBuiltinTools}. */
export interface BuiltinToolsOptions {
  /** Time limit of a `run_shell` command that gives no `timeout_ms`. Default 120 s. */
  shellTimeoutMs?: number;
  /** The most a `run_shell` call may ask for with `timeout_ms`. Default 10 min. */
  maxShellTimeoutMs?: number;
}

/**
 * Creates the agent loop's built-in tools: `read_file`, `write_file`, `edit_file`, `list_directory`,
 * `glob`, `grep`, `run_shell`, `git_status`, `git_diff` and `report_progress`. Every one is confined to
 * the worktree of its context and answers failures with tool errors, never throws.
 */
export function createBuiltinTools(options: BuiltinToolsOptions = {}): AgentTool[] {
  return [
    createReadFileTool(),
    createWriteFileTool(),
    createEditFileTool(),
    createListDirectoryTool(),
    createGlobTool(),
    createGrepTool(),
    createRunShellTool({
      ...(options.shellTimeoutMs === undefined ? {} : { defaultTimeoutMs: options.shellTimeoutMs }),
      ...(options.maxShellTimeoutMs === undefined ? {} : { maxTimeoutMs: options.maxShellTimeoutMs }),
    }),
    createGitStatusTool(),
    createGitDiffTool(),
    createReportProgressTool(),
  ];
}
