/**
 * Finding processes a test may have left behind, by scanning /proc (Linux only).
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { PROCESS_TAG_VARIABLE } from '../../../src/executors/tagged-processes.ts';

/** Which processes to find; every given condition must hold. */
export interface ProcessFilter {
  /** The command line contains this text. */
  commandLineContains?: string;
  /** The working directory is under this path. */
  cwdUnder?: string;
  /**
   * The process carries a run tag (`WARREN_PROCESS_TAG`): it belongs to an executor run (a CLI agent and
   * everything it started), not to the runner's own git or the CLIs' version checks.
   */
  tagged?: boolean;
}

/**
 * Live processes (`pid command line`) matching `filter`. Zombies are left out: they have exited, and only
 * their parent's bookkeeping is left.
 */
export async function liveProcesses(filter: ProcessFilter): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))) {
    if (Number(pid) === process.pid) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // The state is the first field after the command name, which is in parentheses and may hold spaces.
    if (stat === '' || stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (filter.commandLineContains !== undefined && !cmdline.includes(filter.commandLineContains)) continue;
    if (filter.cwdUnder !== undefined) {
      const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
      if (!cwd.startsWith(filter.cwdUnder)) continue;
    }
    if (filter.tagged) {
      const environ = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
      if (!environ.includes(`${PROCESS_TAG_VARIABLE}=`)) continue;
    }
    found.push(`${pid} ${cmdline.replaceAll('\0', ' ')}`);
  }
  return found;
}

// why: SIGKILL is delivered asynchronously; a killed process may still be listed for a few milliseconds.
const settleMs = 2_000;

/** The processes matching `filter` that are still alive once killed ones have had time to go. */
export async function survivingProcesses(filter: ProcessFilter): Promise<string[]> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const found = await liveProcesses(filter);
    if (found.length === 0 || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
