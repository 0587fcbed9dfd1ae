/**
 * The SQLite store's read-only methods: tasks, attempts, events and counts.
 */
import { sql, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { Store } from '../store.ts';
import { decodeTaskCursor, encodeTaskCursor } from '../task-cursor.ts';
import { attemptFromRow } from '../rows/attempt-row.ts';
import { checkLimit } from '../rows/check-limit.ts';
import type { TaskStateCounts } from './create-task-state-counts.ts';
import type { AttemptRow, Database, EventRow, TaskRow, UsageRecordRow } from '../rows/database-schema.ts';
import { eventFromRow } from '../rows/event-row.ts';
import {
  eventsTaskIndexCondition,
  sqliteStatements,
  uncommonStateIndexCondition,
} from './sqlite-statements.ts';
import type { SqliteStoreContext } from './sqlite-store-context.ts';
import { taskFromRow } from '../rows/task-row.ts';
import { usageRecordFromRow } from '../rows/usage-record-row.ts';

/** The read methods of a SQLite store. Reads run directly on the connection, outside any transaction. */
export type SqliteReads = Pick<
  Store,
  | 'getTask'
  | 'listTasks'
  | 'getAttempt'
  | 'listAttempts'
  | 'listEvents'
  | 'lastEventId'
  | 'countTasks'
  | 'countQueuedTasks'
  | 'listUsage'
>;

/** Creates the read methods on `context`; `counts` answers countTasks. */
export function createSqliteReads(context: SqliteStoreContext, counts: TaskStateCounts): SqliteReads {
  const { statement, selectAll, kysely } = context;

  return {
    async getTask(id) {
      const row = statement(sqliteStatements.selectTaskById).get(id) as TaskRow | undefined;
      return row === undefined ? undefined : taskFromRow(row);
    },

    async listTasks(query) {
      checkLimit(query.limit, 500);
      // One more than asked, to know whether there is a next page.
      let builder = kysely
        .selectFrom('tasks')
        .selectAll()
        .orderBy('seq', 'desc')
        .limit(query.limit + 1);
      if (query.cursor !== undefined) builder = builder.where('seq', '<', decodeTaskCursor(query.cursor));
      if (query.states !== undefined && query.states.length > 0) {
        builder = builder.where('state', 'in', query.states);
        if (!query.states.includes('queued') && !query.states.includes('succeeded')) {
          // Repeats the partial index's condition, which lets SQLite use tasks_uncommon_state.
          builder = builder.where(sql.raw<SqlBool>(uncommonStateIndexCondition));
        }
      }
      if (query.lane !== undefined) builder = builder.where('lane', '=', query.lane);
      if (query.repo !== undefined) builder = builder.where('repo', '=', query.repo);
      if (query.label !== undefined) {
        const label = query.label;
        builder = builder.where(
          sql<SqlBool>`exists (select 1 from json_each(${sql.ref('tasks.labels')}) where value = ${label})`,
        );
      }
      const rows = selectAll<TaskRow>(builder.compile());
      const items = rows.slice(0, query.limit).map(taskFromRow);
      const last = rows.length > query.limit ? rows[query.limit - 1] : undefined;
      return last === undefined ? { items } : { items, nextCursor: encodeTaskCursor(last.seq) };
    },

    async getAttempt(id) {
      const row = statement(sqliteStatements.selectAttemptById).get(id) as AttemptRow | undefined;
      return row === undefined ? undefined : attemptFromRow(row);
    },

    async listAttempts(taskId) {
      const rows = statement(sqliteStatements.selectAttemptsByTask).all(taskId) as AttemptRow[];
      return rows.map(attemptFromRow);
    },

    async listEvents(query) {
      checkLimit(query.limit, 5_000);
      const { afterId, attemptId, types } = query;
      let taskId = query.taskId;
      if (attemptId !== undefined && taskId === undefined) {
        taskId = statement(sqliteStatements.selectAttemptTaskId).pluck().get(attemptId) as string | undefined;
        if (taskId === undefined) return [];
      }
      const filtered = (builder: SelectQueryBuilder<Database, 'events', EventRow>) => {
        let result = builder;
        if (afterId !== undefined) result = result.where('id', '>', afterId);
        if (attemptId !== undefined) result = result.where('attempt_id', '=', attemptId);
        if (types !== undefined && types.length > 0) result = result.where('type', 'in', types);
        return result;
      };
      const events = kysely.selectFrom('events').selectAll();
      if (taskId === undefined) {
        const all = filtered(events).orderBy('id', 'asc').limit(query.limit);
        return selectAll<EventRow>(all.compile()).map(eventFromRow);
      }
      // A task's lifecycle events are listed on its row; its other events are in the events_task index
      // (see migration 0001). The second part repeats the index's condition, which lets SQLite use it.
      const lifecycle = filtered(
        events.where(
          sql<SqlBool>`id IN (SELECT value FROM json_each((SELECT history_event_ids FROM tasks WHERE id = ${taskId})))`,
        ),
      );
      const others = filtered(
        events.where('task_id', '=', taskId).where(sql.raw<SqlBool>(eventsTaskIndexCondition)),
      );
      const compound = lifecycle.unionAll(others).orderBy('id', 'asc').limit(query.limit);
      return selectAll<EventRow>(compound.compile()).map(eventFromRow);
    },

    async listUsage(query) {
      checkLimit(query.limit, 5_000);
      let rows: UsageRecordRow[];
      if (query.attemptId !== undefined) {
        // An attempt's rows are found through its task's index (see migration 0003).
        const taskId = statement(sqliteStatements.selectAttemptTaskId).pluck().get(query.attemptId) as
          string | undefined;
        if (taskId === undefined || (query.taskId !== undefined && query.taskId !== taskId)) return [];
        rows = statement(sqliteStatements.selectUsageByAttempt).all(
          taskId,
          query.attemptId,
          query.limit,
        ) as UsageRecordRow[];
      } else if (query.taskId !== undefined) {
        rows = statement(sqliteStatements.selectUsageByTask).all(
          query.taskId,
          query.limit,
        ) as UsageRecordRow[];
      } else {
        rows = statement(sqliteStatements.selectUsage).all(query.limit) as UsageRecordRow[];
      }
      return rows.map(usageRecordFromRow);
    },

    async lastEventId() {
      return statement(sqliteStatements.lastEventId).pluck().get() as number;
    },

    async countTasks() {
      return counts.list();
    },

    async countQueuedTasks(upTo) {
      // The counts are kept in memory, so the exact number costs nothing.
      const queued = counts
        .list()
        .filter((count) => count.state === 'queued')
        .reduce((total, count) => total + count.count, 0);
      return Math.max(0, Math.min(queued, upTo));
    },
  };
}
