import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import type { AgentTool } from '../agent-tool.ts';
import { defineBuiltinTool } from './define-builtin-tool.ts';
import { isBinaryContent } from './is-binary-content.ts';
import { resolveWorktreePath } from './resolve-worktree-path.ts';
import { describeFileError, toolError } from './tool-error.ts';

// why: 2000 lines is a few source files' worth; more in one call floods the model's context.
const maxLines = 2_000;
// why: 100 KB (about 25k tokens) bounds a call even when the lines are long.
const maxOutputBytes = 100 * 1024;
// why: minified or generated files have lines of megabytes; 2000 characters shows what a line is.
const maxLineLength = 2_000;
// why: a bigger file is data or a log; the model can read slices of it with run_shell (sed -n, tail).
const maxFileBytes = 20 * 1024 * 1024;

const inputSchema = z.strictObject({
  path: z.string().min(1).describe('File path, relative to the worktree root.'),
  offset: z.number().int().min(1).optional().describe('First line to read, 1-based. Default 1.'),
  limit: z.number().int().min(1).optional().describe(`Most lines to read. Default and maximum ${maxLines}.`),
});

/**
 * Creates the `read_file` tool: a text file of the worktree with line numbers (`cat -n` style),
 * from `offset` for at most `limit` lines, capped by lines and bytes with a note on how to read on.
 * Directories and binary files are refused.
 */
export function createReadFileTool(): AgentTool {
  return defineBuiltinTool({
    name: 'read_file',
    description:
      'Read a text file of the worktree. Returns its lines numbered like `cat -n` (number, tab, text). ' +
      `Reads at most ${maxLines} lines or ${maxOutputBytes / 1024} KB per call; use offset and limit to read ` +
      'a long file in parts. Line numbers are not part of the file: leave them out of edit_file strings.',
    kind: 'read',
    inputSchema,
    async execute(input, context) {
      const resolved = await resolveWorktreePath(context.worktreePath, input.path);
      if (!resolved.ok) return toolError(resolved.error);
      const shown = JSON.stringify(resolved.relativePath);
      let size: number;
      try {
        const stats = await stat(resolved.absolutePath);
        if (stats.isDirectory()) return toolError(`${shown} is a directory; use list_directory to see it`);
        if (!stats.isFile()) return toolError(`${shown} is not a regular file`);
        size = stats.size;
      } catch (error) {
        return toolError(describeFileError(error, resolved.relativePath));
      }
      if (size > maxFileBytes) {
        return toolError(
          `${shown} is ${formatBytes(size)}, more than read_file reads (${formatBytes(maxFileBytes)}); ` +
            'search it with grep or read slices with run_shell (for example `sed -n 100,200p`)',
        );
      }
      let content: Buffer;
      try {
        content = await readFile(resolved.absolutePath);
      } catch (error) {
        return toolError(describeFileError(error, resolved.relativePath));
      }
      if (isBinaryContent(content)) {
        return toolError(
          `${shown} is a binary file (${formatBytes(content.length)}); read_file reads text only`,
        );
      }
      const text = content.toString('utf8');
      if (text === '') return { output: `${shown} is empty` };
      const lines = text.split('\n');
      if (lines.at(-1) === '') lines.pop();
      const offset = input.offset ?? 1;
      if (offset > lines.length) {
        const count = `${lines.length} line${lines.length === 1 ? '' : 's'}`;
        return toolError(`${shown} has ${count}; offset ${offset} is past its end`);
      }
      return { output: formatLines(lines, offset, input.limit) };
    },
  });
}

/** Lines from `offset` (1-based, within `lines`) numbered, capped, with a note when more remain. */
function formatLines(lines: string[], offset: number, limit: number | undefined): string {
  const total = lines.length;
  const wanted = Math.min(limit ?? maxLines, maxLines);
  const shownLines: string[] = [];
  let bytes = 0;
  let last = offset - 1;
  for (let number = offset; number <= total && number < offset + wanted; number += 1) {
    let line = lines[number - 1]!.replace(/\r$/, '');
    if (line.length > maxLineLength) {
      line = `${line.slice(0, maxLineLength)}… [line cut: ${line.length} characters]`;
    }
    const formatted = `${String(number).padStart(6)}\t${line}`;
    bytes += Buffer.byteLength(formatted) + 1;
    if (bytes > maxOutputBytes && shownLines.length > 0) break;
    shownLines.push(formatted);
    last = number;
  }
  let output = shownLines.join('\n');
  if (last < total) {
    output +=
      `\n\n[showing lines ${offset}-${last} of ${total}; ` +
      `call read_file with offset=${last + 1} to read more]`;
  } else if (offset > 1) {
    output += `\n\n[showing lines ${offset}-${last} of ${total}; end of file]`;
  }
  return output;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
