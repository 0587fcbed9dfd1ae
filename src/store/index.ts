/** Public surface of Warren's storage layer: the Store contract and its backends. */
export type * from './store.ts';
export { createSqliteStore, type SqliteStoreOptions } from './sqlite/create-sqlite-store.ts';
export { createPostgresStore, type PostgresStoreOptions } from './postgres/create-postgres-store.ts';
export {
  describeDatabaseLocation,
  openStore,
  resolveDatabaseLocation,
  type DatabaseLocation,
} from './open-store.ts';
