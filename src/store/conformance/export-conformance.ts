/**
 * The export and import part of the Store contract (`exportRecords`, `importRecords`), run by
 * {@link runStoreConformance} for every backend.
 *
 * It speaks only the Store interface. A store is filled with one of everything (tasks in every state,
 * attempts, a live lease, the cost ledger, logs, runners, endpoints, a leadership), exported, and imported
 * into fresh stores of the same backend in batches of several sizes; every read must then answer the same,
 * and the imported store must carry on as the original would. Time comes from a fake clock the suite
 * moves by hand, shared by every store of a test.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, InvalidInputError, LeaseLostError } from '../../core/errors.ts';
import { modelEndpointSchema } from '../../core/model-endpoints.ts';
import type { LeaseFence, Runner, Task, TaskSpecInput } from '../../core/types.ts';
import type { UsageRecordInput } from '../../core/usage.ts';
import type { AttemptSuccess, Claim, ExportRecord, ListTasksQuery, Store } from '../store.ts';
import { routedTaskSpec } from '../testing/routed-task-spec.ts';
import { createStoreOpener, fenceOf, startTime } from './conformance-fixtures.ts';
import type { StoreConformanceOptions } from './run-store-conformance.ts';

// why: ten minutes outlives every step of a test, so only the leases a test expires on purpose run out.
const leaseMs = 600_000;

/** The order of record kinds in an export file (leaderships and breakers, which the format leaves open, excluded). */
const kindOrder: ReadonlyArray<ExportRecord['kind']> = [
  'header',
  'endpoint',
  'runner',
  'task',
  'attempt',
  'usage',
  'event',
];

const sampleUsage: UsageRecordInput[] = [
  { endpoint: 'anthropic', model: 'claude-sonnet-4-5', inputTokens: 1_000, outputTokens: 200, costUsd: 0.25 },
  { endpoint: 'local', model: 'llama3.1:8b', inputTokens: 300, outputTokens: 50, costUsd: 0 },
];

const sampleSuccess: AttemptSuccess = {
  result: {
    branch: 'warren/abcdefgh-done',
    baseBranch: 'main',
    baseSha: 'a'.repeat(40),
    commitSha: 'b'.repeat(40),
    changedFiles: ['src/index.ts'],
    pushed: true,
    summary: 'did it',
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
          durationMs: 1_500,
          output: 'ok',
        },
      ],
    },
  ],
};

/** What a filled store holds that later steps act on. */
interface Filled {
  builder: Runner;
  /** The fence of the attempt left running with a live lease. */
  running: LeaseFence;
  runningTaskId: string;
  /** A queued task in the high lane (the next claim takes it) with a blocked dependent. */
  parentId: string;
  childId: string;
  gpuTaskId: string;
  dedupTaskId: string;
  idempotentTaskId: string;
  batchTaskIds: string[];
  tokenHashes: string[];
}

/** Every record of an export, each through JSON as a file would carry it. */
async function exportAll(store: Store): Promise<ExportRecord[]> {
  const records: ExportRecord[] = [];
  for await (const record of store.exportRecords()) {
    records.push(JSON.parse(JSON.stringify(record)) as ExportRecord);
  }
  return records;
}

/** Imports `records` in calls of `size` records each. */
async function importInBatches(store: Store, records: ExportRecord[], size: number): Promise<void> {
  for (let start = 0; start < records.length; start += size) {
    await store.importRecords(records.slice(start, start + size));
  }
}

/** The export without the header's time, which is the only thing two exports of one state may differ in. */
function withoutExportTime(records: ExportRecord[]): unknown[] {
  return records.map((record) => {
    if (record.kind !== 'header') return record;
    const { exportedAt: _time, ...rest } = record;
    return rest;
  });
}

