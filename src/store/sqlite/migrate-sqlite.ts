/**
 * Applies pending SQLite migrations.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { WarrenError } from '../../core/errors.ts';
import type { SqliteMigration } from './migrations/sqlite-migration.ts';

/**
 * Applies every migration whose id is not yet in `schema_migrations`, in id order, all in one immediate
 * transaction: either the schema moves to the newest version or it stays as it was. Safe to call on every
 * start and from two processes at once (the second waits for the first, then finds nothing to do).
 * Refuses a database migrated by a newer Warren, whose schema this code does not know.
 */
export function migrateSqlite(
  database: BetterSqlite3.Database,
  migrations: readonly SqliteMigration[],
  now: number,
): number[] {
  const apply = database.transaction((): number[] => {
    database.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    ) STRICT`);
    const applied = new Set(
      database
        .prepare('SELECT id FROM schema_migrations')
        .pluck()
        .all()
        .map((id) => Number(id)),
    );
    const known = new Set(migrations.map((migration) => migration.id));
    const unknown = [...applied].filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new WarrenError(
        'internal',
        `database has migrations ${unknown.join(', ')} that this version of Warren does not know; upgrade Warren`,
      );
    }
    const record = database.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)');
    const newlyApplied: number[] = [];
    for (const migration of [...migrations].sort((left, right) => left.id - right.id)) {
      if (applied.has(migration.id)) continue;
      for (const statement of migration.statements) database.exec(statement);
      record.run(migration.id, migration.name, now);
      newlyApplied.push(migration.id);
    }
    return newlyApplied;
  });
  return apply.immediate();
}
