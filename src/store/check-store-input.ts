/**
 * Checks and copies of store inputs that every backend applies the same way.
 */
import { InvalidInputError, type FieldIssue } from '../core/errors.ts';
import type { AttemptError } from '../core/types.ts';
import type { UsageRecordInput } from '../core/usage.ts';
import { MAX_ROUTING_BYTES, type TaskAssignment } from './store.ts';

/** The error recorded on an attempt whose lease ran out. */
export const LEASE_EXPIRED_ERROR: AttemptError = {
  message: 'lease expired: the runner stopped heartbeating',
  kind: 'lease_expired',
  retryable: true,
};

/** Throws InvalidInputError (field `leaseMs`) unless the lease length is a positive number. */
export function checkLeaseMs(leaseMs: number): void {
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) {
    throw new InvalidInputError([{ field: 'leaseMs', reason: 'must be a positive number of milliseconds' }]);
  }
}

/**
 * Throws InvalidInputError naming every bad field of the records: token counts must be whole numbers of
 * zero or more, costs finite and zero or more. why: the totals are sums that cannot be corrected later.
 */
export function checkUsageRecords(records: UsageRecordInput[]): void {
  const issues: FieldIssue[] = [];
  for (const [index, record] of records.entries()) {
    for (const field of ['inputTokens', 'outputTokens'] as const) {
      if (!Number.isSafeInteger(record[field]) || record[field] < 0) {
        issues.push({ field: `records.${index}.${field}`, reason: 'must be a whole number of 0 or more' });
      }
    }
    if (!Number.isFinite(record.costUsd) || record.costUsd < 0) {
      issues.push({ field: `records.${index}.costUsd`, reason: 'must be a number of 0 or more' });
    }
  }
  if (issues.length > 0) throw new InvalidInputError(issues);
}

/** The known fields of an attempt error, so that nothing else a caller attached ends up in a row. */
export function copyAttemptError(error: AttemptError): AttemptError {
  const copy: AttemptError = { message: error.message, kind: error.kind, retryable: error.retryable };
  if (error.nextRetryDelayMs !== undefined) copy.nextRetryDelayMs = error.nextRetryDelayMs;
  return copy;
}

// why: the HTTP claim route takes at most 256 tasks per call, and the scheduler assigns at most that many.
const maxAssignments = 256;
// why: hold keys are names such as `agent:gitops` or `limit:deploy`; 200 characters is far more than any needs.
const maxHoldKeyLength = 200;

/** An assignment as the stores apply it: checked, with its columns ready to write. */
export interface CheckedAssignment {
  taskId: string;
  /** The `agent` column: `''` for none. */
  agent: string;
  /** The `routing` column: the record as JSON. */
  routing: string | null;
  /** The holds, one per key (the smallest limit where a key is named twice), in the order given. */
  holds: Array<{ key: string; limit: number }>;
  /** The `holds` column: the keys as a JSON array, or null when there are none. */
  holdKeys: string | null;
}

/**
 * Checks a claim's assignments and prepares their columns. Throws InvalidInputError naming every bad field
 * (`assignments.N.routing`, `assignments.N.holds.M.limit`, ...). A task named twice is taken at its first
 * place only.
 */
export function checkAssignments(assignments: readonly TaskAssignment[]): CheckedAssignment[] {
  if (assignments.length > maxAssignments) {
    throw new InvalidInputError([
      {
        field: 'assignments',
        reason: `must list at most ${maxAssignments} tasks (has ${assignments.length})`,
      },
    ]);
  }
  const issues: FieldIssue[] = [];
  const checked: CheckedAssignment[] = [];
  const seen = new Set<string>();
  for (const [index, assignment] of assignments.entries()) {
    const field = `assignments.${index}`;
    if (typeof assignment.taskId !== 'string' || assignment.taskId === '') {
      issues.push({ field: `${field}.taskId`, reason: 'must be a task id' });
    }
    if (assignment.agent !== undefined && (typeof assignment.agent !== 'string' || assignment.agent === '')) {
      issues.push({ field: `${field}.agent`, reason: 'must be an agent name' });
    }
    const routing = routingColumnOf(assignment.routing, `${field}.routing`, issues);
    const holds = new Map<string, number>();
    for (const [holdIndex, hold] of (assignment.holds ?? []).entries()) {
      const holdField = `${field}.holds.${holdIndex}`;
      if (typeof hold.key !== 'string' || hold.key === '' || hold.key.length > maxHoldKeyLength) {
        issues.push({ field: `${holdField}.key`, reason: `must be 1 to ${maxHoldKeyLength} characters` });
        continue;
      }
      if (!Number.isSafeInteger(hold.limit) || hold.limit < 1) {
        issues.push({ field: `${holdField}.limit`, reason: 'must be a whole number of 1 or more' });
        continue;
      }
      holds.set(hold.key, Math.min(hold.limit, holds.get(hold.key) ?? hold.limit));
    }
    if (seen.has(assignment.taskId)) continue;
    seen.add(assignment.taskId);
    checked.push({
      taskId: assignment.taskId,
      agent: assignment.agent ?? '',
      routing,
      holds: [...holds].map(([key, limit]) => ({ key, limit })),
      holdKeys: holds.size === 0 ? null : JSON.stringify([...holds.keys()]),
    });
  }
  if (issues.length > 0) throw new InvalidInputError(issues);
  return checked;
}

/** The `routing` column of a routing record, or null; adds an issue when it is no JSON object or too big. */
function routingColumnOf(
  routing: Record<string, unknown> | undefined,
  field: string,
  issues: FieldIssue[],
): string | null {
  if (routing === undefined) return null;
  if (typeof routing !== 'object' || routing === null || Array.isArray(routing)) {
    issues.push({ field, reason: 'must be a JSON object' });
    return null;
  }
  let text: string;
  try {
    text = JSON.stringify(routing);
  } catch {
    issues.push({ field, reason: 'must be JSON-serialisable' });
    return null;
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_ROUTING_BYTES) {
    issues.push({ field, reason: `must serialize to at most ${MAX_ROUTING_BYTES} bytes (is ${bytes})` });
    return null;
  }
  return text;
}
