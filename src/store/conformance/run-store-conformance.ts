/**
 * The Store contract as a test suite that every backend runs (`src/store/<backend>/*-store.test.ts`).
 *
 * It speaks only the Store interface: no SQL, no backend specifics. Time comes from a fake clock the suite
 * moves by hand (lease expiry and retry backoff are tested without sleeping) and randomness is fixed, so
 * every expected time is exact.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeRetryDelay } from '../../core/backoff.ts';
import {
  ConflictError,
  InvalidInputError,
  InvalidTransitionError,
  LeaseLostError,
  NotFoundError,
  TaskNotFoundError,
} from '../../core/errors.ts';
import { modelEndpointSchema, type ModelEndpoint } from '../../core/model-endpoints.ts';
import type {
  AttemptError,
  LeaseFence,
  RoutedTaskSpec,
  Runner,
  Task,
  TaskSpecInput,
} from '../../core/types.ts';
import type { UsageRecordInput } from '../../core/usage.ts';
import type { AttemptFailure, AttemptSuccess, Claim, Store, StoreOptions, StoreSignal } from '../store.ts';
import { routedTaskSpec } from '../testing/routed-task-spec.ts';
import { createStoreOpener, fenceOf, iso, random, retryPolicy, startTime } from './conformance-fixtures.ts';
import { runExportConformance } from './export-conformance.ts';
import { runFleetConformance } from './fleet-conformance.ts';
import { runLeadershipConformance } from './leadership-conformance.ts';

/** What a backend hands the conformance suite. */
export interface StoreConformanceOptions {
  /** Shown in the suite's name, e.g. `sqlite`. */
  name: string;
  /**
   * Creates an empty store with these options. The suite calls `migrate()` itself and `close()` after each
   * test; the backend's test file cleans up whatever else it made (files, schemas).
   */
  createStore: (storeOptions: StoreOptions) => Promise<Store>;
}

// why: one minute is long enough that no test expires a lease by accident.
const leaseMs = 60_000;

/** A parsed spec with defaults applied and its route set (executor `shell` unless given), as the hub passes it. */
function spec(input: Partial<TaskSpecInput> = {}): RoutedTaskSpec {
  return routedTaskSpec({ title: 'a task', repo: '/srv/repos/app', ...input });
}

/** Two model calls' worth of usage; the numbers are exact in binary, so sums compare exactly. */
const sampleUsage: UsageRecordInput[] = [
  { endpoint: 'anthropic', model: 'claude-sonnet-4-5', inputTokens: 1_000, outputTokens: 200, costUsd: 0.25 },
  { endpoint: 'ollama', model: 'llama3.1:8b', inputTokens: 300, outputTokens: 50, costUsd: 0 },
];

/** A model endpoint with every optional field set. */
const sampleEndpoint: ModelEndpoint = modelEndpointSchema.parse({
  name: 'anthropic',
  provider: 'anthropic',
  baseUrl: 'https://api.anthropic.com/v1',
  apiKeyEnv: 'ANTHROPIC_API_KEY',
  headers: { 'anthropic-beta': 'tools-2025', 'X-Team': 'core' },
  models: [
    {
      id: 'claude-sonnet-4-5',
      tier: 'frontier',
      inputPricePerMillionUsd: 3,
      outputPricePerMillionUsd: 15,
      contextWindow: 200_000,
    },
    { id: 'claude-haiku-4-5', tier: 'cheap', inputPricePerMillionUsd: 1, outputPricePerMillionUsd: 5 },
  ],
});

const sampleSuccess: AttemptSuccess = {
  result: {
    branch: 'warren/abcdefgh-a-task',
    baseBranch: 'main',
    baseSha: 'a'.repeat(40),
    commitSha: 'b'.repeat(40),
    changedFiles: ['src/index.ts', 'README.md'],
    pushed: false,
    summary: 'did the thing',
  },
  verification: [
    {
      round: 1,
      passed: true,
      criteria: [
        {
          description: 'tests pass',
          command: 'npm test',
          passed: true,
          exitCode: 0,
          timedOut: false,
          durationMs: 1234,
          output: 'ok',
        },
      ],
    },
  ],
};

const retryableError: AttemptError = {
  message: 'the executor crashed',
  kind: 'executor_failed',
  retryable: true,
};

const sampleFailure: AttemptFailure = {
  error: retryableError,
  verification: [],
  branch: 'warren/abcdefgh-a-task',
  worktreePath: '/tmp/worktrees/att',
};

