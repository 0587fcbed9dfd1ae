import { z } from 'zod';
import type { AgentTool } from '../agent-tool.ts';
import { defineBuiltinTool } from './define-builtin-tool.ts';
import { describeGitFailure, runGitCommand } from './run-git-command.ts';
import { toolError } from './tool-error.ts';

// why: a status longer than 50 KB is thousands of files (usually an unignored build directory); its
// tail is kept, and the model can look closer with git_diff or run_shell.
const maxOutputBytes = 50 * 1024;

const inputSchema = z.strictObject({});

/** Creates the `git_status` tool: `git status --short --branch` of the worktree. */
export function createGitStatusTool(): AgentTool {
  return defineBuiltinTool({
    name: 'git_status',
    description:
      'Show the branch and the changed, staged and untracked files of the worktree ' +
      '(`git status --short --branch`: XY path, X = staged, Y = unstaged, ?? = untracked).',
    kind: 'read',
    inputSchema,
    async execute(_input, context) {
      const result = await runGitCommand(['status', '--short', '--branch'], context, { maxOutputBytes });
      const failure = describeGitFailure(result, 'git status');
      if (failure !== undefined) return toolError(failure);
      const output = result.output.trimEnd();
      const lines = output.split('\n').filter((line) => line !== '');
      if (lines.every((line) => line.startsWith('##'))) return { output: `${output}\nworking tree clean` };
      return { output };
    },
  });
}
