/**
 * Redaction of secret values (granted credentials, API keys) from text before it reaches a model, a log
 * line or an event.
 */

/** The placeholder a secret is replaced with. */
export const REDACTED = '[redacted]';

// why: shorter values (a "1", a "true") would blank out ordinary text; real credentials are far longer.
const minSecretLength = 6;

/** Returns a function that replaces every occurrence of the given secret values with {@link REDACTED}. */
export function createSecretRedactor(secrets: string[]): (text: string) => string {
  const values = [...new Set(secrets.filter((secret) => secret.length >= minSecretLength))].sort(
    (left, right) => right.length - left.length,
  );
  if (values.length === 0) return (text) => text;
  const pattern = new RegExp(values.map(escapeRegExp).join('|'), 'g');
  return (text) => text.replace(pattern, REDACTED);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
