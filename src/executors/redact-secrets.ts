/**
 * Removal of secret values from text that leaves the runner's trust boundary: tool output given to a
 * model, error messages, logs.
 */

/** What a secret value is replaced with. */
export const REDACTED = '[REDACTED]';

/**
 * Replaces every occurrence of each secret value in `text` with {@link REDACTED}, also in the escaped
 * form a value takes inside a JSON string (a token with a quote or backslash, printed by `JSON.stringify`).
 * Longer values are replaced first, so a secret that contains another is removed whole. Empty values are
 * ignored.
 */
export function redactSecrets(text: string, secretValues: readonly string[]): string {
  if (secretValues.length === 0 || text === '') return text;
  const forms = new Set<string>();
  for (const value of secretValues) {
    if (value === '') continue;
    forms.add(value);
    forms.add(JSON.stringify(value).slice(1, -1));
  }
  let redacted = text;
  for (const form of [...forms].sort((left, right) => right.length - left.length)) {
    if (form !== '' && redacted.includes(form)) redacted = redacted.split(form).join(REDACTED);
  }
  return redacted;
}

// why: shorter values (a "1", a "true") would blank out ordinary text; real credentials are far longer.
const minSecretLength = 6;

/** A redactor bound to a set of secret values; values shorter than six characters are not treated as secrets. */
export function createSecretRedactor(secretValues: readonly string[]): (text: string) => string {
  const values = [...new Set(secretValues.filter((value) => value.length >= minSecretLength))];
  if (values.length === 0) return (text) => text;
  return (text) => redactSecrets(text, values);
}
