/**
 * Conversion from an `attempts` row to the domain Attempt.
 */
import type { Attempt, AttemptError, TaskResult, VerificationRound } from '../../core/types.ts';
import type { AttemptRow } from './database-schema.ts';
import { epochToIso } from './epoch-to-iso.ts';
import { parseJsonColumn } from './parse-json-column.ts';
import { usageTotalsFromRow } from './usage-record-row.ts';

/** The domain Attempt stored in `row`; the lease token hash is never part of it. */
export function attemptFromRow(row: AttemptRow): Attempt {
  const attempt: Attempt = {
    id: row.id,
    taskId: row.task_id,
    runnerId: row.runner_id,
    number: row.number,
    state: row.state,
    fencingToken: row.fencing_token,
    leaseExpiresAt: epochToIso(row.lease_expires_at),
    startedAt: epochToIso(row.started_at),
    verification: parseJsonColumn<VerificationRound[]>(row.verification),
    usage: usageTotalsFromRow(row),
  };
  if (row.finished_at !== null) attempt.finishedAt = epochToIso(row.finished_at);
  if (row.progress !== null) attempt.progress = row.progress;
  if (row.branch !== null) attempt.branch = row.branch;
  if (row.worktree_path !== null) attempt.worktreePath = row.worktree_path;
  if (row.error !== null) attempt.error = parseJsonColumn<AttemptError>(row.error);
  if (row.result !== null) attempt.result = parseJsonColumn<TaskResult>(row.result);
  if (row.agent !== '') attempt.agent = row.agent;
  if (row.routing !== null) attempt.routing = parseJsonColumn<Record<string, unknown>>(row.routing);
  if (row.holds !== null) attempt.holds = parseJsonColumn<string[]>(row.holds);
  return attempt;
}
