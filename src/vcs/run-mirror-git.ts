import type { Mirror } from './mirror.ts';
import { runGit } from './run-git.ts';
import type { RunGitOptions, RunGitResult } from './run-git.ts';

/**
 * Runs `git <args>` against a mirror's bare repository.
 *
 * Passes `--git-dir` instead of relying on discovery: if the mirror directory were damaged, discovery
 * would walk up and act on whatever repository contains the cache directory.
 */
export function runMirrorGit(
  mirror: Mirror,
  args: string[],
  options: Omit<RunGitOptions, 'cwd'> = {},
): Promise<RunGitResult> {
  return runGit([`--git-dir=${mirror.path}`, ...args], { ...options, cwd: mirror.path });
}