/** Every page of a task listing (small pages, so that paging is exercised). */
async function taskPages(store: Store, query: Omit<ListTasksQuery, 'limit' | 'cursor'> = {}) {
  const pages: Task[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listTasks({ ...query, limit: 3, ...(cursor === undefined ? {} : { cursor }) });
    pages.push(page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return pages;
}

/** Task counts in a fixed order. */
async function sortedCounts(store: Store) {
  return (await store.countTasks()).sort((left, right) =>
    `${left.lane}/${left.state}`.localeCompare(`${right.lane}/${right.state}`),
  );
}

/** The answer of every read the Store offers, over everything `store` holds. */
async function readEverything(store: Store, tokenHashes: string[]) {
  const pages = await taskPages(store);
  const tasks = [];
  for (const task of pages.flat()) {
    const attempts = await store.listAttempts(task.id);
    const perAttempt = [];
    for (const attempt of attempts) {
      perAttempt.push({
        attempt: await store.getAttempt(attempt.id),
        events: await store.listEvents({ attemptId: attempt.id, limit: 5_000 }),
        usage: await store.listUsage({ attemptId: attempt.id, limit: 5_000 }),
      });
    }
    tasks.push({
      task: await store.getTask(task.id),
      attempts,
      perAttempt,
      events: await store.listEvents({ taskId: task.id, limit: 5_000 }),
      usage: await store.listUsage({ taskId: task.id, limit: 5_000 }),
    });
  }
  const runners = await store.listRunners();
  return {
    pages,
    tasks,
    filtered: {
      uncommon: await taskPages(store, { states: ['failed', 'dead', 'cancelled'] }),
      queued: await taskPages(store, { states: ['queued'] }),
      label: await taskPages(store, { label: 'nightly' }),
      lane: await taskPages(store, { lane: 'high' }),
      repo: await taskPages(store, { repo: '/srv/repos/app' }),
    },
    events: await store.listEvents({ limit: 5_000 }),
    logs: await store.listEvents({ afterId: 3, types: ['attempt.log', 'attempt.progress'], limit: 5_000 }),
    usage: await store.listUsage({ limit: 5_000 }),
    runners,
    runnersById: await Promise.all(runners.map((runner) => store.getRunner(runner.id))),
    runnersByToken: await Promise.all(tokenHashes.map((hash) => store.findRunnerByTokenHash(hash))),
    endpoints: await store.listEndpoints(),
    counts: await sortedCounts(store),
    lastEventId: await store.lastEventId(),
    leaderships: [await store.getLeadership('maintenance'), await store.getLeadership('janitor')],
    breakers: await store.listBreakers(),
    outcomes: await store.listPairingOutcomes({ limitPerPairing: 100 }),
    candidates: await store.listClaimCandidates({
      capabilities: ['executor:shell', 'executor:agent', 'gpu', 'node', 'model:anthropic/claude-sonnet-4-5'],
      limit: 256,
    }),
  };
}

/** Registers the export and import conformance tests for one backend. */
export function runExportConformance(options: StoreConformanceOptions): void {
  describe(`Store conformance: ${options.name}: export and import`, () => {
    let now = startTime;
    let source: Store;
    let filled: Filled;
    let records: ExportRecord[];

    const stores = createStoreOpener(options.createStore, () => now);
    const openStore = stores.open;

    /** Fills `store` with one of everything, moving the clock a second between steps. */
    async function fill(store: Store): Promise<Filled> {
      const tick = (): void => {
        now += 1_000;
      };
      const enqueue = async (input: Partial<TaskSpecInput> = {}): Promise<Task> => {
        tick();
        return (
          await store.enqueueTask(routedTaskSpec({ title: 'a task', repo: '/srv/repos/app', ...input }))
        ).task;
      };

      await store.upsertEndpoint(
        modelEndpointSchema.parse({
          name: 'anthropic',
          provider: 'anthropic',
          baseUrl: 'https://api.anthropic.com/v1',
          apiKeyEnv: 'ANTHROPIC_API_KEY',
          headers: { 'anthropic-beta': 'tools-2025' },
          models: [
            {
              id: 'claude-sonnet-4-5',
              tier: 'frontier',
              inputPricePerMillionUsd: 3,
              outputPricePerMillionUsd: 15,
              contextWindow: 200_000,
            },
          ],
        }),
      );
      await store.upsertEndpoint(
        modelEndpointSchema.parse({
          name: 'local',
          provider: 'openai-compatible',
          baseUrl: 'http://127.0.0.1:11434/v1',
          models: [
            { id: 'llama3.1:8b', tier: 'cheap', inputPricePerMillionUsd: 0, outputPricePerMillionUsd: 0 },
          ],
        }),
      );

      tick();
      const created = await store.createRunner({
        name: 'builder',
        capabilities: ['executor:shell'],
        slots: 4,
        tokenHash: 'hash-of-builder',
      });
      tick();
      const builder = await store.registerRunner(created.id, {
        capabilities: ['executor:shell', 'gpu', 'node'],
        version: '1.2.3',
        hostname: 'build-1',
        agents: [
          {
            agent: 'gitops',
            offers: [{ name: 'gitops', weight: 0.75, preferred: true }],
            healthChecks: ['argo'],
          },
        ],
      });
      tick();
      const helper = await store.createRunner({
        name: 'helper',
        capabilities: ['executor:shell'],
        slots: 2,
        tokenHash: 'hash-of-helper',
      });
      await store.heartbeatRunner(helper.id, 'draining', {
        dependencyHealth: [
          { name: 'argo', healthy: false, detail: 'HTTP 503', checkedAt: '2030-01-01T00:00:01.000Z' },
        ],
      });
      const gone = await store.createRunner({
        name: 'gone',
        capabilities: ['executor:shell'],
        slots: 1,
        tokenHash: 'hash-of-gone',
      });
      await store.deleteRunner(gone.id);

      const claimNext = async (taskId: string, claimLeaseMs = leaseMs): Promise<Claim> => {
        tick();
        const claims = await store.claimTasks({
          runnerId: builder.id,
          capabilities: builder.capabilities,
          limit: 1,
          leaseMs: claimLeaseMs,
        });
        expect(claims.map((claim) => claim.task.id)).toEqual([taskId]);
        return claims[0]!;
      };

      // Succeeded, with logs, progress, usage, verification and a result.
      const done = await enqueue({
        title: 'done',
        labels: ['nightly', 'web'],
        lane: 'high',
        priority: 5,
        baseBranch: 'main',
        successCriteria: [{ description: 'tests pass', command: 'npm test' }],
        budget: { maxTokens: 10_000, maxCostUsd: 2 },
        seniority: 'senior',
        grants: ['github:read'],
        executorInput: { run: ['echo hi', 'npm test'] },
      });
      const doneClaim = await claimNext(done.id);
      const doneFence = fenceOf(doneClaim);
      tick();
      await store.setAttemptPhase(doneFence, {
        phase: 'running',
        message: 'started',
        branch: 'warren/abcdefgh-done',
        worktreePath: '/tmp/worktrees/done',
      });
      await store.appendAttemptLogs(doneFence, [
        { stream: 'system', text: 'cloning' },
        { stream: 'stdout', text: 'hi\n' },
      ]);
      await store.recordUsage(doneFence, sampleUsage);
      tick();
      await store.heartbeatAttempt(doneFence, { leaseMs, message: 'halfway' });
      await store.setAttemptPhase(doneFence, { phase: 'verifying' });
      tick();
      await store.completeAttempt(doneFence, sampleSuccess);

      // Failed, waiting for its retry time.
      const retrying = await enqueue({ title: 'retrying', maxAttempts: 3 });
      tick();
      await store.failAttempt(fenceOf(await claimNext(retrying.id)), {
        error: { message: 'the executor crashed', kind: 'executor_failed', retryable: true },
        verification: [],
        branch: 'warren/abcdefgh-retrying',
        worktreePath: '/tmp/worktrees/retrying',
      });

      // Dead after its only attempt, and a dependent that died with it.
      const doomed = await enqueue({ title: 'doomed', maxAttempts: 1 });
      const doomedClaim = await claimNext(doomed.id);
      await enqueue({ title: 'orphan', dependsOn: [doomed.id] });
      tick();
      await store.failAttempt(fenceOf(doomedClaim), {
        error: { message: 'nothing to do', kind: 'executor_failed', retryable: false, nextRetryDelayMs: 5 },
        verification: [],
      });

      // Cancelled while running (its attempt cancelled too), and cancelled while queued.
      const stopped = await enqueue({ title: 'stopped' });
      const stoppedClaim = await claimNext(stopped.id);
      await store.setAttemptPhase(fenceOf(stoppedClaim), { phase: 'running' });
      tick();
      await store.cancelTask(stopped.id, 'changed my mind');
      const dropped = await enqueue({ title: 'dropped' });
      await store.cancelTask(dropped.id);

      // A lease that ran out: the attempt is lost and the task waits for a retry.
      const lost = await enqueue({ title: 'lost', maxAttempts: 3 });
      await claimNext(lost.id, 1_000);
      now += 2_000;
      expect(await store.expireLeases()).toBe(1);

      // Active attempts with live leases: leased, running (with usage and logs) and verifying.
      const leased = await enqueue({ title: 'leased' });
      await claimNext(leased.id);
      // One claimed as the scheduler assigned it: agent, routing record and a hold.
      const assigned = await enqueue({ title: 'assigned', lane: 'low' });
      tick();
      const assignedClaims = await store.claimTasks({
        runnerId: builder.id,
        capabilities: builder.capabilities,
        limit: 1,
        leaseMs,
        assignments: [
          {
            taskId: assigned.id,
            agent: 'gitops',
            routing: { winner: 'gitops@builder', cards: [{ score: 0.75 }] },
            holds: [{ key: 'limit:deploy', limit: 1 }],
          },
        ],
      });
      expect(assignedClaims.map((claim) => claim.task.id)).toEqual([assigned.id]);
      const running = await enqueue({ title: 'running', timeoutMs: 60_000 });
      const runningFence = fenceOf(await claimNext(running.id));
      await store.setAttemptPhase(runningFence, { phase: 'running', message: 'working' });
      await store.appendAttemptLogs(runningFence, [{ stream: 'stderr', text: 'warning: slow' }]);
      await store.recordUsage(runningFence, [sampleUsage[0]!]);
      const verifying = await enqueue({ title: 'verifying' });
      const verifyingFence = fenceOf(await claimNext(verifying.id));
      await store.setAttemptPhase(verifyingFence, { phase: 'running' });
      await store.setAttemptPhase(verifyingFence, { phase: 'verifying' });

      // Waiting work: a parent with blocked dependents, keyed tasks, a GPU task and a pinned model.
      const parent = await enqueue({ title: 'parent', lane: 'high', priority: 100 });
      const child = await enqueue({ title: 'child', dependsOn: [parent.id], labels: ['nightly'] });
      await enqueue({ title: 'grandchild', dependsOn: [child.id, done.id], lane: 'low' });
      const dedup = await enqueue({ title: 'nightly build', dedupKey: 'nightly-build', labels: ['nightly'] });
      tick();
      const idempotent = await store.enqueueTask(
        routedTaskSpec({ title: 'once', repo: '/srv/repos/other' }),
        {
          idempotencyKey: 'create-once',
        },
      );
      tick();
      const batch = await store.enqueueTasks(
        [
          routedTaskSpec({ title: 'batch one', repo: '/srv/repos/app', lane: 'low' }),
          routedTaskSpec({ title: 'batch two', repo: '/srv/repos/app', priority: -3 }),
        ],
        { idempotencyKey: 'batch-1' },
      );
      const gpu = await enqueue({ title: 'train', capabilities: ['gpu'], priority: 7 });
      await enqueue({ title: 'pinned', model: 'anthropic/claude-sonnet-4-5', executor: 'agent' });

      // Leaderships: one held, one given up.
      tick();
      await store.acquireLeadership({ name: 'maintenance', holder: 'hub-a', ttlMs: leaseMs });
      await store.acquireLeadership({ name: 'janitor', holder: 'hub-b', ttlMs: leaseMs });
      await store.releaseLeadership('janitor', 'hub-b');
      tick();

      // Breakers: one closed with failures, one open.
      await store.updateBreaker('agent:gitops', () => ({
        key: 'agent:gitops',
        state: 'closed',
        consecutiveFailures: 2,
        backoffMs: 30_000,
        updatedAt: new Date(now).toISOString(),
      }));
      await store.updateBreaker(`runner:${helper.id}`, () => ({
        key: `runner:${helper.id}`,
        state: 'open',
        consecutiveFailures: 3,
        backoffMs: 30_000,
        openedAt: new Date(now).toISOString(),
        openUntil: new Date(now + 30_000).toISOString(),
        updatedAt: new Date(now).toISOString(),
      }));
      tick();

      return {
        builder,
        running: runningFence,
        runningTaskId: running.id,
        parentId: parent.id,
        childId: child.id,
        gpuTaskId: gpu.id,
        dedupTaskId: dedup.id,
        idempotentTaskId: idempotent.task.id,
        batchTaskIds: batch.map((result) => result.task.id),
        tokenHashes: ['hash-of-builder', 'hash-of-helper', 'hash-of-gone'],
      };
    }

    beforeEach(async () => {
      now = startTime;
      source = await openStore();
      filled = await fill(source);
      records = await exportAll(source);
    });

    afterEach(async () => {
      await stores.closeAll();
    });

    it('exports every record once, in file order: header, endpoints, runners, tasks, attempts, usage, events', async () => {
      const [header] = records;
      expect(header).toMatchObject({ kind: 'header', format: 'warren-export', version: 1 });
      expect(header).toEqual({ ...header, dialect: source.dialect });
      const exportedAt = header?.kind === 'header' ? header.exportedAt : '';
      expect(Number.isNaN(Date.parse(exportedAt))).toBe(false);
      expect(records.filter((record) => record.kind === 'header')).toHaveLength(1);
      const ranks = records
        .filter((record) => record.kind !== 'leadership' && record.kind !== 'breaker')
        .map((record) => kindOrder.indexOf(record.kind));
      expect(ranks).toEqual([...ranks].sort((left, right) => left - right));

      const ofKind = <Kind extends ExportRecord['kind']>(kind: Kind) =>
        records.filter((record): record is Extract<ExportRecord, { kind: Kind }> => record.kind === kind);
      expect(ofKind('endpoint').map((record) => record.endpoint)).toEqual(await source.listEndpoints());
      expect(ofKind('runner').map((record) => record.runner.name)).toEqual(['builder', 'helper']);
      expect(ofKind('runner').map((record) => record.tokenHash)).toEqual([
        'hash-of-builder',
        'hash-of-helper',
      ]);
      for (const record of ofKind('runner')) expect(record.runner).not.toHaveProperty('activeAttempts');

      // Tasks oldest first, so that every dependency comes before its dependents.
      const tasks = ofKind('task').map((record) => record.task);
      expect(tasks.map((task) => task.id)).toEqual(
        (await taskPages(source))
          .flat()
          .map((task) => task.id)
          .reverse(),
      );
      const seen = new Set<string>();
      for (const task of tasks) {
        for (const parent of task.dependsOn)
          expect(seen.has(parent), `${task.title} after ${parent}`).toBe(true);
        seen.add(task.id);
      }
      // The last fencing token a task issued travels with it, so that fencing stays monotonic.
      const running = ofKind('task').find((record) => record.task.id === filled.runningTaskId)!;
      const attempts = ofKind('attempt');
      const runningAttempt = attempts.find((record) => record.attempt.id === filled.running.attemptId)!;
      expect(running.leaseEpoch).toBe(1);
      expect(runningAttempt.attempt.fencingToken).toBe(running.leaseEpoch);
      expect(attempts).toHaveLength(tasks.reduce((sum, task) => sum + task.attemptCount, 0));
      for (const record of attempts) {
        expect(typeof record.leaseTokenHash).toBe('string');
        expect(record.leaseTokenHash).not.toBe('');
      }
      expect(ofKind('usage').map((record) => record.record)).toEqual(
        (await source.listUsage({ limit: 5_000 })).reverse(),
      );
      expect(ofKind('event').map((record) => record.event)).toEqual(
        await source.listEvents({ limit: 5_000 }),
      );
      expect(
        ofKind('leadership')
          .map((record) => record.leadership)
          .sort((left, right) => left.name.localeCompare(right.name)),
      ).toEqual([await source.getLeadership('janitor'), await source.getLeadership('maintenance')]);
    });

    for (const size of [1, 7, 'all'] as const) {
      it(`imports into an empty store in batches of ${size} and reads back the same`, async () => {
        const target = await openStore();
        // Loads the counts first (batches of 7 leave them to load after the import), so that both the
        // counts kept up to date by an import and counts read afresh are checked.
        if (size !== 7) expect(await target.countTasks()).toEqual([]);
        await importInBatches(target, records, size === 'all' ? records.length : size);
        expect(await readEverything(target, filled.tokenHashes)).toEqual(
          await readEverything(source, filled.tokenHashes),
        );
        expect(withoutExportTime(await exportAll(target))).toEqual(withoutExportTime(records));
      });
    }

    it('carries on after the import as the original does: leases, events, claims, dependencies, keys', async () => {
      const target = await openStore();
      // Reads that load what a store may keep in memory, before the import changes what they answer.
      expect(await target.countTasks()).toEqual([]);
      expect(
        await target.claimTasks({
          runnerId: filled.builder.id,
          capabilities: filled.builder.capabilities,
          limit: 5,
          leaseMs,
        }),
      ).toEqual([]);
      expect(await target.lastEventId()).toBe(0);
      await importInBatches(target, records, 7);
      const importedLastEventId = await target.lastEventId();
      expect(importedLastEventId).toBe(await source.lastEventId());

      const stores = [source, target] as const;
      /** Runs `step` on the original and the imported store and expects the same answer from both. */
      async function same<Answer>(step: (store: Store) => Promise<Answer>): Promise<Answer> {
        const original = await step(source);
        expect(await step(target)).toEqual(original);
        return original;
      }

      // The lease held across the move still works, and only with its own token.
      await expect(
        target.heartbeatAttempt({ ...filled.running, leaseToken: 'lease_wrong' }, { leaseMs }),
      ).rejects.toBeInstanceOf(LeaseLostError);
      now += 1_000;
      await same((store) => store.heartbeatAttempt(filled.running, { leaseMs, message: 'still here' }));
      await same((store) => store.recordUsage(filled.running, [sampleUsage[1]!]));
      const finished = await same((store) => store.completeAttempt(filled.running, sampleSuccess));
      expect(finished.state).toBe('succeeded');
      await expect(target.heartbeatAttempt(filled.running, { leaseMs })).rejects.toBeInstanceOf(
        LeaseLostError,
      );

      // New events and ledger rows continue after the imported ones.
      const newEvents = await same((store) => store.listEvents({ afterId: importedLastEventId, limit: 100 }));
      expect(newEvents.length).toBeGreaterThan(0);
      expect(newEvents[0]!.id).toBeGreaterThan(importedLastEventId);
      await same((store) => store.listUsage({ limit: 5_000 }));

      // Claims see the imported queue: the high-lane parent first, then the GPU task for a GPU runner.
      const claimed = [];
      for (const store of stores) {
        claimed.push(
          await store.claimTasks({
            runnerId: filled.builder.id,
            capabilities: ['executor:shell'],
            limit: 1,
            leaseMs,
          }),
        );
      }
      expect(claimed.map((claims) => claims.map((claim) => claim.task.id))).toEqual([
        [filled.parentId],
        [filled.parentId],
      ]);
      const gpuClaims = await same(async (store) =>
        (
          await store.claimTasks({
            runnerId: filled.builder.id,
            capabilities: ['executor:shell', 'gpu'],
            limit: 1,
            leaseMs,
          })
        ).map((claim) => claim.task.id),
      );
      expect(gpuClaims).toEqual([filled.gpuTaskId]);

      // The parent succeeds and its blocked dependent is queued.
      expect(await target.getTask(filled.childId)).toMatchObject({ state: 'blocked' });
      for (const [index, store] of stores.entries()) {
        await store.completeAttempt(fenceOf(claimed[index]![0]!), sampleSuccess);
      }
      expect(await target.getTask(filled.childId)).toMatchObject({ state: 'queued' });

      // Dedup and idempotency keys hold across the move.
      const again = await target.enqueueTask(
        routedTaskSpec({ title: 'nightly build again', repo: '/srv/repos/app', dedupKey: 'nightly-build' }),
      );
      expect(again).toMatchObject({ created: false, task: { id: filled.dedupTaskId } });
      const once = await target.enqueueTask(routedTaskSpec({ title: 'once', repo: '/srv/repos/other' }), {
        idempotencyKey: 'create-once',
      });
      expect(once).toMatchObject({ created: false, task: { id: filled.idempotentTaskId } });
      const batch = await target.enqueueTasks(
        [
          routedTaskSpec({ title: 'batch one', repo: '/srv/repos/app' }),
          routedTaskSpec({ title: 'batch two', repo: '/srv/repos/app' }),
        ],
        { idempotencyKey: 'batch-1' },
      );
      expect(batch.map((result) => [result.task.id, result.created])).toEqual(
        filled.batchTaskIds.map((id) => [id, false]),
      );

      // Retries come due and leases run out on the same schedule.
      now += 120_000;
      const promoted = await same((store) => store.promoteRetries());
      expect(promoted).toBeGreaterThanOrEqual(2);
      now += leaseMs;
      const expired = await same((store) => store.expireLeases());
      expect(expired).toBeGreaterThanOrEqual(2);

      const states = async (store: Store) =>
        (await taskPages(store)).flat().map((task) => [task.id, task.state, task.attemptCount]);
      await same(states);
      await same(sortedCounts);
      await same((store) => store.lastEventId());
      // The counts agree with the tasks themselves, not only with the other store.
      const tally = new Map<string, number>();
      for (const task of (await taskPages(target)).flat()) {
        tally.set(`${task.lane}/${task.state}`, (tally.get(`${task.lane}/${task.state}`) ?? 0) + 1);
      }
      expect(
        new Map((await target.countTasks()).map((count) => [`${count.lane}/${count.state}`, count.count])),
      ).toEqual(tally);

      // A task made after the import comes first in the newest-first listing.
      now += 1_000;
      const fresh = await target.enqueueTask(routedTaskSpec({ title: 'fresh', repo: '/srv/repos/app' }));
      expect((await target.listTasks({ limit: 1 })).items.map((task) => task.id)).toEqual([fresh.task.id]);
    });

    it('refuses records that clash with what the store holds, changing nothing', async () => {
      const target = await openStore();
      now += 1_000;
      await target.enqueueTask(routedTaskSpec({ title: 'already here', repo: '/srv/repos/app' }));
      const before = await readEverything(target, filled.tokenHashes);
      await expect(target.importRecords(records)).rejects.toBeInstanceOf(ConflictError);
      expect(await readEverything(target, filled.tokenHashes)).toEqual(before);

      // The same records twice: the second import clashes with the first.
      const copy = await openStore();
      await copy.importRecords(records);
      const imported = await readEverything(copy, filled.tokenHashes);
      await expect(copy.importRecords(records.slice(1))).rejects.toBeInstanceOf(ConflictError);
      expect(await readEverything(copy, filled.tokenHashes)).toEqual(imported);
    });

    it('refuses a batch whose last record repeats an earlier one, writing none of it', async () => {
      const target = await openStore();
      expect(await target.countTasks()).toEqual([]);
      const firstTask = records.find((record) => record.kind === 'task')!;
      await expect(target.importRecords([...records, firstTask])).rejects.toBeInstanceOf(ConflictError);
      expect(await target.listTasks({ limit: 10 })).toEqual({ items: [] });
      expect(await target.listRunners()).toEqual([]);
      expect(await target.listEndpoints()).toEqual([]);
      expect(await target.listEvents({ limit: 10 })).toEqual([]);
      expect(await target.lastEventId()).toBe(0);
      expect(await target.countTasks()).toEqual([]);

      // Nothing of the refused batch lingers: the same records then import cleanly.
      await target.importRecords(records);
      expect(await readEverything(target, filled.tokenHashes)).toEqual(
        await readEverything(source, filled.tokenHashes),
      );
      now += 1_000;
      await target.enqueueTask(routedTaskSpec({ title: 'next', repo: '/srv/repos/app' }));
      expect(await target.lastEventId()).toBe((await source.lastEventId()) + 2);
    });

    it('refuses a malformed record, naming its index and field, and writes nothing', async () => {
      const target = await openStore();
      const task = records.find(
        (record): record is Extract<ExportRecord, { kind: 'task' }> => record.kind === 'task',
      )!;
      const malformed: unknown[] = [...records];
      malformed[2] = { ...task, task: { ...task.task, state: 'paused' } };
      const error = await target.importRecords(malformed as ExportRecord[]).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(InvalidInputError);
      const fields = (error as InvalidInputError).issues.map((issue) => issue.field);
      expect(fields).toContain('2.task.state');
      expect(fields.every((field) => field.startsWith('2.'))).toBe(true);

      malformed[2] = records[2];
      malformed[5] = { kind: 'comment', text: 'not a record' };
      await expect(target.importRecords(malformed as ExportRecord[])).rejects.toMatchObject({
        issues: [{ field: '5.kind' }],
      });
      expect(await target.listEndpoints()).toEqual([]);
      expect(await target.listRunners()).toEqual([]);
      expect(await target.lastEventId()).toBe(0);
    });
  });
}
