/**
 * What the parts of the PostgreSQL store share.
 */
import type { Kysely } from 'kysely';
import type { PostgresQuery } from './compile-only-kysely.ts';
import type { PostgresPool } from './create-postgres-pool.ts';
import type { PostgresWriter } from './create-postgres-writer.ts';
import type { PostgresDatabase } from './postgres-schema.ts';

/** The shared machinery of one PostgreSQL store. */
export interface PostgresStoreContext {
  pool: PostgresPool;
  /** Runs a write as one transaction. */
  writer: PostgresWriter;
  /** Runs a compiled query outside any transaction and returns its rows. */
  selectAll: <Row>(query: PostgresQuery) => Promise<Row[]>;
  /** Builds and compiles queries; never executes them. */
  kysely: Kysely<PostgresDatabase>;
  /** The store clock. */
  clock: () => number;
}
