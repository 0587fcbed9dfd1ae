import type { Dirent } from 'node:fs';
import { readdir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { AgentTool } from '../agent-tool.ts';
import { defineBuiltinTool } from './define-builtin-tool.ts';
import { resolveWorktreePath } from './resolve-worktree-path.ts';
import { describeFileError, toolError } from './tool-error.ts';

// why: a directory of thousands of entries is generated output; 1000 names is enough to see its shape.
const maxEntries = 1_000;

const inputSchema = z.strictObject({
  path: z.string().default('.').describe('Directory path, relative to the worktree root. Default: the root.'),
});

/**
 * Creates the `list_directory` tool: the entries of one directory of the worktree, sorted, directories
 * with a trailing `/` and symbolic links as `name -> target`; `.git` is left out.
 */
export function createListDirectoryTool(): AgentTool {
  return defineBuiltinTool({
    name: 'list_directory',
    description:
      'List the entries of one directory (not recursive), sorted. Directories end with "/", symbolic ' +
      `links show as "name -> target". At most ${maxEntries} entries. Use glob to find files by pattern.`,
    kind: 'read',
    inputSchema,
    async execute(input, context) {
      const resolved = await resolveWorktreePath(context.worktreePath, input.path);
      if (!resolved.ok) return toolError(resolved.error);
      const { absolutePath, relativePath } = resolved;
      const shown = JSON.stringify(relativePath);
      let entries: Dirent[];
      try {
        const stats = await stat(absolutePath);
        if (!stats.isDirectory()) return toolError(`${shown} is a file, not a directory; use read_file`);
        entries = await readdir(absolutePath, { withFileTypes: true });
      } catch (error) {
        return toolError(describeFileError(error, relativePath));
      }
      const visible = entries
        .filter((entry) => entry.name.toLowerCase() !== '.git')
        .sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
      if (visible.length === 0) return { output: `${shown} is empty` };
      const lines: string[] = [];
      for (const entry of visible.slice(0, maxEntries)) {
        if (entry.isDirectory()) {
          lines.push(`${entry.name}/`);
        } else if (entry.isSymbolicLink()) {
          const target = await readlink(path.join(absolutePath, entry.name)).catch(() => '?');
          lines.push(`${entry.name} -> ${target}`);
        } else {
          lines.push(entry.name);
        }
      }
      if (visible.length > maxEntries) {
        lines.push(`[${visible.length - maxEntries} more entries not shown; use glob to narrow down]`);
      }
      return { output: lines.join('\n') };
    },
  });
}
