/**
 * Opaque cursors for `Store.listTasks`: the base64url form of the last task's sequence number.
 */
import { InvalidInputError } from '../core/errors.ts';

/** Encodes the sequence number of the last task on a page as an opaque cursor. */
export function encodeTaskCursor(sequence: number): string {
  return Buffer.from(String(sequence), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by {@link encodeTaskCursor}. Throws InvalidInputError (field `cursor`) for
 * anything else, so a tampered cursor is a 400, never a query on garbage.
 */
export function decodeTaskCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const sequence = /^[0-9]{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(sequence) || encodeTaskCursor(sequence) !== cursor) {
    throw new InvalidInputError([{ field: 'cursor', reason: 'is not a cursor from a previous page' }]);
  }
  return sequence;
}
