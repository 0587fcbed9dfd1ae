import { describe, expect, it } from 'vitest';
import {
  chooseCandidate,
  formatScorecardTable,
  hasRecovered,
  PREFERRED_BONUS,
  RECOVERY_BOOST,
  rollingSuccessRate,
  scoreCandidate,
  type CandidateFacts,
  type Scorecard,
} from './routing-score.ts';

/** `count` outcomes of one kind. */
function repeat(succeeded: boolean, count: number): boolean[] {
  return Array.from({ length: count }, () => succeeded);
}

/** Facts for an eligible, online candidate with no record; `fields` override. */
function facts(fields: Partial<CandidateFacts> = {}): CandidateFacts {
  return {
    runnerId: 'run_a',
    runnerName: 'runner-a',
    offers: [],
    dependencyChecks: [],
    outcomes: [],
    presence: 'online',
    freeSlots: 1,
    activeAttempts: 0,
    breakers: [],
    ranFailedPreviousAttempt: false,
    ...fields,
  };
}

/** The gitops pairing on runner-a, weighed 0.9 for `gitops`. */
function gitops(fields: Partial<CandidateFacts> = {}): Scorecard {
  return scoreCandidate(
    ['gitops'],
    facts({ agent: 'gitops', offers: [{ name: 'gitops', weight: 0.9, preferred: false }], ...fields }),
  );
}

/** The direct pairing on runner-b, weighed 0.7 for `gitops`. */
function direct(fields: Partial<CandidateFacts> = {}): Scorecard {
  return scoreCandidate(
    ['gitops'],
    facts({
      runnerId: 'run_b',
      runnerName: 'runner-b',
      agent: 'direct',
      offers: [{ name: 'gitops', weight: 0.7, preferred: false }],
      ...fields,
    }),
  );
}

describe('rollingSuccessRate', () => {
  it('trusts a candidate with no record', () => {
    expect(rollingSuccessRate([])).toBe(1);
  });

  it('is 0 when everything failed and 1 when everything succeeded', () => {
    expect(rollingSuccessRate([false, false])).toBe(0);
    expect(rollingSuccessRate(repeat(true, 7))).toBe(1);
  });

  it('weighs the outcome i places back by 0.95^i', () => {
    // Newest first: one failure, then five successes.
    const weights = [1, 0.95, 0.95 ** 2, 0.95 ** 3, 0.95 ** 4, 0.95 ** 5];
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    expect(rollingSuccessRate([false, ...repeat(true, 5)])).toBeCloseTo((total - 1) / total, 12);
    // Newest first: five successes, then one failure; the old failure costs less.
    expect(rollingSuccessRate([...repeat(true, 5), false])).toBeCloseTo((total - 0.95 ** 5) / total, 12);
    expect(rollingSuccessRate([false, true])).toBeCloseTo(0.95 / 1.95, 12);
    expect(rollingSuccessRate([true, false])).toBeCloseTo(1 / 1.95, 12);
  });

  it('counts only the newest 20 outcomes', () => {
    expect(rollingSuccessRate([...repeat(true, 20), ...repeat(false, 5)])).toBe(1);
    expect(rollingSuccessRate([...repeat(false, 20), ...repeat(true, 5)])).toBe(0);
  });
});

describe('hasRecovered', () => {
  it('needs the newest three outcomes to have succeeded', () => {
    expect(hasRecovered([true, true, true])).toBe(true);
    expect(hasRecovered([true, true, true, false, false])).toBe(true);
    expect(hasRecovered([true, true, false, true])).toBe(false);
    expect(hasRecovered([true, true])).toBe(false);
    expect(hasRecovered([])).toBe(false);
  });
});

