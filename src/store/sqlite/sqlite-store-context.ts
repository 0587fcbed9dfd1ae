/**
 * What the parts of the SQLite store share: the writer, the prepared-statement cache and the query builder.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { SqliteQuery } from './compile-only-kysely.ts';
import type { SqliteWriter } from './create-sqlite-writer.ts';
import type { Database } from '../rows/database-schema.ts';

/** The shared machinery of one SQLite store (one connection). */
export interface SqliteStoreContext {
  /** Runs a write as one synchronous transaction. */
  writer: SqliteWriter;
  /** The prepared statement for `sql` (prepared once, then cached). */
  statement: (sql: string) => BetterSqlite3.Statement;
  /** Runs a compiled query and returns its rows. */
  selectAll: <Row>(query: SqliteQuery) => Row[];
  /** Builds and compiles queries; never executes them. */
  kysely: Kysely<Database>;
}
