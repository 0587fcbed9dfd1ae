/**
 * Reading an HTTP `Retry-After` header (RFC 9110 §10.2.3): delay-seconds or an HTTP date.
 */

/**
 * Whole seconds a `Retry-After` value asks the client to wait (0 for a date already past), or undefined
 * when the value is absent or unreadable. `now` is epoch ms (tests).
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // why the letters: an HTTP date names its day and month (`Sun, 06 Nov 1994 08:49:37 GMT`); Date.parse
  // would also take `-1` as the year 1 BC.
  if (!/^[A-Za-z]{3},/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1_000));
}