describe('scoreCandidate', () => {
  it('takes the minimum weight among the offers the task needs; unweighed capabilities count 1', () => {
    const offers = [
      { name: 'gitops', weight: 0.9, preferred: false },
      { name: 'kubernetes', weight: 0.6, preferred: false },
      { name: 'python', weight: 0.2, preferred: false },
    ];
    expect(scoreCandidate(['gitops', 'kubernetes'], facts({ offers })).factors.baseWeight).toBe(0.6);
    expect(scoreCandidate(['gitops', 'node'], facts({ offers })).factors.baseWeight).toBe(0.9);
    expect(scoreCandidate(['node'], facts({ offers })).factors.baseWeight).toBe(1);
    expect(scoreCandidate([], facts({ offers })).factors.baseWeight).toBe(1);
  });

  it('multiplies the factors', () => {
    const card = scoreCandidate(
      ['gitops'],
      facts({
        offers: [{ name: 'gitops', weight: 0.8, preferred: true }],
        outcomes: [true, true, true, false],
      }),
    );
    const rate = (1 + 0.95 + 0.95 ** 2) / (1 + 0.95 + 0.95 ** 2 + 0.95 ** 3);
    expect(card.factors).toEqual({
      baseWeight: 0.8,
      dependencyHealth: 1,
      successRate: rollingSuccessRate([true, true, true, false]),
      recoveryBoost: RECOVERY_BOOST,
      preferredBonus: PREFERRED_BONUS,
    });
    expect(card.score).toBeCloseTo(0.8 * rate * 1.1 * 1.05, 12);
    expect(card.outcomes).toEqual({ considered: 4, succeeded: 3 });
    expect(card).toMatchObject({ eligible: true, presence: 'online', freeSlots: 1 });
    expect(card.probe).toBeUndefined();
  });

  it('gives the preferred bonus only for an offer the task needs', () => {
    const offers = [
      { name: 'gitops', weight: 0.9, preferred: false },
      { name: 'python', weight: 0.9, preferred: true },
    ];
    expect(scoreCandidate(['gitops'], facts({ offers })).factors.preferredBonus).toBe(1);
    expect(scoreCandidate(['python'], facts({ offers })).factors.preferredBonus).toBe(PREFERRED_BONUS);
  });

  it('scores 0 with a failing dependency check, keeping the other factors', () => {
    const card = gitops({
      dependencyChecks: [
        { name: 'vault', healthy: true },
        { name: 'argo', healthy: false, detail: 'HTTP 503' },
      ],
    });
    expect(card.factors.dependencyHealth).toBe(0);
    expect(card.factors.baseWeight).toBe(0.9);
    expect(card.score).toBe(0);
    expect(card).toMatchObject({
      eligible: false,
      cause: 'dependency failing',
      reason: 'dependency check argo failing: HTTP 503',
    });
  });

  it('says why a candidate may not take the task', () => {
    expect(gitops({ presence: 'offline' })).toMatchObject({ eligible: false, reason: 'runner offline' });
    expect(gitops({ presence: 'draining' })).toMatchObject({ eligible: false, cause: 'draining' });
    expect(gitops({ freeSlots: 0 })).toMatchObject({ eligible: false, reason: 'no free slot' });
    expect(gitops({ blockedBy: 'agent gitops at its max of 2 active' })).toMatchObject({
      eligible: false,
      cause: 'blocked',
      reason: 'agent gitops at its max of 2 active',
    });
    expect(
      gitops({ breakers: [{ key: 'runner:run_a', admits: 'none', retryAt: '2025-01-01T00:01:00.000Z' }] }),
    ).toMatchObject({
      eligible: false,
      cause: 'breaker open',
      reason: 'breaker runner:run_a open until 2025-01-01T00:01:00.000Z',
    });
    expect(gitops({ presence: 'degraded' }).eligible).toBe(true);
  });

  it('lists every obstacle and names the first as the cause', () => {
    const card = gitops({ freeSlots: 0, breakers: [{ key: 'agent:gitops', admits: 'none' }] });
    expect(card.cause).toBe('breaker open');
    expect(card.reason).toBe('breaker agent:gitops half-open with its probe in flight; no free slot');
  });

  it('marks a candidate behind a half-open breaker as its probe', () => {
    const card = gitops({
      breakers: [
        { key: 'runner:run_a', admits: 'any' },
        { key: 'agent:gitops', admits: 'probe' },
      ],
    });
    expect(card).toMatchObject({ eligible: true, probe: true });
    const shut = gitops({
      breakers: [
        { key: 'runner:run_a', admits: 'none', retryAt: '2025-01-01T00:01:00.000Z' },
        { key: 'agent:gitops', admits: 'probe' },
      ],
    });
    expect(shut.eligible).toBe(false);
    expect(shut.probe).toBeUndefined();
  });
});

