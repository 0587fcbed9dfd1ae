import { lstat, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { AgentTool } from '../agent-tool.ts';
import { defineBuiltinTool } from './define-builtin-tool.ts';
import { globToRegExp } from './glob-to-regexp.ts';
import { isBinaryContent } from './is-binary-content.ts';
import { resolveWorktreePath, toPortable } from './resolve-worktree-path.ts';
import { describeFileError, toolError } from './tool-error.ts';
import type { WalkedFile } from './walk-files.ts';
import { walkFiles } from './walk-files.ts';

// why: 200 matching lines locate what the model looks for; more means the pattern is too broad.
const maxMatches = 200;
// why: a matching line of a minified file can be megabytes; 300 characters show the context of a match.
const maxLineLength = 300;
// why: bigger files are bundles, data or logs, not source; scanning them costs more than it tells.
const maxFileBytes = 10 * 1024 * 1024;
// why: bounds the time one call spends crawling (a few seconds even on a slow disk), however big the tree.
const maxWalkedEntries = 200_000;

const inputSchema = z.strictObject({
  pattern: z.string().min(1).describe('JavaScript regular expression, matched against each line.'),
  path: z
    .string()
    .optional()
    .describe('File or directory to search, relative to the worktree root. Default: the root.'),
  glob: z
    .string()
    .optional()
    .describe(
      'Only search files matching this glob: without "/" it matches file names ("*.ts"), with "/" ' +
        'paths relative to path ("src/**/*.test.ts").',
    ),
  ignore_case: z.boolean().optional().describe('Match case-insensitively. Default false.'),
});

/**
 * Creates the `grep` tool: lines of text files in the worktree that match a JavaScript regular
 * expression, as `file:line: text`. Binary files, files over 10 MB, `.git` and `node_modules` (unless the
 * path or glob names it) are skipped; matches and line lengths are capped.
 */
export function createGrepTool(): AgentTool {
  return defineBuiltinTool({
    name: 'grep',
    description:
      'Search file contents with a JavaScript regular expression (e.g. "function\\s+\\w+", "TODO|FIXME"). ' +
      'Returns matching lines as "path:line: text", paths relative to the worktree root. Searches `path` ' +
      '(a file or directory, default the whole worktree), optionally only files matching `glob`. Skips ' +
      `binary files and node_modules. At most ${maxMatches} matches; lines cut at ${maxLineLength} characters.`,
    kind: 'read',
    inputSchema,
    async execute(input, context) {
      let regex: RegExp;
      try {
        regex = new RegExp(input.pattern, input.ignore_case ? 'i' : '');
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return toolError(`invalid regular expression ${JSON.stringify(input.pattern)}: ${reason}`);
      }
      const fileFilter = input.glob === undefined ? undefined : globToRegExp(input.glob.replace(/^\.\//, ''));
      const filterByName = input.glob !== undefined && !input.glob.includes('/');

      const target = await resolveWorktreePath(context.worktreePath, input.path ?? '.');
      if (!target.ok) return toolError(target.error);
      let isDirectory: boolean;
      try {
        isDirectory = (await stat(target.absolutePath)).isDirectory();
      } catch (error) {
        return toolError(describeFileError(error, target.relativePath));
      }

      const walk = isDirectory
        ? walkFiles(target.absolutePath, {
            worktreeRoot: target.worktreeRoot,
            includeNodeModules: /node_modules/.test(`${target.relativePath} ${input.glob ?? ''}`),
            maxEntries: maxWalkedEntries,
            abortSignal: context.abortSignal,
          })
        : undefined;
      const files: AsyncIterable<WalkedFile> | WalkedFile[] = walk
        ? walk.files
        : [{ absolutePath: target.absolutePath, relativePath: target.relativePath }];

      const lines: string[] = [];
      let filesSearched = 0;
      let truncated = false;
      search: for await (const file of files) {
        if (fileFilter && isDirectory) {
          const candidate = filterByName
            ? path.basename(file.absolutePath)
            : toPortable(path.relative(target.absolutePath, file.absolutePath));
          if (!fileFilter.test(candidate)) continue;
        }
        const content = await readSearchable(file.absolutePath);
        if (content === undefined) continue;
        filesSearched += 1;
        const fileLines = content.split('\n');
        for (const [index, rawLine] of fileLines.entries()) {
          const line = rawLine.replace(/\r$/, '');
          if (!regex.test(line)) continue;
          if (lines.length === maxMatches) {
            truncated = true;
            break search;
          }
          const text = line.length > maxLineLength ? `${line.slice(0, maxLineLength)}…` : line;
          lines.push(`${file.relativePath}:${index + 1}: ${text}`);
        }
      }
      if (context.abortSignal.aborted) return toolError('grep was aborted');

      const where = target.relativePath === '.' ? 'the worktree' : JSON.stringify(target.relativePath);
      if (lines.length === 0) {
        const filter = input.glob === undefined ? '' : ` matching ${JSON.stringify(input.glob)}`;
        return {
          output:
            `No matches for ${JSON.stringify(input.pattern)} in ${where} ` +
            `(${filesSearched} text file${filesSearched === 1 ? '' : 's'}${filter} searched)`,
        };
      }
      if (truncated) lines.push(`[stopped at ${maxMatches} matches; use a narrower pattern, path or glob]`);
      else if (walk?.limitReached) {
        lines.push(`[search stopped after ${maxWalkedEntries} entries; results may be incomplete]`);
      }
      return { output: lines.join('\n') };
    },
  });
}

/**
 * The text of a file worth searching, or undefined for binary, huge or unreadable files. Symbolic links
 * are skipped (lstat), since one may point outside the worktree.
 */
async function readSearchable(absolutePath: string): Promise<string | undefined> {
  try {
    const stats = await lstat(absolutePath);
    if (!stats.isFile() || stats.size > maxFileBytes) return undefined;
    const content = await readFile(absolutePath);
    return isBinaryContent(content) ? undefined : content.toString('utf8');
  } catch {
    return undefined;
  }
}
