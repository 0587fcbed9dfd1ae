/**
 * The SQLite store's export and import (`warren export` / `warren import`): every table read in pages as
 * backend-neutral records, and records written back with their own ids, times and event ids.
 *
 * An import writes rows directly (no state machine, no new events) and rebuilds what only SQLite keeps:
 * `tasks.lane_rank`, the canonical `required_capabilities`, the `task_dependencies` edges, and the id lists
 * `attempt_ids` and `history_event_ids`, which fill in as the attempts and events of a task arrive (in a
 * later batch, usually). The in-memory state of the store follows through the writer's usual paths: task
 * counts and claimable requirement sets are updated after the commit, and the writer is told the highest
 * event id inserted, so that new events continue after it.
 */
import { InvalidInputError } from '../../core/errors.ts';
import type { EventType } from '../../core/types.ts';
import { parseExportRecord } from '../export-record-schema.ts';
import {
  exportStoreRecords,
  explainImportRefusal,
  type ExportTable,
  type ImportRefusal,
} from '../export-store-records.ts';
import type { ExportRecord, Store } from '../store.ts';
import type { TaskRow } from '../rows/database-schema.ts';
import {
  activeHoldKeysOf,
  attemptRowOf,
  breakerRowOf,
  eventRowOf,
  runnerRowOf,
  taskRecordRowOf,
  usageRecordRowOf,
} from '../rows/export-record-rows.ts';
import { leadershipRowOf } from '../rows/leadership-row.ts';
import { parseJsonColumn } from '../rows/parse-json-column.ts';
import type { QueuedCapabilitySets } from './create-queued-capability-sets.ts';
import type { WriteScope } from './create-sqlite-writer.ts';
import type { TaskStateCounts } from './create-task-state-counts.ts';
import { sqliteStatements } from './sqlite-statements.ts';
import type { SqliteStoreContext } from './sqlite-store-context.ts';

/** The export and import methods of a SQLite store. */
export type SqliteExportOperations = Pick<Store, 'exportRecords' | 'importRecords'>;

/** The in-memory state of the store that an import must keep current. */
export interface SqliteImportCaches {
  counts: TaskStateCounts;
  queuedCapabilitySets: QueuedCapabilitySets;
}

/**
 * Event types listed on their task's row (`tasks.history_event_ids`) instead of the events_task index;
 * must match `taskHistoryEventTypes` in sqlite-statements.ts (migration 0001).
 */
const historyEventTypes: ReadonlySet<EventType> = new Set(['task.created', 'task.state', 'attempt.state']);

/**
 * One keyset-paged read per table, in export-file order; `?` are the last key read and the page size. Each
 * walks its table's primary key (the test checks the plans), so a page costs the same anywhere in a table.
 */
export const exportPageStatements: Record<ExportTable, string> = {
  endpoints: 'SELECT * FROM model_endpoints WHERE name > ? ORDER BY name LIMIT ?',
  runners: 'SELECT * FROM runners WHERE id > ? ORDER BY id LIMIT ?',
  tasks: 'SELECT * FROM tasks WHERE seq > ? ORDER BY seq LIMIT ?',
  attempts: 'SELECT * FROM attempts WHERE id > ? ORDER BY id LIMIT ?',
  usage: 'SELECT * FROM usage_records WHERE id > ? ORDER BY id LIMIT ?',
  events: 'SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?',
  leaderships: 'SELECT * FROM leaderships WHERE name > ? ORDER BY name LIMIT ?',
  breakers: 'SELECT * FROM breakers WHERE key > ? ORDER BY key LIMIT ?',
};

