/**
 * Task counts by lane and state, kept in memory by the SQLite store.
 *
 * why: counting a million tasks with SQL means scanning them (or keeping an index on the state, which every
 * claim and completion would then have to update: two more pages written per commit on the hot path). The
 * SQLite store is the only writer of its file, so it can count once, on first use, and then apply each
 * committed state change to the counts.
 */
import { LANES, type Lane, type TaskState } from '../../core/types.ts';
import type { TaskCount } from '../store.ts';

/** Counts of tasks per lane and state. */
export interface TaskStateCounts {
  /** Applies a committed change: a task in lane `laneRank` left `from` (null when new) for `to`. */
  move(laneRank: number, from: TaskState | null, to: TaskState): void;
  /** The counts that are not zero, loading them on first use. */
  list(): TaskCount[];
}

/** Creates the counts; `load` reads them from the database (a `GROUP BY`), called once on first use. */
export function createTaskStateCounts(
  load: () => Array<{ lane_rank: number; state: TaskState; count: number }>,
): TaskStateCounts {
  let counts: Map<string, TaskCount> | undefined;

  function entry(laneRank: number, state: TaskState): TaskCount {
    const key = `${laneRank}:${state}`;
    let found = counts!.get(key);
    if (found === undefined) {
      const lane: Lane = LANES[laneRank] ?? 'normal';
      found = { lane, state, count: 0 };
      counts!.set(key, found);
    }
    return found;
  }

  return {
    move(laneRank, from, to) {
      // Before the first load there is nothing to keep current: the load will read the committed rows.
      if (counts === undefined) return;
      if (from !== null) entry(laneRank, from).count -= 1;
      entry(laneRank, to).count += 1;
    },
    list() {
      if (counts === undefined) {
        counts = new Map();
        for (const row of load()) entry(row.lane_rank, row.state).count += row.count;
      }
      return [...counts.values()].filter((count) => count.count > 0).map((count) => ({ ...count }));
    },
  };
}
