import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClaimResult } from '../core/api.ts';
import { breakerGate, breakerKey, type BreakerRecord } from '../core/circuit-breaker.ts';
import { createTestHub, type TestHub } from './testing/create-test-hub.ts';

describe('claims and half-open breakers', () => {
  let hub: TestHub;

  beforeEach(async () => {
    hub = await createTestHub();
  });

  afterEach(async () => {
    await hub.close();
  });

  /** A breaker that opened a minute ago for 30 s: half-open now, admitting one probe. */
  async function halfOpen(key: string): Promise<void> {
    const openedAt = Date.now() - 60_000;
    await hub.store.updateBreaker(key, (): BreakerRecord => ({
      key,
      state: 'open',
      consecutiveFailures: 3,
      backoffMs: 30_000,
      openedAt: new Date(openedAt).toISOString(),
      openUntil: new Date(openedAt + 30_000).toISOString(),
      updatedAt: new Date(openedAt).toISOString(),
    }));
  }

  async function claim(token: string, limit: number): Promise<ClaimResult> {
    const response = await hub.request('POST', '/v1/runner/claim', { token, body: { limit, waitMs: 0 } });
    expect(response.status).toBe(200);
    return (await response.json()) as ClaimResult;
  }

  it('lets exactly one probe through a half-open breaker, even when the runner has room for more', async () => {
    const { runner, token } = await hub.createRunner('prober', { slots: 3 });
    const key = breakerKey('runner', runner.id);
    await halfOpen(key);
    await hub.createTask();
    await hub.createTask();
    await hub.createTask();

    const first = await claim(token, 3);
    expect(first.claims).toHaveLength(1);
    const probe = first.claims[0]!.attempt;
    const [record] = (await hub.store.listBreakers()).filter((breaker) => breaker.key === key);
    // The reservation made before the claim became the attempt.
    expect(record).toMatchObject({ state: 'half-open', probeAttemptId: probe.id });
    expect(record).not.toHaveProperty('probeReservedUntil');
    expect(breakerGate(record, Date.now()).admits).toBe('none');

    // While the probe runs, nothing else goes through.
    expect((await claim(token, 2)).claims).toEqual([]);
  });
});
