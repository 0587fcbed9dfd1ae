/**
 * Finding processes a test may have left behind, by scanning /proc (Linux only).
 */
import { readdir, readFile, readlink } from 'node:fs/promises';

/**
 * Live processes (`pid command line`) whose command line contains `commandLineContains` or whose working
 * directory is under `cwdUnder`. Zombies are left out: they have exited, and only their parent's
 * bookkeeping is left.
 */
export async function liveProcesses(commandLineContains: string, cwdUnder?: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // The state is the first field after the command name, which is in parentheses and may hold spaces.
    const zombie = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
    const inDirectory = cwdUnder !== undefined && cwd.startsWith(cwdUnder);
    if (!zombie && (cmdline.includes(commandLineContains) || inDirectory)) {
      found.push(`${pid} ${cmdline.replaceAll('\0', ' ')}`);
    }
  }
  return found;
}
