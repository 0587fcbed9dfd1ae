/**
 * `warren export` and `warren import` as a person runs them: real CLI processes on real data dirs (and a
 * real PostgreSQL database when `WARREN_TEST_POSTGRES_URL` is set), round trips compared line by line, and
 * every refusal a clean message with a hint.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelEndpointSchema } from '../src/core/model-endpoints.ts';
import { createSqliteStore } from '../src/store/sqlite/create-sqlite-store.ts';
import type { ExportRecord } from '../src/store/store.ts';
import { postgresTestUrl } from '../src/store/testing/postgres-test-database.ts';
import { routedTaskSpec } from '../src/store/testing/routed-task-spec.ts';
import {
  createProcessHarness,
  type ProcessExit,
  type ProcessHarness,
} from './support/create-process-harness.ts';

/** A stack trace line, which the CLI must never show a user. */
const stackLine = /^\s+at .+[(:]\d+/m;

type CliResult = ProcessExit & { stdout: string; stderr: string };

/** The records of an export file, the header's time left out (two exports of one state differ only there). */
function recordsOf(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const record = JSON.parse(line) as ExportRecord;
      if (record.kind !== 'header') return record;
      const { exportedAt: _time, ...rest } = record;
      return rest;
    });
}

describe('warren export and import', () => {
  let harness: ProcessHarness;
  let source: string;
  let exportFile: string;
  let exported: string;
  /** The CLI on data dir `home`, never a PostgreSQL URL from the environment unless given. */
  const cli = (home: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    harness.runCli(args, { env: { WARREN_HOME: home, WARREN_DATABASE_URL: '', ...env } });

  beforeAll(async () => {
    harness = await createProcessHarness();
    source = harness.path('source');
    await mkdir(source, { recursive: true });
    // A data dir with one of most things: endpoints, runners, tasks waiting, running, done and blocked.
    const store = await createSqliteStore({ filename: join(source, 'warren.db') });
    await store.migrate();
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
    const runner = await store.createRunner({
      name: 'builder',
      capabilities: ['executor:shell'],
      slots: 2,
      tokenHash: 'hash-of-builder',
    });
    const parent = await store.enqueueTask(
      routedTaskSpec({ title: 'parent', repo: '/srv/app', lane: 'high' }),
    );
    await store.enqueueTask(
      routedTaskSpec({ title: 'child', repo: '/srv/app', dependsOn: [parent.task.id] }),
    );
    await store.enqueueTasks(
      Array.from({ length: 30 }, (_, index) =>
        routedTaskSpec({ title: `chore ${index}`, repo: '/srv/app', labels: ['chore'] }),
      ),
    );
    const [claim] = await store.claimTasks({
      runnerId: runner.id,
      capabilities: runner.capabilities,
      limit: 1,
      leaseMs: 3_600_000,
    });
    const fence = { attemptId: claim!.attempt.id, leaseToken: claim!.leaseToken, runnerId: runner.id };
    await store.setAttemptPhase(fence, { phase: 'running' });
    await store.appendAttemptLogs(fence, [{ stream: 'stdout', text: 'working\n' }]);
    await store.recordUsage(fence, [
      { endpoint: 'local', model: 'llama3.1:8b', inputTokens: 10, outputTokens: 5, costUsd: 0 },
    ]);
    await store.close();

    exportFile = harness.path('warren.jsonl');
    const result = await cli(source, ['export', '--output', exportFile]);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 0, stdout: '' });
    expect(result.stderr).toMatch(
      /^exported 107 records from sqlite:.*source\/warren\.db to .*warren\.jsonl in [\d.]+m?s: 1 endpoint, 1 runner, 32 tasks, 1 attempt, 1 usage record, 70 events\n$/,
    );
    exported = await readFile(exportFile, 'utf8');
  }, 60_000);

  afterAll(async () => {
    await harness.cleanup();
  });

  it('imports an export into an empty data dir, which then exports the same records (to stdout)', async () => {
    const target = harness.path('target');
    const imported = await cli(target, ['import', exportFile]);
    expect({ code: imported.code, stdout: imported.stdout }).toEqual({ code: 0, stdout: '' });
    expect(imported.stderr).toMatch(
      /^imported 106 records into sqlite:.*target\/warren\.db in [\d.]+m?s: 1 endpoint, 1 runner, 32 tasks, 1 attempt, 1 usage record, 70 events\n$/,
    );
    const again = await cli(target, ['export']);
    expect(again.code).toBe(0);
    expect(recordsOf(again.stdout)).toEqual(recordsOf(exported));
    expect(recordsOf(exported)[0]).toEqual({
      kind: 'header',
      format: 'warren-export',
      version: 1,
      dialect: 'sqlite',
    });

    // An import keeps ids, so a second one into the same database is refused up front, changing nothing.
    const refused = await cli(target, ['import', exportFile]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'target/warren.db is not empty (it holds tasks, runners, model endpoints, events)',
    );
    expect(refused.stderr).toMatch(/hint: import into a new data dir/);
    expect(refused.stderr).not.toMatch(stackLine);
    expect(recordsOf((await cli(target, ['export'])).stdout)).toEqual(recordsOf(exported));
  }, 60_000);

  it('imports from stdin with `-`', async () => {
    const target = harness.path('from-stdin');
    const child = harness.spawnNode('warren import -', 'bin/warren.js', ['import', '-'], {
      env: { WARREN_HOME: target, WARREN_DATABASE_URL: '' },
      stdin: 'pipe',
    });
    child.child.stdin!.end(exported);
    expect(await child.exited).toEqual({ code: 0, signal: null });
    await child.closed;
    expect(child.stderr()).toMatch(/^imported 106 records into /);
    expect(recordsOf((await cli(target, ['export'])).stdout)).toEqual(recordsOf(exported));
  }, 60_000);

  it('refuses a file that is not a well-formed export, naming the line and field, and imports none of it', async () => {
    const lines = exported.split('\n');
    const taskLine = lines.findIndex((line) => line.startsWith('{"kind":"task"'));
    const cases: Array<{ name: string; text: string; message: RegExp }> = [
      {
        name: 'unknown state',
        text: [
          ...lines.slice(0, taskLine),
          lines[taskLine]!.replace('"state":"', '"state":"paused-'),
          ...lines.slice(taskLine + 1),
        ].join('\n'),
        message: new RegExp(`line ${taskLine + 1} is not a valid export record: task\\.state: `),
      },
      {
        name: 'not JSON',
        text: [...lines.slice(0, 2), '{"kind": "task",', ...lines.slice(2)].join('\n'),
        message: /line 3 is not JSON/,
      },
      {
        name: 'no header',
        text: lines.slice(1).join('\n'),
        message: /bad\.jsonl is not a warren export: line 1 is not its header/,
      },
    ];
    for (const { name, text, message } of cases) {
      const file = harness.path('bad.jsonl');
      await writeFile(file, text);
      const home = harness.path(`bad-${name.replaceAll(' ', '-')}`);
      const refused = await cli(home, ['import', file]);
      expect(refused.code, name).toBe(2);
      expect(refused.stderr, name).toMatch(message);
      expect(refused.stderr, name).not.toMatch(stackLine);
      // The first batch had not been written when the bad line was read: the database stays empty.
      const after = await cli(home, ['export']);
      expect(recordsOf(after.stdout), name).toEqual([recordsOf(exported)[0]]);
    }
  }, 60_000);

  it('refuses to export a data dir whose database another process holds, saying to stop the hub', async () => {
    const holder = await createSqliteStore({ filename: join(source, 'warren.db') });
    try {
      const refused = await cli(source, ['export']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(
        /^error: cannot open sqlite:.*source\/warren\.db: .*in use by another process/,
      );
      expect(refused.stderr).toContain('hint: stop the hub first');
      expect(refused.stdout).toBe('');
    } finally {
      await holder.close();
    }
  }, 60_000);

  it('refuses to export or import a data dir a running hub uses, naming the hub', async () => {
    const home = harness.path('running');
    const up = harness.spawnCli('warren up', ['up', '--port', '0', '--no-runner'], {
      env: { WARREN_HOME: home, WARREN_DATABASE_URL: '' },
    });
    await up.waitForLine((line) => line.startsWith('stop:'), 45_000);
    for (const args of [['export'], ['import', exportFile]]) {
      const refused = await cli(home, args);
      expect(refused.code, args[0]).toBe(2);
      expect(refused.stderr, args[0]).toContain(
        `error: a hub is running on ${home} (pid ${up.pid}, http://127.0.0.1:`,
      );
      expect(refused.stderr, args[0]).toContain('hint: stop the hub first');
    }
    up.signalGroup('SIGTERM');
    expect(await up.exited).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('names a bad database URL without showing its password', async () => {
    const home = harness.path('nowhere');
    const wrongKind = await cli(home, ['export', '--database', 'mysql://warren:hunter2@127.0.0.1/warren']);
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr).toContain('--database must be a postgres:// URL, not mysql://');
    const unreachable = await cli(home, ['export'], {
      // Port 9 (discard) is closed on loopback: nothing answers.
      WARREN_DATABASE_URL: 'postgres://warren:hunter2@127.0.0.1:9/warren',
    });
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('error: cannot open postgres://warren:***@127.0.0.1:9/warren');
    expect(unreachable.stderr).toContain('hint: check the URL and that PostgreSQL is running');
    for (const result of [wrongKind, unreachable]) {
      expect(result.stderr).not.toContain('hunter2');
      expect(result.stderr).not.toMatch(stackLine);
    }
  }, 60_000);

  if (postgresTestUrl === undefined) {
    console.warn(
      'SKIPPED warren export and import > to PostgreSQL and back: WARREN_TEST_POSTGRES_URL is not set',
    );
  }
  it.skipIf(postgresTestUrl === undefined)(
    'moves a data dir to PostgreSQL and back unchanged',
    async () => {
      const { default: pg } = await import('pg');
      const admin = new pg.Client({ connectionString: postgresTestUrl });
      await admin.connect();
      const name = `warren_cli_${randomBytes(6).toString('hex')}`;
      await admin.query(`CREATE DATABASE ${name}`);
      try {
        const url = new URL(postgresTestUrl!);
        url.pathname = `/${name}`;
        const database = { WARREN_DATABASE_URL: url.toString() };
        const home = harness.path('via-postgres');
        const intoPostgres = await cli(home, ['import', exportFile], database);
        expect(intoPostgres.stderr).toMatch(/^imported 106 records into postgres:/);
        expect(intoPostgres.code).toBe(0);
        const fromPostgres = await cli(
          home,
          ['export', '--output', harness.path('from-postgres.jsonl')],
          database,
        );
        expect(fromPostgres.code).toBe(0);
        const back = await cli(home, ['import', harness.path('from-postgres.jsonl')]);
        expect(back.code).toBe(0);
        expect(recordsOf((await cli(home, ['export'])).stdout)).toEqual(recordsOf(exported));
      } finally {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      }
    },
    60_000,
  );
});
