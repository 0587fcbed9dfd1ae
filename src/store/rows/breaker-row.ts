/**
 * Conversion between a `breakers` row and the domain BreakerRecord, and the check of a record before it is
 * stored.
 */
import { breakerRecordSchema, type BreakerRecord } from '../../core/circuit-breaker.ts';
import { InvalidInputError, WarrenError } from '../../core/errors.ts';
import { parseInput } from '../../core/parse-input.ts';
import type { BreakerRow } from './database-schema.ts';

/**
 * The record stored in `row`, checked with `breakerRecordSchema`. why checked (unlike other JSON columns):
 * the record is built by the hub's breaker code, not validated by the store's own input checks, and a
 * malformed one would silently mislead routing. A row that fails is reported as an internal error.
 */
export function breakerFromRow(row: Pick<BreakerRow, 'key' | 'record'>): BreakerRecord {
  let value: unknown;
  try {
    value = JSON.parse(row.record);
  } catch (error) {
    throw new WarrenError('internal', `breaker ${row.key} is stored as malformed JSON`, { cause: error });
  }
  const parsed = breakerRecordSchema.safeParse(value);
  if (!parsed.success) {
    throw new WarrenError('internal', `breaker ${row.key} is stored malformed: ${parsed.error.message}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/**
 * `record` checked for storing under `key`: InvalidInputError naming `breaker.<field>` when it is malformed,
 * or `breaker.key` when it names another key. Returns the JSON to store.
 */
export function breakerColumnOf(key: string, record: BreakerRecord): string {
  const checked = parseInput(breakerRecordSchema, record, 'breaker');
  if (checked.key !== key) {
    throw new InvalidInputError([
      { field: 'breaker.key', reason: `is "${checked.key}" but the update is for breaker "${key}"` },
    ]);
  }
  return JSON.stringify(checked);
}