/** The statements of an import: rows with every column given, ids included. */
export const importStatements = {
  insertAttempt: `INSERT INTO attempts (id, task_id, runner_id, number, state, lease_token_hash, fencing_token,
    lease_expires_at, progress, branch, worktree_path, error, verification, result, started_at, finished_at,
    usage_input_tokens, usage_output_tokens, usage_cost_usd, usage_calls, agent, routing, holds)
    VALUES (@id, @task_id, @runner_id, @number, @state, @lease_token_hash, @fencing_token, @lease_expires_at,
    @progress, @branch, @worktree_path, @error, @verification, @result, @started_at, @finished_at,
    @usage_input_tokens, @usage_output_tokens, @usage_cost_usd, @usage_calls, @agent, @routing, @holds)`,
  insertUsageRecord: `INSERT INTO usage_records (id, attempt_id, task_id, runner_id, endpoint, model,
    input_tokens, output_tokens, cost_usd, at) VALUES (@id, @attempt_id, @task_id, @runner_id, @endpoint,
    @model, @input_tokens, @output_tokens, @cost_usd, @at)`,
  insertEvent: `INSERT INTO events (id, type, task_id, attempt_id, runner_id, at, data)
    VALUES (@id, @type, @task_id, @attempt_id, @runner_id, @at, @data)`,
  insertLeadership: `INSERT INTO leaderships (name, holder, term, acquired_at, expires_at)
    VALUES (@name, @holder, @term, @acquired_at, @expires_at)`,
  insertBreaker: 'INSERT INTO breakers (key, record, updated_at) VALUES (@key, @record, @updated_at)',
  selectTaskIdLists: 'SELECT attempt_ids, history_event_ids FROM tasks WHERE id = ?',
  updateTaskIdLists: 'UPDATE tasks SET attempt_ids = ?, history_event_ids = ? WHERE id = ?',
} as const;

/** Ids to append to one task's lists at the end of a batch, and the first record that named the task. */
interface TaskListAppends {
  attemptIds: string[];
  eventIds: number[];
  firstIndex: number;
  firstKind: 'attempt' | 'event';
}

