/**
 * The shape of a PostgreSQL migration.
 */

/**
 * One numbered, append-only schema change. Migrations run in id order inside one transaction (PostgreSQL
 * DDL is transactional), so a failed migration leaves the schema exactly as it was.
 */
export interface PostgresMigration {
  /** Position in the sequence: 1, 2, 3, ... Never reused or renumbered once released. */
  id: number;
  /** Short kebab-case description, recorded in `schema_migrations`. */
  name: string;
  /** SQL statements run in order; unqualified names resolve in the store's schema (`search_path`). */
  statements: readonly string[];
}
