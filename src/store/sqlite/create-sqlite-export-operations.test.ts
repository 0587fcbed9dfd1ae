import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../core/errors.ts';
import type { ExportRecord, Store } from '../store.ts';
import { routedTaskSpec } from '../testing/routed-task-spec.ts';
import { exportPageStatements, importStatements } from './create-sqlite-export-operations.ts';
import { createSqliteStore } from './create-sqlite-store.ts';

const directories: string[] = [];
const startTime = Date.parse('2030-01-01T00:00:00.000Z');
const leaseMs = 600_000;

afterEach(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

async function temporaryDatabasePath(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'warren-sqlite-export-'));
  directories.push(directory);
  return join(directory, 'warren.db');
}

async function openStore(filename: string, clock: () => number): Promise<Store> {
  const store = await createSqliteStore({ filename, clock });
  await store.migrate();
  return store;
}

async function exportAll(store: Store): Promise<ExportRecord[]> {
  const records: ExportRecord[] = [];
  for await (const record of store.exportRecords()) {
    records.push(JSON.parse(JSON.stringify(record)) as ExportRecord);
  }
  return records;
}

/** A few tasks with dependencies, attempts, logs, usage, a runner and a leadership. */
async function fill(store: Store, tick: (ms?: number) => void): Promise<void> {
  const runner = await store.createRunner({
    name: 'builder',
    capabilities: ['executor:shell', 'gpu'],
    slots: 2,
    tokenHash: 'hash-of-builder',
  });
  const claim = async () => {
    tick();
    const [claimed] = await store.claimTasks({
      runnerId: runner.id,
      capabilities: runner.capabilities,
      limit: 1,
      leaseMs,
    });
    const { attempt, leaseToken } = claimed!;
    return { attemptId: attempt.id, leaseToken, runnerId: runner.id };
  };
  tick();
  const parent = await store.enqueueTask(routedTaskSpec({ title: 'parent', repo: '/repo', lane: 'high' }));
  tick();
  await store.enqueueTask(
    routedTaskSpec({ title: 'child', repo: '/repo', dependsOn: [parent.task.id], capabilities: ['gpu'] }),
  );
  const parentFence = await claim();
  await store.setAttemptPhase(parentFence, { phase: 'running' });
  await store.appendAttemptLogs(parentFence, [{ stream: 'stdout', text: 'hi' }]);
  await store.recordUsage(parentFence, [
    { endpoint: 'local', model: 'm', inputTokens: 5, outputTokens: 7, costUsd: 0.5 },
  ]);
  tick();
  await store.completeAttempt(parentFence, {
    result: { branch: 'b', baseBranch: 'main', baseSha: 'c'.repeat(40), changedFiles: [], pushed: false },
    verification: [],
  });
  const childFence = await claim();
  tick();
  await store.failAttempt(childFence, {
    error: { message: 'flaky', kind: 'executor_failed', retryable: true },
    verification: [],
  });
  tick(120_000);
  expect(await store.promoteRetries()).toBe(1);
  await claim();
  await store.acquireLeadership({ name: 'maintenance', holder: 'hub-a', ttlMs: leaseMs });
}

/** Every row of the tables an import writes, read straight from the file. */
function readTables(filename: string): Record<string, unknown[]> {
  const database = new Database(filename, { readonly: true });
  try {
    const all = (sql: string) => database.prepare(sql).all();
    return {
      // The id lists as values: the store's own json_insert writes bound ids as reals (`6.0`), an import
      // writes `6`; SQLite compares them equal.
      tasks: (all('SELECT * FROM tasks ORDER BY seq') as Array<Record<string, unknown>>).map((row) => ({
        ...row,
        attempt_ids: JSON.parse(row.attempt_ids as string) as unknown,
        history_event_ids: JSON.parse(row.history_event_ids as string) as unknown,
      })),
      taskDependencies: all('SELECT * FROM task_dependencies ORDER BY task_id, depends_on_id'),
      attempts: all('SELECT * FROM attempts ORDER BY id'),
      runners: all('SELECT * FROM runners ORDER BY id'),
      events: all('SELECT * FROM events ORDER BY id'),
      usageRecords: all('SELECT * FROM usage_records ORDER BY id'),
      endpoints: all('SELECT name, definition FROM model_endpoints ORDER BY name'),
      leaderships: all('SELECT * FROM leaderships ORDER BY name'),
    };
  } finally {
    database.close();
  }
}

