/**
 * Waiting that an abort signal cuts short.
 */

/**
 * Resolves after `delayMs`, or at once when `signal` aborts (never rejects: callers check the signal).
 * The timer is not unref'd, so a pending wait keeps the process alive.
 */
export function sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, delayMs);
    signal?.addEventListener('abort', done, { once: true });
  });
}
