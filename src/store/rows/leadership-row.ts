/**
 * Conversion between a `leaderships` row and the domain Leadership.
 */
import type { Leadership } from '../store.ts';
import { epochToIso } from './epoch-to-iso.ts';

/** A row of `leaderships`: one named leadership; times in epoch ms. */
export interface LeadershipRow {
  name: string;
  holder: string;
  term: number;
  acquired_at: number;
  expires_at: number;
}

/** The domain Leadership stored in `row`. */
export function leadershipFromRow(row: LeadershipRow): Leadership {
  return {
    name: row.name,
    holder: row.holder,
    term: row.term,
    acquiredAt: epochToIso(row.acquired_at),
    expiresAt: epochToIso(row.expires_at),
  };
}

/** The row of an imported leadership. */
export function leadershipRowOf(leadership: Leadership): LeadershipRow {
  return {
    name: leadership.name,
    holder: leadership.holder,
    term: leadership.term,
    acquired_at: Date.parse(leadership.acquiredAt),
    expires_at: Date.parse(leadership.expiresAt),
  };
}
