/**
 * Test helper: whether a process is still running. A zombie (exited, waiting to be reaped) counts as gone,
 * because on some machines pid 1 never reaps orphans and `kill(pid, 0)` keeps answering for them.
 */
import { readFileSync } from 'node:fs';

/** True when `pid` exists and is not a zombie. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}
