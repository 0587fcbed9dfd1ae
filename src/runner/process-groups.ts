/**
 * Process groups an executor started, recorded so that a runner restarted after a crash can kill what its
 * previous life left running.
 *
 * Killing a recorded group id after a restart is only safe when the id still names the same group. On
 * Linux the kernel never hands out a pid that is still in use as a process group id, so a group id whose
 * members are alive is still ours as long as the machine has not rebooted (same boot id) and the group
 * leader, if alive, is the same process (same start time). Where that cannot be checked, nothing is killed.
 */
import { readFileSync } from 'node:fs';

/** A process group as recorded in the runner's state file. */
export interface ProcessGroupRecord {
  id: number;
  /** `/proc/sys/kernel/random/boot_id` when recorded; absent where it cannot be read. */
  bootId?: string;
  /** The leader's start time in clock ticks since boot (`/proc/<pid>/stat` field 22). */
  leaderStartTime?: string;
}

/** What {@link killRecordedProcessGroup} did. */
export type ProcessGroupKillOutcome = 'killed' | 'gone' | 'unverifiable';

/** Describes a live process group for the state file. */
export function describeProcessGroup(processGroupId: number): ProcessGroupRecord {
  return { id: processGroupId, bootId: readBootId(), leaderStartTime: readStartTime(processGroupId) };
}

/** SIGKILLs the recorded group when it provably is the same group; never touches a reused id. */
export function killRecordedProcessGroup(record: ProcessGroupRecord): ProcessGroupKillOutcome {
  const bootId = readBootId();
  if (!record.bootId || !bootId || record.bootId !== bootId) return bootId ? 'gone' : 'unverifiable';
  const leaderStartTime = readStartTime(record.id);
  if (leaderStartTime !== undefined && leaderStartTime !== record.leaderStartTime) return 'gone';
  try {
    process.kill(-record.id, 'SIGKILL');
    return 'killed';
  } catch {
    return 'gone';
  }
}

function readBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * A process's start time in clock ticks since boot (`/proc/<pid>/stat` field 22), or undefined when it does
 * not exist (or this is not Linux). With the boot id, it tells a process from a later one given the same pid.
 */
export function readStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // why: the command name (field 2) may contain spaces and parentheses; fields after the last ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}
