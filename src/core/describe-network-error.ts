/**
 * Network failures in words, for error messages and logs.
 */

/**
 * The error's message, its cause's code (ECONNREFUSED, ENOTFOUND, ...) and the cause's message, each
 * once: `fetch failed: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:7420`.
 */
export function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  const causeMessage = cause instanceof Error ? cause.message : undefined;
  return [error.message, typeof code === 'string' ? code : undefined, causeMessage]
    .filter((part, index, parts) => part && parts.indexOf(part) === index)
    .join(': ');
}
