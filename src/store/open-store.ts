/**
 * Choosing and opening the store a hub or a CLI command uses: PostgreSQL when a database URL is given
 * (`WARREN_DATABASE_URL` or the config file's `database.url`), else the embedded SQLite file in the data dir.
 */
import { join } from 'node:path';
import { InvalidInputError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Store, StoreOptions } from './store.ts';

/** Where a store lives. */
export type DatabaseLocation =
  /** The embedded default: one SQLite file. */
  | { dialect: 'sqlite'; filename: string }
  /** A PostgreSQL database (and optionally a schema in it). */
  | { dialect: 'postgres'; url: string; schema?: string };

/** The SQLite file name inside a data dir. */
export const SQLITE_FILENAME = 'warren.db';

/**
 * The database to use: `url` when given (it must be `postgres://` or `postgresql://`; InvalidInputError
 * with `field` otherwise), else `<dataDir>/warren.db`.
 */
export function resolveDatabaseLocation(options: {
  url?: string | undefined;
  schema?: string | undefined;
  dataDir: string;
  /** Names the source of `url` in errors, e.g. `WARREN_DATABASE_URL` or `database.url`. */
  field?: string;
}): DatabaseLocation {
  const { url, dataDir } = options;
  if (url === undefined || url.trim() === '')
    return { dialect: 'sqlite', filename: join(dataDir, SQLITE_FILENAME) };
  const field = options.field ?? 'databaseUrl';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidInputError([
      { field, reason: 'is not a URL (expected postgres://USER@HOST:PORT/DATABASE)' },
    ]);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new InvalidInputError([
      {
        field,
        reason: `must be a postgres:// URL, not ${parsed.protocol}// (leave it unset for embedded SQLite)`,
      },
    ]);
  }
  return options.schema === undefined
    ? { dialect: 'postgres', url }
    : { dialect: 'postgres', url, schema: options.schema };
}

/** The location for logs and messages: a PostgreSQL URL without its password. */
export function describeDatabaseLocation(location: DatabaseLocation): string {
  if (location.dialect === 'sqlite') return `sqlite:${location.filename}`;
  const url = new URL(location.url);
  if (url.password !== '') url.password = '***';
  const schema = location.schema === undefined ? '' : ` (schema ${location.schema})`;
  return `${url.toString()}${schema}`;
}

/**
 * Opens the store at `location`. The driver of the other backend is never loaded. The caller migrates
 * (`store.migrate()`) and closes it.
 */
export async function openStore(
  location: DatabaseLocation,
  options: StoreOptions & { logger?: Logger } = {},
): Promise<Store> {
  const { logger, ...storeOptions } = options;
  if (location.dialect === 'sqlite') {
    const { createSqliteStore } = await import('./sqlite/create-sqlite-store.ts');
    return createSqliteStore({ ...storeOptions, filename: location.filename });
  }
  const { createPostgresStore } = await import('./postgres/create-postgres-store.ts');
  return createPostgresStore({
    ...storeOptions,
    ...(logger === undefined ? {} : { logger }),
    connectionString: location.url,
    ...(location.schema === undefined ? {} : { schema: location.schema }),
  });
}
