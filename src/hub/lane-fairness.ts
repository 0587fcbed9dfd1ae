/**
 * Per-lane fairness of claims on one hub: claims follow lane order (high, normal, low), except that a lower
 * lane with a guaranteed share gets a claim whenever it has earned one.
 *
 * Credits: every task claimed adds each shared lane's share to its credit (capped at 1), and a task claimed
 * from a shared lane costs that lane 1 (floored at 0). A lane whose credit has reached 1 is owed: the next
 * claim looks at that lane's head first and may take one task of it ahead of higher lanes. So under a flood
 * of high-priority work, a lane with share 0.05 still gets about one claim in 21; a flood of low-priority
 * work gets no more than its share while higher lanes have work, so it never starves them. The cap keeps a
 * lane that was idle for an hour from taking a run of claims when work arrives. A lane owed a claim that has
 * nothing this runner could take starts earning again from 0, so an empty lane costs one look per 1/share
 * claims.
 *
 * Each hub keeps its own credits (in memory): with several hubs each holds the shares over its own claims.
 */
import { LANES, type Lane } from '../core/types.ts';

/** The lanes below the top one that are guaranteed a share of claims, and each one's share (0..0.5). */
export type LaneShares = Partial<Record<Exclude<Lane, 'high'>, number>>;

/** The state of {@link createLaneFairness}. */
export interface LaneFairness {
  /** Lanes owed a claim now, lowest first. */
  owed(): Lane[];
  /** A claim took tasks of these lanes, in order. */
  noteClaimed(lanes: readonly Lane[]): void;
  /** An owed lane had nothing the claiming runner could take: it earns its next claim from 0. */
  noteNothingQueued(lane: Lane): void;
  /** Each shared lane's credit, for tests and metrics. */
  credits(): Partial<Record<Lane, number>>;
}

// why: credits are sums of fractions such as 0.05; without a little slack twenty of them fall short of 1.
const epsilon = 1e-9;

/** Creates the credits of one hub; lanes with share 0 or none are never owed. */
export function createLaneFairness(shares: LaneShares): LaneFairness {
  const credit = new Map<Lane, number>();
  for (const [lane, share] of Object.entries(shares) as Array<[Lane, number | undefined]>) {
    if (share !== undefined && share > 0) credit.set(lane, 0);
  }
  const shareOf = (lane: Lane): number => shares[lane as Exclude<Lane, 'high'>] ?? 0;
  return {
    owed() {
      return [...credit.entries()]
        .filter(([, value]) => value >= 1 - epsilon)
        .map(([lane]) => lane)
        .sort((left, right) => LANES.indexOf(right) - LANES.indexOf(left));
    },
    noteClaimed(lanes) {
      for (const claimed of lanes) {
        for (const [lane, value] of credit) credit.set(lane, Math.min(1, value + shareOf(lane)));
        const value = credit.get(claimed);
        if (value !== undefined) credit.set(claimed, Math.max(0, value - 1));
      }
    },
    noteNothingQueued(lane) {
      if (credit.has(lane)) credit.set(lane, 0);
    },
    credits() {
      return Object.fromEntries(credit);
    },
  };
}
