/**
 * Reading JSON columns back into domain values.
 */

/**
 * Parses a JSON column the store itself wrote. The type is asserted, not checked: every JSON column is
 * written only with `JSON.stringify` of a validated domain value and guarded by a `json_type` CHECK, so
 * re-validating on every read would cost time on the hot path for nothing. Empty arrays and objects, the
 * most common values by far, skip the parser (each call still returns a fresh value).
 */
export function parseJsonColumn<Value>(text: string): Value {
  if (text === '[]') return [] as Value;
  if (text === '{}') return {} as Value;
  return JSON.parse(text) as Value;
}
