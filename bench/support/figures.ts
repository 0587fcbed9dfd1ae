/**
 * Small helpers every bench uses to turn samples into figures and print them: percentiles, rounding,
 * wall-clock timestamps comparable across processes, and a plain text table.
 */

/**
 * Wall-clock time in ms with sub-millisecond resolution. why: `timeOrigin + now()` is the system clock at
 * process start plus a monotonic clock, so stamps taken in different processes on one machine compare
 * to within microseconds, which `Date.now()` (1 ms steps) cannot do.
 */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The value at `fraction` (0..1) of an ascending array (nearest rank); NaN when empty. */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(sorted.length * fraction) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

/** p50, p90, p99 and max of a set of latencies, in ms. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Summarises `values` (ms); every figure is NaN when there are none. */
export function summarizeLatencies(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((left, right) => left - right);
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** Rounds to `digits` decimals; NaN and infinities become null so that the JSON line stays valid. */
export function round(value: number, digits = 2): number | null {
  if (!Number.isFinite(value)) return null;
  return Number(value.toFixed(digits));
}

/** A cell as shown: numbers with thousands separators, null as an en dash. */
function showCell(cell: string | number | null): string {
  if (cell === null) return '–';
  if (typeof cell === 'number') {
    if (!Number.isFinite(cell)) return '–';
    return cell.toLocaleString('en-US', { maximumFractionDigits: 2 });
  }
  return cell;
}

/**
 * Prints a table with a rule under the headers: the `leftAligned` columns (default the first) are aligned
 * left, the others right.
 */
export function printTable(
  headers: string[],
  rows: Array<Array<string | number | null>>,
  leftAligned: readonly number[] = [0],
): void {
  const cells = [headers, ...rows.map((row) => row.map(showCell))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  const line = (row: string[]): string =>
    row
      .map((cell, column) =>
        leftAligned.includes(column) ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  console.log(line(cells[0]!));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of cells.slice(1)) console.log(line(row));
}

/** Resolves after `delayMs`. */
export function sleep(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, delayMs)));
}

/** Polls `condition` every `intervalMs` until it holds; throws `describe()` after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean,
  timeoutMs: number,
  describe: () => string,
  intervalMs = 5,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(describe());
    await sleep(intervalMs);
  }
}

/** Runs `work(index)` for index 0..count-1 with at most `concurrency` calls in flight. */
export async function runConcurrently(
  count: number,
  concurrency: number,
  work: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const index = next;
      next += 1;
      await work(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}
