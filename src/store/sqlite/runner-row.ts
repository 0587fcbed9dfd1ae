/**
 * Conversion from a `runners` row to the domain Runner.
 */
import type { Runner } from '../../core/types.ts';
import type { RunnerRow } from './database-schema.ts';
import { epochToIso } from './epoch-to-iso.ts';
import { parseJsonColumn } from './parse-json-column.ts';

/** The domain Runner stored in `row`; `activeAttempts` is derived by the caller's query. */
export function runnerFromRow(row: RunnerRow, activeAttempts: number): Runner {
  const runner: Runner = {
    id: row.id,
    name: row.name,
    capabilities: parseJsonColumn<string[]>(row.capabilities),
    slots: row.slots,
    status: row.status,
    createdAt: epochToIso(row.created_at),
    activeAttempts,
  };
  if (row.version !== null) runner.version = row.version;
  if (row.hostname !== null) runner.hostname = row.hostname;
  if (row.last_heartbeat_at !== null) runner.lastHeartbeatAt = epochToIso(row.last_heartbeat_at);
  return runner;
}
