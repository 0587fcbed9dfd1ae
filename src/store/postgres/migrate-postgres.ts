/**
 * Applies pending PostgreSQL migrations, safely from several hubs starting at once.
 */
import { WarrenError } from '../../core/errors.ts';
import type { PostgresPool } from './create-postgres-pool.ts';
import { quoteIdentifier } from './create-postgres-pool.ts';
import type { PostgresMigration } from './migrations/postgres-migration.ts';

/**
 * Applies every migration whose id is not yet in `schema_migrations`, in id order, in one transaction
 * that first takes a transaction-scoped advisory lock keyed on the schema. why: hubs of one deployment
 * start together; the lock makes the second wait for the first and then find nothing to do, instead of
 * both creating the same tables. Creates the schema when it is missing. Refuses a schema migrated by a
 * newer Warren. Returns the ids it applied.
 */
export async function migratePostgres(
  pool: PostgresPool,
  schema: string,
  migrations: readonly PostgresMigration[],
  now: number,
): Promise<number[]> {
  return pool.transaction(async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`warren.migrate.${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id integer PRIMARY KEY,
      name text NOT NULL,
      applied_at bigint NOT NULL
    )`);
    const applied = new Set(
      (await client.query<{ id: number }>('SELECT id FROM schema_migrations')).map((row) => row.id),
    );
    const known = new Set(migrations.map((migration) => migration.id));
    const unknown = [...applied].filter((id) => !known.has(id)).sort((left, right) => left - right);
    if (unknown.length > 0) {
      throw new WarrenError(
        'internal',
        `database has migrations ${unknown.join(', ')} that this version of Warren does not know; upgrade Warren`,
      );
    }
    const newlyApplied: number[] = [];
    for (const migration of [...migrations].sort((left, right) => left.id - right.id)) {
      if (applied.has(migration.id)) continue;
      for (const statement of migration.statements) await client.query(statement);
      await client.query('INSERT INTO schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)', [
        migration.id,
        migration.name,
        now,
      ]);
      newlyApplied.push(migration.id);
    }
    return newlyApplied;
  });
}
