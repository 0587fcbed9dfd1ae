/**
 * Terminal output helpers for the CLI: colours (off for pipes and NO_COLOR), aligned tables and short times.
 */
import { styleText } from 'node:util';
import type { TaskState } from '../core/types.ts';

type Style = Parameters<typeof styleText>[0];

/** Whether to colour output written to `stream`. */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR) return true;
  return Boolean(stream.isTTY);
}

/** Applies a style when colour is on. */
export function paint(style: Style, text: string, enabled = useColor()): string {
  return enabled ? styleText(style, text) : text;
}

const stateStyles: Record<TaskState, Style> = {
  blocked: 'gray',
  queued: 'cyan',
  leased: 'blue',
  running: 'blue',
  verifying: 'magenta',
  succeeded: 'green',
  failed: 'yellow',
  dead: 'red',
  cancelled: 'gray',
};

/** A task state, coloured by meaning. */
export function paintState(state: TaskState, enabled = useColor()): string {
  return paint(stateStyles[state], state, enabled);
}

// why: ANSI escapes take no room on screen; strip them before measuring column widths.
// eslint-disable-next-line no-control-regex
const ansiPattern = /\u001b\[[0-9;]*m/g;

function visibleLength(text: string): number {
  return text.replace(ansiPattern, '').length;
}

/** Renders rows as an aligned table with a header line. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(visibleLength(header), ...rows.map((row) => visibleLength(row[column] ?? ''))),
  );
  const render = (cells: string[]): string =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell + ' '.repeat(widths[column]! - visibleLength(cell)),
      )
      .join('  ')
      .trimEnd();
  const header = render(headers.map((header) => paint('bold', header)));
  return [header, ...rows.map(render)].join('\n');
}

/** "3s ago", "5m ago", or a date for older times. */
export function formatAgo(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (seconds < 0) return `in ${formatDuration(-seconds * 1000)}`;
  if (seconds < 86_400) return `${formatDuration(seconds * 1000)} ago`;
  return iso.slice(0, 10);
}

/** "850ms", "12.3s", "4m05s", "2h10m". */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes}m${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** Prints a value as pretty JSON on stdout (the `--json` form of every command). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
