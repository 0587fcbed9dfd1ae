import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { routedTaskSpec } from '../store/testing/routed-task-spec.ts';
import { createSqliteStore } from '../store/index.ts';
import type { Store } from '../store/store.ts';
import { createHubMetrics } from './metrics.ts';

describe('createHubMetrics', () => {
  let directory: string;
  let store: Store;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'warren-metrics-'));
    store = await createSqliteStore({ filename: join(directory, 'warren.db') });
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('keeps each hub’s metrics in its own registry, with process metrics', async () => {
    const first = createHubMetrics({ store });
    const second = createHubMetrics({ store });
    first.recordAttemptEnd('succeeded', 12);
    first.recordClaimWait(0.2, true);
    first.recordHttpRequest({ method: 'GET', route: '/v1/tasks', status: 200, durationSeconds: 0.01 });
    const firstText = await first.render();
    expect(firstText).toContain('warren_attempts_total{outcome="succeeded"} 1');
    expect(firstText).toContain('warren_attempt_duration_seconds_bucket{le="15",outcome="succeeded"} 1');
    expect(firstText).toContain('warren_claim_wait_seconds_count{result="claimed"} 1');
    expect(firstText).toContain('warren_http_requests_total{method="GET",route="/v1/tasks",status="200"} 1');
    expect(firstText).toContain('process_cpu_user_seconds_total');
    expect(await second.render()).not.toContain('warren_attempts_total{outcome="succeeded"} 1');
  });

  it('reads task counts on scrape, reusing them within the cache period', async () => {
    const metrics = createHubMetrics({ store, processMetrics: false, cacheMs: 60_000 });
    expect(await metrics.render()).toContain('warren_tasks{lane="normal",state="queued"} 0');
    await store.enqueueTask(routedTaskSpec({ title: 'Work', repo: '/tmp/repo' }));
    expect(await metrics.render()).toContain('warren_tasks{lane="normal",state="queued"} 0');

    const fresh = createHubMetrics({ store, processMetrics: false, cacheMs: 0 });
    expect(await fresh.render()).toContain('warren_tasks{lane="normal",state="queued"} 1');
  });

  it('reports whether this hub leads maintenance, read on scrape', async () => {
    let leading = false;
    const metrics = createHubMetrics({ store, processMetrics: false, isLeader: () => leading });
    expect(await metrics.render()).toContain('\nwarren_hub_leader 0\n');
    leading = true;
    expect(await metrics.render()).toContain('\nwarren_hub_leader 1\n');
    expect(await createHubMetrics({ store, processMetrics: false }).render()).toContain(
      '\nwarren_hub_leader 0\n',
    );
  });
});
