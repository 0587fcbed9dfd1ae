/**
 * Comparing a database's applied migrations with the ones this Warren knows, for `Store.migrationStatus`.
 */
import { epochToIso } from './rows/epoch-to-iso.ts';
import type { MigrationStatus } from './store.ts';

/** The applied, pending and unknown migrations, given the rows of `schema_migrations` and the known list. */
export function compareMigrations(
  appliedRows: ReadonlyArray<{ id: number; name: string; applied_at: number }>,
  known: ReadonlyArray<{ id: number; name: string }>,
): MigrationStatus {
  const appliedIds = new Set(appliedRows.map((row) => row.id));
  const knownIds = new Set(known.map((migration) => migration.id));
  return {
    applied: [...appliedRows]
      .sort((left, right) => left.id - right.id)
      .map((row) => ({ id: row.id, name: row.name, appliedAt: epochToIso(row.applied_at) })),
    pending: known
      .filter((migration) => !appliedIds.has(migration.id))
      .sort((left, right) => left.id - right.id)
      .map(({ id, name }) => ({ id, name })),
    unknown: [...appliedIds].filter((id) => !knownIds.has(id)).sort((left, right) => left - right),
  };
}
