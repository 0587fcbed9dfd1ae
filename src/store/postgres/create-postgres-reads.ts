/**
 * The PostgreSQL store's read-only methods: tasks, attempts, events, usage and counts. Each is one
 * statement outside any explicit transaction.
 */
import { sql, type SqlBool } from 'kysely';
import { LANES, type TaskState } from '../../core/types.ts';
import { attemptFromRow } from '../rows/attempt-row.ts';
import { checkLimit } from '../rows/check-limit.ts';
import type { AttemptRow, EventRow, UsageRecordRow } from '../rows/database-schema.ts';
import { eventFromRow } from '../rows/event-row.ts';
import { taskFromRow } from '../rows/task-row.ts';
import { usageRecordFromRow } from '../rows/usage-record-row.ts';
import type { Store } from '../store.ts';
import { decodeTaskCursor, encodeTaskCursor } from '../task-cursor.ts';
import type { PostgresStoreContext } from './postgres-store-context.ts';
import type { PostgresTaskRow } from './postgres-schema.ts';

/** The read methods of a PostgreSQL store. */
export type PostgresReads = Pick<
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

/** Creates the read methods on `context`. */
export function createPostgresReads(context: PostgresStoreContext): PostgresReads {
  const { pool, selectAll, kysely } = context;

  async function attemptTaskId(attemptId: string): Promise<string | undefined> {
    const [row] = await pool.query<{ task_id: string }>('SELECT task_id FROM attempts WHERE id = $1', [
      attemptId,
    ]);
    return row?.task_id;
  }

  return {
    async countQueuedTasks(upTo) {
      if (!(upTo >= 1)) return 0;
      // Reads at most `upTo` entries of the claim index (queued tasks only), however long the queue.
      const [row] = await pool.query<{ count: number }>(
        `SELECT COUNT(*)::integer AS count FROM (SELECT 1 FROM tasks WHERE state = 'queued' LIMIT $1) AS queued`,
        [Math.floor(upTo)],
      );
      return row?.count ?? 0;
    },

    async getTask(id) {
      const [row] = await pool.query<PostgresTaskRow>('SELECT * FROM tasks WHERE id = $1', [id]);
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
      }
      if (query.lane !== undefined) builder = builder.where('lane', '=', query.lane);
      if (query.repo !== undefined) builder = builder.where('repo', '=', query.repo);
      if (query.label !== undefined) {
        const label = query.label;
        builder = builder.where(
          sql<SqlBool>`exists (select 1 from json_array_elements_text(${sql.ref('tasks.labels')}) as label (value) where label.value = ${label})`,
        );
      }
      const rows = await selectAll<PostgresTaskRow>(builder.compile());
      const items = rows.slice(0, query.limit).map(taskFromRow);
      const last = rows.length > query.limit ? rows[query.limit - 1] : undefined;
      return last === undefined ? { items } : { items, nextCursor: encodeTaskCursor(last.seq) };
    },

    async getAttempt(id) {
      const [row] = await pool.query<AttemptRow>('SELECT * FROM attempts WHERE id = $1', [id]);
      return row === undefined ? undefined : attemptFromRow(row);
    },

    async listAttempts(taskId) {
      const rows = await pool.query<AttemptRow>('SELECT * FROM attempts WHERE task_id = $1 ORDER BY number', [
        taskId,
      ]);
      return rows.map(attemptFromRow);
    },

    async listEvents(query) {
      checkLimit(query.limit, 5_000);
      const { afterId, attemptId, types } = query;
      let taskId = query.taskId;
      if (attemptId !== undefined && taskId === undefined) {
        // An attempt's events are found through its task's index.
        taskId = await attemptTaskId(attemptId);
        if (taskId === undefined) return [];
      }
      let builder = kysely.selectFrom('events').selectAll().orderBy('id', 'asc').limit(query.limit);
      if (taskId !== undefined) builder = builder.where('task_id', '=', taskId);
      if (afterId !== undefined) builder = builder.where('id', '>', afterId);
      if (attemptId !== undefined) builder = builder.where('attempt_id', '=', attemptId);
      if (types !== undefined && types.length > 0) builder = builder.where('type', 'in', types);
      return (await selectAll<EventRow>(builder.compile())).map(eventFromRow);
    },

    async listUsage(query) {
      checkLimit(query.limit, 5_000);
      let rows: UsageRecordRow[];
      if (query.attemptId !== undefined) {
        // An attempt's rows are found through its task's index.
        const taskId = await attemptTaskId(query.attemptId);
        if (taskId === undefined || (query.taskId !== undefined && query.taskId !== taskId)) return [];
        rows = await pool.query<UsageRecordRow>(
          'SELECT * FROM usage_records WHERE task_id = $1 AND attempt_id = $2 ORDER BY id DESC LIMIT $3',
          [taskId, query.attemptId, query.limit],
        );
      } else if (query.taskId !== undefined) {
        rows = await pool.query<UsageRecordRow>(
          'SELECT * FROM usage_records WHERE task_id = $1 ORDER BY id DESC LIMIT $2',
          [query.taskId, query.limit],
        );
      } else {
        rows = await pool.query<UsageRecordRow>('SELECT * FROM usage_records ORDER BY id DESC LIMIT $1', [
          query.limit,
        ]);
      }
      return rows.map(usageRecordFromRow);
    },

    async lastEventId() {
      const [row] = await pool.query<{ last_id: number }>('SELECT last_id FROM event_counter');
      return row?.last_id ?? 0;
    },

    async countTasks() {
      // why a GROUP BY and not counters kept in a table: a counter row per lane and state would be updated
      // by every claim and completion from every hub, one more hot row serialising the queue. Counting
      // reads the tasks_state_seq index; metrics scrapes and dashboards can afford that.
      const rows = await pool.query<{ lane_rank: number; state: TaskState; count: number }>(
        'SELECT lane_rank, state, COUNT(*)::integer AS count FROM tasks GROUP BY lane_rank, state ORDER BY lane_rank, state',
      );
      return rows.map((row) => ({
        lane: LANES[row.lane_rank] ?? 'normal',
        state: row.state,
        count: row.count,
      }));
    },
  };
}