describe('chooseCandidate', () => {
  // direct: 0.7 with three or more successes, boosted: 0.7 × 1 × 1.1 = 0.77.
  const recoveredDirect = direct({ outcomes: repeat(true, 20) });

  it('keeps gitops primary after one failure and fails over to direct after two', () => {
    expect(recoveredDirect.score).toBeCloseTo(0.77, 12);
    const total = (1 - 0.95 ** 20) / (1 - 0.95);

    const oneFailure = gitops({ outcomes: [false, ...repeat(true, 19)] });
    expect(oneFailure.score).toBeCloseTo((0.9 * (total - 1)) / total, 12); // ≈ 0.8299
    expect(chooseCandidate([recoveredDirect, oneFailure]).winner?.agent).toBe('gitops');

    const twoFailures = gitops({ outcomes: [false, false, ...repeat(true, 18)] });
    expect(twoFailures.score).toBeCloseTo((0.9 * (total - 1.95)) / total, 12); // ≈ 0.7632
    const decision = chooseCandidate([twoFailures, recoveredDirect]);
    expect(decision.winner?.agent).toBe('direct');
    expect(decision.reason).toBe('direct@runner-b won with 0.7700 over gitops@runner-a 0.7632');
  });

  it('makes gitops primary again after six successes on top of F F F S S S S S', () => {
    const scoreAfter = (successes: number): number =>
      gitops({ outcomes: [...repeat(true, successes), ...repeat(false, 3), ...repeat(true, 5)] }).score;
    // k = 5: 0.9 × 1.1 × 0.7732 ≈ 0.7655 < 0.77; k = 6: 0.9 × 1.1 × 0.7954 ≈ 0.7874 > 0.77.
    expect(scoreAfter(5)).toBeCloseTo(0.7654955, 6);
    expect(scoreAfter(6)).toBeCloseTo(0.7874058, 6);
    const winners = [0, 1, 2, 3, 4, 5, 6, 7].map(
      (successes) =>
        chooseCandidate([
          gitops({ outcomes: [...repeat(true, successes), ...repeat(false, 3), ...repeat(true, 5)] }),
          recoveredDirect,
        ]).winner?.agent,
    );
    expect(winners).toEqual(['direct', 'direct', 'direct', 'direct', 'direct', 'direct', 'gitops', 'gitops']);
  });

  it('lets the recovery boost win back a task', () => {
    const history = [false, false, ...repeat(true, 8)];
    // Two successes on top: no boost yet (≈ 0.7277); three: boosted by 1.1 (0.7454 × 1.1 ≈ 0.8199).
    const twoOnTop = gitops({ outcomes: [true, true, ...history] });
    const threeOnTop = gitops({ outcomes: [true, true, true, ...history] });
    expect(twoOnTop.factors.recoveryBoost).toBe(1);
    expect(threeOnTop.factors.recoveryBoost).toBe(RECOVERY_BOOST);
    const rival = direct({ offers: [{ name: 'gitops', weight: 0.78, preferred: false }] });
    // The boost, not the third success alone, is what lifts gitops over the rival.
    expect(threeOnTop.score / RECOVERY_BOOST).toBeLessThan(rival.score);
    expect(chooseCandidate([twoOnTop, rival]).winner?.agent).toBe('direct');
    expect(chooseCandidate([threeOnTop, rival]).winner?.agent).toBe('gitops');
  });

  it('lets a preferred offer settle a near-tie', () => {
    const plain = gitops();
    const preferred = direct({ offers: [{ name: 'gitops', weight: 0.88, preferred: true }] });
    expect(preferred.score).toBeCloseTo(0.88 * 1.05, 12);
    expect(chooseCandidate([plain, preferred]).winner?.agent).toBe('direct');
  });

  it('breaks ties by presence, then free slots, then runner name', () => {
    const base = { offers: [{ name: 'gitops', weight: 0.8, preferred: false }] };
    const alpha = scoreCandidate(['gitops'], facts({ ...base, runnerId: 'r1', runnerName: 'alpha' }));
    const beta = scoreCandidate(['gitops'], facts({ ...base, runnerId: 'r2', runnerName: 'beta' }));
    const degraded = scoreCandidate(
      ['gitops'],
      facts({ ...base, runnerId: 'r0', runnerName: 'aardvark', presence: 'degraded', freeSlots: 9 }),
    );
    const roomy = scoreCandidate(
      ['gitops'],
      facts({ ...base, runnerId: 'r3', runnerName: 'zulu', freeSlots: 4 }),
    );

    const byName = chooseCandidate([beta, alpha]);
    expect(byName.winner?.runnerName).toBe('alpha');
    expect(byName.reason).toBe('alpha won with 0.8000 over beta 0.8000 (tie broken by name)');
    expect(chooseCandidate([degraded, beta]).winner?.runnerName).toBe('beta');
    const bySlots = chooseCandidate([alpha, beta, degraded, roomy]);
    expect(bySlots.winner?.runnerName).toBe('zulu');
    expect(bySlots.reason).toContain('(tie broken by free slots)');
    expect(bySlots.cards.map((card) => card.runnerName)).toEqual(['zulu', 'alpha', 'beta', 'aardvark']);
    // Of equals, the runner asking now takes it (but an online one still beats a degraded claimant).
    const byClaimant = chooseCandidate([alpha, beta, roomy], { claimant: 'r2' });
    expect(byClaimant.winner?.runnerName).toBe(beta.runnerName);
    expect(byClaimant.reason).toContain('(tie broken by claiming runner)');
    expect(chooseCandidate([degraded, beta], { claimant: 'r0' }).winner?.runnerName).toBe('beta');
  });

  it('gives the task to a half-open breaker probe over a better candidate', () => {
    const probe = gitops({
      outcomes: [false, false, false],
      breakers: [{ key: 'agent:gitops', admits: 'probe' }],
    });
    expect(probe.score).toBe(0);
    const decision = chooseCandidate([recoveredDirect, probe]);
    expect(decision.winner?.agent).toBe('gitops');
    expect(decision.winner?.probe).toBe(true);
    expect(decision.reason).toBe(
      "gitops@runner-a won with 0.0000 as a half-open breaker's probe over direct@runner-b 0.7700",
    );
  });

  it('takes the highest-scoring of several probes', () => {
    const breakers = [{ key: 'agent:x', admits: 'probe' as const }];
    const weak = gitops({ outcomes: [false], breakers });
    const strong = direct({ outcomes: [true, false], breakers });
    expect(chooseCandidate([weak, strong, recoveredDirect]).winner).toBe(strong);
  });

  it('passes over the runner that ran the failed previous attempt when another is eligible', () => {
    const retried = gitops({ ranFailedPreviousAttempt: true });
    const decision = chooseCandidate([retried, direct()]);
    expect(decision.winner?.agent).toBe('direct');
    expect(decision.reason).toBe(
      'direct@runner-b won with 0.7000: gitops@runner-a (0.9000) ran the failed previous attempt',
    );
    expect(decision.cards.map((card) => card.agent)).toEqual(['direct', 'gitops']);
  });

  it('passes over a probe on the runner that ran the failed previous attempt', () => {
    const retriedProbe = gitops({
      ranFailedPreviousAttempt: true,
      breakers: [{ key: 'agent:gitops', admits: 'probe' }],
    });
    expect(chooseCandidate([retriedProbe, direct()]).winner?.agent).toBe('direct');
  });

  it('still retries on the same runner when no other candidate is eligible', () => {
    const retried = gitops({ ranFailedPreviousAttempt: true });
    const alone = chooseCandidate([retried]);
    expect(alone.winner).toBe(retried);
    expect(alone.reason).toBe(
      'gitops@runner-a won with 0.9000, the only eligible candidate, although its runner ran the failed previous attempt',
    );
    const busyRival = direct({ freeSlots: 0 });
    expect(chooseCandidate([busyRival, retried]).winner).toBe(retried);
  });

  it('names no winner and counts the causes when nobody is eligible', () => {
    const retryAt = '2025-01-01T00:01:00.000Z';
    const decision = chooseCandidate([
      gitops({ breakers: [{ key: 'runner:run_a', admits: 'none', retryAt }] }),
      direct({ breakers: [{ key: 'agent:direct', admits: 'none', retryAt }] }),
      direct({ runnerId: 'run_c', runnerName: 'runner-c', freeSlots: 0 }),
    ]);
    expect(decision.winner).toBeUndefined();
    expect(decision.reason).toBe('no eligible candidate: 2 breaker open, 1 no free slot');
    expect(decision.cards).toHaveLength(3);
    expect(chooseCandidate([]).reason).toBe('no eligible candidate: no runner offers what the task needs');
  });

  it('sorts the winner first, then eligible cards, then ineligible ones', () => {
    const offline = gitops({ runnerId: 'run_z', runnerName: 'runner-z', presence: 'offline' });
    const decision = chooseCandidate([offline, direct(), gitops()]);
    expect(decision.cards.map((card) => `${card.agent}@${card.runnerName}`)).toEqual([
      'gitops@runner-a',
      'direct@runner-b',
      'gitops@runner-z',
    ]);
  });
});

