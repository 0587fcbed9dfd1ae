/**
 * The fleet routing part of the Store contract, run by {@link runStoreConformance} for every backend:
 * runner pairings and dependency health, the `degraded` presence, claims as the scheduler assigned them
 * (agent, routing record, holds), peeking at claimable tasks, pairing outcomes and circuit breakers, and
 * all of it through export and import.
 *
 * It speaks only the Store interface. Time comes from a fake clock the suite moves by hand. The concurrent
 * tests fire calls at once: on SQLite they run one after another anyway; on PostgreSQL they prove the locks.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newBreaker, type BreakerRecord } from '../../core/circuit-breaker.ts';
import { InvalidInputError } from '../../core/errors.ts';
import type { DependencyHealth, RunnerAgentPairing } from '../../core/fleet-types.ts';
import type { Attempt, Lane, Runner, Task, TaskSpecInput } from '../../core/types.ts';
import type { AttemptSuccess, Claim, ClaimRequest, ExportRecord, Store, TaskAssignment } from '../store.ts';
import { routedTaskSpec } from '../testing/routed-task-spec.ts';
import { createStoreOpener, fenceOf, iso, startTime } from './conformance-fixtures.ts';
import type { StoreConformanceOptions } from './run-store-conformance.ts';

// why: one minute is long enough that no test expires a lease by accident.
const leaseMs = 60_000;

const success: AttemptSuccess = {
  result: {
    branch: 'warren/abcdefgh-a-task',
    baseBranch: 'main',
    baseSha: 'a'.repeat(40),
    changedFiles: [],
    pushed: false,
  },
  verification: [],
};

const pairings: RunnerAgentPairing[] = [
  {
    agent: 'gitops',
    offers: [
      { name: 'gitops', weight: 0.9, preferred: true },
      { name: 'kubernetes', weight: 0.5, preferred: false },
    ],
    healthChecks: ['argo', 'cluster'],
  },
  { agent: 'coder', offers: [], healthChecks: [] },
];

/** Registers the fleet routing conformance tests for one backend. */
export function runFleetConformance(options: StoreConformanceOptions): void {
  describe(`Store conformance: ${options.name}: fleet routing`, () => {
    let now = startTime;
    let store: Store;
    let runnerCount = 0;

    const stores = createStoreOpener(options.createStore, () => now);
    const openStore = stores.open;

    beforeEach(async () => {
      now = startTime;
      runnerCount = 0;
      store = await openStore();
    });

    afterEach(async () => {
      await stores.closeAll();
    });

    async function enqueue(input: Partial<TaskSpecInput> = {}): Promise<Task> {
      now += 1;
      return (await store.enqueueTask(routedTaskSpec({ title: 'a task', repo: '/srv/repos/app', ...input })))
        .task;
    }

    async function createRunner(capabilities: string[] = ['executor:shell']): Promise<Runner> {
      runnerCount += 1;
      return store.createRunner({
        name: `runner-${String(runnerCount).padStart(2, '0')}`,
        capabilities,
        slots: 4,
        tokenHash: `hash-of-runner-${runnerCount}`,
      });
    }

    async function claimAssigned(
      runner: Runner,
      assignments: TaskAssignment[],
      overrides: Partial<ClaimRequest> = {},
    ): Promise<Claim[]> {
      return store.claimTasks({
        runnerId: runner.id,
        capabilities: runner.capabilities,
        limit: 10,
        leaseMs,
        assignments,
        ...overrides,
      });
    }

    const ids = (claims: Claim[]): string[] => claims.map((claim) => claim.task.id);

    /** Active attempts holding `key`, found through the tasks' current attempts. */
    async function holdersOf(target: Store, key: string): Promise<Attempt[]> {
      const active: Attempt[] = [];
      for (const task of (await target.listTasks({ states: ['leased', 'running', 'verifying'], limit: 500 }))
        .items) {
        const attempt = await target.getAttempt(task.currentAttemptId!);
        if (attempt?.holds?.includes(key)) active.push(attempt);
      }
      return active;
    }

    describe('runner pairings and dependency health', () => {
      it('keeps pairings and dependency health through registration, heartbeats and reads', async () => {
        const runner = await createRunner();
        expect(runner).toMatchObject({ agents: [], dependencyHealth: [] });
        now += 1_000;
        const registered = await store.registerRunner(runner.id, { agents: pairings, hostname: 'box' });
        expect(registered).toMatchObject({ agents: pairings, dependencyHealth: [], status: 'online' });
        expect(await store.getRunner(runner.id)).toEqual(registered);
        expect(await store.findRunnerByTokenHash('hash-of-runner-1')).toEqual(registered);
        expect(await store.listRunners()).toEqual([registered]);

        now += 1_000;
        const health: DependencyHealth[] = [
          { name: 'argo', healthy: false, detail: 'HTTP 503', checkedAt: iso(now - 500) },
          { name: 'cluster', healthy: true, checkedAt: iso(now - 400) },
        ];
        const degraded = await store.heartbeatRunner(runner.id, 'degraded', { dependencyHealth: health });
        expect(degraded).toMatchObject({
          status: 'degraded',
          agents: pairings,
          dependencyHealth: health,
          lastHeartbeatAt: iso(now),
        });
        expect(await store.getRunner(runner.id)).toEqual(degraded);
        expect(await store.listRunners()).toEqual([degraded]);

        // A heartbeat without health results keeps the last ones; an empty list clears them.
        now += 1_000;
        expect(await store.heartbeatRunner(runner.id)).toMatchObject({
          status: 'online',
          dependencyHealth: health,
        });
        expect(await store.heartbeatRunner(runner.id, 'online', {})).toMatchObject({
          dependencyHealth: health,
        });
        expect(await store.heartbeatRunner(runner.id, 'online', { dependencyHealth: [] })).toMatchObject({
          dependencyHealth: [],
        });

        // Registration without agents keeps them; with a list, replaces them.
        expect(await store.registerRunner(runner.id, { version: '2.0.0' })).toMatchObject({
          agents: pairings,
        });
        expect(await store.registerRunner(runner.id, { agents: [pairings[1]!] })).toMatchObject({
          agents: [pairings[1]],
        });
        expect((await store.registerRunner(runner.id, { agents: [] })).agents).toEqual([]);

        const states = await store.listEvents({ types: ['runner.state'], limit: 100 });
        expect(states.map((event) => event.data.status)).toEqual([
          'offline',
          'online',
          'degraded',
          'online',
          'online',
          'online',
          'online',
        ]);
      });

      it('stores only the known fields of pairings and health results', async () => {
        const runner = await createRunner();
        const extra = {
          agent: 'coder',
          offers: [{ name: 'node', weight: 1, preferred: false, secret: 'x' }],
          healthChecks: ['npm'],
          note: 'dropped',
        } as unknown as RunnerAgentPairing;
        const registered = await store.registerRunner(runner.id, { agents: [extra] });
        expect(registered.agents).toEqual([
          { agent: 'coder', offers: [{ name: 'node', weight: 1, preferred: false }], healthChecks: ['npm'] },
        ]);
        const result = { name: 'npm', healthy: true, checkedAt: iso(now), token: 'x' } as DependencyHealth;
        const beat = await store.heartbeatRunner(runner.id, 'online', { dependencyHealth: [result] });
        expect(beat.dependencyHealth).toEqual([{ name: 'npm', healthy: true, checkedAt: iso(now) }]);
      });

      it('treats degraded as present: it claims, drains, and goes offline when its heartbeats stop', async () => {
        const runner = await createRunner();
        await store.heartbeatRunner(runner.id, 'degraded');
        const task = await enqueue();
        const claims = await store.claimTasks({
          runnerId: runner.id,
          capabilities: runner.capabilities,
          limit: 1,
          leaseMs,
        });
        expect(ids(claims)).toEqual([task.id]);
        expect(await store.getRunner(runner.id)).toMatchObject({ status: 'degraded', activeAttempts: 1 });
        expect(await store.heartbeatRunner(runner.id, 'draining')).toMatchObject({ status: 'draining' });
        await store.heartbeatRunner(runner.id, 'degraded');
        now += 40_000;
        expect(await store.markStaleRunnersOffline(30_000)).toBe(1);
        expect(await store.getRunner(runner.id)).toMatchObject({ status: 'offline' });
      });
    });

    describe('claims with assignments', () => {
      it('claims only the assigned tasks, in the given order, recording agent and routing', async () => {
        const runner = await createRunner();
        const [first, second, third, fourth] = [
          await enqueue(),
          await enqueue(),
          await enqueue(),
          await enqueue(),
        ];
        const routing = { winner: 'coder@runner-01', cards: [{ score: 0.95, factors: { baseWeight: 1 } }] };
        now += 1_000;
        const claims = await claimAssigned(runner, [
          { taskId: third.id, agent: 'coder', routing },
          { taskId: first.id },
        ]);
        expect(ids(claims)).toEqual([third.id, first.id]);
        expect(claims[0]!.attempt).toMatchObject({ agent: 'coder', routing, state: 'leased' });
        expect(claims[0]!.attempt).not.toHaveProperty('holds');
        expect(claims[1]!.attempt).not.toHaveProperty('agent');
        expect(claims[1]!.attempt).not.toHaveProperty('routing');
        expect(claims[0]!.task).toMatchObject({ state: 'leased', currentAttemptId: claims[0]!.attempt.id });
        expect(await store.getAttempt(claims[0]!.attempt.id)).toEqual(claims[0]!.attempt);
        expect(await store.listAttempts(third.id)).toEqual([claims[0]!.attempt]);
        expect(await store.getTask(third.id)).toEqual(claims[0]!.task);

        // The others are untouched, and the usual claim takes them in claim order without an agent.
        expect(await store.getTask(second.id)).toEqual(second);
        expect(await store.getTask(fourth.id)).toEqual(fourth);
        const rest = await store.claimTasks({
          runnerId: runner.id,
          capabilities: runner.capabilities,
          limit: 5,
          leaseMs,
        });
        expect(ids(rest)).toEqual([second.id, fourth.id]);
        expect(rest[0]!.attempt).not.toHaveProperty('agent');

        // The claim's events are the usual ones.
        const events = await store.listEvents({ taskId: third.id, limit: 10 });
        expect(events.map((event) => [event.type, event.data.to])).toEqual([
          ['task.created', undefined],
          ['task.state', 'queued'],
          ['task.state', 'leased'],
          ['attempt.state', 'leased'],
        ]);
      });

      it('skips tasks taken meanwhile, finished, unknown or beyond the runner, and respects its room', async () => {
        const runner = await createRunner();
        const other = await createRunner();
        const taken = await enqueue();
        const cancelled = await enqueue();
        const gpu = await enqueue({ capabilities: ['gpu'] });
        const blocked = await enqueue({ dependsOn: [taken.id] });
        const [open1, open2, open3] = [await enqueue(), await enqueue(), await enqueue()];
        // Another runner took one with the usual claim; one was cancelled.
        expect(
          ids(
            await store.claimTasks({
              runnerId: other.id,
              capabilities: other.capabilities,
              limit: 1,
              leaseMs,
            }),
          ),
        ).toEqual([taken.id]);
        await store.cancelTask(cancelled.id);

        const assignments: TaskAssignment[] = [
          { taskId: taken.id },
          { taskId: 'tsk_00000000000000000000000000' },
          { taskId: cancelled.id },
          { taskId: gpu.id },
          { taskId: blocked.id },
          { taskId: open3.id },
          { taskId: open1.id },
          { taskId: open2.id },
        ];
        expect(ids(await claimAssigned(runner, assignments, { limit: 1 }))).toEqual([open3.id]);
        expect(await store.getTask(gpu.id)).toMatchObject({ state: 'queued', attemptCount: 0 });
        expect(await store.getTask(taken.id)).toMatchObject({ state: 'leased', attemptCount: 1 });
        // maxActive counts the attempt it already holds: one more slot.
        expect(ids(await claimAssigned(runner, assignments, { maxActive: 2 }))).toEqual([open1.id]);
        expect(await claimAssigned(runner, assignments, { maxActive: 2 })).toEqual([]);
        // A limit below 1 and an empty list claim nothing.
        expect(await claimAssigned(runner, assignments, { limit: 0 })).toEqual([]);
        expect(await claimAssigned(runner, [])).toEqual([]);
        expect(await store.getTask(open2.id)).toMatchObject({ state: 'queued' });
        // A task named twice is taken once.
        expect(ids(await claimAssigned(runner, [{ taskId: open2.id }, { taskId: open2.id }]))).toEqual([
          open2.id,
        ]);
        // A runner that offers what the task needs takes it.
        const gpuRunner = await createRunner(['executor:shell', 'gpu']);
        expect(ids(await claimAssigned(gpuRunner, [{ taskId: gpu.id }]))).toEqual([gpu.id]);
      });

      it('refuses a routing record over the size cap, and malformed holds, naming the field', async () => {
        const runner = await createRunner();
        const task = await enqueue();
        const routing = { cards: 'x'.repeat(64 * 1024) };
        const error = await claimAssigned(runner, [{ taskId: task.id, routing }]).catch(
          (thrown: unknown) => thrown,
        );
        expect(error).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).issues.map((issue) => issue.field)).toEqual([
          'assignments.0.routing',
        ]);
        await expect(
          claimAssigned(runner, [{ taskId: task.id, holds: [{ key: 'deploy', limit: 0 }] }]),
        ).rejects.toMatchObject({ issues: [{ field: 'assignments.0.holds.0.limit' }] });
        await expect(
          claimAssigned(runner, [{ taskId: task.id, holds: [{ key: '', limit: 1 }] }]),
        ).rejects.toMatchObject({ issues: [{ field: 'assignments.0.holds.0.key' }] });
        expect(await store.getTask(task.id)).toEqual(task);
        // Just under the cap is fine.
        const fits = { cards: 'x'.repeat(64 * 1024 - 20) };
        const [claim] = await claimAssigned(runner, [{ taskId: task.id, routing: fits }]);
        expect((await store.getAttempt(claim!.attempt.id))?.routing).toEqual(fits);
      });
    });

    describe('holds', () => {
      const deploy = [{ key: 'limit:deploy', limit: 1 }];

      const endings: Array<[string, (claim: Claim) => Promise<void>]> = [
        ['succeeded', async (claim) => void (await store.completeAttempt(fenceOf(claim), success))],
        [
          'failed',
          async (claim) =>
            void (await store.failAttempt(fenceOf(claim), {
              error: { message: 'broke', kind: 'executor_failed', retryable: true },
              verification: [],
            })),
        ],
        [
          'lost',
          async () => {
            now += leaseMs + 1;
            // The first attempt's lease runs out (and so does the unrelated task's).
            expect(await store.expireLeases()).toBe(2);
          },
        ],
        ['cancelled', async (claim) => void (await store.cancelTask(claim.task.id))],
      ];

      for (const [ending, finish] of endings) {
        it(`keeps a second holder out until the first attempt has ${ending}`, async () => {
          const runner = await createRunner();
          const other = await createRunner();
          const first = await enqueue();
          const second = await enqueue();
          const unrelated = await enqueue();
          const [claim] = await claimAssigned(runner, [{ taskId: first.id, holds: deploy }]);
          expect(claim!.attempt.holds).toEqual(['limit:deploy']);
          // The second holder is skipped and stays queued; a task holding another key is not held back.
          expect(
            ids(
              await claimAssigned(other, [
                { taskId: second.id, holds: deploy },
                { taskId: unrelated.id, holds: [{ key: 'limit:other', limit: 1 }] },
              ]),
            ),
          ).toEqual([unrelated.id]);
          expect(await store.getTask(second.id)).toEqual(second);
          await store.setAttemptPhase(fenceOf(claim!), { phase: 'running' });
          expect(await claimAssigned(other, [{ taskId: second.id, holds: deploy }])).toEqual([]);

          await finish(claim!);
          expect(ids(await claimAssigned(other, [{ taskId: second.id, holds: deploy }]))).toEqual([
            second.id,
          ]);
          expect((await holdersOf(store, 'limit:deploy')).map((attempt) => attempt.taskId)).toEqual([
            second.id,
          ]);
        });
      }

      it('counts the holds a claim takes within the same claim, each key against its limit', async () => {
        const runner = await createRunner();
        const tasks = [await enqueue(), await enqueue(), await enqueue(), await enqueue()];
        const claims = await claimAssigned(runner, [
          {
            taskId: tasks[0]!.id,
            holds: [
              { key: 'a', limit: 2 },
              { key: 'b', limit: 1 },
            ],
          },
          { taskId: tasks[1]!.id, holds: [{ key: 'b', limit: 1 }] },
          {
            taskId: tasks[2]!.id,
            holds: [
              { key: 'a', limit: 2 },
              { key: 'a', limit: 5 },
            ],
          },
          { taskId: tasks[3]!.id, holds: [{ key: 'a', limit: 2 }] },
        ]);
        expect(ids(claims)).toEqual([tasks[0]!.id, tasks[2]!.id]);
        expect(claims.map((claim) => claim.attempt.holds)).toEqual([['a', 'b'], ['a']]);
      });

      it('never lets more attempts hold a key than its limit, however many claims race', async () => {
        const runners = await Promise.all(Array.from({ length: 20 }, () => createRunner()));
        const tasks: Task[] = [];
        for (let index = 0; index < 20; index += 1) tasks.push(await enqueue());
        const hold = [{ key: 'limit:deploy', limit: 2 }];
        const race = () =>
          Promise.all(
            runners.map((runner, index) =>
              claimAssigned(
                runner,
                // Each runner asks for every task, starting at a different one.
                tasks.map((_, offset) => ({
                  taskId: tasks[(index + offset) % tasks.length]!.id,
                  holds: hold,
                })),
                { limit: 1 },
              ),
            ),
          );
        const firstRound = (await race()).flat();
        expect(firstRound).toHaveLength(2);
        expect(new Set(ids(firstRound)).size).toBe(2);
        expect(await holdersOf(store, 'limit:deploy')).toHaveLength(2);

        await store.completeAttempt(fenceOf(firstRound[0]!), success);
        const secondRound = (await race()).flat();
        expect(secondRound).toHaveLength(1);
        expect(await holdersOf(store, 'limit:deploy')).toHaveLength(2);
        const queued = await store.listTasks({ states: ['queued'], limit: 100 });
        expect(queued.items).toHaveLength(17);
      });
    });

    describe('listClaimCandidates', () => {
      it('lists claimable tasks in claim order without claiming them', async () => {
        const low = await enqueue({ lane: 'low', labels: ['nightly'] });
        const normal = await enqueue({ repo: '/srv/repos/other' });
        const gpu = await enqueue({ capabilities: ['gpu'], priority: 5 });
        const urgent = await enqueue({ lane: 'high', capabilities: ['node'] });
        const node = await enqueue({ capabilities: ['node'], priority: 7 });
        const blocked = await enqueue({ dependsOn: [normal.id] });
        const agentTask = await enqueue({ executor: 'agent' });

        const candidates = await store.listClaimCandidates({
          capabilities: ['executor:shell', 'node'],
          limit: 10,
        });
        expect(candidates.map((candidate) => candidate.id)).toEqual([urgent.id, node.id, normal.id, low.id]);
        expect(candidates[0]).toEqual({
          id: urgent.id,
          requiredCapabilities: ['executor:shell', 'node'],
          capabilities: ['node'],
          lane: 'high',
          priority: 0,
          attemptCount: 0,
          executor: 'shell',
          repo: '/srv/repos/app',
          labels: [],
          queuedSince: urgent.updatedAt,
        });
        expect(candidates[2]).toMatchObject({
          repo: '/srv/repos/other',
          requiredCapabilities: ['executor:shell'],
        });
        expect(candidates[3]).toMatchObject({ lane: 'low', labels: ['nightly'] });
        expect(
          (await store.listClaimCandidates({ capabilities: ['executor:shell', 'node'], limit: 2 })).map(
            (candidate) => candidate.id,
          ),
        ).toEqual([urgent.id, node.id]);
        expect(
          (
            await store.listClaimCandidates({
              capabilities: ['executor:shell', 'gpu', 'node', 'executor:agent'],
              limit: 10,
            })
          ).map((candidate) => candidate.id),
        ).toEqual([urgent.id, node.id, gpu.id, normal.id, agentTask.id, low.id]);
        expect(await store.listClaimCandidates({ capabilities: ['gpu'], limit: 10 })).toEqual([]);
        // One lane's head, for lane fairness.
        const offered = ['executor:shell', 'gpu', 'node', 'executor:agent'];
        const normalLane = await store.listClaimCandidates({
          capabilities: offered,
          limit: 10,
          lane: 'normal',
        });
        expect(normalLane.map((candidate) => candidate.id)).toEqual([
          node.id,
          gpu.id,
          normal.id,
          agentTask.id,
        ]);
        expect(
          (await store.listClaimCandidates({ capabilities: offered, limit: 2, lane: 'normal' })).map(
            (candidate) => candidate.id,
          ),
        ).toEqual([node.id, gpu.id]);
        expect(
          (await store.listClaimCandidates({ capabilities: offered, limit: 10, lane: 'low' })).map(
            (candidate) => candidate.id,
          ),
        ).toEqual([low.id]);
        expect(await store.listClaimCandidates({ capabilities: ['gpu'], limit: 10, lane: 'high' })).toEqual(
          [],
        );
        // A requirement set with nothing in one lane still has its other lanes.
        expect(
          (
            await store.listClaimCandidates({
              capabilities: ['executor:shell', 'node'],
              limit: 5,
              lane: 'low',
            })
          ).map((candidate) => candidate.id),
        ).toEqual([low.id]);
        expect(
          (await store.listClaimCandidates({ capabilities: ['executor:shell', 'node'], limit: 1 })).map(
            (candidate) => candidate.id,
          ),
        ).toEqual([urgent.id]);
        await expect(
          store.listClaimCandidates({ capabilities: [], limit: 1, lane: 'urgent' as Lane }),
        ).rejects.toMatchObject({ issues: [{ field: 'lane' }] });
        for (const task of [low, normal, gpu, urgent, node, agentTask]) {
          expect(await store.getTask(task.id)).toEqual(task);
        }
        expect(await store.getTask(blocked.id)).toMatchObject({ state: 'blocked' });
        await expect(store.listClaimCandidates({ capabilities: [], limit: 0 })).rejects.toBeInstanceOf(
          InvalidInputError,
        );
        await expect(store.listClaimCandidates({ capabilities: [], limit: 257 })).rejects.toBeInstanceOf(
          InvalidInputError,
        );
      });

      it('names the runner of a failed or lost latest attempt, and no one otherwise', async () => {
        const failer = await createRunner();
        const loser = await createRunner();
        const failed = await enqueue({ priority: 3 });
        const lost = await enqueue({ priority: 2 });
        const retried = await enqueue({ priority: 1 });
        const fresh = await enqueue();
        const claimOne = async (runner: Runner, taskId: string, claimLeaseMs = leaseMs): Promise<Claim> => {
          const [claim] = await claimAssigned(runner, [{ taskId }], { leaseMs: claimLeaseMs });
          return claim!;
        };
        await store.failAttempt(fenceOf(await claimOne(failer, failed.id)), {
          error: { message: 'broke', kind: 'executor_failed', retryable: true },
          verification: [],
        });
        await claimOne(loser, lost.id, 1_000);
        // Cancelled, then retried by hand: its latest attempt was cancelled, which blames no one.
        await claimOne(failer, retried.id);
        await store.cancelTask(retried.id);
        await store.retryTask(retried.id);
        now += 2_000;
        expect(await store.expireLeases()).toBe(1);
        now += 60_000;
        expect(await store.promoteRetries()).toBe(2);

        const candidates = await store.listClaimCandidates({ capabilities: ['executor:shell'], limit: 10 });
        expect(
          candidates.map((candidate) => [
            candidate.id,
            candidate.attemptCount,
            candidate.previousFailedRunnerId,
          ]),
        ).toEqual([
          [failed.id, 1, failer.id],
          [lost.id, 1, loser.id],
          [retried.id, 1, undefined],
          [fresh.id, 0, undefined],
        ]);
        expect(candidates[2]).not.toHaveProperty('previousFailedRunnerId');
        expect(candidates[0]!.queuedSince).toBe((await store.getTask(failed.id))!.updatedAt);
      });
    });

    describe('listPairingOutcomes', () => {
      it('groups finished attempts by runner and agent, newest first, without cancelled ones', async () => {
        const alpha = await createRunner();
        const beta = await createRunner();
        /** Claims a new task for `runner` with `agent`, then ends its attempt as `ending`, one second later. */
        const run = async (
          runner: Runner,
          agent: string | undefined,
          ending: 'succeeded' | 'failed' | 'lost' | 'cancelled',
        ): Promise<void> => {
          const task = await enqueue({ maxAttempts: 1 });
          const [claim] = await claimAssigned(runner, [{ taskId: task.id, ...(agent ? { agent } : {}) }], {
            leaseMs: ending === 'lost' ? 500 : leaseMs,
          });
          now += 1_000;
          if (ending === 'succeeded') await store.completeAttempt(fenceOf(claim!), success);
          if (ending === 'failed') {
            await store.failAttempt(fenceOf(claim!), {
              error: { message: 'broke', kind: 'executor_failed', retryable: false },
              verification: [],
            });
          }
          if (ending === 'lost') expect(await store.expireLeases()).toBe(1);
          if (ending === 'cancelled') await store.cancelTask(task.id);
        };
        expect(await store.listPairingOutcomes({ limitPerPairing: 20 })).toEqual([]);
        await run(alpha, 'coder', 'succeeded');
        await run(alpha, 'coder', 'failed');
        await run(alpha, undefined, 'succeeded');
        await run(alpha, 'coder', 'cancelled');
        await run(alpha, 'coder', 'lost');
        await run(beta, 'coder', 'failed');
        await run(alpha, 'gitops', 'cancelled');
        await run(alpha, 'coder', 'succeeded');
        // Still active: not an outcome yet.
        await claimAssigned(alpha, [{ taskId: (await enqueue()).id, agent: 'coder' }]);

        // By runner id (a stable sort keeps alpha's pairings in their order: no agent first).
        const ordered = [
          { runnerId: alpha.id, outcomes: [true] },
          { runnerId: alpha.id, agent: 'coder', outcomes: [true, false, false, true] },
          { runnerId: beta.id, agent: 'coder', outcomes: [false] },
        ].sort((left, right) =>
          left.runnerId === right.runnerId ? 0 : left.runnerId < right.runnerId ? -1 : 1,
        );
        expect(await store.listPairingOutcomes({ limitPerPairing: 20 })).toEqual(ordered);
        expect(await store.listPairingOutcomes({ limitPerPairing: 2 })).toEqual(
          ordered.map((pairing) => ({ ...pairing, outcomes: pairing.outcomes.slice(0, 2) })),
        );
        expect(await store.listPairingOutcomes({ limitPerPairing: 20, runnerIds: [beta.id] })).toEqual([
          { runnerId: beta.id, agent: 'coder', outcomes: [false] },
        ]);
        expect(
          await store.listPairingOutcomes({
            limitPerPairing: 20,
            runnerIds: ['run_00000000000000000000000000'],
          }),
        ).toEqual([]);
        await expect(store.listPairingOutcomes({ limitPerPairing: 0 })).rejects.toBeInstanceOf(
          InvalidInputError,
        );
        await expect(store.listPairingOutcomes({ limitPerPairing: 101 })).rejects.toBeInstanceOf(
          InvalidInputError,
        );
      });

      it('orders outcomes that finished at the same moment by attempt id, newest first', async () => {
        const runner = await createRunner();
        const tasks = [await enqueue(), await enqueue(), await enqueue()];
        const claims = await claimAssigned(
          runner,
          tasks.map((task) => ({ taskId: task.id, agent: 'coder' })),
        );
        now += 1_000;
        // Completed in an order that is not the id order; all three at the same time.
        await store.failAttempt(fenceOf(claims[1]!), {
          error: { message: 'broke', kind: 'executor_failed', retryable: false },
          verification: [],
        });
        await store.completeAttempt(fenceOf(claims[0]!), success);
        await store.completeAttempt(fenceOf(claims[2]!), success);
        const byIdDescending = [...claims].sort((left, right) =>
          left.attempt.id < right.attempt.id ? 1 : -1,
        );
        expect(await store.listPairingOutcomes({ limitPerPairing: 10 })).toEqual([
          {
            runnerId: runner.id,
            agent: 'coder',
            outcomes: byIdDescending.map((claim) => claim !== claims[1]),
          },
        ]);
      });
    });

    describe('breakers', () => {
      /** One more failure on the breaker, made fresh when there is none. */
      const addFailure = (current: BreakerRecord | undefined): BreakerRecord => {
        const record = current ?? newBreaker('runner:run_1', now);
        return { ...record, consecutiveFailures: record.consecutiveFailures + 1, updatedAt: iso(now) };
      };

      it('creates, updates and lists breakers, and leaves them alone when the update says so', async () => {
        expect(await store.listBreakers()).toEqual([]);
        expect(await store.updateBreaker('runner:run_1', () => undefined)).toBeUndefined();
        expect(await store.listBreakers()).toEqual([]);

        const created = await store.updateBreaker('runner:run_1', addFailure);
        expect(created).toEqual({ ...newBreaker('runner:run_1', now), consecutiveFailures: 1 });
        now += 1_000;
        const seen: Array<BreakerRecord | undefined> = [];
        const unchanged = await store.updateBreaker('runner:run_1', (current) => {
          seen.push(current);
          return undefined;
        });
        expect(unchanged).toEqual(created);
        expect(seen.at(-1)).toEqual(created);
        const open: BreakerRecord = {
          ...created!,
          state: 'open',
          openedAt: iso(now),
          openUntil: iso(now + 30_000),
          updatedAt: iso(now),
        };
        expect(await store.updateBreaker('runner:run_1', () => open)).toEqual(open);
        const agent = await store.updateBreaker('agent:gitops', () => newBreaker('agent:gitops', now));
        expect(await store.listBreakers()).toEqual([agent, open]);
      });

      it('refuses a malformed record or one for another key, storing nothing', async () => {
        await expect(
          store.updateBreaker('runner:run_1', () => newBreaker('runner:run_2', now)),
        ).rejects.toMatchObject({ issues: [{ field: 'breaker.key' }] });
        await expect(
          store.updateBreaker('runner:run_1', () => ({
            ...newBreaker('runner:run_1', now),
            consecutiveFailures: -1,
          })),
        ).rejects.toBeInstanceOf(InvalidInputError);
        expect(await store.listBreakers()).toEqual([]);
      });

      it('applies concurrent updates of one breaker one after another', async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.updateBreaker('runner:run_1', addFailure)),
        );
        expect((await store.listBreakers()).map((record) => record.consecutiveFailures)).toEqual([20]);
        expect(
          results.map((record) => record!.consecutiveFailures).sort((left, right) => left - right),
        ).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
      });
    });

    describe('export and import', () => {
      /** Every record of an export, each through JSON as a file would carry it. */
      async function exportAll(source: Store): Promise<ExportRecord[]> {
        const records: ExportRecord[] = [];
        for await (const record of source.exportRecords()) {
          records.push(JSON.parse(JSON.stringify(record)) as ExportRecord);
        }
        return records;
      }

      /** A store with pairings, health, an assigned attempt holding a key, outcomes and breakers. */
      async function fill(): Promise<{ runner: Runner; held: Claim; waiting: Task }> {
        const runner = await createRunner();
        await store.registerRunner(runner.id, { agents: pairings });
        await store.heartbeatRunner(runner.id, 'degraded', {
          dependencyHealth: [{ name: 'argo', healthy: false, detail: 'down', checkedAt: iso(now) }],
        });
        const done = await enqueue();
        const [doneClaim] = await claimAssigned(runner, [
          {
            taskId: done.id,
            agent: 'gitops',
            routing: { winner: 'gitops@runner-01' },
            holds: [{ key: 'k', limit: 1 }],
          },
        ]);
        now += 1_000;
        await store.completeAttempt(fenceOf(doneClaim!), success);
        const active = await enqueue();
        const [held] = await claimAssigned(runner, [
          {
            taskId: active.id,
            agent: 'coder',
            routing: { reason: 'only one' },
            holds: [{ key: 'k', limit: 1 }],
          },
        ]);
        const waiting = await enqueue();
        await store.updateBreaker('agent:gitops', () => newBreaker('agent:gitops', now));
        await store.updateBreaker('runner:x', () => ({
          ...newBreaker('runner:x', now),
          consecutiveFailures: 2,
        }));
        return { runner, held: held!, waiting };
      }

      it('carries pairings, health, agents, routing records, holds and breakers across', async () => {
        const { runner, held, waiting } = await fill();
        const records = await exportAll(store);
        expect(records.filter((record) => record.kind === 'breaker')).toHaveLength(2);
        const target = await openStore();
        await target.importRecords(records);

        expect(await target.listRunners()).toEqual(await store.listRunners());
        expect(await target.getAttempt(held.attempt.id)).toEqual(held.attempt);
        expect(await target.listBreakers()).toEqual(await store.listBreakers());
        expect(await target.listPairingOutcomes({ limitPerPairing: 20 })).toEqual(
          await store.listPairingOutcomes({ limitPerPairing: 20 }),
        );
        expect(await target.listClaimCandidates({ capabilities: ['executor:shell'], limit: 10 })).toEqual(
          await store.listClaimCandidates({ capabilities: ['executor:shell'], limit: 10 }),
        );
        const again = await exportAll(target);
        expect(again.slice(1)).toEqual(records.slice(1));

        // The imported active attempt still holds its key: the waiting task stays out until it finishes.
        const assignment = [{ taskId: waiting.id, holds: [{ key: 'k', limit: 1 }] }];
        const request = { runnerId: runner.id, capabilities: runner.capabilities, limit: 1, leaseMs };
        expect(await target.claimTasks({ ...request, assignments: assignment })).toEqual([]);
        await target.completeAttempt(fenceOf(held), success);
        expect(ids(await target.claimTasks({ ...request, assignments: assignment }))).toEqual([waiting.id]);
      });

      it('imports records made before fleet routing, with empty pairings and health', async () => {
        const { held } = await fill();
        const old = (await exportAll(store))
          .filter((record) => record.kind !== 'breaker')
          .map((record): ExportRecord => {
            if (record.kind === 'runner') {
              const { agents: _agents, dependencyHealth: _health, ...runner } = record.runner;
              return { ...record, runner: runner as Extract<ExportRecord, { kind: 'runner' }>['runner'] };
            }
            if (record.kind === 'attempt') {
              const { agent: _agent, routing: _routing, holds: _holds, ...attempt } = record.attempt;
              return { ...record, attempt };
            }
            return record;
          });
        const target = await openStore();
        await target.importRecords(old);
        const [runner] = await target.listRunners();
        expect(runner).toMatchObject({ agents: [], dependencyHealth: [], status: 'degraded' });
        const attempt = await target.getAttempt(held.attempt.id);
        expect(attempt).toBeDefined();
        expect(attempt).not.toHaveProperty('agent');
        expect(attempt).not.toHaveProperty('holds');
        expect(await target.listBreakers()).toEqual([]);
        expect(await target.listPairingOutcomes({ limitPerPairing: 20 })).toEqual([
          { runnerId: runner!.id, outcomes: [true] },
        ]);
      });
    });
  });
}
