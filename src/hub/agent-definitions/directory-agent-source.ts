/**
 * Agent definitions from a directory on the hub's machine (`agents/`, `skills/`), read as the files are
 * when read: nothing is copied or cached here, the registry caches what it parsed.
 */
import type { Dirent } from 'node:fs';
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { AgentSource, AgentSourceEntry, AgentSourceTree } from './agent-source.ts';

/** Options of {@link createDirectoryAgentSource}. */
export interface DirectoryAgentSourceOptions {
  /** The directory holding `agents/` and `skills/`; relative paths are resolved against the current directory. */
  directory: string;
}

// why: a recursive listing stops here, so a skill folder holding a dependency tree (node_modules) costs
// a bounded walk; skills are capped far lower when loaded.
const maxListedEntries = 5_000;
// why: deeper than any sensible skill layout; also stops a walk through a pathological tree.
const maxDepth = 16;

/** A source reading `directory` as it is. `open()` fails when the directory does not exist. */
export function createDirectoryAgentSource(options: DirectoryAgentSourceOptions): AgentSource {
  const directory = path.resolve(options.directory);
  return {
    info: { kind: 'directory', directory },
    label: directory,
    async open() {
      let isDirectory = false;
      try {
        isDirectory = (await stat(directory)).isDirectory();
      } catch {
        throw new Error(`agent definitions directory ${directory} does not exist`);
      }
      if (!isDirectory) throw new Error(`agent definitions directory ${directory} is not a directory`);
      return createDirectoryTree(await realpath(directory));
    },
  };
}

function createDirectoryTree(root: string): AgentSourceTree {
  /** The absolute path of `relative`, refused when it (or a link on the way) leads outside the root. */
  const resolveInside = async (relative: string): Promise<string | undefined> => {
    const target = path.resolve(root, relative);
    if (!isInside(root, target)) throw new Error(`${relative} is outside the agent definitions directory`);
    let real: string;
    try {
      real = await realpath(target);
    } catch {
      return undefined;
    }
    return isInside(root, real) ? real : undefined;
  };

  return {
    revision: undefined,
    async list(folder, options = {}) {
      const start = await resolveInside(folder);
      if (start === undefined) return [];
      const entries: AgentSourceEntry[] = [];
      const walk = async (absolute: string, relative: string, depth: number): Promise<void> => {
        let children: Dirent[];
        try {
          children = await readdir(absolute, { withFileTypes: true });
        } catch {
          return;
        }
        children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        for (const child of children) {
          if (entries.length >= maxListedEntries) return;
          const childRelative = relative === '' ? child.name : `${relative}/${child.name}`;
          const childAbsolute = path.join(absolute, child.name);
          if (child.isDirectory()) {
            if (options.recursive) {
              if (depth < maxDepth) await walk(childAbsolute, childRelative, depth + 1);
            } else {
              entries.push({ path: childRelative, kind: 'folder', size: 0 });
            }
          } else if (child.isFile()) {
            const size = (await lstat(childAbsolute).catch(() => undefined))?.size ?? 0;
            entries.push({ path: childRelative, kind: 'file', size });
          } else {
            entries.push({ path: childRelative, kind: 'other', size: 0 });
          }
        }
      };
      const folderPath = folder.replace(/\/+$/, '');
      await walk(start, folderPath, 0);
      return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },
    async read(relative) {
      const target = path.resolve(root, relative);
      if (!isInside(root, target)) throw new Error(`${relative} is outside the agent definitions directory`);
      const details = await lstat(target);
      if (!details.isFile()) throw new Error(`${relative} is not a regular file`);
      // A folder on the way may be a link; the file must still be inside the root.
      const real = await realpath(target);
      if (!isInside(root, real)) throw new Error(`${relative} is outside the agent definitions directory`);
      return readFile(real, 'utf8');
    },
  };
}

function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return (
    relative === '' ||
    (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative))
  );
}
