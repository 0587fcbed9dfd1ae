/**
 * What Linux says about a process in `/proc`: its CPU time and its resident memory, for benches that
 * measure processes they did not start in-process (a hub in a child process, a database server's
 * backends). Linux only; elsewhere the answers are undefined or NaN.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

let clockTicksPerSecond: number | undefined;

/** The kernel's clock ticks per second (`getconf CLK_TCK`, 100 almost everywhere). */
function ticksPerSecond(): number {
  if (clockTicksPerSecond === undefined) {
    try {
      clockTicksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicksPerSecond = 100;
    }
  }
  return clockTicksPerSecond;
}

/** User + system CPU time of a process, µs; undefined when it is gone or unreadable. */
export async function processCpuMicros(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // why after the last ')': the command name in parentheses may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 (utime) and 15 (stime) of stat(5), here at 11 and 12 (counting from field 3, state).
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks / ticksPerSecond()) * 1_000_000;
  } catch {
    return undefined;
  }
}

/** Resident set size of a process (`VmRSS` in `/proc/PID/status`), bytes; NaN when unreadable. */
export async function processRssBytes(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kilobytes = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kilobytes === undefined ? Number.NaN : Number(kilobytes) * 1024;
  } catch {
    return Number.NaN;
  }
}
