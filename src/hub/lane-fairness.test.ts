import { describe, expect, it } from 'vitest';
import type { Lane } from '../core/types.ts';
import { createLaneFairness } from './lane-fairness.ts';

/**
 * Plays claims against the credits with every lane always having work: each claim takes the lowest owed
 * lane's task, or else a task of the highest lane with work.
 */
function simulate(shares: Parameters<typeof createLaneFairness>[0], claims: number, lanesWithWork: Lane[]) {
  const fairness = createLaneFairness(shares);
  const taken: Lane[] = [];
  for (let index = 0; index < claims; index += 1) {
    const owed = fairness.owed().filter((lane) => lanesWithWork.includes(lane));
    for (const lane of fairness.owed()) if (!lanesWithWork.includes(lane)) fairness.noteNothingQueued(lane);
    const lane = owed[0] ?? lanesWithWork[0]!;
    taken.push(lane);
    fairness.noteClaimed([lane]);
  }
  return taken;
}

const count = (lanes: Lane[], lane: Lane) => lanes.filter((taken) => taken === lane).length;

describe('lane fairness', () => {
  it('gives each lower lane its share under a flood of higher work, spread out rather than in bursts', () => {
    const taken = simulate({ normal: 0.1, low: 0.05 }, 1_000, ['high', 'normal', 'low']);
    expect(count(taken, 'normal') / 1_000).toBeCloseTo(0.1, 1);
    expect(count(taken, 'low') / 1_000).toBeCloseTo(0.05, 1);
    expect(count(taken, 'low')).toBeGreaterThanOrEqual(45);
    expect(count(taken, 'normal')).toBeGreaterThanOrEqual(90);
    // Never two low claims within 10 claims of each other.
    const lowAt = taken.flatMap((lane, index) => (lane === 'low' ? [index] : []));
    for (let index = 1; index < lowAt.length; index += 1) {
      expect(lowAt[index]! - lowAt[index - 1]!).toBeGreaterThanOrEqual(10);
    }
    // The first low claim comes within 21 claims: the guarantee holds from the start.
    expect(lowAt[0]).toBeLessThanOrEqual(21);
  });

  it('never lets a flood of lower work hold more than its share while higher lanes have work', () => {
    const taken = simulate({ low: 0.05 }, 200, ['high', 'low']);
    expect(count(taken, 'low')).toBeLessThanOrEqual(10);
    expect(count(taken, 'high')).toBeGreaterThanOrEqual(190);
  });

  it('does not bank credit while a lane is idle: work arriving after a long lull gets one claim, not a run', () => {
    const fairness = createLaneFairness({ low: 0.05 });
    for (let index = 0; index < 500; index += 1) fairness.noteClaimed(['high']);
    expect(fairness.owed()).toEqual(['low']);
    fairness.noteClaimed(['low']);
    expect(fairness.owed()).toEqual([]);
    expect(fairness.credits().low).toBe(0);
  });

  it('starts an owed lane with nothing queued over at 0, and never owes a lane without a share', () => {
    const fairness = createLaneFairness({ normal: 0.5, low: 0 });
    fairness.noteClaimed(['high', 'high']);
    expect(fairness.owed()).toEqual(['normal']);
    fairness.noteNothingQueued('normal');
    expect(fairness.owed()).toEqual([]);
    expect(fairness.credits()).toEqual({ normal: 0 });
    for (let index = 0; index < 100; index += 1) fairness.noteClaimed(['high']);
    expect(fairness.owed()).toEqual(['normal']);
  });

  it('lists the lowest owed lane first', () => {
    const fairness = createLaneFairness({ normal: 0.5, low: 0.5 });
    fairness.noteClaimed(['high', 'high']);
    expect(fairness.owed()).toEqual(['low', 'normal']);
  });
});
