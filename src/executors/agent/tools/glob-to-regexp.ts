/** Glob patterns as regular expressions, for the `glob` and `grep` tools. */

/**
 * A regular expression matching whole `/`-separated paths against `pattern`.
 *
 * Supported: `*` (any characters except `/`), `?` (one character except `/`), `**` as a whole segment
 * (zero or more directories), `[abc]`, `[a-z]`, `[!abc]`, `{a,b}` (nestable) and `\` to escape the next
 * character. Dot files are matched like any other name. Unbalanced `[` or `{` match themselves.
 */
export function globToRegExp(pattern: string): RegExp {
  return new RegExp(`^${translate(pattern)}$`);
}

/** True when `pattern` has any glob syntax (otherwise it names one path literally). */
export function hasGlobSyntax(pattern: string): boolean {
  return /[*?[{\\]/.test(pattern);
}

function translate(glob: string): string {
  let source = '';
  let index = 0;
  while (index < glob.length) {
    const character = glob[index]!;
    if (character === '*') {
      let end = index;
      while (glob[end] === '*') end += 1;
      const startsSegment = index === 0 || glob[index - 1] === '/';
      const endsSegment = end === glob.length || glob[end] === '/';
      if (end - index >= 2 && startsSegment && endsSegment) {
        if (end === glob.length) {
          source += '.*';
        } else {
          // `**/` is zero or more whole directories.
          source += '(?:[^/]*/)*';
          end += 1;
        }
      } else {
        source += '[^/]*';
      }
      index = end;
    } else if (character === '?') {
      source += '[^/]';
      index += 1;
    } else if (character === '[') {
      const close = findClassEnd(glob, index);
      if (close === -1) {
        source += '\\[';
        index += 1;
      } else {
        let body = glob.slice(index + 1, close);
        const negated = body.startsWith('!') || body.startsWith('^');
        if (negated) body = body.slice(1);
        source += `[${negated ? '^/' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
        index = close + 1;
      }
    } else if (character === '{') {
      const alternatives = splitBraces(glob, index);
      if (alternatives === undefined) {
        source += '\\{';
        index += 1;
      } else {
        source += `(?:${alternatives.parts.map(translate).join('|')})`;
        index = alternatives.end + 1;
      }
    } else if (character === '\\' && index + 1 < glob.length) {
      source += escapeRegExp(glob[index + 1]!);
      index += 2;
    } else {
      source += escapeRegExp(character);
      index += 1;
    }
  }
  return source;
}

/** Index of the `]` closing the class that opens at `open`; a `]` first in the class is literal. */
function findClassEnd(glob: string, open: number): number {
  let index = open + 1;
  if (glob[index] === '!' || glob[index] === '^') index += 1;
  if (glob[index] === ']') index += 1;
  while (index < glob.length) {
    if (glob[index] === '/') return -1;
    if (glob[index] === ']') return index;
    index += 1;
  }
  return -1;
}

/** The comma-separated alternatives of the brace group opening at `open`, or undefined if it is not one. */
function splitBraces(glob: string, open: number): { parts: string[]; end: number } | undefined {
  const parts: string[] = [];
  let depth = 0;
  let partStart = open + 1;
  for (let index = open + 1; index < glob.length; index += 1) {
    const character = glob[index];
    if (character === '\\') {
      index += 1;
    } else if (character === '{') {
      depth += 1;
    } else if (character === '}') {
      if (depth === 0) {
        parts.push(glob.slice(partStart, index));
        return parts.length > 1 ? { parts, end: index } : undefined;
      }
      depth -= 1;
    } else if (character === ',' && depth === 0) {
      parts.push(glob.slice(partStart, index));
      partStart = index + 1;
    }
  }
  return undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
