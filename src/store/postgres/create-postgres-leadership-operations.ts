/**
 * The PostgreSQL store's named leaderships: one row per name, taken, renewed and released with single
 * statements, so that racing hubs are decided by the row lock of `INSERT ... ON CONFLICT`.
 */
import { InvalidInputError } from '../../core/errors.ts';
import { leadershipFromRow, type LeadershipRow } from '../rows/leadership-row.ts';
import type { Leadership, Store } from '../store.ts';
import type { PostgresStoreContext } from './postgres-store-context.ts';

/** The leadership methods of a PostgreSQL store. */
export type PostgresLeadershipOperations = Pick<
  Store,
  'acquireLeadership' | 'releaseLeadership' | 'getLeadership'
>;

/**
 * Takes a free or lapsed leadership (new term) or renews the caller's own (same term); answers nothing
 * when another holder's term is still running. Parameters: $1 name, $2 holder, $3 now, $4 ttl (ms).
 * Concurrent first calls on a new name: one inserts, the others wait for its row lock, then find a
 * running term held by someone else and answer nothing.
 */
const acquireSql = `
INSERT INTO leaderships AS current (name, holder, term, acquired_at, expires_at)
VALUES ($1, $2, 1, $3::bigint, $3::bigint + $4::bigint)
ON CONFLICT (name) DO UPDATE SET
  holder = excluded.holder,
  term = CASE WHEN current.holder = excluded.holder AND current.expires_at > $3::bigint
    THEN current.term ELSE current.term + 1 END,
  acquired_at = CASE WHEN current.holder = excluded.holder AND current.expires_at > $3::bigint
    THEN current.acquired_at ELSE $3::bigint END,
  expires_at = $3::bigint + $4::bigint
WHERE current.expires_at <= $3::bigint OR current.holder = excluded.holder
RETURNING *`;

/** Creates the leadership methods on `context`. */
export function createPostgresLeadershipOperations(
  context: PostgresStoreContext,
): PostgresLeadershipOperations {
  const { pool, clock } = context;

  async function read(name: string): Promise<Leadership | undefined> {
    const [row] = await pool.query<LeadershipRow>('SELECT * FROM leaderships WHERE name = $1', [name]);
    return row === undefined ? undefined : leadershipFromRow(row);
  }

  return {
    async acquireLeadership(request) {
      if (!Number.isFinite(request.ttlMs) || request.ttlMs <= 0) {
        throw new InvalidInputError([
          { field: 'ttlMs', reason: 'must be a positive number of milliseconds' },
        ]);
      }
      for (;;) {
        const [row] = await pool.query<LeadershipRow>(acquireSql, [
          request.name,
          request.holder,
          clock(),
          Math.ceil(request.ttlMs),
        ]);
        if (row !== undefined) return leadershipFromRow(row);
        // The insert conflicted, so the row exists; it is missing only if deleted in between: try again.
        const current = await read(request.name);
        if (current !== undefined) return current;
      }
    },

    async releaseLeadership(name, holder) {
      const rows = await pool.query(
        'UPDATE leaderships SET expires_at = $3 WHERE name = $1 AND holder = $2 AND expires_at > $3 RETURNING name',
        [name, holder, clock()],
      );
      return rows.length > 0;
    },

    getLeadership: read,
  };
}
