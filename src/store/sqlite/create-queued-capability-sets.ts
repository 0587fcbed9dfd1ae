/**
 * The requirement sets that have queued tasks, kept in memory by the SQLite store for claims.
 *
 * why: a claim reads each requirement set the runner satisfies separately (see `claim-tasks.sql.ts`);
 * knowing the sets without a query keeps the common claim (one or a few sets) at a single index read.
 * The store is the only writer of its file, so it can keep the list current: every task that becomes
 * queued adds its set after the commit, and a set whose read finds nothing is dropped.
 */
import { parseJsonColumn } from '../rows/parse-json-column.ts';

/** Requirement sets (`required_capabilities` values) that may have queued tasks. */
export interface QueuedCapabilitySets {
  /** The sets a runner offering `capabilities` satisfies, loading the list on first use. */
  eligible(capabilities: ReadonlySet<string>): string[];
  /** Notes that a task needing `requiredCapabilities` is queued (call after the commit). */
  add(requiredCapabilities: string): void;
  /** Drops a set found to have no queued task. */
  remove(requiredCapabilities: string): void;
  /** Reads the list again from the database. */
  reload(): void;
}

/** Creates the list; `load` returns the sets from the database (`queuedCapabilitySetsSql`). */
export function createQueuedCapabilitySets(load: () => string[]): QueuedCapabilitySets {
  /** Each set's JSON text, and the capabilities it lists. */
  let sets: Map<string, string[]> | undefined;

  function reload(): Map<string, string[]> {
    sets = new Map(load().map((text) => [text, parseJsonColumn<string[]>(text)]));
    return sets;
  }

  return {
    eligible(capabilities) {
      const eligible: string[] = [];
      for (const [text, required] of sets ?? reload()) {
        if (required.every((capability) => capabilities.has(capability))) eligible.push(text);
      }
      return eligible;
    },
    add(requiredCapabilities) {
      // Before the first load there is nothing to keep current: the load will read the committed rows.
      if (sets !== undefined && !sets.has(requiredCapabilities)) {
        sets.set(requiredCapabilities, parseJsonColumn<string[]>(requiredCapabilities));
      }
    },
    remove(requiredCapabilities) {
      sets?.delete(requiredCapabilities);
    },
    reload() {
      reload();
    },
  };
}
