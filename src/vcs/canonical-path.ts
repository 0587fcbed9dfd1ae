import { realpath } from 'node:fs/promises';
import path from 'node:path';

/**
 * The absolute path with symlinks resolved, also for paths that do not exist yet.
 *
 * Git records worktree paths with symlinks resolved (`/private/var/...` on macOS for `/var/...`), so
 * paths are compared in this form.
 */
export async function canonicalPath(target: string): Promise<string> {
  const absolute = path.resolve(target);
  try {
    return await realpath(absolute);
  } catch {
    const parent = path.dirname(absolute);
    if (parent === absolute) return absolute;
    return path.join(await canonicalPath(parent), path.basename(absolute));
  }
}

/** Whether `child` is `parent` or lies somewhere below it; both must be canonical. */
export function isSameOrInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  if (relative === '') return true;
  return relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}
