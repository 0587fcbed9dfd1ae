/**
 * `warren db migrate`, `warren db status` and `warren up` on PostgreSQL, as a person runs them: real CLI
 * processes, a real SQLite data dir and (when `WARREN_TEST_POSTGRES_URL` is set) a real PostgreSQL schema.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithPostgres } from '../src/store/testing/postgres-test-database.ts';
import { createProcessHarness, type ProcessHarness } from './support/create-process-harness.ts';

/** A stack trace line, which the CLI must never show a user. */
const stackLine = /^\s+at .+[(:]\d+/m;

describe('warren db', () => {
  let harness: ProcessHarness;

  beforeAll(async () => {
    harness = await createProcessHarness();
  });

  afterAll(async () => {
    await harness.cleanup();
  });

  /** The CLI on data dir `home`, never a PostgreSQL URL from the environment unless given. */
  const cli = (home: string, args: string[], env: Record<string, string> = {}) =>
    harness.runCli(args, { env: { WARREN_HOME: home, WARREN_DATABASE_URL: '', ...env } });

  it('shows pending migrations without applying them, then applies them once', async () => {
    const home = harness.path('sqlite-home');
    const missing = await cli(home, ['db', 'status']);
    expect(missing.code).toBe(0);
    expect(missing.stdout).toContain(`database   sqlite:${home}/warren.db does not exist yet`);
    const migrated = await cli(home, ['db', 'migrate']);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toMatch(/^applied 1 initial$/m);
    const again = await cli(home, ['db', 'migrate']);
    expect(again.stdout).toMatch(/: up to date \(version \d+ \(\S+\)\)$/m);
    // A database file created by another tool (or an older Warren) with nothing applied shows what is pending.
    const fresh = harness.path('fresh-home');
    await mkdir(fresh, { recursive: true });
    new Database(join(fresh, 'warren.db')).close();
    const before = await cli(fresh, ['db', 'status']);
    expect(before.code).toBe(0);
    expect(before.stdout).toContain(`database   sqlite:${fresh}/warren.db`);
    expect(before.stdout).toContain('schema     no migrations applied');
    expect(before.stdout).toMatch(/pending: 1 initial, .*; run `warren db migrate`/);
    // Status changed nothing: still pending.
    expect((await cli(fresh, ['db', 'status', '--json'])).stdout).toContain('"applied": []');

    const status = JSON.parse((await cli(home, ['db', 'status', '--json'])).stdout) as {
      dialect: string;
      migrations: { pending: unknown[]; applied: Array<{ id: number }> };
      tasks: unknown[];
      lastEventId: number;
    };
    expect(status).toMatchObject({ dialect: 'sqlite', tasks: [], lastEventId: 0 });
    expect(status.migrations.pending).toEqual([]);
    expect(status.migrations.applied.map((migration) => migration.id)).toEqual(
      status.migrations.applied.map((_, index) => index + 1),
    );
  });

  it('refuses a URL that is not PostgreSQL, naming where it came from, and masks passwords', async () => {
    const home = harness.path('bad-url-home');
    const wrongScheme = await cli(home, ['db', 'status'], {
      WARREN_DATABASE_URL: 'mysql://root@localhost/x',
    });
    expect(wrongScheme.code).toBe(2);
    expect(wrongScheme.stderr).toContain('WARREN_DATABASE_URL must be a postgres:// URL, not mysql://');
    expect(wrongScheme.stderr).not.toMatch(stackLine);

    const unreachable = await cli(home, [
      'db',
      'status',
      '--database',
      'postgres://warren:hunter2@127.0.0.1:1/x',
    ]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('cannot reach postgres://warren:***@127.0.0.1:1/x');
    expect(unreachable.stderr).toContain('hint: check the URL and that PostgreSQL is running');
    expect(unreachable.stderr).not.toContain('hunter2');
    expect(unreachable.stderr).not.toMatch(stackLine);
  });
});

describeWithPostgres('warren db and warren up on PostgreSQL', (database) => {
  let harness: ProcessHarness;

  beforeAll(async () => {
    harness = await createProcessHarness();
  });

  afterAll(async () => {
    await harness.cleanup();
  });

  it('migrates a schema, and two `warren up` hubs share it with one admin token', async () => {
    const schema = database.newSchema();
    const adminToken = `wrn_admin_${randomBytes(24).toString('hex')}`;
    const env = {
      WARREN_DATABASE_URL: database.url,
      WARREN_DATABASE_SCHEMA: schema,
      WARREN_ADMIN_TOKEN: adminToken,
    };
    const migrated = await harness.runCli(['db', 'migrate'], {
      env: { ...env, WARREN_HOME: harness.path('cli') },
    });
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toContain('applied 1 initial');

    const hubs = [0, 1].map((index) =>
      harness.spawnCli(`hub-${index}`, ['up', '--no-runner', '--port', '0'], {
        env: { ...env, WARREN_HOME: harness.path(`hub-${index}`) },
      }),
    );
    const urls = await Promise.all(
      hubs.map(async (hub) => {
        const line = await hub.waitForLine((text) => text.includes('listening on'), 30_000);
        return /listening on (\S+)/.exec(line)![1]!;
      }),
    );
    for (const hub of hubs)
      expect(hub.stdout()).toContain(`database     ${database.url.replace(/:[^:@/]+@/, ':***@')}`);
    // A task created through one hub is visible through the other, with the shared token.
    const created = await fetch(`${urls[0]}/v1/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'shared',
        repo: '/tmp/repo',
        executor: 'shell',
        executorInput: { run: 'true' },
      }),
    });
    expect(created.status).toBe(201);
    const { task } = (await created.json()) as { task: { id: string } };
    const read = await fetch(`${urls[1]}/v1/tasks/${task.id}`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(read.status).toBe(200);

    const status = await harness.runCli(['db', 'status'], {
      env: { ...env, WARREN_HOME: harness.path('cli') },
    });
    expect(status.stdout).toMatch(/^tasks {6}1 \(queued 1\)$/m);
    expect(status.stdout).toMatch(/^leader {5}hub_\S+ \(term \d+, until /m);
    for (const hub of hubs) hub.signalGroup('SIGTERM');
    await Promise.all(hubs.map((hub) => hub.exited));
  });
});
