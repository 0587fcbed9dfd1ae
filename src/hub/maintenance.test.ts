import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '../core/logger.ts';
import { routedTaskSpec } from '../store/testing/routed-task-spec.ts';
import { createSqliteStore } from '../store/index.ts';
import type { Store } from '../store/store.ts';
import { startMaintenance, type Maintenance } from './maintenance.ts';
import { createHubMetrics } from './metrics.ts';

function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  const logger: Logger & { errors: string[] } = {
    errors,
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (_fields, message) => errors.push(message ?? ''),
    child: () => logger,
  };
  return logger;
}

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('startMaintenance', () => {
  let directory: string;
  let store: Store;
  let now: number;
  let maintenance: Maintenance | undefined;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'warren-maintenance-'));
    now = Date.parse('2030-01-01T00:00:00Z');
    store = await createSqliteStore({ filename: join(directory, 'warren.db'), clock: () => now });
    await store.migrate();
  });
  afterEach(async () => {
    await maintenance?.stop();
    maintenance = undefined;
    await store.close();
    await rm(directory, { recursive: true, force: true });
  });

  async function claimOneTask(): Promise<{ attemptId: string; taskId: string; runnerId: string }> {
    const runner = await store.createRunner({
      name: 'builder',
      capabilities: ['executor:shell'],
      slots: 1,
      tokenHash: 'x',
    });
    const { task } = await store.enqueueTask(routedTaskSpec({ title: 'Work', repo: '/tmp/repo' }));
    const [claim] = await store.claimTasks({
      runnerId: runner.id,
      capabilities: runner.capabilities,
      limit: 1,
      leaseMs: 1_000,
    });
    return { attemptId: claim!.attempt.id, taskId: task.id, runnerId: runner.id };
  }

  it('expires lapsed leases, counts them as lost and marks late runners degraded, then silent ones offline', async () => {
    const { attemptId, taskId, runnerId } = await claimOneTask();
    await store.heartbeatRunner(runnerId);
    const metrics = createHubMetrics({ store, processMetrics: false });
    maintenance = startMaintenance({
      store,
      config: { maintenanceIntervalMs: 60_000, runnerStaleAfterMs: 30_000, runnerLateAfterMs: 15_000 },
      logger: silentLogger,
      metrics,
    });
    await maintenance.runOnce();
    expect((await store.getAttempt(attemptId))?.state).toBe('leased');
    now += 16_000;
    await maintenance.runOnce();
    expect((await store.getRunner(runnerId))?.status).toBe('degraded');

    now += 60_000;
    await maintenance.runOnce();
    expect((await store.getAttempt(attemptId))?.state).toBe('lost');
    expect((await store.getTask(taskId))?.state).toMatch(/^(failed|queued)$/);
    expect((await store.getRunner(runnerId))?.status).toBe('offline');
    expect(await metrics.render()).toContain('warren_attempts_total{outcome="lost"} 1');
  });

  it('runs by itself on its interval and promotes due retries', async () => {
    const { attemptId, taskId } = await claimOneTask();
    maintenance = startMaintenance({
      store,
      config: { maintenanceIntervalMs: 5, runnerStaleAfterMs: 30_000, runnerLateAfterMs: 15_000 },
      logger: silentLogger,
    });
    now += 60_000;
    await until(async () => (await store.getAttempt(attemptId))?.state === 'lost');
    expect((await store.getTask(taskId))?.state).toBe('failed');
    // why: an hour is past any retry backoff, so the loop requeues the task.
    now += 60 * 60 * 1000;
    await until(async () => (await store.getTask(taskId))?.state === 'queued');
  });

  it('logs a failing pass and keeps going; stop waits for the pass in flight', async () => {
    const logger = recordingLogger();
    let calls = 0;
    let releasePass: () => void = () => undefined;
    const failing = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'expireLeases') {
          return async () => {
            calls += 1;
            if (calls <= 2) throw new Error('database is locked');
            await new Promise<void>((resolve) => (releasePass = resolve));
            return 0;
          };
        }
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    maintenance = startMaintenance({
      store: failing,
      config: { maintenanceIntervalMs: 1, runnerStaleAfterMs: 30_000, runnerLateAfterMs: 15_000 },
      logger,
    });
    await until(() => calls === 3);
    expect(logger.errors).toEqual(['maintenance pass failed', 'maintenance pass failed']);

    let stopped = false;
    const stopping = maintenance.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stopped).toBe(false);
    releasePass();
    await stopping;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toBe(3);
  });

  it('does nothing while shouldRun says no (a hub that does not lead), and resumes when it says yes', async () => {
    const { attemptId } = await claimOneTask();
    let leading = false;
    maintenance = startMaintenance({
      store,
      config: { maintenanceIntervalMs: 60_000, runnerStaleAfterMs: 30_000, runnerLateAfterMs: 15_000 },
      logger: silentLogger,
      shouldRun: () => leading,
    });
    now += 60_000;
    await maintenance.runOnce();
    expect((await store.getAttempt(attemptId))?.state).toBe('leased');

    leading = true;
    await maintenance.runOnce();
    expect((await store.getAttempt(attemptId))?.state).toBe('lost');
  });
});
