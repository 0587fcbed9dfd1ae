/**
 * Identifier generation. Ids are time-ordered (48-bit millisecond timestamp + 80 random bits, Crockford
 * base32, like ULID) so that sorting by id is sorting by creation, which cursor pagination relies on.
 */
import { randomBytes } from 'node:crypto';

const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let lastTime = -1;
let lastRandom: number[] = [];

/** Creates a new time-ordered id with a type prefix, e.g. `tsk_01J...`. Monotonic within a process. */
export function createId(prefix: 'tsk' | 'att' | 'run' | 'evt', now: number = Date.now()): string {
  let random: number[];
  if (now <= lastTime) {
    // why: ids made in the same millisecond must still sort in creation order; bump the random part.
    random = incrementBase32(lastRandom);
    now = lastTime;
  } else {
    random = Array.from(randomBytes(16).subarray(0, 16), (byte) => byte % 32);
  }
  lastTime = now;
  lastRandom = random;
  let time = '';
  let remaining = now;
  for (let index = 0; index < 10; index += 1) {
    time = alphabet[remaining % 32]! + time;
    remaining = Math.floor(remaining / 32);
  }
  return `${prefix}_${time}${random.map((digit) => alphabet[digit]!).join('')}`;
}

function incrementBase32(digits: number[]): number[] {
  const next = [...digits];
  for (let index = next.length - 1; index >= 0; index -= 1) {
    if (next[index]! < 31) {
      next[index] = next[index]! + 1;
      return next;
    }
    next[index] = 0;
  }
  return next;
}

/** When the id was made (epoch ms), read back from its time digits; undefined when `id` is not in this format. */
export function timeOfId(id: string): number | undefined {
  const start = id.indexOf('_') + 1;
  if (start === 0 || id.length < start + 10) return undefined;
  let time = 0;
  for (let index = start; index < start + 10; index += 1) {
    const digit = alphabet.indexOf(id[index]!);
    if (digit < 0) return undefined;
    time = time * 32 + digit;
  }
  return time;
}

/** Creates an unguessable secret token (lease tokens, runner tokens, the admin token). */
export function createSecretToken(prefix: 'wrn_admin' | 'wrn_runner' | 'lease'): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}

/** The short, human-friendly form of an id used in branch names and tables (last 8 characters). */
export function shortId(id: string): string {
  return id.slice(-8).toLowerCase();
}
