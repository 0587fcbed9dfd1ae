/**
 * Finding every process a run started, even those that left its process group. Some CLI agents start
 * their shell commands in a new session (`setsid`, Node's `detached: true`), so killing the agent's
 * process group misses them, and once the agent exits they are re-parented and no longer its
 * descendants. What they keep is the environment they inherited: runProcess gives the run a unique
 * `WARREN_PROCESS_TAG`, and this module finds the processes that carry it (Linux `/proc`).
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

/** The variable that marks a run's processes. */
export const PROCESS_TAG_VARIABLE = 'WARREN_PROCESS_TAG';

/** A fresh tag for one run. */
export function createProcessTag(): string {
  return randomUUID();
}

/**
 * The pids of live processes whose environment carries `tag` (this process excluded). Processes of other
 * users, or gone by the time they are read, are skipped. Empty where `/proc` does not exist.
 */
export function findTaggedProcesses(tag: string): number[] {
  const marker = `${PROCESS_TAG_VARIABLE}=${tag}`;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (environ.startsWith(`${marker}\0`) || environ.includes(`\0${marker}\0`) || environ === marker) {
      found.push(pid);
    }
  }
  return found;
}

/** Sends `signal` to every tagged process and to the process group each leads; returns how many. */
export function signalTaggedProcesses(tag: string, signal: NodeJS.Signals): number {
  const pids = findTaggedProcesses(tag);
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone already.
    }
  }
  return pids.length;
}
