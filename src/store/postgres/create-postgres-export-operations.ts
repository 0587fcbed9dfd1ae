/**
 * The PostgreSQL store's export and import (`warren export` / `warren import`): every table read in pages
 * as backend-neutral records, and records written back with their own ids, times and event ids.
 *
 * An import writes rows directly (no state machine, no new events). Tasks get new `seq` values in file
 * order, which keeps their age order; the ledger's identity and the event counter are moved past the
 * largest imported ids at the end of each batch, so new rows and events continue after them.
 */
import { parseExportRecord } from '../export-record-schema.ts';
import {
  EXPORT_TABLES,
  exportStoreRecords,
  explainImportRefusal,
  type ImportRefusal,
} from '../export-store-records.ts';
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
import type { ExportRecord, Store } from '../store.ts';
import type { PostgresClient } from './create-postgres-pool.ts';
import { sqlStateOf } from './postgres-errors.ts';
import type { PostgresStoreContext } from './postgres-store-context.ts';

/** The export and import methods of a PostgreSQL store. */
export type PostgresExportOperations = Pick<Store, 'exportRecords' | 'importRecords'>;

/** Inserts `row` (its keys are the column names) into `table`. */
async function insertRow(client: PostgresClient, table: string, row: Record<string, unknown>): Promise<void> {
  const columns = Object.keys(row);
  await client.query(
    `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, index) => `$${index + 1}`).join(', ')})`,
    columns.map((column) => row[column]),
  );
}

/** Writes one record's rows in the current transaction; returns the event id it inserted, if any. */
async function importOne(
  client: PostgresClient,
  record: ExportRecord,
  now: number,
): Promise<number | undefined> {
  switch (record.kind) {
    case 'header':
      return undefined;
    case 'endpoint':
      await insertRow(client, 'model_endpoints', {
        name: record.endpoint.name,
        definition: JSON.stringify(record.endpoint),
        created_at: now,
        updated_at: now,
      });
      return undefined;
    case 'runner':
      await insertRow(client, 'runners', { ...runnerRowOf(record.runner, record.tokenHash) });
      return undefined;
    case 'task': {
      const row = taskRecordRowOf(record.task, record.leaseEpoch);
      await insertRow(client, 'tasks', row);
      if (record.task.dependsOn.length > 0) {
        await client.query(
          `INSERT INTO task_dependencies (task_id, depends_on_id)
            SELECT $1, parent FROM unnest($2::text[]) AS parent ON CONFLICT DO NOTHING`,
          [row.id, record.task.dependsOn],
        );
      }
      return undefined;
    }
    case 'attempt': {
      await insertRow(client, 'attempts', { ...attemptRowOf(record.attempt, record.leaseTokenHash) });
      const holdKeys = activeHoldKeysOf(record.attempt);
      if (holdKeys.length > 0) {
        await client.query(
          'INSERT INTO attempt_holds (hold_key, attempt_id) SELECT key, $2 FROM unnest($1::text[]) AS key',
          [holdKeys, record.attempt.id],
        );
      }
      return undefined;
    }
    case 'usage':
      await insertRow(client, 'usage_records', { ...usageRecordRowOf(record.record) });
      return undefined;
    case 'event':
      await insertRow(client, 'events', { ...eventRowOf(record.event) });
      return record.event.id;
    case 'leadership':
      await insertRow(client, 'leaderships', { ...leadershipRowOf(record.leadership) });
      return undefined;
    case 'breaker':
      await insertRow(client, 'breakers', { ...breakerRowOf(record.breaker) });
      return undefined;
  }
}

/** Which rule a pg error says the record broke, or undefined when it is no constraint error. */
function refusalOf(error: unknown): ImportRefusal | undefined {
  switch (sqlStateOf(error)) {
    case '23505':
      return 'unique';
    case '23503':
      return 'foreign-key';
    case '23502':
    case '23514':
    case '22P02':
      return 'other';
    case undefined:
    default:
      return undefined;
  }
}

/** Creates the export and import methods on `context`. */
export function createPostgresExportOperations(context: PostgresStoreContext): PostgresExportOperations {
  const { pool, writer } = context;

  return {
    exportRecords() {
      return exportStoreRecords('postgres', async (table, after, limit) => {
        const { table: name, key } = EXPORT_TABLES[table];
        return pool.query(`SELECT * FROM ${name} WHERE ${key} > $1 ORDER BY ${key} LIMIT $2`, [after, limit]);
      });
    },

    async importRecords(records) {
      // Every record is checked before anything is written.
      const checked = records.map((record, index) => parseExportRecord(record, index));
      if (checked.length === 0) return;
      await writer.write(async (scope) => {
        let lastEventId = 0;
        for (const [index, record] of checked.entries()) {
          // A savepoint per record would cost a round trip each; the first refusal ends the batch anyway.
          try {
            const eventId = await importOne(scope.client, record, scope.now);
            if (eventId !== undefined) lastEventId = Math.max(lastEventId, eventId);
          } catch (error) {
            const refusal = refusalOf(error);
            throw refusal === undefined ? error : explainImportRefusal(refusal, error, index, record);
          }
        }
        if (lastEventId > 0) {
          await scope.client.query('UPDATE event_counter SET last_id = GREATEST(last_id, $1)', [lastEventId]);
        }
        await scope.client.query(
          `SELECT setval(pg_get_serial_sequence('usage_records', 'id'), GREATEST(MAX(id), 1), MAX(id) IS NOT NULL)
            FROM usage_records`,
        );
        if (checked.some((record) => record.kind === 'task' && record.task.state === 'queued')) {
          scope.markTasksReady();
        }
      });
    },
  };
}
