/**
 * The SQLite store's named leaderships: one row per name in `leaderships`, taken, renewed and given up in
 * one write transaction each, so two callers can never both come away holding the same name.
 */
import { InvalidInputError } from '../../core/errors.ts';
import type { Store } from '../store.ts';
import { leadershipFromRow, type LeadershipRow } from '../rows/leadership-row.ts';
import type { SqliteStoreContext } from './sqlite-store-context.ts';

/** The leadership methods of a SQLite store. */
export type SqliteLeadershipOperations = Pick<
  Store,
  'acquireLeadership' | 'releaseLeadership' | 'getLeadership'
>;

const selectLeadership = 'SELECT * FROM leaderships WHERE name = ?';
const insertLeadership = `INSERT INTO leaderships (name, holder, term, acquired_at, expires_at)
  VALUES (?, ?, 1, ?, ?)`;
const renewLeadership = 'UPDATE leaderships SET expires_at = ? WHERE name = ?';
const takeOverLeadership = `UPDATE leaderships SET holder = ?, term = term + 1, acquired_at = ?, expires_at = ?
  WHERE name = ?`;

// why: the latest instant a JavaScript Date can hold; an expiry past it could not be written as ISO text.
const latestEpochMs = 8_640_000_000_000_000;

/** Creates the leadership methods on `context`. */
export function createSqliteLeadershipOperations(context: SqliteStoreContext): SqliteLeadershipOperations {
  const { writer, statement } = context;
  const read = (name: string): LeadershipRow | undefined =>
    statement(selectLeadership).get(name) as LeadershipRow | undefined;

  return {
    async acquireLeadership({ name, holder, ttlMs }) {
      if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
        throw new InvalidInputError([
          { field: 'ttlMs', reason: 'must be a positive number of milliseconds' },
        ]);
      }
      return writer.write((scope) => {
        const { now } = scope;
        // why ceil: the columns hold whole milliseconds, and rounding down could make a lease end before
        // the time the caller asked for.
        const expiresAt = now + Math.ceil(ttlMs);
        if (expiresAt > latestEpochMs) {
          throw new InvalidInputError([
            { field: 'ttlMs', reason: 'is too long: the lease would end after year 275760' },
          ]);
        }
        const existing = read(name);
        if (existing === undefined) {
          statement(insertLeadership).run(name, holder, now, expiresAt);
        } else if (existing.expires_at <= now) {
          statement(takeOverLeadership).run(holder, now, expiresAt, name);
        } else if (existing.holder === holder) {
          statement(renewLeadership).run(expiresAt, name);
        } else {
          return leadershipFromRow(existing);
        }
        return leadershipFromRow(read(name)!);
      });
    },

    async releaseLeadership(name, holder) {
      return writer.write(({ now }) => {
        const existing = read(name);
        if (existing === undefined || existing.holder !== holder || existing.expires_at <= now) return false;
        // The row stays, ending now: the next acquire by anyone is a takeover with the next term.
        statement(renewLeadership).run(now, name);
        return true;
      });
    },

    async getLeadership(name) {
      const row = read(name);
      return row === undefined ? undefined : leadershipFromRow(row);
    },
  };
}
