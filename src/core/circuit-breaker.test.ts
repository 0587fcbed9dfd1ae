import { describe, expect, it } from 'vitest';
import {
  breakerAfterOutcome,
  breakerAfterProbeClaimed,
  breakerAfterProbeLost,
  breakerAfterProbeReserved,
  breakerGate,
  breakerKey,
  breakerRecordSchema,
  DEFAULT_BREAKER_POLICY,
  describeBreaker,
  newBreaker,
  type BreakerPolicy,
  type BreakerRecord,
} from './circuit-breaker.ts';

const policy: BreakerPolicy = { failureThreshold: 3, baseBackoffMs: 30_000, maxBackoffMs: 200_000 };
const key = breakerKey('agent', 'gitops');
const start = Date.parse('2025-01-01T00:00:00.000Z');

/** Applies outcomes in order, one second apart from `at`, and returns the record. */
function run(record: BreakerRecord | undefined, outcomes: boolean[], at = start): BreakerRecord {
  let current = record;
  outcomes.forEach((succeeded, index) => {
    current = breakerAfterOutcome(current, key, { attemptId: `att_${index}`, succeeded }, policy, at + index);
  });
  if (current === undefined) throw new Error('no outcomes given');
  return current;
}

/** Claims a probe at `now`, failing the test if the breaker refuses it. */
function claimProbe(record: BreakerRecord, attemptId: string, now: number): BreakerRecord {
  const claimed = breakerAfterProbeClaimed(record, attemptId, now);
  if (claimed === undefined) throw new Error(`probe ${attemptId} refused`);
  return claimed;
}

/** Sends a probe the moment the backoff is over and fails it; returns the reopened record. */
function failProbe(record: BreakerRecord, attemptId: string): BreakerRecord {
  const later = Date.parse(record.openUntil!);
  const probing = claimProbe(record, attemptId, later);
  return breakerAfterOutcome(probing, key, { attemptId, succeeded: false }, policy, later);
}

/** A breaker just opened at `start` by three failures. */
function opened(): BreakerRecord {
  return run(undefined, [false, false, false]);
}

describe('newBreaker', () => {
  it('starts closed with no failures and the base backoff', () => {
    expect(newBreaker('runner:run_1', start)).toEqual({
      key: 'runner:run_1',
      state: 'closed',
      consecutiveFailures: 0,
      backoffMs: DEFAULT_BREAKER_POLICY.baseBackoffMs,
      updatedAt: '2025-01-01T00:00:00.000Z',
    });
    expect(breakerGate(undefined, start)).toEqual({ state: 'closed', admits: 'any' });
  });
});

describe('breakerAfterOutcome while closed', () => {
  it('stays closed below the threshold', () => {
    const record = run(undefined, [false, false]);
    expect(record).toMatchObject({ state: 'closed', consecutiveFailures: 2 });
    expect(breakerGate(record, start + 10).admits).toBe('any');
  });

  it('opens after the threshold of consecutive failures, for the base backoff', () => {
    const record = opened();
    const openedAt = start + 2;
    expect(record).toMatchObject({
      state: 'open',
      consecutiveFailures: 3,
      backoffMs: 30_000,
      openedAt: new Date(openedAt).toISOString(),
      openUntil: new Date(openedAt + 30_000).toISOString(),
    });
  });

  it('resets the count on a success in between', () => {
    const record = run(undefined, [false, false, true, false, false]);
    expect(record).toMatchObject({ state: 'closed', consecutiveFailures: 2 });
    expect(run(undefined, [false, false, true, false, false, false]).state).toBe('open');
  });
});

describe('breakerGate', () => {
  it('admits nothing while open and says when it will retry', () => {
    const record = opened();
    const openUntil = record.openUntil!;
    expect(breakerGate(record, start + 10_000)).toEqual({
      state: 'open',
      admits: 'none',
      retryAt: openUntil,
    });
    expect(breakerGate(record, Date.parse(openUntil) - 1).admits).toBe('none');
  });

  it('reads half-open once the backoff has passed and admits exactly one probe', () => {
    const record = opened();
    const later = Date.parse(record.openUntil!);
    expect(breakerGate(record, later)).toEqual({ state: 'half-open', admits: 'probe' });

    const probing = claimProbe(record, 'att_probe', later);
    expect(probing).toMatchObject({ state: 'half-open', probeAttemptId: 'att_probe' });
    expect(breakerGate(probing, later + 1)).toEqual({ state: 'half-open', admits: 'none' });
    expect(breakerAfterProbeClaimed(probing, 'att_other', later + 1)).toBeUndefined();
    expect(breakerAfterProbeClaimed(probing, 'att_probe', later + 1)).toBe(probing);
  });

  it('refuses a probe while open or closed', () => {
    const record = opened();
    expect(breakerAfterProbeClaimed(record, 'att_probe', start + 1_000)).toBeUndefined();
    expect(breakerAfterProbeClaimed(newBreaker(key, start), 'att_probe', start)).toBeUndefined();
  });
});

