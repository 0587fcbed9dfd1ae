/**
 * Finding a CLI agent's binary: the configured path when there is one, else the first match on PATH.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';

/** The binary's absolute path, or why it was not found. */
export type FoundExecutable = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Resolves `configuredPath` (must exist and be executable) or searches `searchPath` (a PATH value) for
 * `name`. Never throws.
 */
export async function findExecutable(
  name: string,
  configuredPath: string | undefined,
  searchPath: string | undefined,
): Promise<FoundExecutable> {
  if (configuredPath !== undefined) {
    const absolute = path.resolve(configuredPath);
    return (await isExecutableFile(absolute))
      ? { ok: true, path: absolute }
      : { ok: false, reason: `the configured path ${absolute} is not an executable file` };
  }
  const directories = (searchPath ?? '').split(path.delimiter).filter((directory) => directory !== '');
  for (const directory of directories) {
    const candidate = path.resolve(directory, name);
    if (await isExecutableFile(candidate)) return { ok: true, path: candidate };
  }
  return {
    ok: false,
    reason: `"${name}" is not on PATH (${directories.length} directories searched); install it or configure its path`,
  };
}

async function isExecutableFile(candidate: string): Promise<boolean> {
  try {
    if (!(await stat(candidate)).isFile()) return false;
    await access(candidate, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
