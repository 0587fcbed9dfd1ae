/**
 * A self-rescheduling timer for the hub's periodic work (maintenance passes, endpoint list syncs).
 */

/** A running repetition. */
export interface Repeating {
  /** Runs one pass now (after any pass in flight); never throws. */
  runOnce(): Promise<void>;
  /** Stops the repetition and waits for the pass in flight, if any. */
  stop(): Promise<void>;
}

/**
 * Runs `pass` every `intervalMs`, the first time after one interval. The next pass is scheduled only after
 * the current one ends, so passes never overlap however slow they are. `pass` must not throw (log instead).
 * The timer does not keep the process alive (the HTTP server does that while the hub runs).
 */
export function startRepeating(pass: () => Promise<void>, intervalMs: number): Repeating {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  function runOnce(): Promise<void> {
    inFlight = inFlight.then(pass);
    return inFlight;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void runOnce().then(schedule);
    }, intervalMs);
    timer.unref();
  }

  schedule();
  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await inFlight;
    },
  };
}
