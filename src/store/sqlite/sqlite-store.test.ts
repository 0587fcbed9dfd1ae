import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../core/errors.ts';
import { modelEndpointSchema } from '../../core/model-endpoints.ts';
import { routedTaskSpec } from '../testing/routed-task-spec.ts';
import { runStoreConformance } from '../conformance/run-store-conformance.ts';
import { claimCandidatesSql, claimTasksSql, queuedCapabilitySetsSql } from './claim-tasks.sql.ts';
import { pairingOutcomeStatements } from './create-sqlite-fleet-operations.ts';
import { createSqliteStore } from './create-sqlite-store.ts';
import { migrateSqlite } from './migrate-sqlite.ts';
import { migration0001Initial } from './migrations/0001-initial.ts';
import { sqliteMigrations } from './migrations/sqlite-migrations.ts';
import { eventsTaskIndexCondition, sqliteStatements } from './sqlite-statements.ts';

const directories: string[] = [];

async function temporaryDatabasePath(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'warren-sqlite-store-'));
  directories.push(directory);
  return join(directory, 'warren.db');
}

/** A fresh database with every migration applied, opened read-only for query-plan checks. */
async function openMigratedDatabase(): Promise<Database.Database> {
  const filename = await temporaryDatabasePath();
  const store = await createSqliteStore({ filename });
  await store.migrate();
  await store.close();
  return new Database(filename, { readonly: true });
}

