/**
 * Fleet limits with real runner daemons over loopback HTTP: a named concurrency limit is never exceeded
 * while 20 runners compete for the work it covers, and an agent definition runs one task at a time unless
 * it says otherwise.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHubClient, type HubClient } from '../src/client/hub-client.ts';
import { silentLogger } from '../src/core/logger.ts';
import type { Task } from '../src/core/types.ts';
import { startHub, type RunningHub } from '../src/hub/start-hub.ts';
import { startRunner, type RunningRunner } from '../src/runner/start-runner.ts';
import { createGitSandbox, type GitSandbox } from '../src/vcs/testing/create-git-sandbox.ts';
import { waitFor } from './support/wait-for.ts';

/** The most intervals open at once, from `start <ms>` / `end <ms>` lines. */
function maxOverlap(lines: string[]): number {
  const events = lines
    .map((line) => line.split(' '))
    .map(([kind, at]) => ({ delta: kind === 'start' ? 1 : -1, at: Number(at) }))
    // why: at equal times an end sorts first, so back-to-back runs do not count as overlapping.
    .sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let most = 0;
  for (const event of events) {
    open += event.delta;
    most = Math.max(most, open);
  }
  return most;
}

describe('fleet limits with 20 runners', () => {
  let sandbox: GitSandbox;
  let hub: RunningHub;
  let admin: HubClient;
  let source: string;
  const runners: RunningRunner[] = [];

  beforeEach(async () => {
    sandbox = await createGitSandbox();
    hub = await startHub({
      dataDir: sandbox.path('hub'),
      port: 0,
      config: {
        fleet: {
          maxDeferMs: 10_000,
          reconsiderMs: 200,
          breaker: { failureThreshold: 3, baseBackoffMs: 30_000, maxBackoffMs: 600_000 },
          concurrencyLimits: [{ name: 'deploys', limit: 2, match: { capability: 'deploy' } }],
          outcomesPerPairing: 20,
        },
      },
      logger: silentLogger,
    });
    admin = createHubClient({ baseUrl: hub.url, token: hub.adminToken });
    source = await sandbox.createSourceRepo({ files: { 'README.md': '# limits\n' } });
  });

  afterEach(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.stop({ drainTimeoutMs: 0 })));
    await hub.close();
    await sandbox.cleanup();
  });

  it('never runs more deploys at once than the named limit allows, while other work uses every runner', async () => {
    const ledger = sandbox.path('ledger');
    await mkdir(path.dirname(ledger), { recursive: true });
    await appendFile(ledger, '');
    for (let index = 0; index < 20; index += 1) {
      const name = `runner-${index}`;
      const { token } = await admin.runners.create({ name });
      runners.push(
        await startRunner({
          hubUrl: hub.url,
          token,
          name,
          workDir: sandbox.path(name),
          capabilities: ['deploy'],
          pollWaitMs: 1_000,
          logger: silentLogger,
        }),
      );
    }
    const record = (kind: 'deploy' | 'build') =>
      kind === 'deploy'
        ? `echo "start $(date +%s%3N)" >> ${ledger}; sleep 0.4; echo "end $(date +%s%3N)" >> ${ledger}`
        : 'sleep 0.4';
    const tasks: Task[] = [];
    for (let index = 0; index < 12; index += 1) {
      for (const kind of ['deploy', 'build'] as const) {
        const { task } = await admin.tasks.create({
          title: `${kind} ${index}`,
          repo: source,
          executor: 'shell',
          ...(kind === 'deploy' ? { capabilities: ['deploy'] } : {}),
          executorInput: { run: record(kind) },
        });
        tasks.push(task);
      }
    }
    await waitFor(
      'every task to succeed',
      async () => {
        const states = await Promise.all(
          tasks.map(async (task) => (await admin.tasks.get(task.id))!.task.state),
        );
        expect(states.filter((state) => state === 'dead' || state === 'cancelled')).toEqual([]);
        return states.every((state) => state === 'succeeded') ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    const lines = (await readFile(ledger, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(24);
    const overlap = maxOverlap(lines);
    expect(overlap).toBeLessThanOrEqual(2);
    // The limit was reached, so it was what held deploys back.
    expect(overlap).toBe(2);
    const builds = await Promise.all(
      tasks
        .filter((task) => task.title.startsWith('build'))
        .map(async (task) => (await admin.tasks.get(task.id))!),
    );
    // Builds are not held by the deploy limit: they spread over many runners.
    expect(new Set(builds.map((detail) => detail.attempts[0]!.runnerId)).size).toBeGreaterThan(2);
  }, 180_000);
});
