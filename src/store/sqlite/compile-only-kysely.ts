/**
 * A Kysely instance that only builds and compiles SQLite queries; it never executes anything.
 *
 * why: better-sqlite3 is synchronous, and every write must run inside one synchronous transaction. Kysely's
 * own executor is asynchronous, so an `await` inside BEGIN..COMMIT would let other calls interleave into the
 * transaction. We use Kysely for what it is good at (typed, composable queries with dynamic filters), call
 * `.compile()`, and run the SQL ourselves with prepared statements.
 */
import {
  DummyDriver,
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
} from 'kysely';
import type { Database } from '../rows/database-schema.ts';

/** Creates the compile-only query builder for the SQLite schema. */
export function createCompileOnlyKysely(): Kysely<Database> {
  return new Kysely<Database>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (database) => new SqliteIntrospector(database),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  });
}

/** A compiled query's SQL and parameters, as better-sqlite3 takes them. */
export type SqliteQuery = Pick<CompiledQuery, 'sql' | 'parameters'>;
