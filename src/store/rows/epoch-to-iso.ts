/**
 * Time conversion between the database (epoch-ms integers) and the domain types (ISO strings).
 */

// why: every task and attempt read converts several times, and `Date#toISOString` is one of the larger
// costs of a claim. Times within one second share everything up to the milliseconds, so the formatted
// second is kept and only the milliseconds are appended.
let cachedSecond = Number.NaN;
let cachedPrefix = '';

/** An epoch-ms time as an ISO 8601 string (UTC, millisecond precision), e.g. `2030-01-01T00:00:00.000Z`. */
export function epochToIso(epochMs: number): string {
  const milliseconds = epochMs % 1000;
  const second = epochMs - milliseconds;
  if (!Number.isInteger(epochMs) || epochMs < 0 || epochMs >= 253_402_300_800_000) {
    // Outside years 1970..9999 (or fractional): the general conversion, which also handles the odd cases.
    return new Date(epochMs).toISOString();
  }
  if (second !== cachedSecond) {
    cachedPrefix = new Date(second).toISOString().slice(0, 20);
    cachedSecond = second;
  }
  return cachedPrefix + (milliseconds < 10 ? '00' : milliseconds < 100 ? '0' : '') + milliseconds + 'Z';
}
