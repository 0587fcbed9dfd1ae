/**
 * Tolerant readers for vendor request bodies: a field of the wrong type reads as absent, never throws,
 * so that one odd field does not hide the rest of a request from a test.
 */

/** A JSON object, or an empty one for anything else. */
export function objectOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** A JSON array, or an empty one for anything else. */
export function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

/** A string, or `undefined` for anything else. */
export function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Parses tool-call arguments; arguments that are not JSON are kept as the raw string. */
export function parseArguments(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Tool-result content as text: a string as is, content parts (`{ type: 'text', text }` and the like)
 * joined with newlines, anything else JSON-encoded.
 */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) =>
        typeof part === 'string' ? part : (stringOf(objectOf(part).text) ?? JSON.stringify(part)),
      )
      .join('\n');
  }
  if (content === undefined || content === null) return '';
  return JSON.stringify(content);
}

/**
 * Text of content parts, leaving out parts that are not text (images, reasoning).
 * `textTypes` names the part types that carry `text`; a plain string is its own text.
 */
export function partsText(content: unknown, textTypes: readonly string[]): string {
  if (typeof content === 'string') return content;
  return arrayOf(content)
    .map((part) => objectOf(part))
    .filter((part) => textTypes.includes(stringOf(part.type) ?? '') && typeof part.text === 'string')
    .map((part) => part.text as string)
    .join('\n');
}