describe('probe reservations', () => {
  it('let exactly one of two schedulers reserve the probe, and the claim take it over', () => {
    const record = opened();
    const later = Date.parse(record.openUntil!);
    const reserved = breakerAfterProbeReserved(record, 'hub-a:tsk_1', later, 30_000)!;
    expect(reserved).toMatchObject({ state: 'half-open', probeAttemptId: 'hub-a:tsk_1' });
    expect(breakerGate(reserved, later + 1)).toEqual({ state: 'half-open', admits: 'none' });
    // The other scheduler, deciding from the same stale view, is refused; the same one again is not.
    expect(breakerAfterProbeReserved(reserved, 'hub-b:tsk_1', later + 1, 30_000)).toBeUndefined();
    expect(breakerAfterProbeReserved(reserved, 'hub-a:tsk_1', later + 1, 30_000)).toBe(reserved);
    expect(breakerAfterProbeClaimed(reserved, 'att_b', later + 2)).toBeUndefined();

    const claimed = breakerAfterProbeClaimed(reserved, 'att_a', later + 2, 'hub-a:tsk_1')!;
    expect(claimed).toMatchObject({ state: 'half-open', probeAttemptId: 'att_a' });
    expect(claimed).not.toHaveProperty('probeReservedUntil');
    // The probe runs as long as it runs: no lapse once it is an attempt.
    expect(breakerGate(claimed, later + 3_600_000)).toEqual({ state: 'half-open', admits: 'none' });
  });

  it('are released when the claim took nothing, and lapse when nobody confirms them', () => {
    const record = opened();
    const later = Date.parse(record.openUntil!);
    const reserved = breakerAfterProbeReserved(record, 'hub-a:tsk_1', later, 30_000)!;
    const released = breakerAfterProbeLost(reserved, 'hub-a:tsk_1', later + 5);
    expect(released).not.toHaveProperty('probeAttemptId');
    expect(released).not.toHaveProperty('probeReservedUntil');
    expect(breakerGate(released, later + 5)).toEqual({ state: 'half-open', admits: 'probe' });

    // A reservation whose hub died before claiming lapses at its time: another probe may go.
    expect(breakerGate(reserved, later + 29_999).admits).toBe('none');
    expect(breakerGate(reserved, later + 30_000).admits).toBe('probe');
    expect(describeBreaker(reserved, later + 1)).toMatch(/^half-open: probe reserved by a claim under way/);
    const retaken = breakerAfterProbeReserved(reserved, 'hub-b:tsk_2', later + 30_000, 30_000)!;
    expect(retaken.probeAttemptId).toBe('hub-b:tsk_2');
    // The late claim of the first reservation no longer finds it.
    expect(breakerAfterProbeClaimed(retaken, 'att_a', later + 30_001, 'hub-a:tsk_1')).toBeUndefined();
  });

  it('refuse a reservation while open or closed', () => {
    expect(breakerAfterProbeReserved(opened(), 'r', start + 1_000, 30_000)).toBeUndefined();
    expect(breakerAfterProbeReserved(newBreaker(key, start), 'r', start, 30_000)).toBeUndefined();
  });
});

describe('breakerAfterOutcome of the probe', () => {
  it('closes on success and resets the backoff', () => {
    let record = opened();
    for (let round = 0; round < 2; round += 1) {
      record = failProbe(record, `att_probe_${round}`);
    }
    expect(record.backoffMs).toBe(120_000);

    const later = Date.parse(record.openUntil!);
    record = claimProbe(record, 'att_good', later);
    const closed = breakerAfterOutcome(
      record,
      key,
      { attemptId: 'att_good', succeeded: true },
      policy,
      later + 5,
    );
    expect(closed).toEqual({
      key,
      state: 'closed',
      consecutiveFailures: 0,
      backoffMs: 30_000,
      updatedAt: new Date(later + 5).toISOString(),
    });
    expect(breakerGate(closed, later + 6).admits).toBe('any');
  });

  it('reopens on failure with the backoff doubled, capped at the maximum', () => {
    let record = opened();
    const backoffs: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      const later = Date.parse(record.openUntil!);
      record = failProbe(record, `att_probe_${round}`);
      expect(record.state).toBe('open');
      expect(record.probeAttemptId).toBeUndefined();
      expect(record.openUntil).toBe(new Date(later + record.backoffMs).toISOString());
      expect(breakerGate(record, later + 1).admits).toBe('none');
      backoffs.push(record.backoffMs);
    }
    expect(backoffs).toEqual([60_000, 120_000, 200_000, 200_000, 200_000]);
    expect(record.consecutiveFailures).toBe(8);
  });
});