afterEach(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

runStoreConformance({
  name: 'sqlite',
  createStore: async (storeOptions) =>
    createSqliteStore({ ...storeOptions, filename: await temporaryDatabasePath() }),
});

describe('createSqliteStore', () => {
  it('applies each migration once and keeps data across reopening the file', async () => {
    const filename = await temporaryDatabasePath();
    const first = await createSqliteStore({ filename });
    await first.migrate();
    await first.migrate();
    const { task } = await first.enqueueTask(routedTaskSpec({ title: 'kept', repo: '/repo' }));
    await first.close();

    const second = await createSqliteStore({ filename });
    await second.migrate();
    expect(await second.getTask(task.id)).toEqual(task);
    expect(await second.lastEventId()).toBe(2);
    expect(await second.countTasks()).toEqual([{ lane: 'normal', state: 'queued', count: 1 }]);
    await second.cancelTask(task.id);
    expect(await second.lastEventId()).toBe(3);
    expect((await second.listEvents({ taskId: task.id, limit: 10 })).map((event) => event.id)).toEqual([
      1, 2, 3,
    ]);
    await second.close();

    const database = new Database(filename, { readonly: true });
    try {
      const applied = database.prepare('SELECT id, name FROM schema_migrations ORDER BY id').all();
      expect(applied).toEqual(
        sqliteMigrations.map((migration) => ({ id: migration.id, name: migration.name })),
      );
      expect(database.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      database.close();
    }
  });

  it('upgrades a database made by migration 1, filling the new columns, and claims from it', async () => {
    const filename = await temporaryDatabasePath();
    // A file exactly as migration 1 left it, with two queued tasks written the way that version wrote them.
    const database = new Database(filename);
    migrateSqlite(database, [migration0001Initial], 0);
    const insert =
      database.prepare(`INSERT INTO tasks (id, state, lane, lane_rank, priority, title, instructions,
      repo, executor, executor_input, capabilities, complexity, success_criteria, depends_on, max_attempts,
      timeout_ms, labels, required_capabilities, attempt_ids, history_event_ids, created_at, updated_at)
      VALUES (?, 'queued', 'normal', 1, 0, ?, '', '/repo', 'shell', '{}', '[]', 'standard', '[]', '[]', 3, 60000,
      '[]', '["executor:shell"]', '[]', '[]', 1, 1)`);
    const ids = ['tsk_01J00000000000000000000001', 'tsk_01J00000000000000000000002'];
    insert.run(ids[0], 'a');
    insert.run(ids[1], 'b');
    database.close();

    const upgraded = await createSqliteStore({ filename });
    await upgraded.migrate();
    const claims = await upgraded.claimTasks({
      runnerId: 'run_1',
      capabilities: ['executor:shell'],
      limit: 5,
      leaseMs: 60_000,
    });
    expect(claims.map((claim) => claim.task.id)).toEqual(ids);
    expect(claims[0]!.task).toMatchObject({
      complexity: 'standard',
      complexityReason: 'set before routing was recorded',
      grants: [],
      fixRounds: 2,
      usage: { inputTokens: 0, outputTokens: 0, costUsd: 0, calls: 0 },
    });
    expect(claims[0]!.task.model).toBeUndefined();
    expect(claims[0]!.attempt.usage).toEqual({ inputTokens: 0, outputTokens: 0, costUsd: 0, calls: 0 });
    await upgraded.recordUsage(
      { attemptId: claims[0]!.attempt.id, leaseToken: claims[0]!.leaseToken, runnerId: 'run_1' },
      [{ endpoint: 'e', model: 'm', inputTokens: 1, outputTokens: 2, costUsd: 0.5 }],
    );
    expect((await upgraded.getTask(ids[0]!))?.usage).toEqual({
      inputTokens: 1,
      outputTokens: 2,
      costUsd: 0.5,
      calls: 1,
    });
    await upgraded.close();
  });

  it('upgrades runners made before fleet routing: no pairings, no health, and degraded allowed', async () => {
    const filename = await temporaryDatabasePath();
    const database = new Database(filename);
    migrateSqlite(database, sqliteMigrations.slice(0, 4), 0);
    database
      .prepare(
        `INSERT INTO runners (id, name, token_hash, capabilities, slots, status, version, hostname,
          last_heartbeat_at, created_at) VALUES (?, 'old', 'hash-old', '["executor:shell"]', 2, 'online', '1.0.0',
          'box', 5, 1)`,
      )
      .run('run_01J00000000000000000000001');
    expect(() => database.prepare(`UPDATE runners SET status = 'degraded'`).run()).toThrow(
      /CHECK constraint failed/,
    );
    database.close();

    const upgraded = await createSqliteStore({ filename });
    await upgraded.migrate();
    const runner = await upgraded.getRunner('run_01J00000000000000000000001');
    expect(runner).toMatchObject({
      name: 'old',
      capabilities: ['executor:shell'],
      status: 'online',
      version: '1.0.0',
      hostname: 'box',
      agents: [],
      dependencyHealth: [],
    });
    expect(await upgraded.findRunnerByTokenHash('hash-old')).toEqual(runner);
    expect(
      await upgraded.heartbeatRunner(runner!.id, 'degraded', {
        dependencyHealth: [{ name: 'argo', healthy: false, checkedAt: '2030-01-01T00:00:00.000Z' }],
      }),
    ).toMatchObject({ status: 'degraded', dependencyHealth: [{ name: 'argo', healthy: false }] });
    await expect(
      upgraded.createRunner({ name: 'old', capabilities: [], slots: 1, tokenHash: 'other' }),
    ).rejects.toThrow(/already exists/);
    await upgraded.close();
  });

  it('keeps model endpoints across reopening the file', async () => {
    const filename = await temporaryDatabasePath();
    const endpoint = modelEndpointSchema.parse({
      name: 'local',
      provider: 'openai-compatible',
      baseUrl: 'http://127.0.0.1:11434/v1',
      models: [{ id: 'llama3.1:8b', tier: 'local', inputPricePerMillionUsd: 0, outputPricePerMillionUsd: 0 }],
    });
    const first = await createSqliteStore({ filename });
    await first.migrate();
    await first.upsertEndpoint(endpoint);
    await first.close();
    const second = await createSqliteStore({ filename });
    await second.migrate();
    expect(await second.listEndpoints()).toEqual([endpoint]);
    await second.close();
  });

  it('refuses a database migrated by a newer version', async () => {
    const filename = await temporaryDatabasePath();
    const store = await createSqliteStore({ filename });
    await store.migrate();
    await store.close();
    const database = new Database(filename);
    database.prepare("INSERT INTO schema_migrations (id, name, applied_at) VALUES (9999, 'future', 0)").run();
    database.close();
    const reopened = await createSqliteStore({ filename });
    await expect(reopened.migrate()).rejects.toThrow(/9999/);
    await reopened.close();
  });

  it('refuses a second store on a file that another store holds', async () => {
    const filename = await temporaryDatabasePath();
    const first = await createSqliteStore({ filename });
    await first.migrate();
    try {
      await expect(createSqliteStore({ filename })).rejects.toBeInstanceOf(UnavailableError);
      expect(await first.ping()).toBe(true);
    } finally {
      await first.close();
    }
  });

  it('works in memory', async () => {
    const store = await createSqliteStore({ filename: ':memory:' });
    await store.migrate();
    const { created } = await store.enqueueTask(routedTaskSpec({ title: 'x', repo: '/repo' }));
    expect(created).toBe(true);
    expect(await store.ping()).toBe(true);
    await store.close();
    expect(await store.ping()).toBe(false);
  });

  it('claims by walking the queued-task index in order, without sorting or scanning', async () => {
    const database = await openMigratedDatabase();
    try {
      const explain = (text: string, parameters: Record<string, unknown> = {}) =>
        (database.prepare(`EXPLAIN QUERY PLAN ${text}`).all(parameters) as Array<{ detail: string }>)
          .map((step) => step.detail)
          .join('\n');
      const head = explain(claimTasksSql(10), { required: '["executor:shell"]' });
      expect(head).toMatch(/^SEARCH task USING INDEX tasks_claim_order \(required_capabilities=\?\)/);
      expect(head).not.toMatch(/TEMP B-TREE|SCAN/);
      const sets = explain(queuedCapabilitySetsSql);
      expect(sets).toMatch(/SEARCH tasks USING COVERING INDEX tasks_claim_order/);
      expect(sets).not.toMatch(/SCAN tasks|TEMP B-TREE/);
      const candidates = explain(claimCandidatesSql, { required: '["executor:shell"]', limit: 10 });
      expect(candidates).toMatch(/^SEARCH task USING INDEX tasks_claim_order \(required_capabilities=\?\)/);
      expect(candidates).not.toMatch(/TEMP B-TREE|SCAN/);
    } finally {
      database.close();
    }
  });

  it('runs every fixed statement through an index, never a full scan of tasks, attempts or events', async () => {
    const database = await openMigratedDatabase();
    try {
      const scans: string[] = [];
      for (const [name, text] of Object.entries(sqliteStatements)) {
        const named = Object.fromEntries([...text.matchAll(/@(\w+)/g)].map((match) => [match[1]!, null]));
        const positional = new Array<null>((text.match(/\?/g) ?? []).length).fill(null);
        const statement = database.prepare(`EXPLAIN QUERY PLAN ${text}`);
        const plan = (
          Object.keys(named).length > 0 ? statement.all(named) : statement.all(...positional)
        ) as Array<{ detail: string }>;
        for (const step of plan) {
          if (/^SCAN (tasks|attempts|events|task|attempt|event|dependency|parent)\b/.test(step.detail)) {
            scans.push(`${name}: ${step.detail}`);
          }
        }
      }
      expect(scans).toEqual([]);
    } finally {
      database.close();
    }
  });

  it('reads pairing outcomes by seeking attempts_outcomes, never scanning or sorting attempts', async () => {
    const database = await openMigratedDatabase();
    try {
      for (const [name, text] of Object.entries(pairingOutcomeStatements)) {
        const parameters = new Array<null>((text.match(/\?/g) ?? []).length).fill(null);
        const plan = (
          database.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...parameters) as Array<{ detail: string }>
        )
          .map((step) => step.detail)
          .join('\n');
        expect(plan, name).toMatch(/^SEARCH attempts USING (COVERING )?INDEX attempts_outcomes/);
        expect(plan, name).not.toMatch(/TEMP B-TREE|SCAN/);
      }
    } finally {
      database.close();
    }
  });

  it("lists tasks in an uncommon state and a task's other events through partial indexes", async () => {
    const database = await openMigratedDatabase();
    try {
      const plan = database
        .prepare(
          `EXPLAIN QUERY PLAN SELECT * FROM tasks WHERE state IN (?) AND state NOT IN ('queued','succeeded')
           ORDER BY seq DESC LIMIT 51`,
        )
        .all('dead') as Array<{ detail: string }>;
      expect(plan.map((step) => step.detail).join('\n')).toMatch(/USING INDEX tasks_uncommon_state/);
      const eventsPlan = database
        .prepare(
          `EXPLAIN QUERY PLAN SELECT * FROM events WHERE task_id = ? AND ${eventsTaskIndexCondition} AND id > ?
           ORDER BY id LIMIT 100`,
        )
        .all('tsk_x', 0) as Array<{ detail: string }>;
      expect(eventsPlan.map((step) => step.detail).join('\n')).toMatch(/USING INDEX events_task/);
    } finally {
      database.close();
    }
  });

  it('rejects a malformed JSON value at the database, never storing it', async () => {
    const filename = await temporaryDatabasePath();
    const store = await createSqliteStore({ filename });
    await store.migrate();
    const { task } = await store.enqueueTask(routedTaskSpec({ title: 'x', repo: '/repo' }));
    await store.close();
    const database = new Database(filename);
    try {
      expect(() => database.prepare("UPDATE tasks SET labels = '[oops' WHERE id = ?").run(task.id)).toThrow();
      expect(() => database.prepare("UPDATE tasks SET state = 'weird' WHERE id = ?").run(task.id)).toThrow();
    } finally {
      database.close();
    }
  });
});
