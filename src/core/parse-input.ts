/**
 * Validation of untrusted input with zod, turning failures into an InvalidInputError that names each field.
 */
import type { z } from 'zod';
import { InvalidInputError, type FieldIssue } from './errors.ts';

/** Parses `value` with `schema`; throws InvalidInputError naming every bad field and why. */
export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  prefix = '',
): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new InvalidInputError(toFieldIssues(result.error, prefix), { cause: result.error });
}

/** Converts zod issues into field issues. */
export function toFieldIssues(error: z.ZodError, prefix = ''): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    const field = [prefix, path].filter(Boolean).join('.');
    let reason = issue.message;
    if (issue.code === 'unrecognized_keys') reason = `unknown field(s): ${issue.keys.join(', ')}`;
    return { field, reason };
  });
}
