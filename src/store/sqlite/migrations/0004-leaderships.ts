/**
 * Migration 4: named leaderships, one row per role.
 */
import type { SqliteMigration } from './sqlite-migration.ts';

/**
 * Creates `leaderships`: who holds each named role (e.g. `maintenance`), in which term, and until when.
 * Times are epoch ms like every other table. A row is never deleted: giving a leadership up moves its
 * `expires_at` to the present, so the term keeps counting up across holders.
 */
export const migration0004Leaderships: SqliteMigration = {
  id: 4,
  name: 'leaderships',
  statements: [
    `CREATE TABLE leaderships (
      name TEXT PRIMARY KEY,
      holder TEXT NOT NULL,
      term INTEGER NOT NULL CHECK (term >= 1),
      acquired_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL
    ) STRICT`,
  ],
};
