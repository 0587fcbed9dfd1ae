/**
 * The export walk shared by every backend: each table read in key order, a page at a time, and turned
 * into export records in file order (see `ExportRecord`).
 */
import { ConflictError, InvalidInputError, type WarrenError } from '../core/errors.ts';
import type { ModelEndpoint } from '../core/model-endpoints.ts';
import { describeExportRecord } from './rows/export-record-rows.ts';
import { attemptFromRow } from './rows/attempt-row.ts';
import { breakerFromRow } from './rows/breaker-row.ts';
import type {
  AttemptRow,
  BreakerRow,
  EventRow,
  ModelEndpointRow,
  RunnerRow,
  UsageRecordRow,
} from './rows/database-schema.ts';
import { eventFromRow } from './rows/event-row.ts';
import { leadershipFromRow, type LeadershipRow } from './rows/leadership-row.ts';
import { parseJsonColumn } from './rows/parse-json-column.ts';
import { runnerFromRow } from './rows/runner-row.ts';
import { taskFromRow, type TaskRecordRow } from './rows/task-row.ts';
import { usageRecordFromRow } from './rows/usage-record-row.ts';
import type { ExportRecord } from './store.ts';

/** The tables of an export, in file order, with the key each is paged by. */
export const EXPORT_TABLES = {
  endpoints: { table: 'model_endpoints', key: 'name', first: '' },
  runners: { table: 'runners', key: 'id', first: '' },
  tasks: { table: 'tasks', key: 'seq', first: 0 },
  attempts: { table: 'attempts', key: 'id', first: '' },
  usage: { table: 'usage_records', key: 'id', first: 0 },
  events: { table: 'events', key: 'id', first: 0 },
  leaderships: { table: 'leaderships', key: 'name', first: '' },
  breakers: { table: 'breakers', key: 'key', first: '' },
} as const;

/** One of the exported tables. */
export type ExportTable = keyof typeof EXPORT_TABLES;

/** Reads the rows of `table` whose key is greater than `after`, in key order, at most `limit` of them. */
export type ReadExportPage = (
  table: ExportTable,
  after: string | number,
  limit: number,
) => Promise<unknown[]>;

// why: a thousand rows is a few megabytes at most (a task row with long instructions is the largest), so
// an export's memory stays flat however big the store is, and a page is still one cheap index range read.
const pageSize = 1_000;

/** Every record of a store, header first, read with `readPage`. */
export async function* exportStoreRecords(
  dialect: 'sqlite' | 'postgres',
  readPage: ReadExportPage,
): AsyncGenerator<ExportRecord> {
  yield {
    kind: 'header',
    format: 'warren-export',
    version: 1,
    dialect,
    exportedAt: new Date().toISOString(),
  };

  async function* rowsOf<Row>(table: ExportTable): AsyncGenerator<Row> {
    const { key, first } = EXPORT_TABLES[table];
    let after: string | number = first;
    for (;;) {
      const page = (await readPage(table, after, pageSize)) as Row[];
      yield* page;
      const last = page.at(-1) as Record<string, string | number> | undefined;
      if (last === undefined || page.length < pageSize) return;
      after = last[key]!;
    }
  }

  for await (const row of rowsOf<ModelEndpointRow>('endpoints')) {
    yield { kind: 'endpoint', endpoint: parseJsonColumn<ModelEndpoint>(row.definition) };
  }
  for await (const row of rowsOf<RunnerRow>('runners')) {
    const { activeAttempts: _derived, ...runner } = runnerFromRow(row, 0);
    yield { kind: 'runner', runner, tokenHash: row.token_hash };
  }
  for await (const row of rowsOf<TaskRecordRow>('tasks')) {
    yield { kind: 'task', task: taskFromRow(row), leaseEpoch: row.lease_epoch };
  }
  for await (const row of rowsOf<AttemptRow>('attempts')) {
    yield { kind: 'attempt', attempt: attemptFromRow(row), leaseTokenHash: row.lease_token_hash };
  }
  for await (const row of rowsOf<UsageRecordRow>('usage')) {
    yield { kind: 'usage', record: usageRecordFromRow(row) };
  }
  for await (const row of rowsOf<EventRow>('events')) {
    yield { kind: 'event', event: eventFromRow(row) };
  }
  for await (const row of rowsOf<LeadershipRow>('leaderships')) {
    yield { kind: 'leadership', leadership: leadershipFromRow(row) };
  }
  for await (const row of rowsOf<BreakerRow>('breakers')) {
    yield { kind: 'breaker', breaker: breakerFromRow(row) };
  }
}

/** What kind of rule the database said an imported record broke. */
export type ImportRefusal = 'unique' | 'foreign-key' | 'other';

/**
 * The error to throw for a record the database refused: ConflictError for one that clashes with a row
 * already here (or earlier in the import), InvalidInputError naming the record for one that points at a
 * row that is not here or breaks another rule.
 */
export function explainImportRefusal(
  refusal: ImportRefusal,
  error: unknown,
  index: number,
  record: ExportRecord,
): WarrenError {
  const message = error instanceof Error ? error.message : String(error);
  const what = describeExportRecord(record);
  if (refusal === 'unique') {
    return new ConflictError(
      `record ${index}, ${what}, clashes with one already in this store (${message}); import into an empty store`,
    );
  }
  if (refusal === 'foreign-key') {
    return new InvalidInputError([
      {
        field: record.kind === 'attempt' ? `${index}.attempt.taskId` : `${index}.${record.kind}`,
        reason: `${what} names a row that is not in this store; records must come in export order`,
      },
    ]);
  }
  return new InvalidInputError([
    { field: `${index}.${record.kind}`, reason: `${what} was refused (${message})` },
  ]);
}
