import { readFile, stat, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { AgentTool } from '../agent-tool.ts';
import { defineBuiltinTool } from './define-builtin-tool.ts';
import { isBinaryContent } from './is-binary-content.ts';
import { resolveWorktreePath } from './resolve-worktree-path.ts';
import { describeFileError, toolError } from './tool-error.ts';

// why: listing where a non-unique string occurs helps the model pick one; past 10 the list is noise.
const maxListedOccurrences = 10;

const inputSchema = z.strictObject({
  path: z.string().min(1).describe('File path, relative to the worktree root.'),
  old_string: z.string().min(1).describe('Exact text to replace, including whitespace and indentation.'),
  new_string: z.string().describe('Text to put in its place.'),
  replace_all: z
    .boolean()
    .default(false)
    .describe('Replace every occurrence. When false, old_string must occur exactly once.'),
});

/**
 * Creates the `edit_file` tool: replaces an exact string in a text file of the worktree. The string
 * must be unique unless `replace_all` is set; a file with CRLF line ends also matches `\n` in
 * `old_string`, and `new_string` then gets CRLF line ends too.
 */
export function createEditFileTool(): AgentTool {
  return defineBuiltinTool({
    name: 'edit_file',
    description:
      'Replace exact text in an existing file. old_string must match the file exactly (whitespace and ' +
      'indentation included, without read_file line numbers) and occur exactly once, unless replace_all ' +
      'is true. To make it unique, include a few surrounding lines. Use write_file to create a file.',
    kind: 'write',
    inputSchema,
    async execute(input, context) {
      if (input.old_string === input.new_string) {
        return toolError('old_string and new_string are the same; nothing would change');
      }
      const resolved = await resolveWorktreePath(context.worktreePath, input.path);
      if (!resolved.ok) return toolError(resolved.error);
      const { absolutePath, relativePath } = resolved;
      const shown = JSON.stringify(relativePath);
      let content: string;
      try {
        const stats = await stat(absolutePath);
        if (stats.isDirectory()) return toolError(`${shown} is a directory, not a file`);
        const bytes = await readFile(absolutePath);
        if (isBinaryContent(bytes)) return toolError(`${shown} is a binary file; edit_file edits text only`);
        content = bytes.toString('utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return toolError(`${shown} does not exist; use write_file to create it`);
        return toolError(describeFileError(error, relativePath));
      }

      let oldString = input.old_string;
      let newString = input.new_string;
      let offsets = findOccurrences(content, oldString);
      if (offsets.length === 0 && content.includes('\r\n') && oldString.includes('\n')) {
        oldString = toCrlf(oldString);
        newString = toCrlf(newString);
        offsets = findOccurrences(content, oldString);
      }
      if (offsets.length === 0) return toolError(notFoundMessage(content, input.old_string, shown));
      if (offsets.length > 1 && !input.replace_all) {
        const lines = offsets.slice(0, maxListedOccurrences).map((offset) => lineOf(content, offset));
        const more = offsets.length > maxListedOccurrences ? ', …' : '';
        return toolError(
          `old_string is not unique in ${shown}: it occurs ${offsets.length} times ` +
            `(at lines ${lines.join(', ')}${more}). Include more surrounding context to pick one ` +
            'occurrence, or set replace_all to true to replace them all.',
        );
      }

      const firstLine = lineOf(content, offsets[0]!);
      // split/join, not String.replace: `$&` and friends in new_string must stay literal.
      const updated = content.split(oldString).join(newString);
      try {
        await writeFile(absolutePath, updated);
      } catch (error) {
        return toolError(describeFileError(error, relativePath));
      }
      const count = offsets.length;
      return {
        output:
          count === 1
            ? `Replaced 1 occurrence in ${shown} at line ${firstLine}`
            : `Replaced ${count} occurrences in ${shown}`,
        fileChanges: [{ path: relativePath, change: 'modified' }],
      };
    },
  });
}

/** Start offsets of the non-overlapping occurrences of `needle`, as `split` would cut them. */
function findOccurrences(haystack: string, needle: string): number[] {
  const offsets: number[] = [];
  let from = 0;
  for (;;) {
    const found = haystack.indexOf(needle, from);
    if (found === -1) return offsets;
    offsets.push(found);
    from = found + needle.length;
  }
}

function lineOf(content: string, offset: number): number {
  let line = 1;
  for (
    let index = content.indexOf('\n');
    index !== -1 && index < offset;
    index = content.indexOf('\n', index + 1)
  ) {
    line += 1;
  }
  return line;
}

function toCrlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

function notFoundMessage(content: string, oldString: string, shown: string): string {
  const base = `old_string was not found in ${shown}.`;
  const collapse = (text: string) => text.replace(/\s+/g, ' ').trim();
  if (collapse(content).includes(collapse(oldString))) {
    return (
      `${base} The same text occurs with different whitespace or indentation; read the file again ` +
      'and copy the exact text.'
    );
  }
  return `${base} It must match exactly, including whitespace and indentation; read the file again to check.`;
}