/** Registers the Store conformance suite for one backend. */
export function runStoreConformance(options: StoreConformanceOptions): void {
  describe(`Store conformance: ${options.name}`, () => {
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
      return (await store.enqueueTask(spec(input))).task;
    }

    async function createRunner(capabilities: string[] = ['executor:shell'], name?: string): Promise<Runner> {
      runnerCount += 1;
      const runnerName = name ?? `runner-${runnerCount}`;
      return store.createRunner({
        name: runnerName,
        capabilities,
        slots: 4,
        tokenHash: `hash-of-${runnerName}`,
      });
    }

    async function claim(runner: Runner, limit = 1, claimLeaseMs = leaseMs): Promise<Claim[]> {
      return store.claimTasks({
        runnerId: runner.id,
        capabilities: runner.capabilities,
        limit,
        leaseMs: claimLeaseMs,
      });
    }

    async function claimOne(runner: Runner, claimLeaseMs = leaseMs): Promise<Claim> {
      const claims = await claim(runner, 1, claimLeaseMs);
      expect(claims).toHaveLength(1);
      return claims[0]!;
    }

    async function taskOf(id: string): Promise<Task> {
      const task = await store.getTask(id);
      expect(task).toBeDefined();
      return task!;
    }

    async function stateOf(id: string): Promise<Task['state']> {
      return (await taskOf(id)).state;
    }

    async function expectLeaseLost(call: Promise<unknown>, reason: LeaseLostError['reason']): Promise<void> {
      const error = await call.then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(LeaseLostError);
      expect((error as LeaseLostError).reason).toBe(reason);
    }

    async function snapshot(taskId: string) {
      return {
        task: await store.getTask(taskId),
        attempts: await store.listAttempts(taskId),
        lastEventId: await store.lastEventId(),
        usage: await store.listUsage({ taskId, limit: 100 }),
      };
    }

    /** The invariant: a task is leased, running or verifying exactly when it has one active attempt. */
    async function expectConsistent(taskId: string): Promise<void> {
      const task = await taskOf(taskId);
      const active = (await store.listAttempts(taskId)).filter((attempt) =>
        ['leased', 'running', 'verifying'].includes(attempt.state),
      );
      if (['leased', 'running', 'verifying'].includes(task.state)) {
        expect(active).toHaveLength(1);
        expect(task.currentAttemptId).toBe(active[0]!.id);
        expect(active[0]!.state).toBe(task.state);
      } else {
        expect(active).toHaveLength(0);
        expect(task.currentAttemptId).toBeUndefined();
      }
    }

    /** Every fenced method, called with `fence`. */
    const fencedCalls: Array<[string, (fence: LeaseFence) => Promise<unknown>]> = [
      ['heartbeatAttempt', (fence) => store.heartbeatAttempt(fence, { leaseMs, message: 'still here' })],
      ['setAttemptPhase', (fence) => store.setAttemptPhase(fence, { phase: 'running', branch: 'other' })],
      ['appendAttemptLogs', (fence) => store.appendAttemptLogs(fence, [{ stream: 'stdout', text: 'hi' }])],
      ['recordUsage', (fence) => store.recordUsage(fence, sampleUsage)],
      ['completeAttempt', (fence) => store.completeAttempt(fence, sampleSuccess)],
      ['failAttempt', (fence) => store.failAttempt(fence, sampleFailure)],
    ];

    /** Calls every fenced method with `fence`; each must be refused for `reason` and change nothing. */
    async function expectEveryFencedCallRefused(
      fence: LeaseFence,
      taskId: string,
      reason: LeaseLostError['reason'],
      except: string[] = [],
    ): Promise<void> {
      for (const [name, call] of fencedCalls) {
        if (except.includes(name)) continue;
        const before = await snapshot(taskId);
        await expectLeaseLost(call(fence), reason).catch((error: unknown) => {
          throw new Error(`${name} was not refused as ${reason}`, { cause: error });
        });
        expect(await snapshot(taskId), `${name} changed something`).toEqual(before);
      }
    }

    describe('lifecycle', () => {
      it('reports its dialect, answers ping and migrates again safely', async () => {
        expect(['sqlite', 'postgres']).toContain(store.dialect);
        expect(await store.ping()).toBe(true);
        await store.migrate();
        await store.migrate();
        expect(await store.lastEventId()).toBe(0);
      });

      it('reports applied and pending migrations without applying any', async () => {
        const fresh = await options.createStore({ clock: () => startTime });
        try {
          const before = await fresh.migrationStatus();
          expect(before.applied).toEqual([]);
          expect(before.unknown).toEqual([]);
          expect(before.pending.length).toBeGreaterThan(0);
          expect(await fresh.migrationStatus()).toEqual(before);
          await fresh.migrate();
          const after = await fresh.migrationStatus();
          expect(after.pending).toEqual([]);
          expect(after.unknown).toEqual([]);
          expect(after.applied).toEqual(
            before.pending.map((migration) => ({ ...migration, appliedAt: iso(startTime) })),
          );
        } finally {
          await fresh.close();
        }
      });
    });

    describe('enqueueTask', () => {
      it('applies defaults and stores a queued task', async () => {
        const { task, created } = await store.enqueueTask(spec());
        expect(created).toBe(true);
        expect(task).toEqual({
          id: task.id,
          title: 'a task',
          instructions: '',
          repo: '/srv/repos/app',
          executor: 'shell',
          executorInput: {},
          capabilities: [],
          complexity: 'standard',
          complexityReason: 'set by hand',
          grants: [],
          fixRounds: 2,
          lane: 'normal',
          priority: 0,
          successCriteria: [],
          dependsOn: [],
          maxAttempts: 3,
          timeoutMs: 30 * 60 * 1000,
          labels: [],
          state: 'queued',
          requiredCapabilities: ['executor:shell'],
          attemptCount: 0,
          usage: { inputTokens: 0, outputTokens: 0, costUsd: 0, calls: 0 },
          createdAt: iso(startTime),
          updatedAt: iso(startTime),
        });
        expect(task.id).toMatch(/^tsk_[0-9A-Z]{26}$/);
        expect(await store.getTask(task.id)).toEqual(task);
      });

      it('round-trips every field', async () => {
        const parent = await enqueue();
        const full = spec({
          title: 'Fix the "flaky" test; DROP TABLE tasks; --',
          instructions: 'Line one\nLine two with unicode: żółć 🐇 and a tab\t.',
          repo: 'https://example.com/org/repo.git',
          baseBranch: 'release/1.2',
          executor: 'codex',
          executorInput: { run: ['npm ci', 'npm test'], nested: { deep: [1, 2.5, true, null, 'x'] } },
          capabilities: ['node', 'gpu'],
          complexity: 'complex',
          model: 'anthropic/claude-sonnet-4-5',
          seniority: 'principal',
          budget: { maxTokens: 2_000_000, maxCostUsd: 12.5 },
          grants: ['github:read', 'npm:publish'],
          fixRounds: 4,
          lane: 'high',
          priority: 42,
          successCriteria: [
            { description: 'tests pass', command: 'npm test', timeoutMs: 60_000 },
            { description: 'reads well' },
          ],
          dependsOn: [parent.id],
          dedupKey: 'fix-flaky-test',
          maxAttempts: 7,
          timeoutMs: 120_000,
          labels: ['bug', 'ci'],
        });
        full.complexityReason = 'mentions "refactor"; 7 criteria — żółć';
        const { task } = await store.enqueueTask(full, { idempotencyKey: 'request-1' });
        expect(task).toMatchObject(full);
        expect(task.requiredCapabilities).toEqual([
          'executor:codex',
          'gpu',
          'model:anthropic/claude-sonnet-4-5',
          'node',
        ]);
        expect(task.idempotencyKey).toBe('request-1');
        expect(task.state).toBe('blocked');
        expect(await store.getTask(task.id)).toEqual(task);
      });

      it('answers undefined for an unknown task', async () => {
        expect(await store.getTask('tsk_00000000000000000000000000')).toBeUndefined();
      });

      it('refuses unknown dependencies, naming each field, and creates nothing', async () => {
        const parent = await enqueue();
        const missing = 'tsk_0000000000000000000000000Z';
        const error = await store.enqueueTask(spec({ dependsOn: [parent.id, missing] })).then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
        expect(error).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).issues).toEqual([
          { field: 'dependsOn.1', reason: `task ${missing} does not exist` },
        ]);
        expect((await store.listTasks({ limit: 10 })).items.map((task) => task.id)).toEqual([parent.id]);
      });

      it('appends task.created and task.state events', async () => {
        const task = await enqueue();
        const events = await store.listEvents({ taskId: task.id, limit: 10 });
        expect(events.map((event) => event.type)).toEqual(['task.created', 'task.state']);
        expect(events[0]!.data).toEqual({ task });
        expect(events[1]!.data).toMatchObject({ from: null, to: 'queued' });
        expect(events.every((event) => event.at === iso(startTime) && event.taskId === task.id)).toBe(true);
      });
    });

    describe('dedup and idempotency keys', () => {
      it('returns the active task holding a dedup key instead of creating another', async () => {
        const first = await store.enqueueTask(spec({ dedupKey: 'nightly' }));
        const second = await store.enqueueTask(spec({ dedupKey: 'nightly', title: 'different' }));
        expect(second.created).toBe(false);
        expect(second.task).toEqual(first.task);
        const other = await store.enqueueTask(spec({ dedupKey: 'weekly' }));
        expect(other.created).toBe(true);
      });

      it('releases a dedup key when its task ends', async () => {
        const runner = await createRunner();
        const first = await enqueue({ dedupKey: 'nightly' });
        await store.completeAttempt(fenceOf(await claimOne(runner)), sampleSuccess);
        const second = await store.enqueueTask(spec({ dedupKey: 'nightly' }));
        expect(second.created).toBe(true);
        expect(second.task.id).not.toBe(first.id);
        await store.cancelTask(second.task.id);
        const third = await store.enqueueTask(spec({ dedupKey: 'nightly' }));
        expect(third.created).toBe(true);
      });

      it('keeps a dedup key while the task waits for a retry', async () => {
        const runner = await createRunner();
        const first = await enqueue({ dedupKey: 'nightly' });
        await store.failAttempt(fenceOf(await claimOne(runner)), sampleFailure);
        expect(await stateOf(first.id)).toBe('failed');
        const again = await store.enqueueTask(spec({ dedupKey: 'nightly' }));
        expect(again).toMatchObject({ created: false, task: { id: first.id } });
      });

      it('returns the original tasks for a repeated batch with the same idempotency key', async () => {
        const specs = [spec({ title: 'one' }), spec({ title: 'two' })];
        const first = await store.enqueueTasks(specs, { idempotencyKey: 'batch-1' });
        expect(first.map((result) => result.created)).toEqual([true, true]);
        const again = await store.enqueueTasks(specs, { idempotencyKey: 'batch-1' });
        expect(again.map((result) => result.created)).toEqual([false, false]);
        expect(again.map((result) => result.task.id)).toEqual(first.map((result) => result.task.id));
        const other = await store.enqueueTasks(specs, { idempotencyKey: 'batch-2' });
        expect(other.map((result) => result.created)).toEqual([true, true]);
        expect((await store.listTasks({ limit: 10 })).items).toHaveLength(4);
      });

      it('returns the original task for a repeated idempotency key, forever', async () => {
        const first = await store.enqueueTask(spec(), { idempotencyKey: 'request-1' });
        const repeat = await store.enqueueTask(spec({ title: 'something else' }), {
          idempotencyKey: 'request-1',
        });
        expect(repeat).toEqual({ task: first.task, created: false });
        await store.cancelTask(first.task.id);
        const later = await store.enqueueTask(spec(), { idempotencyKey: 'request-1' });
        expect(later.created).toBe(false);
        expect(later.task.id).toBe(first.task.id);
        expect(later.task.state).toBe('cancelled');
        const other = await store.enqueueTask(spec(), { idempotencyKey: 'request-2' });
        expect(other.created).toBe(true);
      });
    });

    describe('enqueueTasks', () => {
      it('creates tasks in order; later ones may depend on earlier ones', async () => {
        const first = await store.enqueueTasks([spec({ title: 'one' })]);
        const results = await store.enqueueTasks([
          spec({ title: 'two', dependsOn: [first[0]!.task.id] }),
          spec({ title: 'three', dedupKey: 'k' }),
          spec({ title: 'four', dedupKey: 'k' }),
        ]);
        expect(results.map((result) => [result.task.title, result.created])).toEqual([
          ['two', true],
          ['three', true],
          ['three', false],
        ]);
        expect(results[0]!.task.state).toBe('blocked');
      });

      it('creates nothing when any spec is invalid', async () => {
        const missing = 'tsk_0000000000000000000000000Z';
        const error = await store
          .enqueueTasks([spec({ title: 'fine' }), spec({ title: 'bad', dependsOn: [missing] })])
          .then(
            () => undefined,
            (thrown: unknown) => thrown,
          );
        expect(error).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).issues).toEqual([
          { field: '1.dependsOn.0', reason: `task ${missing} does not exist` },
        ]);
        expect((await store.listTasks({ limit: 10 })).items).toEqual([]);
        expect(await store.lastEventId()).toBe(0);
      });
    });

    describe('dependencies', () => {
      it('blocks a task until every parent succeeds, then queues it', async () => {
        const runner = await createRunner();
        const parentA = await enqueue({ title: 'a', priority: 2 });
        const parentB = await enqueue({ title: 'b', priority: 1 });
        const child = await enqueue({ dependsOn: [parentA.id, parentB.id] });
        expect(child.state).toBe('blocked');
        await store.completeAttempt(fenceOf(await claimOne(runner)), sampleSuccess);
        expect(await stateOf(child.id)).toBe('blocked');
        await store.completeAttempt(fenceOf(await claimOne(runner)), sampleSuccess);
        expect(await stateOf(child.id)).toBe('queued');
        const claimed = await claimOne(runner);
        expect(claimed.task.id).toBe(child.id);
      });

      it('queues a task at once when its parents already succeeded', async () => {
        const runner = await createRunner();
        const parent = await enqueue();
        await store.completeAttempt(fenceOf(await claimOne(runner)), sampleSuccess);
        expect((await enqueue({ dependsOn: [parent.id] })).state).toBe('queued');
      });

      it('creates a task dead when a parent is dead or cancelled', async () => {
        const parent = await enqueue();
        await store.cancelTask(parent.id);
        const child = await enqueue({ dependsOn: [parent.id] });
        expect(child).toMatchObject({
          state: 'dead',
          stateReason: `dependency ${parent.id} is cancelled`,
          finishedAt: iso(startTime),
        });
      });

      it('kills blocked dependents, level by level, when a parent dies', async () => {
        const runner = await createRunner();
        const parent = await enqueue({ priority: 5 });
        const child = await enqueue({ dependsOn: [parent.id] });
        const grandchild = await enqueue({ dependsOn: [child.id] });
        const unrelated = await enqueue();
        await store.failAttempt(fenceOf(await claimOne(runner)), {
          ...sampleFailure,
          error: { message: 'bad spec', kind: 'invalid_input', retryable: false },
        });
        expect(await taskOf(parent.id)).toMatchObject({ state: 'dead', stateReason: 'bad spec' });
        expect(await taskOf(child.id)).toMatchObject({
          state: 'dead',
          stateReason: `dependency ${parent.id} is dead`,
        });
        expect(await taskOf(grandchild.id)).toMatchObject({
          state: 'dead',
          stateReason: `dependency ${child.id} is dead`,
        });
        expect(await stateOf(unrelated.id)).toBe('queued');
      });

      it('kills blocked dependents when a parent is cancelled', async () => {
        const parent = await enqueue();
        const child = await enqueue({ dependsOn: [parent.id] });
        const grandchild = await enqueue({ dependsOn: [child.id] });
        await store.cancelTask(parent.id, 'not needed');
        expect(await taskOf(child.id)).toMatchObject({
          state: 'dead',
          stateReason: `dependency ${parent.id} is cancelled`,
        });
        expect(await taskOf(grandchild.id)).toMatchObject({
          state: 'dead',
          stateReason: `dependency ${child.id} is dead`,
        });
      });

      it('refuses to retry a task whose parent is dead, and blocks it when the parent runs again', async () => {
        const runner = await createRunner();
        const parent = await enqueue();
        const child = await enqueue({ dependsOn: [parent.id] });
        await store.cancelTask(parent.id);
        await expect(store.retryTask(child.id)).rejects.toBeInstanceOf(InvalidTransitionError);
        await store.retryTask(parent.id);
        expect(await store.retryTask(child.id)).toMatchObject({ state: 'blocked' });
        await store.completeAttempt(fenceOf(await claimOne(runner)), sampleSuccess);
        expect(await stateOf(child.id)).toBe('queued');
      });
    });

    describe('claimTasks', () => {
      it('creates a leased attempt with a fresh lease', async () => {
        const runner = await createRunner();
        const task = await enqueue();
        const claimed = await claimOne(runner);
        expect(claimed.task).toMatchObject({
          id: task.id,
          state: 'leased',
          attemptCount: 1,
          currentAttemptId: claimed.attempt.id,
          updatedAt: iso(startTime),
        });
        expect(claimed.attempt).toEqual({
          id: claimed.attempt.id,
          taskId: task.id,
          runnerId: runner.id,
          number: 1,
          state: 'leased',
          fencingToken: 1,
          leaseExpiresAt: iso(startTime + leaseMs),
          startedAt: iso(startTime),
          verification: [],
          usage: { inputTokens: 0, outputTokens: 0, costUsd: 0, calls: 0 },
        });
        expect(claimed.leaseToken.length).toBeGreaterThanOrEqual(16);
        expect(await store.getTask(task.id)).toEqual(claimed.task);
        expect(await store.getAttempt(claimed.attempt.id)).toEqual(claimed.attempt);
        expect(await store.listAttempts(task.id)).toEqual([claimed.attempt]);
        await expectConsistent(task.id);
      });

      it('never reveals the lease token anywhere but the claim', async () => {
        const runner = await createRunner();
        await enqueue();
        const claimed = await claimOne(runner);
        const everything = JSON.stringify([
          await store.listEvents({ limit: 100 }),
          await store.listAttempts(claimed.task.id),
          await store.getTask(claimed.task.id),
        ]);
        expect(everything).not.toContain(claimed.leaseToken);
      });

      it('appends task.state and attempt.state events', async () => {
        const runner = await createRunner();
        await enqueue();
        const before = await store.lastEventId();
        const claimed = await claimOne(runner);
        const events = await store.listEvents({ afterId: before, limit: 10 });
        expect(events.map((event) => [event.type, event.data.from, event.data.to])).toEqual(
          expect.arrayContaining([
            ['task.state', 'queued', 'leased'],
            ['attempt.state', null, 'leased'],
          ]),
        );
        expect(events).toHaveLength(2);
        const attemptEvent = events.find((event) => event.type === 'attempt.state')!;
        expect(attemptEvent).toMatchObject({ attemptId: claimed.attempt.id, runnerId: runner.id });
      });

      it('orders by lane, then priority, then age', async () => {
        const runner = await createRunner();
        const lowHighPriority = await enqueue({ lane: 'low', priority: 100 });
        const normalOld = await enqueue({ lane: 'normal' });
        now += 1;
        const normalUrgent = await enqueue({ lane: 'normal', priority: 5 });
        const high = await enqueue({ lane: 'high', priority: -5 });
        const normalNew = await enqueue({ lane: 'normal' });
        const claims = await claim(runner, 10);
        expect(claims.map((claimed) => claimed.task.id)).toEqual([
          high.id,
          normalUrgent.id,
          normalOld.id,
          normalNew.id,
          lowHighPriority.id,
        ]);
      });

      it('honours the limit and drains the queue', async () => {
        const runner = await createRunner();
        for (let index = 0; index < 10; index += 1) await enqueue({ title: `task ${index}` });
        const sizes: number[] = [];
        for (let round = 0; round < 5; round += 1) sizes.push((await claim(runner, 3)).length);
        expect(sizes).toEqual([3, 3, 3, 1, 0]);
      });

      it('claims only tasks whose required capabilities the runner has', async () => {
        const gpuTask = await enqueue({ capabilities: ['gpu'], priority: 10 });
        const codexTask = await enqueue({ executor: 'codex', priority: 5 });
        const plainTask = await enqueue();
        const plainRunner = await createRunner(['executor:shell', 'node']);
        expect((await claim(plainRunner, 10)).map((claimed) => claimed.task.id)).toEqual([plainTask.id]);
        const noExecutor = await createRunner(['gpu']);
        expect(await claim(noExecutor, 10)).toEqual([]);
        const codexRunner = await createRunner(['executor:codex']);
        expect((await claim(codexRunner, 10)).map((claimed) => claimed.task.id)).toEqual([codexTask.id]);
        const gpuRunner = await createRunner(['executor:shell', 'gpu', 'node']);
        expect((await claim(gpuRunner, 10)).map((claimed) => claimed.task.id)).toEqual([gpuTask.id]);
      });

      it('keeps claim order across tasks that need different capabilities', async () => {
        const runner = await createRunner(['executor:shell', 'executor:codex', 'gpu', 'node']);
        const lowGpu = await enqueue({ lane: 'low', capabilities: ['gpu'], priority: 50 });
        const plainOld = await enqueue({ priority: 5 });
        const nodeUrgent = await enqueue({ capabilities: ['node'], priority: 9 });
        const gpuNormal = await enqueue({ capabilities: ['gpu'], priority: 5 });
        const codexHigh = await enqueue({ executor: 'codex', lane: 'high', priority: -3 });
        const both = await enqueue({ capabilities: ['node', 'gpu'], priority: 5 });
        const first = await claim(runner, 3);
        const rest = await claim(runner, 10);
        expect([...first, ...rest].map((claimed) => claimed.task.id)).toEqual([
          codexHigh.id,
          nodeUrgent.id,
          plainOld.id,
          gpuNormal.id,
          both.id,
          lowGpu.id,
        ]);
      });

      it('claims tasks of a kind again after the queue ran out of that kind', async () => {
        const gpuRunner = await createRunner(['executor:shell', 'gpu']);
        const gpu = { capabilities: ['gpu'] };
        await enqueue(gpu);
        await claimOne(gpuRunner);
        expect(await claim(gpuRunner)).toEqual([]);

        const fresh = await enqueue(gpu);
        const claimedFresh = await claimOne(gpuRunner);
        expect(claimedFresh.task.id).toBe(fresh.id);
        expect(await claim(gpuRunner)).toEqual([]);

        const failed = await store.failAttempt(fenceOf(claimedFresh), sampleFailure);
        now = Date.parse(failed.retryAt!);
        await store.promoteRetries();
        expect((await claimOne(gpuRunner)).task.id).toBe(fresh.id);

        const parent = await enqueue({ capabilities: ['node'] });
        const child = await enqueue({ ...gpu, dependsOn: [parent.id] });
        expect(await claim(gpuRunner)).toEqual([]);
        const nodeRunner = await createRunner(['executor:shell', 'node']);
        await store.completeAttempt(fenceOf(await claimOne(nodeRunner)), sampleSuccess);
        expect((await claimOne(gpuRunner)).task.id).toBe(child.id);

        const cancelled = await enqueue(gpu);
        await store.cancelTask(cancelled.id);
        expect(await claim(gpuRunner)).toEqual([]);
        await store.retryTask(cancelled.id);
        expect((await claimOne(gpuRunner)).task.id).toBe(cancelled.id);
      });

      it('never claims blocked, failed, leased or finished tasks', async () => {
        const runner = await createRunner();
        const parent = await enqueue({ priority: 3 });
        await enqueue({ dependsOn: [parent.id] });
        const failing = await enqueue({ priority: 2 });
        const cancelled = await enqueue({ priority: 1 });
        await store.cancelTask(cancelled.id);
        const claimedParent = await claimOne(runner);
        expect(claimedParent.task.id).toBe(parent.id);
        const claimedFailing = await claimOne(runner);
        expect(claimedFailing.task.id).toBe(failing.id);
        await store.failAttempt(fenceOf(claimedFailing), sampleFailure);
        expect(await claim(runner, 10)).toEqual([]);
      });

      it('never lets a runner hold more than maxActive attempts, counted inside the claim', async () => {
        const runner = await createRunner();
        await store.enqueueTasks(Array.from({ length: 10 }, (_, index) => spec({ title: `task ${index}` })));
        const request = { runnerId: runner.id, capabilities: runner.capabilities, leaseMs, maxActive: 3 };
        expect(await store.claimTasks({ ...request, limit: 2 })).toHaveLength(2);
        // Two claims racing for the last free slot: only one gets it.
        const racing = await Promise.all([
          store.claimTasks({ ...request, limit: 5 }),
          store.claimTasks({ ...request, limit: 5 }),
        ]);
        expect(racing.flat()).toHaveLength(1);
        expect(await store.claimTasks({ ...request, limit: 5 })).toEqual([]);
        expect((await store.getRunner(runner.id))?.activeAttempts).toBe(3);
      });

      it('never gives one task to two of 50 concurrent claims', async () => {
        const specs = Array.from({ length: 200 }, (_, index) => spec({ title: `task ${index}` }));
        await store.enqueueTasks(specs);
        const runners = await Promise.all(Array.from({ length: 5 }, () => createRunner()));
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, index) => claim(runners[index % runners.length]!, 5)),
        );
        const ids = results.flat().map((claimed) => claimed.task.id);
        expect(ids).toHaveLength(200);
        expect(new Set(ids).size).toBe(200);
        const attemptIds = results.flat().map((claimed) => claimed.attempt.id);
        expect(new Set(attemptIds).size).toBe(200);
        const queued = await store.listTasks({ states: ['queued'], limit: 10 });
        expect(queued.items).toEqual([]);
        const counts = await store.countTasks();
        expect(counts).toEqual([{ lane: 'normal', state: 'leased', count: 200 }]);
      });

      it('returns nothing for an empty queue', async () => {
        const runner = await createRunner();
        expect(await claim(runner, 5)).toEqual([]);
      });
    });

    describe('leases and fencing', () => {
      it('extends a lease on heartbeat and records progress', async () => {
        const runner = await createRunner();
        await enqueue();
        const claimed = await claimOne(runner);
        now += 10_000;
        const attempt = await store.heartbeatAttempt(fenceOf(claimed), {
          leaseMs: 30_000,
          message: 'cloning',
        });
        expect(attempt).toMatchObject({ leaseExpiresAt: iso(now + 30_000), progress: 'cloning' });
        const events = await store.listEvents({
          attemptId: claimed.attempt.id,
          types: ['attempt.progress'],
          limit: 10,
        });
        expect(events.map((event) => event.data)).toEqual([{ message: 'cloning' }]);
        const quiet = await store.heartbeatAttempt(fenceOf(claimed), { leaseMs: 30_000 });
        expect(quiet.progress).toBe('cloning');
      });

      it('holds a lease up to and including its expiry time, and refuses it after', async () => {
        const runner = await createRunner();
        await enqueue();
        const claimed = await claimOne(runner, 1_000);
        now += 1_000;
        await store.heartbeatAttempt(fenceOf(claimed), { leaseMs: 1_000 });
        now += 1_001;
        await expectEveryFencedCallRefused(fenceOf(claimed), claimed.task.id, 'expired');
      });

      it('ends an expired lease as lost, retries the task later with a higher fencing token', async () => {
        const runner = await createRunner();
        const task = await enqueue();
        const first = await claimOne(runner, 1_000);
        now += 1_000;
        expect(await store.expireLeases()).toBe(0);
        now += 1;
        expect(await store.expireLeases()).toBe(1);
        expect(await store.expireLeases()).toBe(0);
        const lost = await store.getAttempt(first.attempt.id);
        expect(lost).toMatchObject({
          state: 'lost',
          finishedAt: iso(now),
          error: { kind: 'lease_expired', retryable: true },
        });
        const delay = computeRetryDelay(1, retryPolicy, random);
        const failed = await taskOf(task.id);
        expect(failed).toMatchObject({ state: 'failed', retryAt: iso(now + delay), attemptCount: 1 });
        expect(failed.currentAttemptId).toBeUndefined();
        await expectConsistent(task.id);

        now += delay - 1;
        expect(await store.promoteRetries()).toBe(0);
        expect(await claim(runner)).toEqual([]);
        now += 1;
        expect(await store.promoteRetries()).toBe(1);
        expect(await taskOf(task.id)).toMatchObject({ state: 'queued' });
        expect((await taskOf(task.id)).retryAt).toBeUndefined();

        const second = await claimOne(runner);
        expect(second.attempt).toMatchObject({ number: 2, taskId: task.id });
        expect(second.attempt.fencingToken).toBeGreaterThan(first.attempt.fencingToken);
        await expectEveryFencedCallRefused(fenceOf(first), task.id, 'expired');
        await store.completeAttempt(fenceOf(second), sampleSuccess);
        expect(await stateOf(task.id)).toBe('succeeded');
      });

      it('refuses a wrong token on every fenced call and changes nothing', async () => {
        const runner = await createRunner();
        await enqueue();
        const claimed = await claimOne(runner);
        const fence = { ...fenceOf(claimed), leaseToken: `${claimed.leaseToken}x` };
        await expectEveryFencedCallRefused(fence, claimed.task.id, 'wrong-token');
        await expectEveryFencedCallRefused(
          { ...fenceOf(claimed), leaseToken: 'lease_not-a-real-token' },
          claimed.task.id,
          'wrong-token',
        );
      });

      it('refuses another runner presenting the right token', async () => {
        const runner = await createRunner();
        const other = await createRunner();
        await enqueue();
        const claimed = await claimOne(runner);
        await expectEveryFencedCallRefused(
          { ...fenceOf(claimed), runnerId: other.id },
          claimed.task.id,
          'wrong-runner',
        );
      });

      it('refuses an unknown attempt', async () => {
        const runner = await createRunner();
        await enqueue();
        const claimed = await claimOne(runner);
        await expectEveryFencedCallRefused(
          { ...fenceOf(claimed), attemptId: 'att_00000000000000000000000000' },
          claimed.task.id,
          'unknown-attempt',
        );
      });

      it('refuses a finished attempt', async () => {
        const runner = await createRunner();
        await enqueue();
        const claimed = await claimOne(runner);
        await store.completeAttempt(fenceOf(claimed), sampleSuccess);
        // A repeated completion by the lease holder is a replay (next test); every other call is refused.
        await expectEveryFencedCallRefused(fenceOf(claimed), claimed.task.id, 'finished', [
          'completeAttempt',
        ]);
      });

      it('answers a repeated report by the lease holder as before (a lost answer is safe to retry)', async () => {
        const runner = await createRunner();
        const other = await createRunner();
        await enqueue();
        const claimed = await claimOne(runner);
        const done = await store.completeAttempt(fenceOf(claimed), sampleSuccess);
        const eventsBefore = await store.lastEventId();
        now += 1_000;
        expect(await store.completeAttempt(fenceOf(claimed), sampleSuccess)).toEqual(done);
        expect(await store.lastEventId()).toBe(eventsBefore);
        // Only the same outcome, token and runner replay; anything else is still refused.
        await expectLeaseLost(store.failAttempt(fenceOf(claimed), sampleFailure), 'finished');
        await expectLeaseLost(
          store.completeAttempt({ ...fenceOf(claimed), leaseToken: `${claimed.leaseToken}x` }, sampleSuccess),
          'wrong-token',
        );
        await expectLeaseLost(
          store.completeAttempt({ ...fenceOf(claimed), runnerId: other.id }, sampleSuccess),
          'wrong-runner',
        );

        await enqueue();
        const failing = await claimOne(runner);
        const failed = await store.failAttempt(fenceOf(failing), sampleFailure);
        const afterFail = await store.lastEventId();
        expect(await store.failAttempt(fenceOf(failing), sampleFailure)).toEqual(failed);
        expect(await store.lastEventId()).toBe(afterFail);
        await expectLeaseLost(store.completeAttempt(fenceOf(failing), sampleSuccess), 'finished');
      });

      it('refuses a failed attempt even after its task was claimed again', async () => {
        const runner = await createRunner();
        await enqueue();
        const first = await claimOne(runner);
        await store.failAttempt(fenceOf(first), sampleFailure);
        await store.retryTask(first.task.id);
        const second = await claimOne(runner);
        await expectEveryFencedCallRefused(fenceOf(first), first.task.id, 'finished', ['failAttempt']);
        await store.heartbeatAttempt(fenceOf(second), { leaseMs });
      });
    });

    describe('attempt phases', () => {
      it('moves attempt and task through running and verifying, and back for a fix round', async () => {
        const runner = await createRunner();
        const task = await enqueue();
        const claimed = await claimOne(runner);
        const fence = fenceOf(claimed);
        const running = await store.setAttemptPhase(fence, {
          phase: 'running',
          message: 'executor started',
          branch: 'warren/abc-task',
          worktreePath: '/tmp/worktrees/abc',
        });
        expect(running).toMatchObject({
          state: 'running',
          branch: 'warren/abc-task',
          worktreePath: '/tmp/worktrees/abc',
          progress: 'executor started',
        });
        expect(await stateOf(task.id)).toBe('running');
        await expectConsistent(task.id);
        expect((await store.setAttemptPhase(fence, { phase: 'verifying' })).state).toBe('verifying');
        expect(await stateOf(task.id)).toBe('verifying');
        expect((await store.setAttemptPhase(fence, { phase: 'running' })).state).toBe('running');
        expect((await store.setAttemptPhase(fence, { phase: 'verifying' })).state).toBe('verifying');
        await expectConsistent(task.id);
        await store.completeAttempt(fence, sampleSuccess);
        const transitions = (
          await store.listEvents({ taskId: task.id, types: ['task.state'], limit: 100 })
        ).map((event) => `${String(event.data.from)}>${String(event.data.to)}`);
        expect(transitions).toEqual([
          'null>queued',
          'queued>leased',
          'leased>running',
          'running>verifying',
          'verifying>running',
          'running>verifying',
          'verifying>succeeded',
        ]);
        const attemptTransitions = (
          await store.listEvents({ attemptId: claimed.attempt.id, types: ['attempt.state'], limit: 100 })
        ).map((event) => `${String(event.data.from)}>${String(event.data.to)}`);
        expect(attemptTransitions).toEqual([
          'null>leased',
          'leased>running',
          'running>verifying',
          'verifying>running',
          'running>verifying',
          'verifying>succeeded',
        ]);
      });

      it('accepts a repeated report of the current phase without a new transition', async () => {
        const runner = await createRunner();
        await enqueue();
        const claimed = await claimOne(runner);
        await store.setAttemptPhase(fenceOf(claimed), { phase: 'running' });
        const before = await store.listEvents({ types: ['task.state', 'attempt.state'], limit: 100 });
        const again = await store.setAttemptPhase(fenceOf(claimed), { phase: 'running', branch: 'warren/x' });
        expect(again).toMatchObject({ state: 'running', branch: 'warren/x' });
        expect(await store.listEvents({ types: ['task.state', 'attempt.state'], limit: 100 })).toEqual(
          before,
        );
      });

      it('appends log entries as attempt.log events in order', async () => {
        const runner = await createRunner();
        await enqueue();
        const claimed = await claimOne(runner);
        await store.appendAttemptLogs(fenceOf(claimed), [
          { stream: 'stdout', text: 'line 1\n' },
          { stream: 'stderr', text: 'warning: "quoted" \\ backslash\n' },
          { stream: 'system', text: 'verifying' },
        ]);
        const logs = await store.listEvents({ taskId: claimed.task.id, types: ['attempt.log'], limit: 10 });
        expect(logs.map((event) => event.data)).toEqual([
          { stream: 'stdout', text: 'line 1\n' },
          { stream: 'stderr', text: 'warning: "quoted" \\ backslash\n' },
          { stream: 'system', text: 'verifying' },
        ]);
        expect(
          logs.every((event) => event.attemptId === claimed.attempt.id && event.runnerId === runner.id),
        ).toBe(true);
      });
    });

    describe('completeAttempt and failAttempt', () => {
      it('completes the attempt and the task with the result', async () => {
        const runner = await createRunner();
        const task = await enqueue();
        const claimed = await claimOne(runner);
        now += 5_000;
        const done = await store.completeAttempt(fenceOf(claimed), sampleSuccess);
        expect(done).toMatchObject({
          id: task.id,
          state: 'succeeded',
          result: sampleSuccess.result,
          finishedAt: iso(now),
          updatedAt: iso(now),
          attemptCount: 1,
        });
        expect(done.currentAttemptId).toBeUndefined();
        expect(await store.getTask(task.id)).toEqual(done);
        expect(await store.getAttempt(claimed.attempt.id)).toMatchObject({
          state: 'succeeded',
          result: sampleSuccess.result,
          verification: sampleSuccess.verification,
          finishedAt: iso(now),
        });
        await expectConsistent(task.id);
      });

      it('fails a retryable attempt into a backoff wait', async () => {
        const runner = await createRunner();
        const task = await enqueue();
        const claimed = await claimOne(runner);
        const failed = await store.failAttempt(fenceOf(claimed), sampleFailure);
        expect(failed).toMatchObject({
          state: 'failed',
          stateReason: retryableError.message,
          retryAt: iso(now + computeRetryDelay(1, retryPolicy, random)),
        });
        expect(failed.finishedAt).toBeUndefined();
        expect(await store.getAttempt(claimed.attempt.id)).toMatchObject({
          state: 'failed',
          error: retryableError,
          branch: sampleFailure.branch,
          worktreePath: sampleFailure.worktreePath,
          finishedAt: iso(now),
        });
        await expectConsistent(task.id);
      });

      it('waits at least the base delay, growing by the factor', async () => {
        store = await openStore({ retryPolicy: { ...retryPolicy, jitter: 0 } });
        const runner = await createRunner();
        const task = await enqueue();
        let failed = await store.failAttempt(fenceOf(await claimOne(runner)), sampleFailure);
        expect(Date.parse(failed.retryAt!) - now).toBe(retryPolicy.baseDelayMs);
        now = Date.parse(failed.retryAt!);
        await store.promoteRetries();
        failed = await store.failAttempt(fenceOf(await claimOne(runner)), sampleFailure);
        expect(Date.parse(failed.retryAt!) - now).toBe(retryPolicy.baseDelayMs * retryPolicy.factor);
        expect(failed.id).toBe(task.id);
      });

      it('honours nextRetryDelayMs when it is longer than the backoff', async () => {
        const runner = await createRunner();
        await enqueue({ maxAttempts: 5 });
        const longer = await store.failAttempt(fenceOf(await claimOne(runner)), {
          ...sampleFailure,
          error: { ...retryableError, nextRetryDelayMs: 45_000 },
        });
        expect(Date.parse(longer.retryAt!) - now).toBe(45_000);
        now = Date.parse(longer.retryAt!);
        await store.promoteRetries();
        const shorter = await store.failAttempt(fenceOf(await claimOne(runner)), {
          ...sampleFailure,
          error: { ...retryableError, nextRetryDelayMs: 1 },
        });
        expect(Date.parse(shorter.retryAt!) - now).toBe(computeRetryDelay(2, retryPolicy, random));
      });

      it('sends a task dead when its attempts are exhausted', async () => {
        const runner = await createRunner();
        const task = await enqueue({ maxAttempts: 2 });
        const failed = await store.failAttempt(fenceOf(await claimOne(runner)), sampleFailure);
        expect(failed.state).toBe('failed');
        now = Date.parse(failed.retryAt!);
        await store.promoteRetries();
        const dead = await store.failAttempt(fenceOf(await claimOne(runner)), sampleFailure);
        expect(dead).toMatchObject({
          state: 'dead',
          stateReason: retryableError.message,
          attemptCount: 2,
          finishedAt: iso(now),
        });
        expect(dead.retryAt).toBeUndefined();
        expect(await store.listAttempts(task.id)).toHaveLength(2);
        expect(await store.promoteRetries()).toBe(0);
      });

      it('sends a task dead when its lease expires on the last attempt', async () => {
        const runner = await createRunner();
        const task = await enqueue({ maxAttempts: 1 });
        await claimOne(runner, 1_000);
        now += 1_001;
        expect(await store.expireLeases()).toBe(1);
        expect(await taskOf(task.id)).toMatchObject({ state: 'dead', finishedAt: iso(now) });
        await expectConsistent(task.id);
      });

      it('sends a task dead at once on a non-retryable error', async () => {
        const runner = await createRunner();
        const task = await enqueue({ maxAttempts: 5 });
        const dead = await store.failAttempt(fenceOf(await claimOne(runner)), {
          error: { message: 'no such repository', kind: 'invalid_input', retryable: false },
          verification: [],
        });
        expect(dead).toMatchObject({ id: task.id, state: 'dead', stateReason: 'no such repository' });
      });
    });

    describe('cancelTask', () => {
      it('cancels a queued task with a reason', async () => {
        const task = await enqueue();
        const cancelled = await store.cancelTask(task.id, 'changed my mind');
        expect(cancelled).toMatchObject({
          state: 'cancelled',
          stateReason: 'changed my mind',
          finishedAt: iso(now),
        });
        expect(await store.getTask(task.id)).toEqual(cancelled);
      });

      it('revokes the lease of an active attempt', async () => {
        const runner = await createRunner();
        const task = await enqueue();
        const claimed = await claimOne(runner);
        await store.setAttemptPhase(fenceOf(claimed), { phase: 'running' });
        const cancelled = await store.cancelTask(task.id);
        expect(cancelled.state).toBe('cancelled');
        expect(cancelled.currentAttemptId).toBeUndefined();
        expect(await store.getAttempt(claimed.attempt.id)).toMatchObject({
          state: 'cancelled',
          finishedAt: iso(now),
        });
        await expectEveryFencedCallRefused(fenceOf(claimed), task.id, 'cancelled');
        await expectConsistent(task.id);
        expect((await store.listRunners())[0]!.activeAttempts).toBe(0);
      });

      it('cancels blocked and failed tasks', async () => {
        const runner = await createRunner();
        const parent = await enqueue();
        const blocked = await enqueue({ dependsOn: [parent.id] });
        expect((await store.cancelTask(blocked.id)).state).toBe('cancelled');
        await store.failAttempt(fenceOf(await claimOne(runner)), sampleFailure);
        const cancelled = await store.cancelTask(parent.id);
        expect(cancelled.state).toBe('cancelled');
        expect(cancelled.retryAt).toBeUndefined();
        expect(await store.promoteRetries()).toBe(0);
      });

      it('refuses terminal and unknown tasks', async () => {
        const runner = await createRunner();
        const task = await enqueue();
        await store.completeAttempt(fenceOf(await claimOne(runner)), sampleSuccess);
        const before = await snapshot(task.id);
        await expect(store.cancelTask(task.id)).rejects.toBeInstanceOf(InvalidTransitionError);
        expect(await snapshot(task.id)).toEqual(before);
        const other = await enqueue();
        await store.cancelTask(other.id);
        await expect(store.cancelTask(other.id)).rejects.toBeInstanceOf(InvalidTransitionError);
        await expect(store.cancelTask('tsk_00000000000000000000000000')).rejects.toBeInstanceOf(
          TaskNotFoundError,
        );
      });
    });

    describe('retryTask', () => {
      it('queues a dead task again with one more attempt allowed', async () => {
        const runner = await createRunner();
        const task = await enqueue({ maxAttempts: 1 });
        await store.failAttempt(fenceOf(await claimOne(runner)), sampleFailure);
        expect(await stateOf(task.id)).toBe('dead');
        now += 1_000;
        const retried = await store.retryTask(task.id);
        expect(retried).toMatchObject({
          state: 'queued',
          maxAttempts: 2,
          attemptCount: 1,
          updatedAt: iso(now),
        });
        expect(retried.stateReason).toBeUndefined();
        expect(retried.finishedAt).toBeUndefined();
        const second = await claimOne(runner);
        expect(second.attempt).toMatchObject({ taskId: task.id, number: 2, fencingToken: 2 });
        await store.completeAttempt(fenceOf(second), sampleSuccess);
        expect(await stateOf(task.id)).toBe('succeeded');
      });

      it('keeps maxAttempts when attempts remain', async () => {
        const task = await enqueue({ maxAttempts: 4 });
        await store.cancelTask(task.id);
        expect(await store.retryTask(task.id)).toMatchObject({ state: 'queued', maxAttempts: 4 });
      });

      it('queues a failed task now instead of at its retry time', async () => {
        const runner = await createRunner();
        const task = await enqueue();
        await store.failAttempt(fenceOf(await claimOne(runner)), sampleFailure);
        const retried = await store.retryTask(task.id);
        expect(retried.state).toBe('queued');
        expect(retried.retryAt).toBeUndefined();
        expect((await claimOne(runner)).task.id).toBe(task.id);
      });

      it('refuses queued, active, succeeded and unknown tasks', async () => {
        const runner = await createRunner();
        const queued = await enqueue({ priority: -1 });
        await expect(store.retryTask(queued.id)).rejects.toBeInstanceOf(InvalidTransitionError);
        const leased = await enqueue();
        const claimed = await claimOne(runner);
        expect(claimed.task.id).toBe(leased.id);
        await expect(store.retryTask(leased.id)).rejects.toBeInstanceOf(InvalidTransitionError);
        await store.completeAttempt(fenceOf(claimed), sampleSuccess);
        await expect(store.retryTask(leased.id)).rejects.toBeInstanceOf(InvalidTransitionError);
        await expect(store.retryTask('tsk_00000000000000000000000000')).rejects.toBeInstanceOf(
          TaskNotFoundError,
        );
      });

      it('refuses to revive a task whose dedup key another active task now holds', async () => {
        const first = await enqueue({ dedupKey: 'nightly' });
        await store.cancelTask(first.id);
        await enqueue({ dedupKey: 'nightly' });
        await expect(store.retryTask(first.id)).rejects.toBeInstanceOf(ConflictError);
        expect(await stateOf(first.id)).toBe('cancelled');
      });
    });

    describe('listTasks', () => {
      it('pages newest first and covers every task exactly once', async () => {
        const ids: string[] = [];
        for (let index = 0; index < 23; index += 1) {
          ids.push((await enqueue({ title: `task ${index}` })).id);
          if (index % 3 === 0) now += 1;
        }
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.listTasks({ limit: 5, ...(cursor === undefined ? {} : { cursor }) });
          seen.push(...page.items.map((task) => task.id));
          cursor = page.nextCursor;
          pages += 1;
          expect(pages).toBeLessThan(10);
        } while (cursor !== undefined);
        expect(pages).toBe(5);
        expect(seen).toEqual([...ids].reverse());
      });

      it('gives no cursor when the last page is exactly full', async () => {
        for (let index = 0; index < 4; index += 1) await enqueue();
        const page = await store.listTasks({ limit: 4 });
        expect(page.items).toHaveLength(4);
        expect(page.nextCursor).toBeUndefined();
      });

      it('filters by states, lane, label and repo', async () => {
        const runner = await createRunner();
        const a = await enqueue({ lane: 'high', labels: ['bug', 'ci'], repo: '/repos/one', priority: 9 });
        const b = await enqueue({ lane: 'low', labels: ['bug'], repo: '/repos/two' });
        const c = await enqueue({ lane: 'high', labels: ['feature'], repo: '/repos/two' });
        await claimOne(runner);
        const ids = async (query: Parameters<Store['listTasks']>[0]) =>
          (await store.listTasks(query)).items.map((task) => task.id);
        expect(await ids({ states: ['leased'], limit: 10 })).toEqual([a.id]);
        expect(await ids({ states: ['queued', 'leased'], limit: 10 })).toEqual([c.id, b.id, a.id]);
        expect(await ids({ lane: 'high', limit: 10 })).toEqual([c.id, a.id]);
        expect(await ids({ label: 'bug', limit: 10 })).toEqual([b.id, a.id]);
        expect(await ids({ label: 'bu', limit: 10 })).toEqual([]);
        expect(await ids({ repo: '/repos/two', limit: 10 })).toEqual([c.id, b.id]);
        expect(
          await ids({ repo: '/repos/two', lane: 'low', label: 'bug', states: ['queued'], limit: 10 }),
        ).toEqual([b.id]);
        const firstPage = await store.listTasks({ label: 'bug', limit: 1 });
        expect(firstPage.items.map((task) => task.id)).toEqual([b.id]);
        const secondPage = await store.listTasks({ label: 'bug', limit: 1, cursor: firstPage.nextCursor! });
        expect(secondPage.items.map((task) => task.id)).toEqual([a.id]);
        expect(secondPage.nextCursor).toBeUndefined();
      });

      it('refuses a forged cursor and an out-of-range limit', async () => {
        await enqueue();
        await expect(store.listTasks({ limit: 10, cursor: 'not-a-cursor!' })).rejects.toBeInstanceOf(
          InvalidInputError,
        );
        await expect(store.listTasks({ limit: 0 })).rejects.toBeInstanceOf(InvalidInputError);
        await expect(store.listTasks({ limit: 501 })).rejects.toBeInstanceOf(InvalidInputError);
      });
    });

    describe('events', () => {
      it('records every transition with strictly increasing ids', async () => {
        const runner = await createRunner();
        const task = await enqueue({ maxAttempts: 2 });
        const first = await claimOne(runner);
        await store.failAttempt(fenceOf(first), sampleFailure);
        await store.retryTask(task.id);
        const second = await claimOne(runner);
        await store.setAttemptPhase(fenceOf(second), { phase: 'running' });
        await store.appendAttemptLogs(fenceOf(second), [{ stream: 'stdout', text: 'ok' }]);
        await store.completeAttempt(fenceOf(second), sampleSuccess);

        const events = await store.listEvents({ limit: 1_000 });
        const ids = events.map((event) => event.id);
        for (let index = 1; index < ids.length; index += 1)
          expect(ids[index]!).toBeGreaterThan(ids[index - 1]!);
        expect(await store.lastEventId()).toBe(ids.at(-1));
        const taskTransitions = events
          .filter((event) => event.type === 'task.state' && event.taskId === task.id)
          .map((event) => `${String(event.data.from)}>${String(event.data.to)}`);
        expect(taskTransitions).toEqual([
          'null>queued',
          'queued>leased',
          'leased>failed',
          'failed>queued',
          'queued>leased',
          'leased>running',
          'running>succeeded',
        ]);
        const attemptTransitions = events
          .filter((event) => event.type === 'attempt.state')
          .map((event) => `${event.attemptId}:${String(event.data.from)}>${String(event.data.to)}`);
        expect(attemptTransitions).toEqual([
          `${first.attempt.id}:null>leased`,
          `${first.attempt.id}:leased>failed`,
          `${second.attempt.id}:null>leased`,
          `${second.attempt.id}:leased>running`,
          `${second.attempt.id}:running>succeeded`,
        ]);
        const failedEvent = events.find((event) => event.type === 'task.state' && event.data.to === 'failed');
        expect(failedEvent!.data.reason).toBe(retryableError.message);
      });

      it('filters by afterId, task, attempt and type, and honours the limit', async () => {
        const runner = await createRunner();
        const one = await enqueue();
        const two = await enqueue();
        const claimed = await claimOne(runner);
        const all = await store.listEvents({ limit: 100 });
        expect(all.length).toBeGreaterThan(4);
        expect(await store.listEvents({ afterId: all[2]!.id, limit: 100 })).toEqual(all.slice(3));
        expect(await store.listEvents({ limit: 2 })).toEqual(all.slice(0, 2));
        expect(
          (await store.listEvents({ taskId: two.id, limit: 100 })).every((event) => event.taskId === two.id),
        ).toBe(true);
        expect(await store.listEvents({ attemptId: claimed.attempt.id, limit: 100 })).toEqual(
          all.filter((event) => event.attemptId === claimed.attempt.id),
        );
        expect(await store.listEvents({ types: ['task.created'], limit: 100 })).toEqual(
          all.filter((event) => event.type === 'task.created'),
        );
        expect(
          (await store.listEvents({ taskId: one.id, types: ['task.created'], limit: 100 })).map(
            (event) => event.taskId,
          ),
        ).toEqual([one.id]);
        await expect(store.listEvents({ limit: 0 })).rejects.toBeInstanceOf(InvalidInputError);
        await expect(store.listEvents({ limit: 5_001 })).rejects.toBeInstanceOf(InvalidInputError);
      });
    });

    describe("a task's history", () => {
      it('lists its attempts oldest first', async () => {
        const runner = await createRunner();
        const task = await enqueue({ maxAttempts: 3 });
        const first = await claimOne(runner);
        await store.failAttempt(fenceOf(first), sampleFailure);
        await store.retryTask(task.id);
        const second = await claimOne(runner);
        await enqueue();
        await claimOne(runner);
        const attempts = await store.listAttempts(task.id);
        expect(attempts.map((attempt) => [attempt.id, attempt.number, attempt.state])).toEqual([
          [first.attempt.id, 1, 'failed'],
          [second.attempt.id, 2, 'leased'],
        ]);
        expect(await store.listAttempts('tsk_00000000000000000000000000')).toEqual([]);
      });

      it('lists every event of a task, of any kind, in id order and page by page', async () => {
        const runner = await createRunner();
        const task = await enqueue({ maxAttempts: 2 });
        const other = await enqueue({ priority: -1 });
        const first = await claimOne(runner);
        await store.appendAttemptLogs(fenceOf(first), [{ stream: 'stdout', text: 'first try' }]);
        await store.heartbeatAttempt(fenceOf(first), { leaseMs, message: 'working' });
        await store.failAttempt(fenceOf(first), sampleFailure);
        await store.retryTask(task.id);
        const second = await claimOne(runner);
        expect(second.task.id).toBe(task.id);
        await store.setAttemptPhase(fenceOf(second), { phase: 'running' });
        await store.appendAttemptLogs(fenceOf(second), [
          { stream: 'stdout', text: 'second try' },
          { stream: 'stderr', text: 'warning' },
        ]);
        await store.completeAttempt(fenceOf(second), sampleSuccess);
        await store.cancelTask(other.id);

        const all = await store.listEvents({ limit: 1_000 });
        const expected = all.filter((event) => event.taskId === task.id);
        expect(expected.map((event) => event.type)).toEqual([
          'task.created',
          'task.state',
          'task.state',
          'attempt.state',
          'attempt.log',
          'attempt.progress',
          'attempt.state',
          'task.state',
          'task.state',
          'task.state',
          'attempt.state',
          'attempt.state',
          'task.state',
          'attempt.log',
          'attempt.log',
          'attempt.state',
          'task.state',
        ]);
        expect(await store.listEvents({ taskId: task.id, limit: 100 })).toEqual(expected);

        const paged: typeof expected = [];
        let afterId: number | undefined;
        for (;;) {
          const page = await store.listEvents({
            taskId: task.id,
            limit: 3,
            ...(afterId === undefined ? {} : { afterId }),
          });
          if (page.length === 0) break;
          paged.push(...page);
          afterId = page.at(-1)!.id;
        }
        expect(paged).toEqual(expected);

        expect(await store.listEvents({ attemptId: second.attempt.id, limit: 100 })).toEqual(
          expected.filter((event) => event.attemptId === second.attempt.id),
        );
        expect(
          await store.listEvents({
            taskId: task.id,
            attemptId: first.attempt.id,
            types: ['attempt.log'],
            limit: 100,
          }),
        ).toEqual(
          expected.filter((event) => event.attemptId === first.attempt.id && event.type === 'attempt.log'),
        );
        expect(
          await store.listEvents({
            taskId: task.id,
            types: ['task.state'],
            afterId: expected[5]!.id,
            limit: 2,
          }),
        ).toEqual(
          expected.filter((event) => event.type === 'task.state' && event.id > expected[5]!.id).slice(0, 2),
        );
        expect(await store.listEvents({ attemptId: 'att_00000000000000000000000000', limit: 10 })).toEqual(
          [],
        );
      });
    });

    describe('subscribe', () => {
      it('signals committed events and ready tasks', async () => {
        const signals: StoreSignal[] = [];
        const unsubscribe = store.subscribe((signal) => signals.push(signal));
        const parent = await enqueue();
        expect(signals).toContainEqual({ kind: 'tasks-ready' });
        expect(signals).toContainEqual({ kind: 'events', lastEventId: await store.lastEventId() });

        signals.length = 0;
        await enqueue({ dependsOn: [parent.id] });
        expect(signals).toEqual([{ kind: 'events', lastEventId: await store.lastEventId() }]);

        signals.length = 0;
        unsubscribe();
        await enqueue();
        expect(signals).toEqual([]);
      });

      it('signals tasks-ready when a dependency or a retry makes a task claimable', async () => {
        const runner = await createRunner();
        const parent = await enqueue({ priority: 1 });
        await enqueue({ dependsOn: [parent.id] });
        const retrying = await enqueue({ priority: 1 });
        const signals: StoreSignal[] = [];
        store.subscribe((signal) => signals.push(signal));

        await store.completeAttempt(fenceOf(await claimOne(runner)), sampleSuccess);
        expect(signals).toContainEqual({ kind: 'tasks-ready' });

        signals.length = 0;
        const claimed = await claimOne(runner);
        expect(claimed.task.id).toBe(retrying.id);
        expect(signals).not.toContainEqual({ kind: 'tasks-ready' });
        const failed = await store.failAttempt(fenceOf(claimed), sampleFailure);
        expect(signals).not.toContainEqual({ kind: 'tasks-ready' });
        now = Date.parse(failed.retryAt!);
        await store.promoteRetries();
        expect(signals).toContainEqual({ kind: 'tasks-ready' });
      });

      it('sends nothing for a refused call', async () => {
        const runner = await createRunner();
        await enqueue();
        const claimed = await claimOne(runner);
        const signals: StoreSignal[] = [];
        store.subscribe((signal) => signals.push(signal));
        await expectLeaseLost(
          store.heartbeatAttempt({ ...fenceOf(claimed), leaseToken: 'lease_wrong' }, { leaseMs }),
          'wrong-token',
        );
        await expect(
          store.enqueueTask(spec({ dependsOn: ['tsk_0000000000000000000000000Z'] })),
        ).rejects.toThrow();
        expect(signals).toEqual([]);
      });

      it('survives a throwing listener', async () => {
        const signals: StoreSignal[] = [];
        store.subscribe(() => {
          throw new Error('listener bug');
        });
        store.subscribe((signal) => signals.push(signal));
        const { created } = await store.enqueueTask(spec());
        expect(created).toBe(true);
        expect(signals.length).toBeGreaterThan(0);
        expect((await store.listTasks({ limit: 10 })).items).toHaveLength(1);
      });
    });

    describe('runners', () => {
      it('creates a runner offline until it registers, and refuses a taken name', async () => {
        const runner = await store.createRunner({
          name: 'box-1',
          capabilities: ['executor:shell', 'node'],
          slots: 2,
          tokenHash: 'hash-1',
        });
        expect(runner).toEqual({
          id: runner.id,
          name: 'box-1',
          capabilities: ['executor:shell', 'node'],
          slots: 2,
          status: 'offline',
          createdAt: iso(now),
          agents: [],
          dependencyHealth: [],
          activeAttempts: 0,
        });
        expect(await store.getRunner(runner.id)).toEqual(runner);
        expect(await store.findRunnerByTokenHash('hash-1')).toEqual(runner);
        expect(await store.findRunnerByTokenHash('hash-2')).toBeUndefined();
        await expect(
          store.createRunner({ name: 'box-1', capabilities: [], slots: 1, tokenHash: 'hash-3' }),
        ).rejects.toBeInstanceOf(ConflictError);
        expect((await store.listRunners()).map((listed) => listed.name)).toEqual(['box-1']);
      });

      it('records registration and heartbeats', async () => {
        const runner = await createRunner();
        now += 1_000;
        const registered = await store.registerRunner(runner.id, {
          capabilities: ['executor:shell', 'gpu'],
          slots: 8,
          version: '1.2.3',
          hostname: 'build-7',
        });
        expect(registered).toMatchObject({
          capabilities: ['executor:shell', 'gpu'],
          slots: 8,
          version: '1.2.3',
          hostname: 'build-7',
          status: 'online',
          lastHeartbeatAt: iso(now),
        });
        expect(await store.getRunner(runner.id)).toEqual(registered);
        now += 1_000;
        const draining = await store.heartbeatRunner(runner.id, 'draining');
        expect(draining).toMatchObject({ status: 'draining', lastHeartbeatAt: iso(now), version: '1.2.3' });
        expect(await store.heartbeatRunner(runner.id)).toMatchObject({ status: 'online' });
        const states = await store.listEvents({ types: ['runner.state'], limit: 100 });
        expect(states.map((event) => event.data.status)).toEqual(['offline', 'online', 'draining', 'online']);
        expect(states.every((event) => event.runnerId === runner.id)).toBe(true);
        await expect(store.registerRunner('run_00000000000000000000000000', {})).rejects.toBeInstanceOf(
          NotFoundError,
        );
        await expect(store.heartbeatRunner('run_00000000000000000000000000')).rejects.toBeInstanceOf(
          NotFoundError,
        );
      });

      it('marks runners whose heartbeats stopped as offline', async () => {
        const quiet = await createRunner(['executor:shell'], 'quiet');
        const chatty = await createRunner(['executor:shell'], 'chatty');
        await store.heartbeatRunner(quiet.id);
        now += 20_000;
        await store.heartbeatRunner(chatty.id);
        now += 15_000;
        expect(await store.markStaleRunnersOffline(30_000)).toBe(1);
        expect(await store.getRunner(quiet.id)).toMatchObject({ status: 'offline' });
        expect(await store.getRunner(chatty.id)).toMatchObject({ status: 'online' });
        expect(await store.markStaleRunnersOffline(30_000)).toBe(0);
        now += 20_000;
        expect(await store.markStaleRunnersOffline(30_000)).toBe(1);
      });

      it('marks online runners that missed a heartbeat as degraded, until they heartbeat again', async () => {
        const late = await createRunner(['executor:shell'], 'late');
        const prompt = await createRunner(['executor:shell'], 'prompt');
        const draining = await createRunner(['executor:shell'], 'draining');
        const after = await store.lastEventId();
        await store.heartbeatRunner(late.id);
        await store.heartbeatRunner(draining.id, 'draining');
        now += 10_000;
        await store.heartbeatRunner(prompt.id);
        now += 6_000;
        expect(await store.markLateRunnersDegraded(15_000)).toBe(1);
        expect(await store.getRunner(late.id)).toMatchObject({ status: 'degraded' });
        expect(await store.getRunner(prompt.id)).toMatchObject({ status: 'online' });
        expect(await store.getRunner(draining.id)).toMatchObject({ status: 'draining' });
        expect(await store.markLateRunnersDegraded(15_000)).toBe(0);
        const states = (await store.listEvents({ afterId: after, limit: 1_000 })).filter(
          (event) => event.type === 'runner.state' && event.runnerId === late.id,
        );
        expect(states.map((event) => event.data.status)).toEqual(['online', 'degraded']);
        // Its next heartbeat brings it back; silence for the stale period takes it offline.
        expect(await store.heartbeatRunner(late.id)).toMatchObject({ status: 'online' });
        now += 31_000;
        expect(await store.markLateRunnersDegraded(15_000)).toBe(2);
        expect(await store.markStaleRunnersOffline(30_000)).toBe(3);
        expect(await store.getRunner(late.id)).toMatchObject({ status: 'offline' });
      });

      it('lists runners by name with their active attempts', async () => {
        const zed = await createRunner(['executor:shell'], 'zed');
        const amy = await createRunner(['executor:shell'], 'amy');
        await enqueue();
        await enqueue();
        await enqueue();
        const claims = await claim(zed, 2);
        await claimOne(amy);
        expect((await store.listRunners()).map((runner) => [runner.name, runner.activeAttempts])).toEqual([
          ['amy', 1],
          ['zed', 2],
        ]);
        await store.completeAttempt(fenceOf(claims[0]!), sampleSuccess);
        expect(await store.getRunner(zed.id)).toMatchObject({ activeAttempts: 1 });
        expect(await store.findRunnerByTokenHash('hash-of-zed')).toMatchObject({ activeAttempts: 1 });
      });

      it('deletes a runner and its token', async () => {
        const runner = await createRunner(['executor:shell'], 'gone');
        expect(await store.deleteRunner(runner.id)).toBe(true);
        expect(await store.getRunner(runner.id)).toBeUndefined();
        expect(await store.findRunnerByTokenHash('hash-of-gone')).toBeUndefined();
        expect(await store.listRunners()).toEqual([]);
        expect(await store.deleteRunner(runner.id)).toBe(false);
        const again = await createRunner(['executor:shell'], 'gone');
        expect(again.id).not.toBe(runner.id);
      });
    });

    describe('usage ledger', () => {
      const zero = { inputTokens: 0, outputTokens: 0, costUsd: 0, calls: 0 };

      it('appends a row per call and adds them to the attempt and the task, in one go', async () => {
        const runner = await createRunner();
        const task = await enqueue();
        const claimed = await claimOne(runner);
        now += 1_000;
        await store.recordUsage(fenceOf(claimed), sampleUsage);
        const totals = { inputTokens: 1_300, outputTokens: 250, costUsd: 0.25, calls: 2 };
        expect((await taskOf(task.id)).usage).toEqual(totals);
        expect((await store.getAttempt(claimed.attempt.id))?.usage).toEqual(totals);
        const rows = await store.listUsage({ taskId: task.id, limit: 10 });
        expect(rows).toEqual([
          {
            id: rows[0]!.id,
            attemptId: claimed.attempt.id,
            taskId: task.id,
            runnerId: runner.id,
            endpoint: 'ollama',
            model: 'llama3.1:8b',
            inputTokens: 300,
            outputTokens: 50,
            costUsd: 0,
            at: iso(startTime + 1_000),
          },
          {
            id: rows[1]!.id,
            attemptId: claimed.attempt.id,
            taskId: task.id,
            runnerId: runner.id,
            endpoint: 'anthropic',
            model: 'claude-sonnet-4-5',
            inputTokens: 1_000,
            outputTokens: 200,
            costUsd: 0.25,
            at: iso(startTime + 1_000),
          },
        ]);
        expect(rows[0]!.id).toBeGreaterThan(rows[1]!.id);
      });

      it('sums several attempts on the task and keeps each attempt its own', async () => {
        const runner = await createRunner();
        const task = await enqueue();
        const first = await claimOne(runner);
        await store.recordUsage(fenceOf(first), sampleUsage);
        await store.recordUsage(fenceOf(first), [
          {
            endpoint: 'anthropic',
            model: 'claude-sonnet-4-5',
            inputTokens: 10,
            outputTokens: 5,
            costUsd: 0.5,
          },
        ]);
        await store.failAttempt(fenceOf(first), sampleFailure);
        now += 60_000;
        await store.promoteRetries();
        const second = await claimOne(runner);
        expect(second.task.usage).toEqual({ inputTokens: 1_310, outputTokens: 255, costUsd: 0.75, calls: 3 });
        expect(second.attempt.usage).toEqual(zero);
        await store.recordUsage(fenceOf(second), [
          { endpoint: 'ollama', model: 'llama3.1:8b', inputTokens: 90, outputTokens: 45, costUsd: 0.125 },
        ]);
        await store.completeAttempt(fenceOf(second), sampleSuccess);

        const finished = await taskOf(task.id);
        expect(finished.usage).toEqual({ inputTokens: 1_400, outputTokens: 300, costUsd: 0.875, calls: 4 });
        const attempts = await store.listAttempts(task.id);
        expect(attempts.map((attempt) => attempt.usage)).toEqual([
          { inputTokens: 1_310, outputTokens: 255, costUsd: 0.75, calls: 3 },
          { inputTokens: 90, outputTokens: 45, costUsd: 0.125, calls: 1 },
        ]);
        const rows = await store.listUsage({ taskId: task.id, limit: 10 });
        expect(rows).toHaveLength(4);
        const sum = rows.reduce((total, row) => total + row.costUsd, 0);
        expect(sum).toBe(finished.usage.costUsd);
        expect(rows.reduce((total, row) => total + row.inputTokens, 0)).toBe(finished.usage.inputTokens);
      });

      it("lists an attempt's rows, a task's rows and all rows, newest first, up to the limit", async () => {
        const runner = await createRunner();
        const one = await enqueue({ title: 'one' });
        const two = await enqueue({ title: 'two' });
        const [first, second] = await claim(runner, 2);
        await store.recordUsage(fenceOf(first!), sampleUsage);
        await store.recordUsage(fenceOf(second!), sampleUsage);
        await store.recordUsage(fenceOf(first!), sampleUsage.slice(0, 1));
        const ofFirst = await store.listUsage({ attemptId: first!.attempt.id, limit: 10 });
        expect(ofFirst.map((row) => [row.attemptId, row.model])).toEqual([
          [first!.attempt.id, 'claude-sonnet-4-5'],
          [first!.attempt.id, 'llama3.1:8b'],
          [first!.attempt.id, 'claude-sonnet-4-5'],
        ]);
        expect(ofFirst.every((row) => row.taskId === first!.task.id)).toBe(true);
        expect(
          (await store.listUsage({ taskId: second!.task.id, limit: 10 })).map((row) => row.attemptId),
        ).toEqual([second!.attempt.id, second!.attempt.id]);
        const all = await store.listUsage({ limit: 10 });
        expect(all).toHaveLength(5);
        expect(all.map((row) => row.id)).toEqual([...all.map((row) => row.id)].sort((a, b) => b - a));
        expect(await store.listUsage({ limit: 2 })).toEqual(all.slice(0, 2));
        expect(first!.task.id).toBe(one.id);
        expect(await store.listUsage({ taskId: one.id, attemptId: first!.attempt.id, limit: 10 })).toEqual(
          ofFirst,
        );
        expect(await store.listUsage({ taskId: two.id, attemptId: first!.attempt.id, limit: 10 })).toEqual(
          [],
        );
        expect(await store.listUsage({ taskId: two.id, limit: 1 })).toHaveLength(1);
        expect(await store.listUsage({ attemptId: 'att_00000000000000000000000000', limit: 10 })).toEqual([]);
        expect(await store.listUsage({ taskId: 'tsk_00000000000000000000000000', limit: 10 })).toEqual([]);
      });

      it('refuses a bad limit, and bad numbers without changing anything', async () => {
        const runner = await createRunner();
        const task = await enqueue();
        const claimed = await claimOne(runner);
        await expect(store.listUsage({ limit: 0 })).rejects.toBeInstanceOf(InvalidInputError);
        await expect(store.listUsage({ limit: 5_001 })).rejects.toBeInstanceOf(InvalidInputError);
        const before = await snapshot(task.id);
        const error = await store
          .recordUsage(fenceOf(claimed), [
            sampleUsage[0]!,
            { endpoint: 'x', model: 'y', inputTokens: -1, outputTokens: 1.5, costUsd: Number.NaN },
          ])
          .then(
            () => undefined,
            (thrown: unknown) => thrown,
          );
        expect(error).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).issues.map((issue) => issue.field)).toEqual([
          'records.1.inputTokens',
          'records.1.outputTokens',
          'records.1.costUsd',
        ]);
        expect(await snapshot(task.id)).toEqual(before);
      });

      it('accepts an empty list from the lease holder and changes nothing', async () => {
        const runner = await createRunner();
        const task = await enqueue();
        const claimed = await claimOne(runner);
        const before = await snapshot(task.id);
        await store.recordUsage(fenceOf(claimed), []);
        expect(await snapshot(task.id)).toEqual(before);
        await expectLeaseLost(
          store.recordUsage({ ...fenceOf(claimed), leaseToken: 'nope' }, []),
          'wrong-token',
        );
      });
    });

    describe('model endpoints', () => {
      it('creates, lists by name, replaces and deletes endpoints, reading back exactly what was stored', async () => {
        expect(await store.listEndpoints()).toEqual([]);
        const local = modelEndpointSchema.parse({
          name: 'ollama',
          provider: 'openai-compatible',
          baseUrl: 'http://127.0.0.1:11434/v1',
          models: [
            { id: 'llama3.1:8b', tier: 'local', inputPricePerMillionUsd: 0, outputPricePerMillionUsd: 0 },
          ],
        });
        expect(await store.upsertEndpoint(sampleEndpoint)).toEqual({
          endpoint: sampleEndpoint,
          created: true,
        });
        expect(await store.upsertEndpoint(local)).toEqual({ endpoint: local, created: true });
        expect(await store.listEndpoints()).toEqual([sampleEndpoint, local]);

        const replaced: ModelEndpoint = {
          ...sampleEndpoint,
          apiKeyEnv: undefined,
          apiKeyFile: '/etc/warren/anthropic-key',
          models: [sampleEndpoint.models[1]!],
        };
        delete replaced.apiKeyEnv;
        delete replaced.headers;
        expect(await store.upsertEndpoint(replaced)).toEqual({ endpoint: replaced, created: false });
        expect(await store.listEndpoints()).toEqual([replaced, local]);

        expect(await store.deleteEndpoint('anthropic')).toBe(true);
        expect(await store.deleteEndpoint('anthropic')).toBe(false);
        expect(await store.listEndpoints()).toEqual([local]);
      });
    });

    describe('countQueuedTasks', () => {
      it('counts queued tasks only, and no further than asked', async () => {
        expect(await store.countQueuedTasks(10)).toBe(0);
        const runner = await createRunner();
        for (let index = 0; index < 5; index += 1) await enqueue();
        const parent = await enqueue();
        await enqueue({ dependsOn: [parent.id] });
        await claimOne(runner);
        expect(await store.countQueuedTasks(100)).toBe(5);
        expect(await store.countQueuedTasks(3)).toBe(3);
        expect(await store.countQueuedTasks(0)).toBe(0);
      });
    });

    describe('countTasks', () => {
      it('stays exact through every kind of state change', async () => {
        await store.countTasks();
        const runner = await createRunner();
        const parent = await enqueue({ lane: 'high', priority: 9 });
        const child = await enqueue({ dependsOn: [parent.id] });
        await enqueue({ dependsOn: [child.id], lane: 'low' });
        const loner = await enqueue({ lane: 'low', maxAttempts: 1 });
        await enqueue({ priority: -5 });
        await store.failAttempt(fenceOf(await claimOne(runner)), {
          ...sampleFailure,
          error: { ...retryableError, retryable: false },
        });
        await enqueue({ dependsOn: [parent.id] });
        await store.retryTask(parent.id);
        await store.retryTask(child.id);
        const claims = await claim(runner, 2);
        await store.setAttemptPhase(fenceOf(claims[0]!), { phase: 'running' });
        await store.setAttemptPhase(fenceOf(claims[0]!), { phase: 'verifying' });
        await store.completeAttempt(fenceOf(claims[0]!), sampleSuccess);
        await store.failAttempt(fenceOf(claims[1]!), sampleFailure);
        const expiring = await claimOne(runner, 1_000);
        now += 60_000;
        await store.expireLeases();
        await store.promoteRetries();
        await store.cancelTask(loner.id === expiring.task.id ? child.id : loner.id);

        const all = (await store.listTasks({ limit: 500 })).items;
        const expected = new Map<string, number>();
        for (const task of all) {
          const key = `${task.lane}/${task.state}`;
          expected.set(key, (expected.get(key) ?? 0) + 1);
        }
        const counted = new Map(
          (await store.countTasks()).map((count) => [`${count.lane}/${count.state}`, count.count]),
        );
        expect(counted).toEqual(expected);
        expect(new Set(all.map((task) => task.state)).size).toBeGreaterThanOrEqual(4);
      });

      it('counts tasks by lane and state', async () => {
        const runner = await createRunner();
        expect(await store.countTasks()).toEqual([]);
        await enqueue({ lane: 'high' });
        await enqueue({ lane: 'high' });
        await enqueue({ lane: 'low' });
        const cancelled = await enqueue({ lane: 'low' });
        await store.cancelTask(cancelled.id);
        await claimOne(runner);
        const counts = await store.countTasks();
        const sorted = [...counts].sort((left, right) =>
          `${left.lane}/${left.state}`.localeCompare(`${right.lane}/${right.state}`),
        );
        expect(sorted).toEqual([
          { lane: 'high', state: 'leased', count: 1 },
          { lane: 'high', state: 'queued', count: 1 },
          { lane: 'low', state: 'cancelled', count: 1 },
          { lane: 'low', state: 'queued', count: 1 },
        ]);
      });
    });
  });
  runLeadershipConformance(options);
  runFleetConformance(options);
  runExportConformance(options);
}
