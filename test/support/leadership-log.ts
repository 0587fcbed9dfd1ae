/**
 * Reading the maintenance leadership history of hub processes back from their JSON log files (pino lines
 * with `time` in epoch ms): when each hub became leader and stepped down, and in which terms.
 */
import { existsSync, readFileSync } from 'node:fs';

/** A hub process whose log is read. */
export interface HubLifetime {
  /** A short name for messages, e.g. `hub-3`. */
  name: string;
  /** The hub's instance id: its leadership holder. */
  instanceId: string;
  logFile: string;
  /**
   * When the process ended, on this machine's clock: the moment a SIGKILL was sent, or the moment its
   * exit was seen. Undefined while it runs.
   */
  endedAt?: number;
}

/** One stretch of time during which a hub said it led. */
export interface LeadershipInterval {
  hub: string;
  holder: string;
  /** The term it became leader in. */
  term: number;
  start: number;
  end: number;
  /** The step-down reason, or what closed the interval when no step-down was logged. */
  endedBy: string;
}

/** A term as a hub's log names it (`became leader` or `leader again in a new term`). */
export interface LoggedTerm {
  hub: string;
  holder: string;
  term: number;
  time: number;
}

interface LogLine {
  time: number;
  msg: string;
  holder?: string;
  term?: number;
  reason?: string;
}

/** The complete JSON lines of a log file (a line cut short by a kill is skipped). */
export function readLogLines(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  const lines: LogLine[] = [];
  for (const text of readFileSync(file, 'utf8').split('\n')) {
    if (text.trim() === '') continue;
    try {
      lines.push(JSON.parse(text) as LogLine);
    } catch {
      // The last line of a killed process may be incomplete.
    }
  }
  return lines;
}

/**
 * The leadership intervals of one hub. An interval still open at the end of the log ends when the process
 * ended (a SIGKILLed hub may not have written its last lines: pino writes asynchronously), or at `now`
 * for a hub that still runs.
 */
export function leadershipIntervals(hub: HubLifetime, now: number): LeadershipInterval[] {
  const intervals: LeadershipInterval[] = [];
  let open: { start: number; term: number } | undefined;
  for (const line of readLogLines(hub.logFile)) {
    if (line.holder !== hub.instanceId) continue;
    if (line.msg === 'became leader' && open === undefined) {
      open = { start: line.time, term: line.term ?? -1 };
    } else if (line.msg === 'stepped down' && open !== undefined) {
      intervals.push({
        hub: hub.name,
        holder: hub.instanceId,
        term: open.term,
        start: open.start,
        end: line.time,
        endedBy: line.reason ?? 'stepped down',
      });
      open = undefined;
    }
  }
  if (open !== undefined) {
    intervals.push({
      hub: hub.name,
      holder: hub.instanceId,
      term: open.term,
      start: open.start,
      end: hub.endedAt ?? now,
      endedBy: hub.endedAt === undefined ? 'still leading' : 'process ended',
    });
  }
  return intervals;
}

/** Pairs of intervals of different hubs that overlap in time, with the overlap in ms. */
export function findOverlaps(
  intervals: readonly LeadershipInterval[],
): Array<{ first: LeadershipInterval; second: LeadershipInterval; overlapMs: number }> {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const overlaps: Array<{ first: LeadershipInterval; second: LeadershipInterval; overlapMs: number }> = [];
  for (let index = 0; index < sorted.length; index += 1) {
    const first = sorted[index]!;
    for (const second of sorted.slice(index + 1)) {
      if (second.start >= first.end) break;
      if (second.hub === first.hub) continue;
      overlaps.push({ first, second, overlapMs: Math.min(first.end, second.end) - second.start });
    }
  }
  return overlaps;
}

/** Every term named in the hubs' logs, in log time order. */
export function loggedTerms(hubs: readonly HubLifetime[]): LoggedTerm[] {
  const terms: LoggedTerm[] = [];
  for (const hub of hubs) {
    for (const line of readLogLines(hub.logFile)) {
      if (line.holder !== hub.instanceId || line.term === undefined) continue;
      if (line.msg === 'became leader' || line.msg === 'leader again in a new term') {
        terms.push({ hub: hub.name, holder: hub.instanceId, term: line.term, time: line.time });
      }
    }
  }
  return terms.sort((a, b) => a.time - b.time || a.term - b.term);
}

/**
 * What is wrong with a history of (term, holder) observations in time order: a term that goes down, or a
 * term with two holders. Empty when all is well.
 */
export function termProblems(
  history: ReadonlyArray<{ term: number; holder: string; time: number }>,
): string[] {
  const problems: string[] = [];
  const holderOfTerm = new Map<number, string>();
  let previous: { term: number; holder: string; time: number } | undefined;
  for (const entry of history) {
    const holder = holderOfTerm.get(entry.term);
    if (holder !== undefined && holder !== entry.holder) {
      problems.push(`term ${entry.term} has two holders: ${holder} and ${entry.holder}`);
    }
    holderOfTerm.set(entry.term, entry.holder);
    if (previous !== undefined && entry.term < previous.term) {
      problems.push(
        `term went down from ${previous.term} (${previous.holder}) to ${entry.term} (${entry.holder}) at ${entry.time}`,
      );
    }
    previous = entry;
  }
  return problems;
}
