/**
 * `warren db migrate` and `warren db status`: the database behind the hubs, reached directly (not through
 * a hub): `--database URL`, else `WARREN_DATABASE_URL`, else the config file's `database.url`, else the
 * data dir's SQLite file.
 *
 * Hubs migrate on start (under an advisory lock on PostgreSQL, so several may start at once); `db migrate`
 * is for doing it ahead of a rollout, and `db status` for seeing where a database stands without changing
 * it.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { WarrenError } from '../../core/errors.ts';
import { describeDatabaseLocation, openStore, type DatabaseLocation } from '../../store/open-store.ts';
import type { Leadership, MigrationStatus, Store, TaskCount } from '../../store/store.ts';
import { CliError } from '../cli-error.ts';
import { resolveDataDir } from '../cli-context.ts';
import { findConfigFile, readConfigFile } from '../config-file.ts';
import { databaseUnavailableError, locateDatabase } from '../database-location.ts';
import { paint, printJson } from '../output.ts';

interface DbOptions {
  database?: string;
  config?: string;
  json?: boolean;
}

/** What `db status` reports. */
interface DatabaseStatus {
  database: string;
  dialect: DatabaseLocation['dialect'];
  migrations: MigrationStatus;
  /** Present once the schema is current (older schemas are not read). */
  tasks?: TaskCount[];
  lastEventId?: number;
  maintenanceLeader?: Leadership;
}

/** Registers `warren db`. */
export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('the database: migrate it, or see where it stands');
  const withOptions = (command: Command): Command =>
    command
      .option(
        '--database <url>',
        'postgres:// URL (default: WARREN_DATABASE_URL, else the config file, else the SQLite file in the data dir)',
      )
      .option('--config <file>', 'config file with a `database` section (default: $WARREN_HOME/config.json)')
      .option('--json', 'print JSON for scripts');

  withOptions(
    db.command('migrate').description('apply pending migrations (hubs also do this on start)'),
  ).action(async (options: DbOptions) => {
    const location = locate(options);
    if (location.dialect === 'sqlite')
      await mkdir(dirname(location.filename), { recursive: true, mode: 0o700 });
    await withStore(location, async (store) => {
      const before = await store.migrationStatus();
      refuseUnknown(before, location);
      await store.migrate();
      const after = await store.migrationStatus();
      if (options.json)
        return printJson({ database: describeDatabaseLocation(location), applied: before.pending });
      const where = describeDatabaseLocation(location);
      if (before.pending.length === 0) {
        process.stdout.write(`${where}: up to date (${describeVersion(after)})\n`);
        return;
      }
      for (const migration of before.pending) {
        process.stdout.write(`applied ${migration.id} ${migration.name}\n`);
      }
      process.stdout.write(`${where}: ${describeVersion(after)}\n`);
    });
  });

  withOptions(
    db.command('status').description('show migrations, task counts and the maintenance leader'),
  ).action(async (options: DbOptions) => {
    const location = locate(options);
    if (location.dialect === 'sqlite' && !existsSync(location.filename)) {
      // Opening the file would create it; status changes nothing.
      const where = describeDatabaseLocation(location);
      if (options.json) return printJson({ database: where, dialect: location.dialect, exists: false });
      process.stdout.write(
        `database   ${where} does not exist yet (\`warren up\` or \`warren db migrate\` creates it)\n`,
      );
      return;
    }
    await withStore(location, async (store) => {
      const migrations = await store.migrationStatus();
      const status: DatabaseStatus = {
        database: describeDatabaseLocation(location),
        dialect: location.dialect,
        migrations,
      };
      if (migrations.pending.length === 0 && migrations.unknown.length === 0) {
        status.tasks = await store.countTasks();
        status.lastEventId = await store.lastEventId();
        const leader = await store.getLeadership('maintenance');
        if (leader !== undefined) status.maintenanceLeader = leader;
      }
      if (options.json) return printJson(status);
      process.stdout.write(formatStatus(status));
    });
  });
}

/** The database of the command. */
function locate(options: DbOptions): DatabaseLocation {
  const dataDir = resolveDataDir();
  const configPath = findConfigFile(options.config, dataDir);
  return locateDatabase({
    flag: options.database,
    configFile: configPath === undefined ? undefined : readConfigFile(configPath),
    dataDir,
  });
}

/** Opens the store (without migrating), runs `work`, closes it; connection failures become a CliError. */
async function withStore(location: DatabaseLocation, work: (store: Store) => Promise<void>): Promise<void> {
  let store: Store | undefined;
  try {
    store = await openStore(location);
    await work(store);
  } catch (error) {
    if (WarrenError.isInstance(error) && error.code === 'unavailable') {
      throw databaseUnavailableError(location, error, { action: 'reach', exitCode: 1 });
    }
    throw error;
  } finally {
    await store?.close();
  }
}

/** Refuses a database migrated by a newer Warren. */
function refuseUnknown(status: MigrationStatus, location: DatabaseLocation): void {
  if (status.unknown.length === 0) return;
  throw new CliError(
    `${describeDatabaseLocation(location)} has migrations ${status.unknown.join(', ')} that this Warren does not know`,
    { hint: 'upgrade Warren to the version the hubs run' },
  );
}

/** `version 4 (leaderships)` or `empty`. */
function describeVersion(status: MigrationStatus): string {
  const latest = status.applied.at(-1);
  return latest === undefined ? 'no migrations applied' : `version ${latest.id} (${latest.name})`;
}

/** The status for a person. */
function formatStatus(status: DatabaseStatus): string {
  const { migrations } = status;
  const lines = [`database   ${status.database}`, `schema     ${describeVersion(migrations)}`];
  if (migrations.unknown.length > 0) {
    lines.push(
      `           ${paint('red', `migrations ${migrations.unknown.join(', ')} are from a newer Warren`)}: upgrade Warren`,
    );
  }
  if (migrations.pending.length > 0) {
    const pending = migrations.pending.map((migration) => `${migration.id} ${migration.name}`).join(', ');
    lines.push(
      `           ${paint('yellow', `pending: ${pending}`)}; run \`warren db migrate\` (or start a hub)`,
    );
  }
  if (status.tasks !== undefined) {
    const byState = new Map<string, number>();
    for (const count of status.tasks) byState.set(count.state, (byState.get(count.state) ?? 0) + count.count);
    const total = [...byState.values()].reduce((sum, count) => sum + count, 0);
    const parts = [...byState].map(([state, count]) => `${state} ${count}`).join(', ');
    lines.push(`tasks      ${total}${parts ? ` (${parts})` : ''}`);
    lines.push(`events     last id ${status.lastEventId ?? 0}`);
    const leader = status.maintenanceLeader;
    lines.push(
      leader === undefined
        ? 'leader     none yet (no hub has run on this database)'
        : `leader     ${leader.holder} (term ${leader.term}, ${Date.parse(leader.expiresAt) > Date.now() ? 'until' : 'lapsed at'} ${leader.expiresAt})`,
    );
  }
  return `${lines.join('\n')}\n`;
}
