/**
 * sha256 of secrets (tokens kept at rest only as hashes).
 */
import { createHash, hash } from 'node:crypto';

/**
 * The sha256 of a UTF-8 string. why: the one-shot `crypto.hash` (Node 20.12+) costs half of a `createHash`
 * object per call and runs on every authenticated request; older Node 20 releases get the latter.
 */
export const sha256: (text: string) => Buffer =
  typeof hash === 'function'
    ? (text) => hash('sha256', text, 'buffer')
    : (text) => createHash('sha256').update(text, 'utf8').digest();