describe('SQLite export and import', () => {
  it('writes the rows of the original, with the bookkeeping only SQLite keeps rebuilt', async () => {
    let now = startTime;
    const clock = () => now;
    const tick = (ms = 1_000) => {
      now += ms;
    };
    const sourceFile = await temporaryDatabasePath();
    const source = await openStore(sourceFile, clock);
    await fill(source, tick);
    const records = await exportAll(source);
    await source.close();

    const targetFile = await temporaryDatabasePath();
    const target = await openStore(targetFile, clock);
    for (let start = 0; start < records.length; start += 3) {
      await target.importRecords(records.slice(start, start + 3));
    }
    await target.close();

    const original = readTables(sourceFile);
    const imported = readTables(targetFile);
    expect(imported).toEqual(original);
    // Not vacuous: the lists an import rebuilds are filled in.
    expect(original.tasks).toContainEqual(
      expect.objectContaining({
        title: 'child',
        attempt_ids: [expect.stringMatching(/^att_/), expect.stringMatching(/^att_/)],
      }),
    );
    expect(original.taskDependencies).toHaveLength(1);
  });

  it('refuses records that come before what they point at, naming the record, and writes nothing', async () => {
    let now = startTime;
    const clock = () => now;
    const source = await openStore(await temporaryDatabasePath(), clock);
    await fill(source, (ms = 1_000) => {
      now += ms;
    });
    const records = await exportAll(source);
    const target = await openStore(await temporaryDatabasePath(), clock);

    const firstOf = (kind: ExportRecord['kind']) => records.findIndex((record) => record.kind === kind);
    const withoutTasks = records.filter((record) => record.kind !== 'task');
    const refusals: Array<[ExportRecord[], string]> = [
      // An attempt whose task has not come yet.
      [withoutTasks, `${withoutTasks.findIndex((record) => record.kind === 'attempt')}.attempt.taskId`],
      // A dependent before its parent.
      [[records[0]!, records[firstOf('task') + 1]!, records[firstOf('task')]!], '1.task.dependsOn.0'],
      // A task's lifecycle event before the task.
      [
        [records.find((record) => record.kind === 'event' && record.event.type === 'task.created')!],
        '0.event.taskId',
      ],
    ];
    for (const [batch, field] of refusals) {
      const error = await target.importRecords(batch).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error, field).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).issues.map((issue) => issue.field)).toEqual([field]);
    }
    expect(await target.lastEventId()).toBe(0);
    expect(await target.listRunners()).toEqual([]);
    expect((await target.listTasks({ limit: 10 })).items).toEqual([]);
    await source.close();
    await target.close();
  });

  it('exports across page boundaries: every row once', async () => {
    const store = await openStore(await temporaryDatabasePath(), () => startTime);
    // why 1,100 tasks: more than one page (1,000 rows) of tasks and, with two events each, of events.
    const specs = Array.from({ length: 1_100 }, (_, index) =>
      routedTaskSpec({ title: `task ${index}`, repo: '/repo' }),
    );
    await store.enqueueTasks(specs);
    const records = await exportAll(store);
    const tasks = records.flatMap((record) => (record.kind === 'task' ? [record.task.id] : []));
    const events = records.flatMap((record) => (record.kind === 'event' ? [record.event.id] : []));
    expect(new Set(tasks).size).toBe(1_100);
    expect(tasks).toHaveLength(1_100);
    expect(events).toEqual(Array.from({ length: 2_200 }, (_, index) => index + 1));
    await store.close();
  });

  it('reads and looks up every table through its primary key, never a scan or a sort', async () => {
    const filename = await temporaryDatabasePath();
    await (await openStore(filename, Date.now)).close();
    const database = new Database(filename, { readonly: true });
    try {
      const statements = [
        ...Object.values(exportPageStatements),
        importStatements.selectTaskIdLists,
        importStatements.updateTaskIdLists,
      ];
      for (const text of statements) {
        const parameters = new Array<null>((text.match(/\?/g) ?? []).length).fill(null);
        const plan = (
          database.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...parameters) as Array<{
            detail: string;
          }>
        )
          .map((step) => step.detail)
          .join('\n');
        expect(plan, text).toMatch(/^SEARCH \w+ USING/);
        expect(plan, text).not.toMatch(/SCAN|TEMP B-TREE/);
      }
    } finally {
      database.close();
    }
  });
});
