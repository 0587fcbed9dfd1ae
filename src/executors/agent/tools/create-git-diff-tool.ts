import { z } from 'zod';
import type { AgentTool } from '../agent-tool.ts';
import { defineBuiltinTool } from './define-builtin-tool.ts';
import { resolveWorktreePath } from './resolve-worktree-path.ts';
import { describeGitFailure, runGitCommand } from './run-git-command.ts';
import { toolError } from './tool-error.ts';

// why: 100 KB (about 25k tokens) is a large review already; beyond it the model should diff one path.
const maxShownBytes = 100 * 1024;
// why: read well past what is shown so the head of a big diff is kept and its full size can be told.
const maxReadBytes = 8 * 1024 * 1024;

const inputSchema = z.strictObject({
  path: z.string().optional().describe('Only this file or directory, relative to the worktree root.'),
  staged: z
    .boolean()
    .optional()
    .describe('Show staged changes (`git diff --staged`) instead of unstaged ones. Default false.'),
});

/**
 * Creates the `git_diff` tool: `git diff` (or `git diff --staged`) of the worktree, optionally of one
 * path, the head kept when it is long.
 */
export function createGitDiffTool(): AgentTool {
  return defineBuiltinTool({
    name: 'git_diff',
    description:
      'Show uncommitted changes to tracked files as a unified diff (`git diff`), or staged changes with ' +
      'staged: true. Optionally limited to one file or directory. New untracked files are not shown ' +
      `(see git_status). Output is cut at ${maxShownBytes / 1024} KB; pass path to see one file.`,
    kind: 'read',
    inputSchema,
    async execute(input, context) {
      const args = ['diff', '--no-color', '--no-ext-diff'];
      if (input.staged) args.push('--staged');
      if (input.path !== undefined) {
        const resolved = await resolveWorktreePath(context.worktreePath, input.path);
        if (!resolved.ok) return toolError(resolved.error);
        args.push('--', resolved.relativePath);
      }
      const result = await runGitCommand(args, context, { maxOutputBytes: maxReadBytes });
      const failure = describeGitFailure(result, 'git diff');
      if (failure !== undefined) return toolError(failure);
      const diff = result.output;
      if (diff.trim() === '') {
        const which = input.staged ? 'staged changes' : 'unstaged changes to tracked files';
        const scope = input.path === undefined ? '' : ` in ${JSON.stringify(input.path)}`;
        return { output: `No ${which}${scope}` };
      }
      const bytes = Buffer.from(diff);
      if (bytes.length <= maxShownBytes) return { output: diff };
      // Cut at a line end so the model never sees half a line of a hunk.
      let head = bytes.subarray(0, maxShownBytes).toString('utf8');
      head = head.slice(0, Math.max(head.lastIndexOf('\n'), 0));
      return {
        output:
          `${head}\n[diff cut: showing the first ${maxShownBytes / 1024} KB of ` +
          `${Math.round(bytes.length / 1024)} KB; pass path to see one file]`,
      };
    },
  });
}
