import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { AgentTool } from '../agent-tool.ts';
import { defineBuiltinTool } from './define-builtin-tool.ts';
import { resolveWorktreePath } from './resolve-worktree-path.ts';
import { describeFileError, toolError } from './tool-error.ts';

const inputSchema = z.strictObject({
  path: z.string().min(1).describe('File path, relative to the worktree root.'),
  content: z.string().describe('The complete new content of the file.'),
});

/**
 * Creates the `write_file` tool: writes a whole file of the worktree, creating missing parent
 * directories, and reports it as added or modified (nothing when the content was already the same).
 */
export function createWriteFileTool(): AgentTool {
  return defineBuiltinTool({
    name: 'write_file',
    description:
      'Create a file or replace its whole content. Parent directories are created as needed. ' +
      'To change part of an existing file, prefer edit_file.',
    kind: 'write',
    inputSchema,
    async execute(input, context) {
      const resolved = await resolveWorktreePath(context.worktreePath, input.path);
      if (!resolved.ok) return toolError(resolved.error);
      const { absolutePath, relativePath } = resolved;
      const shown = JSON.stringify(relativePath);
      let existed = false;
      try {
        const stats = await stat(absolutePath);
        if (stats.isDirectory()) return toolError(`${shown} is a directory; give the path of a file`);
        if (!stats.isFile()) return toolError(`${shown} exists and is not a regular file`);
        existed = true;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') return toolError(describeFileError(error, relativePath));
      }
      const bytes = Buffer.byteLength(input.content);
      try {
        if (existed && (await readFile(absolutePath, 'utf8')) === input.content) {
          return { output: `${shown} already has this content (${bytes} bytes); nothing changed` };
        }
        await mkdir(path.dirname(absolutePath), { recursive: true });
        await writeFile(absolutePath, input.content);
      } catch (error) {
        return toolError(describeFileError(error, relativePath));
      }
      return {
        output: `${existed ? 'Overwrote' : 'Created'} ${shown} (${bytes} bytes)`,
        fileChanges: [{ path: relativePath, change: existed ? 'modified' : 'added' }],
      };
    },
  });
}
