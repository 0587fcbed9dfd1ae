/**
 * What Codex has reported so far for each of its threads (sessions), so that a resumed run counts only its
 * own tokens.
 *
 * `codex exec --json` reports usage once per turn, in `turn.completed`, and the figures are the thread's
 * running totals: a run resumed with `codex exec resume` reports the earlier runs' tokens again plus its
 * own (recorded: a first run of 3,300 input tokens, resumed for 3,900 more, reports 7,200). Its output
 * never says what the earlier runs used, so the parsers of one adapter share this memory: a parser
 * subtracts what the thread had reported before and records the new totals.
 */

/** A thread's reported totals. */
export interface ThreadUsage {
  inputTokens: number;
  outputTokens: number;
}

/** The totals reported for each thread, across the activations of one adapter. */
export interface ThreadUsageMemory {
  /** The totals last reported for a thread; zero for one not seen. */
  get(threadId: string): ThreadUsage;
  /** Records a thread's new totals. */
  set(threadId: string, usage: ThreadUsage): void;
}

// why: one thread per attempt, and only the rounds of one attempt resume it; a runner holds far fewer
// attempts at once, and the oldest entries belong to attempts long finished.
const rememberedThreadsLimit = 10_000;

/** Creates an empty memory that, past its limit, forgets the threads reported longest ago. */
export function createThreadUsageMemory(limit = rememberedThreadsLimit): ThreadUsageMemory {
  const totals = new Map<string, ThreadUsage>();
  return {
    get: (threadId) => totals.get(threadId) ?? { inputTokens: 0, outputTokens: 0 },
    set: (threadId, usage) => {
      totals.delete(threadId);
      totals.set(threadId, { ...usage });
      while (totals.size > limit) totals.delete(totals.keys().next().value!);
    },
  };
}
