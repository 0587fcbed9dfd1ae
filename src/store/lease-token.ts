/**
 * Lease tokens at rest: stores keep only a sha256 hash of each token, so a database dump cannot be used
 * to act on an attempt, and compare hashes in constant time.
 */
import { sha256 } from '../core/sha256.ts';

/** The stored form of a lease token: its sha256 hash, base64url. */
export function hashLeaseToken(leaseToken: string): string {
  return sha256(leaseToken).toString('base64url');
}

/**
 * True when `leaseToken` hashes to `storedHash`. The comparison looks at every character whatever the
 * result, so its time says nothing about how much of the hash matched.
 */
export function leaseTokenMatches(leaseToken: string, storedHash: string): boolean {
  const presented = hashLeaseToken(leaseToken);
  if (presented.length !== storedHash.length) return false;
  let difference = 0;
  for (let index = 0; index < presented.length; index += 1) {
    difference |= presented.charCodeAt(index) ^ storedHash.charCodeAt(index);
  }
  return difference === 0;
}