/** Creates the export and import methods on `context`; `caches` are kept current after an import. */
export function createSqliteExportOperations(
  context: SqliteStoreContext,
  caches: SqliteImportCaches,
): SqliteExportOperations {
  const { writer, statement } = context;

  /** Writes one record's rows in the current transaction; `appends` collects the task list updates. */
  function importOne(
    scope: WriteScope,
    record: ExportRecord,
    index: number,
    appends: Map<string, TaskListAppends>,
  ): void {
    const appendTo = (taskId: string, kind: TaskListAppends['firstKind']): TaskListAppends => {
      let entry = appends.get(taskId);
      if (entry === undefined) {
        entry = { attemptIds: [], eventIds: [], firstIndex: index, firstKind: kind };
        appends.set(taskId, entry);
      }
      return entry;
    };
    switch (record.kind) {
      case 'header':
        return;
      case 'endpoint':
        statement(sqliteStatements.insertEndpoint).run(
          record.endpoint.name,
          JSON.stringify(record.endpoint),
          scope.now,
          scope.now,
        );
        return;
      case 'runner':
        statement(sqliteStatements.insertRunner).run(runnerRowOf(record.runner, record.tokenHash));
        return;
      case 'task': {
        const neutral = taskRecordRowOf(record.task, record.leaseEpoch);
        const row: Omit<TaskRow, 'seq'> = {
          ...neutral,
          required_capabilities: JSON.stringify(neutral.required_capabilities),
          attempt_ids: '[]',
          history_event_ids: '[]',
        };
        statement(sqliteStatements.insertTask).run(row);
        for (const [position, parentId] of record.task.dependsOn.entries()) {
          try {
            statement(sqliteStatements.insertDependency).run(row.id, parentId);
          } catch (error) {
            if (constraintOf(error) !== 'FOREIGNKEY') throw error;
            throw new InvalidInputError([
              {
                field: `${index}.task.dependsOn.${position}`,
                reason: `task ${parentId} is not in this store: a task must come after the tasks it depends on`,
              },
            ]);
          }
        }
        const { lane_rank: laneRank, state, required_capabilities: required } = row;
        scope.afterCommit(() => caches.counts.move(laneRank, null, state));
        if (state === 'queued') {
          scope.markTasksReady();
          scope.afterCommit(() => caches.queuedCapabilitySets.add(required));
        }
        return;
      }
      case 'attempt':
        statement(importStatements.insertAttempt).run(attemptRowOf(record.attempt, record.leaseTokenHash));
        for (const key of activeHoldKeysOf(record.attempt)) {
          statement(sqliteStatements.insertAttemptHold).run(key, record.attempt.id);
        }
        appendTo(record.attempt.taskId, 'attempt').attemptIds.push(record.attempt.id);
        return;
      case 'usage':
        statement(importStatements.insertUsageRecord).run(usageRecordRowOf(record.record));
        return;
      case 'event': {
        const { event } = record;
        statement(importStatements.insertEvent).run(eventRowOf(event));
        scope.noteInsertedEvents(event.id);
        if (event.taskId !== undefined && historyEventTypes.has(event.type)) {
          appendTo(event.taskId, 'event').eventIds.push(event.id);
        }
        return;
      }
      case 'leadership':
        statement(importStatements.insertLeadership).run(leadershipRowOf(record.leadership));
        return;
      case 'breaker':
        statement(importStatements.insertBreaker).run(breakerRowOf(record.breaker));
        return;
    }
  }

  /** Appends a batch's attempt and event ids to their tasks' lists, one read and write per task. */
  function applyAppends(appends: Map<string, TaskListAppends>): void {
    for (const [taskId, entry] of appends) {
      const lists = statement(importStatements.selectTaskIdLists).get(taskId) as
        Pick<TaskRow, 'attempt_ids' | 'history_event_ids'> | undefined;
      if (lists === undefined) {
        throw new InvalidInputError([
          {
            field: `${entry.firstIndex}.${entry.firstKind}.taskId`,
            reason: `task ${taskId} is not in this store: tasks come before their ${entry.firstKind}s`,
          },
        ]);
      }
      statement(importStatements.updateTaskIdLists).run(
        appendJson(lists.attempt_ids, entry.attemptIds),
        appendJson(lists.history_event_ids, entry.eventIds),
        taskId,
      );
    }
  }

  return {
    exportRecords() {
      return exportStoreRecords('sqlite', async (table, after, limit) =>
        statement(exportPageStatements[table]).all(after, limit),
      );
    },

    async importRecords(records) {
      // Every record is checked before anything is written.
      const checked = records.map((record, index) => parseExportRecord(record, index));
      if (checked.length === 0) return;
      writer.write((scope) => {
        const appends = new Map<string, TaskListAppends>();
        for (const [index, record] of checked.entries()) {
          try {
            importOne(scope, record, index, appends);
          } catch (error) {
            const refusal = refusalOf(error);
            throw refusal === undefined ? error : explainImportRefusal(refusal, error, index, record);
          }
        }
        applyAppends(appends);
      });
    },
  };
}

/** A JSON array column with `values` appended. */
function appendJson(column: string, values: ReadonlyArray<string | number>): string {
  return values.length === 0 ? column : JSON.stringify([...parseJsonColumn<unknown[]>(column), ...values]);
}

/** Which constraint a better-sqlite3 error broke (`UNIQUE`, `FOREIGNKEY`, ...), or undefined. */
function constraintOf(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT_')
    ? code.slice('SQLITE_CONSTRAINT_'.length)
    : undefined;
}

/** Which rule a better-sqlite3 error says the record broke, or undefined when it is no constraint error. */
function refusalOf(error: unknown): ImportRefusal | undefined {
  const constraint = constraintOf(error);
  if (constraint === undefined) return undefined;
  if (constraint === 'PRIMARYKEY' || constraint === 'UNIQUE') return 'unique';
  return constraint === 'FOREIGNKEY' ? 'foreign-key' : 'other';
}
