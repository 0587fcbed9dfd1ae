/**
 * Parking of long-poll claim requests until work may be ready.
 *
 * A claim request first tries to claim at once. When nothing is claimable it parks here until the store
 * signals `tasks-ready`, its wait runs out, its client goes away or the hub shuts down.
 *
 * Waking is fair and avoids a thundering herd: each signal starts a round that gives parked waiters a turn
 * in arrival order (FIFO), at most as many at a time as tasks are ready, and waits for those turns to end
 * before counting again and waking the next ones. A waiter that claims nothing (say, the ready tasks need
 * capabilities it lacks) keeps its place in the line. Each waiter gets at most one turn per round.
 */
import type { Logger } from '../core/logger.ts';

/** Options of one {@link ClaimWaiters.claim} call. */
export interface ClaimWaitOptions {
  /** How long to wait for work before answering empty. */
  waitMs: number;
  /**
   * Aborts the wait (the client disconnected): a signal, or a function making one, called at most once
   * and only when the request parks. why: making a signal costs more than most claims that find work.
   */
  signal?: AbortSignal | (() => AbortSignal);
}

/** The line of parked claim requests. */
export interface ClaimWaiters {
  /**
   * Calls `attempt` now and, while it returns nothing, again each time this request's turn comes. When
   * `waitMs` passes it tries once more and returns what that finds; when the signal aborts or the waiters
   * close it returns an empty list. An attempt that returns undefined (nothing, and nothing worth waiting
   * for) ends the wait with an empty list at once.
   */
  claim<Item>(attempt: () => Promise<Item[] | undefined>, options: ClaimWaitOptions): Promise<Item[]>;
  /** Work may have become claimable: wake parked requests (coalesced while a round runs). */
  notify(): void;
  /** Number of requests currently waiting (parked or trying). */
  readonly size: number;
  /** Ends every wait with an empty answer and refuses to park new ones (hub shutdown). */
  close(): void;
}

/** Options of {@link createClaimWaiters}. */
export interface ClaimWaitersOptions {
  /**
   * How many tasks are claimable now, counted up to `upTo` (an upper bound is fine); sizes each batch of
   * wake-ups.
   */
  countReady: (upTo: number) => Promise<number>;
  logger: Logger;
}

interface Waiter {
  /** Ends the current park as woken; set only while parked. */
  wake?: () => void;
  /** Ends the current park as aborted; set only while parked. */
  abort?: () => void;
  /** A turn granted by a round: called after this waiter's next claim attempt (or when it leaves). */
  turn?: () => void;
}

type ParkOutcome = 'woken' | 'timeout' | 'aborted';

/** Creates an empty line of claim waiters. */
export function createClaimWaiters(options: ClaimWaitersOptions): ClaimWaiters {
  const { countReady, logger } = options;
  const line: Waiter[] = [];
  let closed = false;
  let roundRunning = false;
  let signalPending = false;

  function grantTurn(waiter: Waiter): Promise<void> {
    return new Promise((resolve) => {
      waiter.turn = resolve;
      waiter.wake?.();
    });
  }

  async function runRound(): Promise<void> {
    const tried = new Set<Waiter>();
    for (;;) {
      const candidates = line.filter((waiter) => !tried.has(waiter));
      if (candidates.length === 0 || closed) return;
      let ready: number;
      try {
        // why: a single waiter is cheaper to wake than to count for.
        ready = candidates.length === 1 ? 1 : await countReady(candidates.length);
      } catch (error) {
        logger.warn({ err: error }, 'counting ready tasks failed; waking every waiting claim');
        ready = candidates.length;
      }
      if (ready <= 0) return;
      // Taken from the line as it is now: a waiter that left while the count ran (its request ended) would
      // never end a turn granted to it, and the round, and every later one, would wait forever.
      const batch = line.filter((waiter) => !tried.has(waiter)).slice(0, ready);
      if (batch.length === 0) return;
      for (const waiter of batch) tried.add(waiter);
      await Promise.all(batch.map(grantTurn));
    }
  }

  async function runRounds(): Promise<void> {
    roundRunning = true;
    try {
      while (signalPending && !closed) {
        signalPending = false;
        await runRound();
      }
    } finally {
      roundRunning = false;
    }
  }

  function park(waiter: Waiter, waitMs: number, signal: AbortSignal | undefined): Promise<ParkOutcome> {
    return new Promise((resolve) => {
      const finish = (outcome: ParkOutcome): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        waiter.wake = undefined;
        waiter.abort = undefined;
        resolve(outcome);
      };
      const onAbort = (): void => finish('aborted');
      const timer = setTimeout(() => finish('timeout'), waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      waiter.wake = () => finish('woken');
      waiter.abort = onAbort;
    });
  }

  return {
    async claim(attempt, { waitMs, signal: signalOption }) {
      let signal = typeof signalOption === 'function' ? undefined : signalOption;
      const waiter: Waiter = {};
      line.push(waiter);
      const deadline = Date.now() + waitMs;
      try {
        for (;;) {
          const turn = waiter.turn;
          waiter.turn = undefined;
          let items;
          try {
            items = await attempt();
          } finally {
            turn?.();
          }
          if (items === undefined) return [];
          if (items.length > 0) return items;
          if (closed || signal?.aborted) return [];
          // A turn granted while the attempt ran may concern work that attempt could not see yet.
          if (waiter.turn) continue;
          const remaining = deadline - Date.now();
          if (remaining <= 0) return [];
          if (typeof signalOption === 'function') signal ??= signalOption();
          const outcome = await park(waiter, remaining, signal);
          if (outcome === 'aborted' || closed || signal?.aborted) return [];
          if (outcome === 'timeout') {
            // why: work can become claimable without a local signal (another hub on the same database).
            return (await attempt()) ?? [];
          }
        }
      } finally {
        const index = line.indexOf(waiter);
        if (index >= 0) line.splice(index, 1);
        waiter.turn?.();
      }
    },
    notify() {
      if (closed) return;
      signalPending = true;
      if (!roundRunning) {
        runRounds().catch((error: unknown) => logger.error({ err: error }, 'waking claim waiters failed'));
      }
    },
    get size() {
      return line.length;
    },
    close() {
      closed = true;
      for (const waiter of [...line]) {
        waiter.abort?.();
        waiter.turn?.();
        waiter.turn = undefined;
      }
    },
  };
}
