/**
 * Scheduler decision time: one assignment (what the hub does for one claim) with N runners online and a
 * deep queue, on a temp-file SQLite store:
 * 1. read the claimable candidates (`listClaimCandidates`, 8 tasks, as a one-slot runner asks),
 * 2. weigh them against every pairing of the fleet (`chooseAssignments` over the cached fleet view, with 20
 *    outcomes per pairing and breakers), the claiming runner being a mid-ranked one.
 * The claim write itself is measured by `store-claim`. Reading the fleet view (every 250 ms, not per claim)
 * is timed separately.
 *
 * Run: `node --import tsx bench/scheduler.ts [--quick] [--queued 100000] [--samples 2000]`
 * (`--quick`: 20,000 queued, 500 samples). Prints a table and, last, one JSON line.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sha256 } from '../src/core/sha256.ts';
import { chooseAssignments } from '../src/hub/choose-assignments.ts';
import { createFleetView } from '../src/hub/fleet-view.ts';
import { createSqliteStore } from '../src/store/index.ts';
import { routedTaskSpec } from '../src/store/testing/routed-task-spec.ts';
import { printTable, round, summarizeLatencies } from './support/figures.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    queued: { type: 'string' },
    samples: { type: 'string' },
  },
});
const queued = Number(values.queued ?? (values.quick ? 20_000 : 100_000));
const sampleCount = Number(values.samples ?? (values.quick ? 500 : 2_000));
const fleetSizes = [10, 100, 1_000];
// why: capabilities spread over a few kinds of work, as a fleet of deployers, reviewers and coders would.
const kinds = ['deploy-service', 'review', 'code', 'docs'];

const directory = await mkdtemp(join(tmpdir(), 'warren-bench-scheduler-'));
const store = await createSqliteStore({ filename: join(directory, 'warren.db') });
const rows: Array<Array<string | number | null>> = [];
const figures: Record<string, unknown> = { bench: 'scheduler', queued };
try {
  await store.migrate();
  for (let done = 0; done < queued; done += 1_000) {
    await store.enqueueTasks(
      Array.from({ length: Math.min(1_000, queued - done) }, (_, index) =>
        routedTaskSpec({
          title: 'deploy',
          repo: '/srv/repos/bench',
          executor: 'shell',
          capabilities: [kinds[(done + index) % kinds.length]!],
          executorInput: { run: 'true' },
        }),
      ),
    );
  }
  let created = 0;
  for (const size of fleetSizes) {
    // Grow the fleet to `size` runners, each pairing one agent with two weighted capabilities.
    for (; created < size; created += 1) {
      const runner = await store.createRunner({
        name: `runner-${created}`,
        capabilities: ['executor:shell'],
        slots: 1,
        tokenHash: sha256(`runner-${created}`).toString('hex'),
      });
      await store.registerRunner(runner.id, {
        status: 'online',
        agents: [
          {
            agent: `agent-${created}`,
            offers: [
              { name: kinds[created % kinds.length]!, weight: 0.5 + (created % 50) / 100, preferred: false },
              { name: kinds[(created + 1) % kinds.length]!, weight: 0.4, preferred: false },
            ],
            healthChecks: [],
          },
        ],
      });
    }
    const fleetView = createFleetView({ store, outcomesPerPairing: 20 });
    const readStarted = performance.now();
    const snapshot = await fleetView.snapshot();
    const fleetReadMs = performance.now() - readStarted;
    const claimer = snapshot.runners[Math.floor(snapshot.runners.length / 2)]!;
    const capabilities = [
      ...claimer.capabilities,
      ...claimer.agents.flatMap((pairing) => pairing.offers.map((offer) => offer.name)),
    ];
    const latencies: number[] = [];
    let assigned = 0;
    for (let sample = 0; sample < sampleCount; sample += 1) {
      const started = performance.now();
      const candidates = await store.listClaimCandidates({ capabilities, limit: 8 });
      const chosen = chooseAssignments({
        snapshot,
        runner: claimer,
        candidates,
        modelCapabilities: [],
        agentLimits: () => undefined,
        concurrencyLimits: [],
        room: 1,
        now: Date.now(),
        maxDeferMs: 10_000,
      });
      latencies.push(performance.now() - started);
      assigned += chosen.assignments.length;
    }
    const summary = summarizeLatencies(latencies);
    rows.push([
      size,
      queued,
      round(summary.p50, 3),
      round(summary.p99, 3),
      round(summary.max, 3),
      round(fleetReadMs, 1),
      assigned,
    ]);
    figures[`runners${size}P50Ms`] = round(summary.p50, 3);
    figures[`runners${size}P99Ms`] = round(summary.p99, 3);
    figures[`runners${size}FleetReadMs`] = round(fleetReadMs, 1);
  }
} finally {
  await store.close();
  await rm(directory, { recursive: true, force: true });
}
printTable(['runners', 'queued', 'decision p50 ms', 'p99 ms', 'max ms', 'fleet read ms', 'assigned'], rows);
console.log(JSON.stringify(figures));
