/**
 * Polling until something holds, for tests that watch other processes.
 */

/**
 * Calls `check` until it returns something other than `undefined` or `false`, and returns that.
 * Throws (naming `description`) when `timeoutMs` passes first. why: a bound on waiting, never a
 * measurement; a slow machine only makes the test slower, and a hang becomes a readable failure.
 */
export async function waitFor<Value>(
  description: string,
  check: () => Promise<Value | undefined | false> | Value | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Value> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
