/** A bounded, sorted walk over the files under a directory of the worktree, for `glob` and `grep`. */
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { toPortable } from './resolve-worktree-path.ts';

/** A file found by {@link walkFiles}. */
export interface WalkedFile {
  absolutePath: string;
  /** Relative to the worktree root, `/`-separated. */
  relativePath: string;
}

/** How to walk. */
export interface WalkFilesOptions {
  /** Real path of the worktree root; paths are reported relative to it. */
  worktreeRoot: string;
  /** Descend into `node_modules` directories (skipped by default: dependencies drown every search). */
  includeNodeModules: boolean;
  /** Directory entries looked at before the walk stops, so one call cannot crawl a huge tree. */
  maxEntries: number;
  /** Stops the walk when it fires. */
  abortSignal: AbortSignal;
}

/** The walk in progress: its files, and whether it stopped early. */
export interface FileWalk {
  files: AsyncGenerator<WalkedFile, void, undefined>;
  /** True once the walk stopped at `maxEntries`. */
  readonly limitReached: boolean;
}

/**
 * Walks the files under `directory` depth-first, entries of each directory in sorted order.
 *
 * Yields every entry that is not a directory (symbolic links are reported but never followed, so the
 * walk neither loops nor leaves the worktree). `.git` is always skipped; unreadable directories are
 * skipped silently.
 */
export function walkFiles(directory: string, options: WalkFilesOptions): FileWalk {
  let entriesSeen = 0;
  let limitReached = false;

  async function* walk(current: string): AsyncGenerator<WalkedFile, void, undefined> {
    if (options.abortSignal.aborted || limitReached) return;
    let entries: Dirent[];
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
    for (const entry of entries) {
      if (options.abortSignal.aborted) return;
      entriesSeen += 1;
      if (entriesSeen > options.maxEntries) {
        limitReached = true;
        return;
      }
      const absolutePath = path.join(current, entry.name);
      if (entry.isDirectory()) {
        if (entry.name.toLowerCase() === '.git') continue;
        if (entry.name === 'node_modules' && !options.includeNodeModules) continue;
        yield* walk(absolutePath);
        if (limitReached) return;
      } else if (entry.name.toLowerCase() !== '.git') {
        yield { absolutePath, relativePath: toPortable(path.relative(options.worktreeRoot, absolutePath)) };
      }
    }
  }

  return {
    files: walk(directory),
    get limitReached() {
      return limitReached;
    },
  };
}