describe('straggler outcomes', () => {
  it('change nothing but the failure count while open', () => {
    const record = opened();
    const failed = breakerAfterOutcome(
      record,
      key,
      { attemptId: 'att_old', succeeded: false },
      policy,
      start + 500,
    );
    expect(failed).toEqual({
      ...record,
      consecutiveFailures: 4,
      updatedAt: new Date(start + 500).toISOString(),
    });
    expect(breakerGate(failed, start + 600)).toEqual(breakerGate(record, start + 600));
    const succeeded = breakerAfterOutcome(
      record,
      key,
      { attemptId: 'att_old', succeeded: true },
      policy,
      start + 500,
    );
    expect(succeeded).toBe(record);
  });

  it('neither close nor reopen a half-open breaker with a probe in flight', () => {
    const record = opened();
    const later = Date.parse(record.openUntil!);
    const probing = claimProbe(record, 'att_probe', later);
    const afterSuccess = breakerAfterOutcome(
      probing,
      key,
      { attemptId: 'att_old', succeeded: true },
      policy,
      later,
    );
    expect(afterSuccess).toBe(probing);
    const afterFailure = breakerAfterOutcome(
      probing,
      key,
      { attemptId: 'att_old', succeeded: false },
      policy,
      later,
    );
    expect(afterFailure).toMatchObject({
      state: 'half-open',
      probeAttemptId: 'att_probe',
      backoffMs: 30_000,
    });
  });

  it('do not close an open breaker whose backoff has passed', () => {
    const record = opened();
    const later = Date.parse(record.openUntil!) + 1;
    const afterSuccess = breakerAfterOutcome(
      record,
      key,
      { attemptId: 'att_old', succeeded: true },
      policy,
      later,
    );
    expect(breakerGate(afterSuccess, later)).toEqual({ state: 'half-open', admits: 'probe' });
  });
});

describe('breakerAfterProbeLost', () => {
  it('returns to half-open without a probe, so that another may go, backoff unchanged', () => {
    const record = opened();
    const later = Date.parse(record.openUntil!);
    const probing = claimProbe(record, 'att_probe', later);
    const lost = breakerAfterProbeLost(probing, 'att_probe', later + 10);
    expect(lost).toMatchObject({ state: 'half-open', backoffMs: 30_000, consecutiveFailures: 3 });
    expect(lost.probeAttemptId).toBeUndefined();
    expect(breakerGate(lost, later + 11)).toEqual({ state: 'half-open', admits: 'probe' });
    expect(claimProbe(lost, 'att_next', later + 11).probeAttemptId).toBe('att_next');
  });

  it('ignores an attempt that is not the probe', () => {
    const record = opened();
    const probing = claimProbe(record, 'att_probe', Date.parse(record.openUntil!));
    expect(breakerAfterProbeLost(probing, 'att_other', start + 60_000)).toBe(probing);
  });
});

describe('describeBreaker', () => {
  it('says what the breaker does, in one line', () => {
    expect(describeBreaker(undefined, start)).toBe('closed');
    expect(describeBreaker(run(undefined, [false]), start)).toBe('closed (1 consecutive failure)');

    const slowPolicy: BreakerPolicy = { ...policy, baseBackoffMs: 60_000 };
    let record: BreakerRecord | undefined;
    for (const attemptId of ['att_1', 'att_2', 'att_3']) {
      record = breakerAfterOutcome(record, key, { attemptId, succeeded: false }, slowPolicy, start);
    }
    expect(describeBreaker(record, start)).toBe('open for 1m 0s more (3 consecutive failures, backoff 60s)');
    expect(describeBreaker(record, start + 15_500)).toBe(
      'open for 45s more (3 consecutive failures, backoff 60s)',
    );
    expect(describeBreaker(record, start + 60_000)).toBe(
      'half-open: waiting for a probe (3 consecutive failures, backoff 60s)',
    );
    const probing = claimProbe(record!, 'att_01HPROBE', start + 60_000);
    expect(describeBreaker(probing, start + 60_001)).toBe('half-open: probe att_01HPROBE in flight');
  });
});

describe('BreakerRecord', () => {
  it('survives a JSON round trip and still behaves the same', () => {
    const record = opened();
    const later = Date.parse(record.openUntil!);
    const probing = claimProbe(record, 'att_probe', later);
    for (const stored of [record, probing]) {
      const restored = breakerRecordSchema.parse(JSON.parse(JSON.stringify(stored)));
      expect(restored).toEqual(stored);
      expect(breakerGate(restored, later + 1)).toEqual(breakerGate(stored, later + 1));
    }
    const restored = breakerRecordSchema.parse(JSON.parse(JSON.stringify(probing)));
    const closed = breakerAfterOutcome(
      restored,
      key,
      { attemptId: 'att_probe', succeeded: true },
      policy,
      later,
    );
    expect(closed.state).toBe('closed');
  });

  it('is refused when malformed', () => {
    const broken = { ...opened(), state: 'ajar' };
    expect(breakerRecordSchema.safeParse(broken).success).toBe(false);
  });
});
