/**
 * Where a command's database is: `--database URL`, else `WARREN_DATABASE_URL`, else the config file's
 * `database.url`, else the embedded SQLite file in the data dir. The schema comes from
 * `WARREN_DATABASE_SCHEMA` or the config file's `database.schema` (default `public`).
 */
import { InvalidInputError } from '../core/errors.ts';
import {
  describeDatabaseLocation,
  resolveDatabaseLocation,
  type DatabaseLocation,
} from '../store/open-store.ts';
import { CliError } from './cli-error.ts';
import type { WarrenConfigFile } from './config-file.ts';

/** Finds the database; throws CliError naming the setting that holds a bad URL. */
export function locateDatabase(options: {
  /** The `--database` flag, when the command has one. */
  flag?: string | undefined;
  configFile?: WarrenConfigFile | undefined;
  dataDir: string;
}): DatabaseLocation {
  const { flag, configFile, dataDir } = options;
  const fromEnvironment = process.env.WARREN_DATABASE_URL || undefined;
  const url = flag ?? fromEnvironment ?? configFile?.database?.url;
  const field =
    flag !== undefined
      ? '--database'
      : fromEnvironment !== undefined
        ? 'WARREN_DATABASE_URL'
        : `${configFile?.path ?? 'config file'}: database.url`;
  const schema = process.env.WARREN_DATABASE_SCHEMA || configFile?.database?.schema;
  try {
    return resolveDatabaseLocation({ url, schema, dataDir, field });
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw new CliError(error.issues.map((issue) => `${issue.field} ${issue.reason}`).join('; '), {
        hint: 'set a postgres://USER:PASSWORD@HOST:5432/DATABASE URL, or leave it unset for the embedded SQLite file',
      });
    }
    throw error;
  }
}

/** The hint for a SQLite file another process holds: a hub running on the data dir, as a rule. */
export const STOP_THE_HUB_HINT = 'stop the hub first (Ctrl-C where `warren up` runs), then run this again';

/**
 * The CliError for a database a command could not open or reach (`error` is the store's UnavailableError):
 * the location without its password, the reason, and what to check.
 */
export function databaseUnavailableError(
  location: DatabaseLocation,
  error: Error,
  options: { action: 'open' | 'reach'; exitCode?: number },
): CliError {
  return new CliError(`cannot ${options.action} ${describeDatabaseLocation(location)}: ${error.message}`, {
    hint:
      location.dialect === 'sqlite'
        ? STOP_THE_HUB_HINT
        : 'check the URL and that PostgreSQL is running and reachable from here',
    ...(options.exitCode === undefined ? {} : { exitCode: options.exitCode }),
  });
}
