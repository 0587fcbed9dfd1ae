/**
 * Prepared statements, kept by SQL text so that each distinct statement is compiled by SQLite once.
 */
import type BetterSqlite3 from 'better-sqlite3';

/**
 * why: fixed statements number a few dozen and Kysely's dynamic filters produce a bounded set of shapes
 * (one per combination of filters and list lengths); the cap only guards against a bug that would
 * otherwise grow the cache without end.
 */
const maxStatements = 500;

/** Prepared statements by SQL text. */
export interface StatementCache {
  /** The prepared statement for `sql`, prepared on first use. */
  get(sql: string): BetterSqlite3.Statement;
}

/** Creates an empty cache of statements prepared on `database`. */
export function createStatementCache(database: BetterSqlite3.Database): StatementCache {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    get(sql) {
      let statement = statements.get(sql);
      if (statement === undefined) {
        if (statements.size >= maxStatements) statements.clear();
        statement = database.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
