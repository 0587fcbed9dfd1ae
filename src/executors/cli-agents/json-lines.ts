/**
 * What the CLI agents' output parsers share: reading one stdout line as a JSON object (passing on any
 * other line as plain output) and reading typed fields of the objects they print. A field of the wrong
 * type reads as absent, so a parser never throws on what a CLI prints.
 */
import type { ExecutorEvent } from '../spec.ts';

/** A JSON object as parsed, fields unchecked. */
export type JsonObject = Record<string, unknown>;

/**
 * The events of one stdout line that should hold a JSON object: none for a blank line, the line passed on
 * as `output` when it is not a JSON object (a CLI's plain-text notice, a cut line), else what `read` makes
 * of the object.
 */
export function readJsonLine(line: string, read: (event: JsonObject) => ExecutorEvent[]): ExecutorEvent[] {
  const trimmed = line.trim();
  if (trimmed === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return [stdoutLine(line)];
  }
  return isJsonObject(parsed) ? read(parsed) : [stdoutLine(line)];
}

/** The `output` event that passes one stdout line on as it is. */
export function stdoutLine(line: string): ExecutorEvent {
  return { type: 'output', stream: 'stdout', text: `${line}\n` };
}

/** Whether `value` is a JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` when it is a JSON object. */
export function objectOf(value: unknown): JsonObject | undefined {
  return isJsonObject(value) ? value : undefined;
}

/** `value` when it is an array, else an empty one. */
export function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

/** `value` when it is a string. */
export function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A token count or a cost: `value` when it is a finite number above 0, else 0 (none, or nonsense). */
export function countOf(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}