describe('formatScorecardTable', () => {
  it('prints a row per card, the winner marked, then the reason', () => {
    const decision = chooseCandidate([
      gitops({ outcomes: [false, ...repeat(true, 19)] }),
      direct({ outcomes: repeat(true, 3), freeSlots: 0 }),
    ]);
    const lines = formatScorecardTable(decision).split('\n');
    expect(lines[0]).toMatch(/^\s+candidate\s+score\s+base\s+health\s+rate\s+boost\s+preferred\s+eligible$/);
    expect(lines[1]).toMatch(
      /^\*\s+gitops@runner-a\s+0\.8299\s+0\.90\s+1\s+0\.9221 \(19\/20\)\s+1\.00\s+1\.00\s+yes$/,
    );
    expect(lines[2]).toMatch(
      /^\s+direct@runner-b\s+0\.7700\s+0\.70\s+1\s+1\.0000 \(3\/3\)\s+1\.10\s+1\.00\s+no: no free slot$/,
    );
    expect(lines.at(-1)).toBe('gitops@runner-a won with 0.8299, the only eligible candidate');
    // Fixed width: every row's score column starts at the same place.
    const scoreColumn = lines[0]!.indexOf('score');
    expect(lines[1]!.slice(scoreColumn, scoreColumn + 6)).toBe('0.8299');
    expect(lines[2]!.slice(scoreColumn, scoreColumn + 6)).toBe('0.7700');
  });
});
