/**
 * Conversion from an `events` row to the domain WarrenEvent.
 */
import type { WarrenEvent } from '../../core/types.ts';
import type { EventRow } from './database-schema.ts';
import { epochToIso } from './epoch-to-iso.ts';
import { parseJsonColumn } from './parse-json-column.ts';

/** The domain event stored in `row`. */
export function eventFromRow(row: EventRow): WarrenEvent {
  const event: WarrenEvent = {
    id: row.id,
    type: row.type,
    at: epochToIso(row.at),
    data: parseJsonColumn<Record<string, unknown>>(row.data),
  };
  if (row.task_id !== null) event.taskId = row.task_id;
  if (row.attempt_id !== null) event.attemptId = row.attempt_id;
  if (row.runner_id !== null) event.runnerId = row.runner_id;
  return event;
}
