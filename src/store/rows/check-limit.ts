/**
 * The page-size check shared by the listing methods.
 */
import { InvalidInputError } from '../../core/errors.ts';

/** Throws InvalidInputError (field `limit`) unless `limit` is an integer in 1..max. */
export function checkLimit(limit: number, max: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new InvalidInputError([{ field: 'limit', reason: `must be an integer from 1 to ${max}` }]);
  }
}
