/**
 * An in-process async mutex per key (a repository path).
 *
 * Git serializes writers on one repository with lock files (`config.lock`, `index.lock`,
 * `packed-refs.lock`) and fails instead of waiting; concurrent `git worktree add` or `git fetch` on one
 * mirror therefore race. Every write to a mirror goes through `run(mirror.path, ...)`.
 */
export interface KeyedLock {
  /**
   * Runs `fn` once every earlier call with the same key has settled, and returns its result.
   * The lock is released when `fn` settles, whether it resolves or throws. Calls are served in order.
   */
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** Whether a call for `key` is running or waiting. */
  isLocked(key: string): boolean;
}

/**
 * Creates a {@link KeyedLock}. Keys with no running or waiting call hold no memory.
 *
 * The lock is not reentrant: calling `run` with a key from inside `run` with the same key deadlocks.
 */
export function createKeyedLock(): KeyedLock {
  // The last promise in each key's queue; it settles when the newest holder releases.
  const tails = new Map<string, Promise<void>>();

  return {
    async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      const tail = previous.then(() => released);
      tails.set(key, tail);
      try {
        await previous;
        return await fn();
      } finally {
        release();
        if (tails.get(key) === tail) tails.delete(key);
      }
    },
    isLocked(key: string): boolean {
      return tails.has(key);
    },
  };
}
