/**
 * Splits a stream of text into whole lines for CLI output parsers: partial lines wait for the rest, `\r\n`
 * counts as one break, and a line longer than the cap is cut (the parser then sees an unreadable line,
 * never unbounded memory).
 */

/** A line splitter: `push` text as it arrives, `end` to take the unterminated remainder. */
export interface LineSplitter {
  push(text: string): void;
  /** Returns what followed the last line break (possibly ''), and resets. */
  end(): string;
}

/** Calls `onLine` with each complete line (without its break); lines over `maxLineLength` characters are cut. */
export function createLineSplitter(
  onLine: (line: string, truncated: boolean) => void,
  maxLineLength: number,
): LineSplitter {
  let pending = '';
  let dropping = false;
  return {
    push(text) {
      let start = 0;
      for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', start)) {
        const piece = text.slice(start, index);
        start = index + 1;
        if (dropping) {
          dropping = false;
          continue;
        }
        const line = pending + piece;
        pending = '';
        onLine(line.endsWith('\r') ? line.slice(0, -1) : line, false);
      }
      if (dropping) return;
      pending += text.slice(start);
      if (pending.length > maxLineLength) {
        // The line goes on beyond the cap: hand over its head, flagged, and skip the rest of it.
        onLine(pending.slice(0, maxLineLength), true);
        pending = '';
        dropping = true;
      }
    },
    end() {
      const rest = dropping ? '' : pending;
      pending = '';
      dropping = false;
      return rest.endsWith('\r') ? rest.slice(0, -1) : rest;
    },
  };
}
