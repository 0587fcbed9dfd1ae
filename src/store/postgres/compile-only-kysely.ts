/**
 * A Kysely instance that only builds and compiles PostgreSQL queries; it never executes anything.
 *
 * why: the store runs every statement on a connection it controls (`create-postgres-pool.ts`), so that a
 * connection that breaks mid-transaction is destroyed rather than handed back to a pool, and so that
 * each store call is exactly one transaction. Kysely builds the queries with optional filters, typed
 * against the schema; pg runs them.
 */
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type CompiledQuery,
} from 'kysely';
import type { PostgresDatabase } from './postgres-schema.ts';

/** Creates the compile-only query builder for the PostgreSQL schema. */
export function createCompileOnlyPostgresKysely(): Kysely<PostgresDatabase> {
  return new Kysely<PostgresDatabase>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (database) => new PostgresIntrospector(database),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}

/** A compiled query's SQL and parameters, as pg takes them. */
export type PostgresQuery = Pick<CompiledQuery, 'sql' | 'parameters'>;
