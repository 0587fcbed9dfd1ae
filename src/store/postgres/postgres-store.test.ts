import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../core/errors.ts';
import { runStoreConformance } from '../conformance/run-store-conformance.ts';
import type { Store, StoreSignal } from '../store.ts';
import { describeWithPostgres } from '../testing/postgres-test-database.ts';
import { routedTaskSpec } from '../testing/routed-task-spec.ts';
import { lockAssignedTasksSql } from './claim-assigned-tasks.sql.ts';
import { claimTasksSql } from './claim-tasks.sql.ts';
import {
  claimCandidatesSql,
  everyPairingOutcomesSql,
  listedPairingOutcomesSql,
} from './create-postgres-fleet-operations.ts';
import { listenerApplicationName } from './create-postgres-notifications.ts';
import { createPostgresPool } from './create-postgres-pool.ts';
import { createPostgresStore, type PostgresStoreOptions } from './create-postgres-store.ts';
import { migratePostgres } from './migrate-postgres.ts';
import { postgresMigration0001Initial } from './migrations/0001-initial.ts';

describeWithPostgres('postgres store', (database) => {
  runStoreConformance({
    name: 'postgres',
    createStore: async (storeOptions) =>
      createPostgresStore({ ...storeOptions, connectionString: database.url, schema: database.newSchema() }),
  });

  describe('createPostgresStore', () => {
    const stores: Store[] = [];
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((store) => store.close()));
    });

    async function open(schema: string, options: Partial<PostgresStoreOptions> = {}): Promise<Store> {
      const store = await createPostgresStore({ connectionString: database.url, schema, ...options });
      stores.push(store);
      return store;
    }

    it('migrates once when several hubs start at the same time', async () => {
      const schema = database.newSchema();
      const hubs = await Promise.all(Array.from({ length: 5 }, () => open(schema)));
      await Promise.all(hubs.map((store) => store.migrate()));
      const { task } = await hubs[0]!.enqueueTask(routedTaskSpec({ title: 'shared', repo: '/repo' }));
      for (const store of hubs) expect(await store.getTask(task.id)).toEqual(task);
    });

    it('wakes a subscriber on another hub within moments of a write (LISTEN/NOTIFY)', async () => {
      const schema = database.newSchema();
      const writer = await open(schema, { pollIntervalMs: 60_000 });
      await writer.migrate();
      const reader = await open(schema, { pollIntervalMs: 60_000 });
      const signals: StoreSignal[] = [];
      reader.subscribe((signal) => signals.push(signal));
      // The listener connects asynchronously; give it a moment before the write it must hear.
      await waitUntil(async () => (await listenerCount(schema)) > 0);
      await writer.enqueueTask(routedTaskSpec({ title: 'wake up', repo: '/repo' }));
      await waitUntil(() => signals.length >= 2);
      expect(signals).toEqual([{ kind: 'tasks-ready' }, { kind: 'events', lastEventId: 2 }]);
    });

    it('falls back to polling when the notification connection is cut, and reconnects', async () => {
      const schema = database.newSchema();
      const writer = await open(schema, { pollIntervalMs: 60_000 });
      await writer.migrate();
      const reader = await open(schema, { pollIntervalMs: 100 });
      const signals: StoreSignal[] = [];
      reader.subscribe((signal) => signals.push(signal));
      await waitUntil(async () => (await listenerCount(schema)) > 0);
      // Cut the listener's connection from the server side, then write while it is down.
      await terminateListeners(schema);
      await writer.enqueueTask(routedTaskSpec({ title: 'missed notification', repo: '/repo' }));
      await waitUntil(() => signals.some((signal) => signal.kind === 'events' && signal.lastEventId === 2));
      // The listener comes back and carries later notifications again.
      await waitUntil(async () => (await listenerCount(schema)) > 0);
      await writer.enqueueTask(routedTaskSpec({ title: 'heard', repo: '/repo' }));
      await waitUntil(() => signals.some((signal) => signal.kind === 'events' && signal.lastEventId === 4));
    });

    it('fails calls with UnavailableError (not a crash) while the database cannot be reached', async () => {
      const blackhole = await listenWithoutAnswering();
      try {
        const port = (blackhole.address() as AddressInfo).port;
        const store = await open('public', {
          connectionString: `postgres://postgres:secret-password@127.0.0.1:${port}/test`,
          connectTimeoutMs: 300,
        });
        const failure = await store.getTask('tsk_x').catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(UnavailableError);
        expect((failure as Error).message).toMatch(/^database unavailable: /);
        expect((failure as Error).message).not.toContain('secret-password');
        expect(await store.ping()).toBe(false);
      } finally {
        blackhole.close();
      }
    });

    it('upgrades a schema made by migration 1: runners without pairings or health, degraded allowed', async () => {
      const schema = database.newSchema();
      const pool = await createPostgresPool({
        connectionString: database.url,
        schema,
        maxConnections: 1,
        connectTimeoutMs: 5_000,
        queryTimeoutMs: 15_000,
        idleInTransactionTimeoutMs: 5_000,
      });
      try {
        await migratePostgres(pool, schema, [postgresMigration0001Initial], 0);
        await pool.query(
          `INSERT INTO runners (id, name, token_hash, capabilities, slots, status, version, hostname,
            last_heartbeat_at, created_at) VALUES ('run_01J00000000000000000000001', 'old', 'hash-old',
            '["executor:shell"]', 2, 'online', '1.0.0', 'box', 5, 1)`,
        );
        await expect(pool.query(`UPDATE runners SET status = 'degraded'`)).rejects.toThrow(
          /check constraint/,
        );
      } finally {
        await pool.close();
      }
      const store = await open(schema);
      await store.migrate();
      const runner = await store.getRunner('run_01J00000000000000000000001');
      expect(runner).toMatchObject({ name: 'old', status: 'online', agents: [], dependencyHealth: [] });
      expect(await store.heartbeatRunner(runner!.id, 'degraded')).toMatchObject({ status: 'degraded' });
      expect(await store.listPairingOutcomes({ limitPerPairing: 20 })).toEqual([]);
    });

    it('reads fleet routing facts through their indexes', async () => {
      const schema = database.newSchema();
      const store = await open(schema);
      await store.migrate();
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: database.url, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        const plan = async (text: string, parameters: string[]): Promise<string> => {
          const explained = await client.query<{ 'QUERY PLAN': string }>(
            `EXPLAIN ${text}`.replaceAll(/\$(\d+)/g, (_, index: string) => parameters[Number(index) - 1]!),
          );
          return explained.rows.map((row) => row['QUERY PLAN']).join('\n');
        };
        for (const text of [everyPairingOutcomesSql, listedPairingOutcomesSql]) {
          const outcomes = await plan(text, ['20', `'{run_a,run_b}'`]);
          expect(outcomes).toMatch(/Index Scan using attempts_outcomes on attempts/);
          expect(outcomes).not.toMatch(/Seq Scan on attempts/);
        }
        const candidates = await plan(claimCandidatesSql, [`'{executor:shell}'`, '10']);
        expect(candidates).toMatch(/Limit[\s\S]*Index Scan using tasks_claim_order on tasks/);
        expect(candidates).not.toMatch(/Seq Scan/);
        // Assigned tasks are found by id, not by reading the queue; shown on a queue the planner knows is long.
        await client.query(`INSERT INTO tasks (id, state, lane, lane_rank, priority, title, instructions, repo,
          executor, executor_input, capabilities, complexity, complexity_reason, grants, fix_rounds,
          success_criteria, depends_on, max_attempts, timeout_ms, labels, required_capabilities, created_at,
          updated_at)
          SELECT 'tsk_' || lpad(i::text, 26, '0'), 'queued', 'normal', 1, 0, 't', '', '/r', 'shell', '{}', '[]',
            'standard', 'x', '[]', 2, '[]', '[]', 3, 1000, '[]', '{executor:shell}', i, i
          FROM generate_series(1, 5000) AS i`);
        await client.query('ANALYZE tasks');
        const assigned = await plan(lockAssignedTasksSql, [`'{tsk_a,tsk_b}'`, `'{executor:shell}'`]);
        expect(assigned).toMatch(/Index Scan using tasks_id_key on tasks[\s\S]*Index Cond: \(id = ANY/);
      } finally {
        await client.end();
      }
    });

    it('claims through the claim index, without sorting the queue', async () => {
      const schema = database.newSchema();
      const store = await open(schema);
      await store.migrate();
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: database.url, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        await client.query('BEGIN');
        const plan = await client.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN ${claimTasksSql}`.replaceAll(
            /\$(\d)/g,
            (_, index: string) => claimPlanParameters[Number(index) - 1]!,
          ),
        );
        await client.query('ROLLBACK');
        const text = plan.rows.map((row) => row['QUERY PLAN']).join('\n');
        // The rows are picked by walking the claim index in order under the LIMIT: no sort of the queue
        // (the sorts elsewhere in the plan order only the few picked rows).
        const picked = /CTE picked\n([\s\S]*?)\n {2}CTE /.exec(text)?.[1] ?? '';
        expect(picked).toMatch(/Limit[\s\S]*LockRows[\s\S]*Index Scan using tasks_claim_order on tasks/);
        expect(picked).not.toMatch(/\bSort\b/);
      } finally {
        await client.end();
      }
    });
  });
});

/** Literal values for the claim statement's parameters, for EXPLAIN. */
const claimPlanParameters = [
  `'{executor:shell}'`,
  '8',
  '1000',
  `'{a,b,c,d,e,f,g,h}'`,
  `'{a,b,c,d,e,f,g,h}'`,
  `'run_x'`,
  '60000',
];

/** Connections listening on the store's channel. */
async function listenerCount(schema: string): Promise<number> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: process.env.WARREN_TEST_POSTGRES_URL });
  await client.connect();
  try {
    const result = await client.query<{ count: number }>(
      `SELECT COUNT(*)::integer AS count FROM pg_stat_activity WHERE application_name = $1`,
      [listenerApplicationName(schema)],
    );
    return result.rows[0]?.count ?? 0;
  } finally {
    await client.end();
  }
}

/** Terminates the connections listening on the store's channel. */
async function terminateListeners(schema: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: process.env.WARREN_TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [
      listenerApplicationName(schema),
    ]);
  } finally {
    await client.end();
  }
}

/** A TCP server that accepts connections and never answers (a database that hangs). */
function listenWithoutAnswering(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer(() => {});
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** Polls `condition` every 20 ms until it holds; fails after 10 s. */
async function waitUntil(condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
