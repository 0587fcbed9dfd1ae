/**
 * Reading a request's JSON body, with malformed JSON answered as a 400 that names the body.
 */
import type { Context } from 'hono';
import { InvalidInputError } from '../core/errors.ts';

/**
 * The parsed JSON body of the request. An empty body is `emptyValue` when given, else refused.
 * Throws InvalidInputError when the body is not JSON.
 */
export async function readJsonBody(c: Context, emptyValue?: unknown): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') {
    if (emptyValue !== undefined) return emptyValue;
    throw new InvalidInputError([{ field: '', reason: 'request body is empty; send a JSON object' }]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const detail = error instanceof SyntaxError ? `: ${error.message}` : '';
    throw new InvalidInputError([{ field: '', reason: `request body is not valid JSON${detail}` }], {
      cause: error,
    });
  }
}
