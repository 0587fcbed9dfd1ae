/**
 * The shape of one numbered SQLite migration.
 */

/**
 * One schema change. Migrations are append-only: once released, a migration is never edited; a later
 * change is a new file with the next number.
 */
export interface SqliteMigration {
  /** 1, 2, 3 ...: applied in this order, each exactly once. */
  id: number;
  /** Short kebab-case name, matching the file name after the number. */
  name: string;
  /** Statements run in order inside the migration's transaction. */
  statements: readonly string[];
}
