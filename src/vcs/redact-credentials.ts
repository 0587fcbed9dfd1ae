/**
 * Patterns for credentials that git commands can echo back: the user-info part of a URL
 * (`https://user:TOKEN@host`, `https://TOKEN@host`), GitHub tokens and HTTP authorization headers.
 */
const credentialPatterns: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s'"]+@/gi, '$1***@'],
  [/\b(gh[pousr]_|github_pat_)[A-Za-z0-9_]+/g, '$1***'],
  [/\b(authorization:\s*(?:basic|bearer|token)\s+)\S+/gi, '$1***'],
];

/**
 * Text with anything that looks like a credential replaced by `***`.
 *
 * Used on every argument and every line of output that goes into a {@link GitError} or a log, because
 * source repository URLs may carry an access token.
 */
export function redactCredentials(text: string): string {
  let redacted = text;
  for (const [pattern, replacement] of credentialPatterns) {
    redacted = redacted.replace(pattern, replacement);
  }
  return redacted;
}
