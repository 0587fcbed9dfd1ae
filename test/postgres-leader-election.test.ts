/**
 * Leader election between real hub processes on one PostgreSQL schema: exactly one hub leads maintenance
 * at a time (the leadership intervals reconstructed from the hubs' logs never overlap, and `/metrics`
 * never shows two leaders), terms only grow and each has one holder, a SIGKILLed leader is replaced
 * within the lease plus one renewal, and a seeded storm of stops, kills and restarts never makes two
 * leaders and settles on one.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeWithPostgres } from '../src/store/testing/postgres-test-database.ts';
import {
  createProcessHarness,
  type HubProcess,
  type ProcessHarness,
} from './support/create-process-harness.ts';
import {
  findOverlaps,
  leadershipIntervals,
  loggedTerms,
  readLogLines,
  termProblems,
  type HubLifetime,
} from './support/leadership-log.ts';
import { chaosSeed, createSeededRandom } from './support/seeded-random.ts';
import { waitFor } from './support/wait-for.ts';

// why short timings: handovers happen in about two seconds, so a test sees many of them quickly; the
// renewal is a fifth of the lease as the hub requires (renewal under the lease).
const leaderLeaseMs = 1_500;
const leaderRenewIntervalMs = 300;
/**
 * The failover bound after a SIGKILL, as the issue states it: the dead leader's lease runs out at most
 * `leaderLeaseMs` after its last renewal (which was before the kill), and a follower asks again within one
 * renew interval, jittered by up to +20% (1.2 x). The 500 ms slack is for what the formula leaves out on a
 * loaded 2-core machine: process scheduling and timer lateness in the follower, the acquire statement's
 * round trip and the log write. The figure measured is printed; it belongs in bench/ as a trend.
 */
const failoverBoundMs = leaderLeaseMs + 1.2 * leaderRenewIntervalMs + 500;
// why 50 ms: several samples per renew interval, without loading the hubs much (three small GETs).
const sampleIntervalMs = 50;
// why: with renewals every 300 ms and no kills, a leader is missing only while a renewal is late on a busy
// machine; below 90% of samples something is wrong with the election, not with the machine.
const minimumShareWithOneLeader = 0.9;
const stressRounds = 16;

/** A hub process of the test, with what its log needs to be read back. */
interface FleetHub {
  lifetime: HubLifetime;
  process: HubProcess;
  /** How the test ended it, if it did. */
  endedBy?: 'SIGKILL' | 'SIGTERM';
}

/** One reading of `warren_hub_leader` across the running hubs. */
interface LeaderSample {
  at: number;
  /** Hubs that answered 1. */
  leaders: string[];
  /** Hubs that did not answer (starting, stopping, killed). */
  unanswered: number;
}

