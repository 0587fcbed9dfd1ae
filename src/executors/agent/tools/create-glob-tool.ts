import { stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { AgentTool } from '../agent-tool.ts';
import { defineBuiltinTool } from './define-builtin-tool.ts';
import { globToRegExp, hasGlobSyntax } from './glob-to-regexp.ts';
import { resolveWorktreePath, toPortable } from './resolve-worktree-path.ts';
import { describeFileError, toolError } from './tool-error.ts';
import { walkFiles } from './walk-files.ts';

// why: a thousand paths is already more than a model reads; a broader pattern needs narrowing, not paging.
const maxResults = 1_000;
// why: bounds the time one call spends crawling (a few seconds even on a slow disk), however big the tree.
const maxWalkedEntries = 200_000;

const inputSchema = z.strictObject({
  pattern: z
    .string()
    .min(1)
    .describe('Glob relative to path, e.g. "**/*.ts", "src/*.{js,json}", "test/**/fixture?.txt".'),
  path: z
    .string()
    .optional()
    .describe('Directory to search in, relative to the worktree root. Default: the root.'),
});

/**
 * Creates the `glob` tool: the files under a directory of the worktree whose path (relative to that
 * directory) matches a glob, sorted. `.git` is never searched; `node_modules` only when the pattern or
 * the path names it. Directories are not listed; symbolic links are listed but not followed.
 */
export function createGlobTool(): AgentTool {
  return defineBuiltinTool({
    name: 'glob',
    description:
      'Find files by glob pattern, matched against paths relative to `path` (default: worktree root). ' +
      'Supports * (within one directory), ** (any number of directories), ?, [abc] and {a,b}. ' +
      'Returns matching file paths relative to the worktree root, sorted. node_modules is skipped unless ' +
      `the pattern names it. At most ${maxResults} results.`,
    kind: 'read',
    inputSchema,
    async execute(input, context) {
      const pattern = input.pattern.replace(/^\.\//, '');
      if (pattern.startsWith('/')) {
        return toolError(`pattern ${JSON.stringify(input.pattern)} is absolute; give it relative to path`);
      }
      if (pattern.split('/').includes('..')) {
        return toolError(`pattern ${JSON.stringify(input.pattern)} contains ".."; set path instead`);
      }
      const base = await resolveWorktreePath(context.worktreePath, input.path ?? '.');
      if (!base.ok) return toolError(base.error);
      try {
        if (!(await stat(base.absolutePath)).isDirectory()) {
          return toolError(
            `${JSON.stringify(base.relativePath)} is not a directory; path must be a directory`,
          );
        }
      } catch (error) {
        return toolError(describeFileError(error, base.relativePath));
      }

      // Start the walk below the pattern's literal leading directories (`src/lib/**` walks src/lib only).
      const segments = pattern.split('/');
      const literalDirectories: string[] = [];
      for (const segment of segments.slice(0, -1)) {
        if (hasGlobSyntax(segment)) break;
        literalDirectories.push(segment);
      }
      const start = await resolveWorktreePath(
        context.worktreePath,
        path.join(base.absolutePath, ...literalDirectories),
      );
      if (!start.ok) return toolError(start.error);
      const startIsDirectory = await stat(start.absolutePath).then(
        (stats) => stats.isDirectory(),
        () => false,
      );

      const matcher = globToRegExp(pattern);
      const matches: string[] = [];
      let truncated = false;
      const walk = walkFiles(start.absolutePath, {
        worktreeRoot: base.worktreeRoot,
        includeNodeModules: /node_modules/.test(pattern) || /node_modules/.test(base.relativePath),
        maxEntries: maxWalkedEntries,
        abortSignal: context.abortSignal,
      });
      if (startIsDirectory) {
        for await (const file of walk.files) {
          if (!matcher.test(toPortable(path.relative(base.absolutePath, file.absolutePath)))) continue;
          if (matches.length === maxResults) {
            truncated = true;
            break;
          }
          matches.push(file.relativePath);
        }
      }
      if (context.abortSignal.aborted) return toolError('glob was aborted');

      const where = base.relativePath === '.' ? 'the worktree' : JSON.stringify(base.relativePath);
      if (matches.length === 0) {
        const note = walk.limitReached ? ` (search stopped after ${maxWalkedEntries} entries)` : '';
        return { output: `No files match ${JSON.stringify(input.pattern)} in ${where}${note}` };
      }
      matches.sort((left, right) => (left < right ? -1 : left > right ? 1 : 0));
      const lines = [...matches];
      if (truncated) {
        lines.push(`[stopped at ${maxResults} matches; use a narrower pattern or path]`);
      } else if (walk.limitReached) {
        lines.push(`[search stopped after ${maxWalkedEntries} entries; results may be incomplete]`);
      }
      return { output: lines.join('\n') };
    },
  });
}
