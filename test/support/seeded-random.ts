/**
 * Reproducible randomness for chaos and stress tests: every random choice comes from one seed, printed
 * at the start and in failure messages, so a failing run can be replayed with `WARREN_CHAOS_SEED=<seed>`.
 */

/** A seeded source of random choices. */
export interface SeededRandom {
  /** The seed this source started from. */
  readonly seed: number;
  /** A number in [0, 1). */
  next(): number;
  /** An integer in [min, max], both included. */
  integer(min: number, max: number): number;
  /** True with probability `probability`. */
  chance(probability: number): boolean;
  /** One of `items` (which must not be empty). */
  pick<Item>(items: readonly Item[]): Item;
}

/** The seed from `WARREN_CHAOS_SEED` when set (a non-negative integer), else a random one. */
export function chaosSeed(environment: NodeJS.ProcessEnv = process.env): number {
  const given = environment.WARREN_CHAOS_SEED;
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new Error(`WARREN_CHAOS_SEED must be a non-negative integer, got ${JSON.stringify(given)}`);
    }
    return seed;
  }
  return Math.floor(Math.random() * 2 ** 32);
}

/** A source of random choices from `seed` (mulberry32: small, fast, good enough for test schedules). */
export function createSeededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    seed,
    next,
    integer: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (probability) => next() < probability,
    pick(items) {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)]!;
    },
  };
}
