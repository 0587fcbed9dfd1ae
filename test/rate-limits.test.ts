/**
 * The hub's rate limits end to end: a hub served over real loopback HTTP, refusing a runner that spent its
 * bucket with 429 + Retry-After, and the hub client (which the runner daemon and the CLI use) waiting as
 * told and getting through, or saying clearly that it was refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHubClient } from '../src/client/hub-client.ts';
import { RateLimitedError } from '../src/core/errors.ts';
import { silentLogger, type Logger } from '../src/core/logger.ts';
import { createTestHub, type TestHub } from '../src/hub/testing/create-test-hub.ts';
import { serveTestHub, type ServedTestHub } from '../src/hub/testing/serve-test-hub.ts';

const start = 1_700_000_000_000;

describe('rate limits between the hub and its client', () => {
  let hub: TestHub | undefined;
  let served: ServedTestHub | undefined;
  // The hub's clock, moved by hand: the client's waits move it by what they waited.
  let now = start;

  afterEach(async () => {
    await served?.close();
    await hub?.close();
    served = undefined;
    hub = undefined;
    now = start;
  });

  /** A served hub whose runners hold 5 tokens, refilled at 1 a second; a report costs 1, a claim 2. */
  async function serveHub(): Promise<{ url: string; runnerId: string; token: string }> {
    hub = await createTestHub({
      clock: () => now,
      config: {
        rateLimits: {
          runner: { capacity: 5, refillPerSecond: 1 },
          costs: { 'runner.register': 1, 'attempt.report': 1, 'runner.claim': 2 },
        },
      },
    });
    served = await serveTestHub(hub);
    const { runner, token } = await hub.createRunner('alpha');
    // Registering took 1 token; these take the other 4.
    for (let count = 0; count < 4; count += 1) {
      const response = await hub.request('POST', '/v1/runner/heartbeat', {
        token,
        body: { status: 'online', attemptIds: [] },
      });
      expect(response.status).toBe(200);
    }
    return { url: served.url, runnerId: runner.id, token };
  }

  it('the client waits for Retry-After (plus jitter) and gets through', async () => {
    const { url, token } = await serveHub();
    const waits: number[] = [];
    const logger: Logger = {
      ...silentLogger,
      warn: (fields) => {
        waits.push(fields.delayMs as number);
        now += fields.delayMs as number;
      },
    };
    const client = createHubClient({ baseUrl: url, token, logger });
    const answer = await client.runner.heartbeat({ status: 'online', attemptIds: [] });
    expect(answer.revokedAttemptIds).toEqual([]);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(1_000);
    expect(waits[0]).toBeLessThanOrEqual(1_200);
  });

  it('the client throws RateLimitedError naming the runner, the action and its cost when every try is refused', async () => {
    const { url, runnerId, token } = await serveHub();
    const client = createHubClient({
      baseUrl: url,
      token,
      retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
    });
    const error = await client.runner.claim({ waitMs: 0 }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({
      principal: 'runner',
      runnerId,
      action: 'runner.claim',
      cost: 2,
      retryAfterSeconds: 2,
    });
    expect((error as Error).message).toBe(
      `runner ${runnerId} is over its rate limit: runner.claim costs 2; retry in 2 s (POST /v1/runner/claim refused 1 time by the hub at ${url}; its limits are the rateLimits hub settings)`,
    );
    expect((error as Error).message).not.toContain(token);
  });
});
