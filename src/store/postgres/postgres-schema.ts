/**
 * The PostgreSQL schema as TypeScript types, for Kysely and for the rows the store reads. The tables and
 * columns are SQLite's (src/store/rows/database-schema.ts) with three differences: tasks have no
 * `attempt_ids` or `history_event_ids` (PostgreSQL finds a task's attempts and events through indexes), a
 * task's `required_capabilities` is a `text[]` (the claim tests it with `<@`), and there are two more
 * tables, `event_counter` and `leaderships`.
 */
import type { Generated } from 'kysely';
import type {
  AttemptHoldRow,
  AttemptRow,
  BreakerRow,
  EventRow,
  ModelEndpointRow,
  RunnerRow,
  SchemaMigrationRow,
  TaskDependencyRow,
  TaskRow,
  UsageRecordRow,
} from '../rows/database-schema.ts';
import type { LeadershipRow } from '../rows/leadership-row.ts';

/** A row of `tasks`. */
export type PostgresTaskRow = Omit<TaskRow, 'attempt_ids' | 'history_event_ids' | 'required_capabilities'> & {
  /** Sorted, without duplicates: `capabilities` plus `executor:<executor>` (and the model's). */
  required_capabilities: string[];
};

/** The row of `event_counter`: the last event id handed out. */
export interface EventCounterRow {
  only_row: boolean;
  last_id: number;
}

/** The whole database, for Kysely. */
export interface PostgresDatabase {
  tasks: Omit<PostgresTaskRow, 'seq'> & { seq: Generated<number> };
  task_dependencies: TaskDependencyRow;
  attempts: AttemptRow;
  attempt_holds: AttemptHoldRow;
  breakers: BreakerRow;
  runners: RunnerRow;
  events: EventRow;
  event_counter: EventCounterRow;
  usage_records: Omit<UsageRecordRow, 'id'> & { id: Generated<number> };
  model_endpoints: ModelEndpointRow;
  leaderships: LeadershipRow;
  schema_migrations: SchemaMigrationRow;
}