describeWithPostgres('leader election between hub processes on PostgreSQL', (database) => {
  let harness: ProcessHarness;

  beforeEach(async () => {
    harness = await createProcessHarness();
  });

  afterEach(async () => {
    await harness.cleanup();
  });

  /** Hubs on one schema, started and stopped by the test, each with its own log file. */
  function createFleet(schema: string) {
    const adminToken = `wrn_admin_${randomBytes(24).toString('hex')}`;
    const hubs: FleetHub[] = [];
    let started = 0;
    return {
      hubs,
      running: () => hubs.filter((hub) => hub.process.process.isRunning() && hub.endedBy === undefined),
      async start(): Promise<FleetHub> {
        started += 1;
        const name = `hub-${started}`;
        const logFile = harness.path(`${name}.log`);
        const process = await harness.startHub({
          dataDir: harness.path(name),
          port: 0,
          database: { dialect: 'postgres', url: database.url, schema },
          adminToken,
          logFile,
          config: { leaderLeaseMs, leaderRenewIntervalMs },
        });
        const hub: FleetHub = { lifetime: { name, instanceId: process.instanceId, logFile }, process };
        void process.process.exited.then(() => {
          hub.lifetime.endedAt ??= Date.now();
        });
        hubs.push(hub);
        return hub;
      },
      /** Sends `signal`; for SIGKILL the interval of a leader ends now, since its last lines may be lost. */
      stop(hub: FleetHub, signal: 'SIGKILL' | 'SIGTERM'): number {
        const at = Date.now();
        hub.endedBy = signal;
        if (signal === 'SIGKILL') hub.lifetime.endedAt = at;
        hub.process.process.signalGroup(signal);
        return at;
      },
    };
  }

  /** Whether `hub` says it leads: true, false, or undefined when it does not answer. */
  async function leaderGauge(hub: FleetHub): Promise<boolean | undefined> {
    try {
      const response = await fetch(`${hub.process.url}/metrics`, { signal: AbortSignal.timeout(2_000) });
      const value = (await response.text()).match(/^warren_hub_leader (\d)/m)?.[1];
      return value === undefined ? undefined : value === '1';
    } catch {
      return undefined;
    }
  }

  /** Reads the gauge of every running hub every 50 ms until `until` resolves. */
  async function sampleLeaders(hubs: () => FleetHub[], until: Promise<unknown>): Promise<LeaderSample[]> {
    const samples: LeaderSample[] = [];
    let done = false;
    void until.finally(() => {
      done = true;
    });
    while (!done) {
      const at = Date.now();
      const current = hubs();
      const gauges = await Promise.all(current.map((hub) => leaderGauge(hub)));
      samples.push({
        at,
        leaders: current.filter((_, index) => gauges[index] === true).map((hub) => hub.lifetime.name),
        unanswered: gauges.filter((gauge) => gauge === undefined).length,
      });
      await delay(Math.max(0, sampleIntervalMs - (Date.now() - at)));
    }
    return samples;
  }

  /** Polls the leadership row every 50 ms until stopped: the store's own view of terms and holders. */
  async function watchLeadershipRow(schema: string) {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const rows: Array<{ term: number; holder: string; time: number }> = [];
    let stopped = false;
    const loop = (async () => {
      while (!stopped) {
        const result = await client.query<{ holder: string; term: string }>(
          `SELECT holder, term FROM "${schema}".leaderships WHERE name = 'maintenance'`,
        );
        const row = result.rows[0];
        if (row !== undefined) rows.push({ holder: row.holder, term: Number(row.term), time: Date.now() });
        await delay(sampleIntervalMs);
      }
    })();
    return {
      rows,
      latest: () => rows.at(-1),
      async stop() {
        stopped = true;
        await loop;
        await client.end();
      },
    };
  }

  /** Every problem with the leadership history so far: overlapping intervals, terms, store vs. logs. */
  function historyProblems(
    hubs: readonly FleetHub[],
    storeRows: ReadonlyArray<{ term: number; holder: string; time: number }>,
  ): string[] {
    const now = Date.now();
    const lifetimes = hubs.map((hub) => hub.lifetime);
    const intervals = lifetimes.flatMap((lifetime) => leadershipIntervals(lifetime, now));
    const problems = findOverlaps(intervals).map(
      ({ first, second, overlapMs }) =>
        `two leaders for ${overlapMs} ms: ${first.hub} (term ${first.term}, ${first.start}..${first.end}, ended by ${first.endedBy}) and ${second.hub} (term ${second.term}, ${second.start}..${second.end}, ended by ${second.endedBy})`,
    );
    const logged = loggedTerms(lifetimes);
    problems.push(...termProblems(logged).map((problem) => `logs: ${problem}`));
    problems.push(...termProblems(storeRows).map((problem) => `store: ${problem}`));
    const loggedHolder = new Map(logged.map((entry) => [entry.term, entry.holder]));
    for (const row of storeRows) {
      const holder = loggedHolder.get(row.term);
      if (holder !== undefined && holder !== row.holder) {
        problems.push(`term ${row.term}: the store says ${row.holder}, the logs say ${holder}`);
      }
    }
    return problems;
  }

  it('keeps one leader among three hubs and replaces a SIGKILLed leader within the lease plus a renewal', async () => {
    const schema = database.newSchema();
    const fleet = createFleet(schema);
    await Promise.all([fleet.start(), fleet.start(), fleet.start()]);
    const store = await watchLeadershipRow(schema);
    try {
      await waitFor('a leader', async () => (await Promise.all(fleet.hubs.map(leaderGauge))).includes(true), {
        timeoutMs: 10_000,
      });

      // A quiet stretch: one leader all along.
      const quiet = await sampleLeaders(() => fleet.running(), delay(3_000));
      const withOne = quiet.filter((sample) => sample.leaders.length === 1 && sample.unanswered === 0).length;
      console.log(
        `leader samples while quiet: ${quiet.length}, with exactly one leader: ${withOne}, ` +
          `with none: ${quiet.filter((sample) => sample.leaders.length === 0).length}`,
      );
      expect(quiet.filter((sample) => sample.leaders.length > 1)).toEqual([]);
      expect(withOne / quiet.length).toBeGreaterThanOrEqual(minimumShareWithOneLeader);

      // SIGKILL the leader (as the store names it) and time the handover.
      const before = store.latest()!;
      const leader = fleet.hubs.find((hub) => hub.lifetime.instanceId === before.holder);
      expect(leader, `the store's holder ${before.holder} is one of the hubs`).toBeDefined();
      let endSampling: () => void = () => undefined;
      const samplingEnds = new Promise<void>((resolve) => {
        endSampling = resolve;
      });
      const during = sampleLeaders(() => fleet.running(), samplingEnds);
      const killedAt = fleet.stop(leader!, 'SIGKILL');
      let next: { time: number; term: number; hub: string };
      try {
        next = await waitFor(
          'another hub to become leader',
          () => {
            for (const hub of fleet.hubs) {
              if (hub === leader) continue;
              const line = readLogLines(hub.lifetime.logFile).find(
                (candidate) => candidate.msg === 'became leader' && candidate.time >= killedAt,
              );
              if (line) return { time: line.time, term: line.term ?? -1, hub: hub.lifetime.name };
            }
            return undefined;
          },
          { timeoutMs: 15_000, intervalMs: 20 },
        );
        // Two more seconds of samples after the handover.
        await delay(2_000);
      } finally {
        endSampling();
      }
      const failoverMs = next.time - killedAt;
      console.log(
        `failover after SIGKILL of the leader: ${failoverMs} ms (${next.hub}, term ${before.term} -> ${next.term}; ` +
          `bound ${failoverBoundMs} ms = lease ${leaderLeaseMs} + 1.2 x renew ${leaderRenewIntervalMs} + 500 ms slack)`,
      );
      expect(next.term).toBe(before.term + 1);
      expect(failoverMs).toBeLessThanOrEqual(failoverBoundMs);

      const afterKill = await during;
      expect(afterKill.filter((sample) => sample.leaders.length > 1)).toEqual([]);
      const nextHub = fleet.hubs.find((hub) => hub.lifetime.name === next.hub)!;
      await waitFor(
        'the new leader to say so on /metrics',
        async () => (await leaderGauge(nextHub)) === true,
        {
          timeoutMs: 5_000,
        },
      );
    } finally {
      await store.stop();
    }
    expect(historyProblems(fleet.hubs, store.rows)).toEqual([]);
    // The store saw the handover too: two terms, in order.
    expect(new Set(store.rows.map((row) => row.term)).size).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('never has two leaders through a seeded storm of stops, kills and restarts, and settles on one', async () => {
    const seed = chaosSeed();
    const random = createSeededRandom(seed);
    console.log(`leader election stress: seed ${seed} (replay with WARREN_CHAOS_SEED=${seed})`);
    const schema = database.newSchema();
    const fleet = createFleet(schema);
    await Promise.all([fleet.start(), fleet.start(), fleet.start()]);
    const store = await watchLeadershipRow(schema);
    const steps: string[] = [];
    let stormOver: () => void = () => undefined;
    const storm = new Promise<void>((resolve) => {
      stormOver = resolve;
    });
    const sampling = sampleLeaders(() => fleet.running(), storm);
    // Starts run in the background, so hubs start while others stop; a round waits for one only when
    // fewer than two hubs run.
    const starting = new Set<Promise<FleetHub>>();
    const launch = (): void => {
      const start = fleet.start();
      starting.add(start);
      void start.then(
        () => starting.delete(start),
        () => starting.delete(start),
      );
    };
    const startFailures: unknown[] = [];
    try {
      for (let round = 1; round <= stressRounds; round += 1) {
        while (fleet.running().length < 2 && starting.size > 0) {
          await Promise.race([...starting]).catch((error: unknown) => startFailures.push(error));
        }
        const running = fleet.running();
        // Half the time the victim is the leader the store names, so handovers are exercised often.
        const holder = store.latest()?.holder;
        const leader = running.find((hub) => hub.lifetime.instanceId === holder);
        const victim = leader !== undefined && random.chance(0.5) ? leader : random.pick(running);
        const signal = random.chance(0.5) ? 'SIGKILL' : 'SIGTERM';
        const startFirst = random.chance(0.3);
        if (startFirst) launch();
        fleet.stop(victim, signal);
        await delay(random.integer(0, 600));
        if (!startFirst) launch();
        steps.push(
          `${round}: ${signal} ${victim.lifetime.name}${victim === leader ? ' (leader)' : ''}, ${startFirst ? 'started one before' : 'started one after'}`,
        );
        await delay(random.integer(0, 400));
      }
      for (const start of [...starting]) await start.catch((error: unknown) => startFailures.push(error));
    } finally {
      stormOver();
    }
    expect(startFailures).toEqual([]);
    const samples = await sampling;
    console.log(`leader election stress (seed ${seed}):\n  ${steps.join('\n  ')}`);
    try {
      // Leadership settles on exactly one running hub, the one the store names, for a whole second.
      await waitFor(
        'leadership to settle on one hub',
        async () => {
          const running = fleet.running();
          for (let sample = 0; sample < 10; sample += 1) {
            const gauges = await Promise.all(running.map((hub) => leaderGauge(hub)));
            const leaders = running.filter((_, index) => gauges[index] === true);
            if (leaders.length !== 1 || leaders[0]!.lifetime.instanceId !== store.latest()?.holder)
              return false;
            await delay(100);
          }
          return true;
        },
        { timeoutMs: 20_000, intervalMs: 100 },
      );
    } finally {
      await store.stop();
    }

    const failure = `seed ${seed} (replay with WARREN_CHAOS_SEED=${seed})`;
    expect(
      samples.filter((sample) => sample.leaders.length > 1),
      failure,
    ).toEqual([]);
    expect(historyProblems(fleet.hubs, store.rows), failure).toEqual([]);
    // Every hub the test stopped with SIGTERM closed cleanly; none died on its own.
    for (const hub of fleet.hubs) {
      if (hub.endedBy === undefined) {
        expect(hub.process.process.isRunning(), `${hub.lifetime.name} still runs (${failure})`).toBe(true);
      } else if (hub.endedBy === 'SIGTERM') {
        const exit = await hub.process.process.exited;
        expect(
          exit,
          `${hub.lifetime.name} exit after SIGTERM (${failure}); stderr: ${hub.process.process.stderr().slice(-2_000)}`,
        ).toEqual({ code: 0, signal: null });
      }
    }
    const terms = new Set(store.rows.map((row) => row.term));
    const intervals = fleet.hubs
      .flatMap((hub) => leadershipIntervals(hub.lifetime, Date.now()))
      .sort((a, b) => a.start - b.start);
    const gaps = intervals.slice(1).map((interval, index) => interval.start - intervals[index]!.end);
    console.log(
      `leader election stress (seed ${seed}): ${intervals.length} leadership intervals, handover gaps (ms) ` +
        `min ${Math.min(...gaps)}, median ${gaps.sort((a, b) => a - b)[Math.floor(gaps.length / 2)]}; ends: ` +
        JSON.stringify(countBy(intervals.map((interval) => interval.endedBy))),
    );
    console.log(
      `leader election stress (seed ${seed}): ${fleet.hubs.length} hub processes, ${terms.size} terms seen in the store, ` +
        `${samples.length} gauge samples (${samples.filter((sample) => sample.leaders.length === 1).length} with one leader)`,
    );
  }, 150_000);
});

/** How many times each value occurs. */
function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
