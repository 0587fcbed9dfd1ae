/**
 * `warren export` and `warren import`: everything a store holds as JSON lines (one record per line, see
 * `ExportRecord`), for backups and for moving between SQLite and PostgreSQL.
 *
 * Both open the database directly, not through a hub: `--database URL`, else `WARREN_DATABASE_URL`, else the
 * data dir's SQLite file. A SQLite file is held by the hub running on it, so stop the hub first; an import
 * goes into an empty database only.
 */
import { createReadStream, existsSync } from 'node:fs';
import { access, mkdir, open, rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { ConflictError, InvalidInputError, WarrenError, type FieldIssue } from '../../core/errors.ts';
import { readHubFile } from '../../hub/hub-file.ts';
import { parseExportRecord } from '../../store/export-record-schema.ts';
import { describeDatabaseLocation, openStore, type DatabaseLocation } from '../../store/open-store.ts';
import type { ExportRecord, Store } from '../../store/store.ts';
import { CliError } from '../cli-error.ts';
import { resolveDataDir } from '../cli-context.ts';
import { findConfigFile, readConfigFile } from '../config-file.ts';
import { databaseUnavailableError, locateDatabase, STOP_THE_HUB_HINT } from '../database-location.ts';
import { formatDuration } from '../output.ts';

// why: 500 records make one transaction of a few megabytes at most: big enough that the per-call cost
// disappears, small enough that one batch never holds the database for long or needs much memory.
const importBatchSize = 500;
// why: every 10,000 records is a line every second or so on a big import, and none on a small one.
const progressEvery = 10_000;
// why: 64 KiB writes keep the number of write calls (and, for a pipe, wake-ups of the reader) low.
const outputChunkCharacters = 64 * 1024;

/** The option both commands take. */
interface DatabaseOptions {
  database?: string;
}

/** Record kinds in file order, with their names in summaries. */
const kindNames: ReadonlyArray<[ExportRecord['kind'], string, string]> = [
  ['endpoint', 'endpoint', 'endpoints'],
  ['runner', 'runner', 'runners'],
  ['task', 'task', 'tasks'],
  ['attempt', 'attempt', 'attempts'],
  ['usage', 'usage record', 'usage records'],
  ['event', 'event', 'events'],
  ['leadership', 'leadership', 'leaderships'],
  ['breaker', 'circuit breaker', 'circuit breakers'],
];

/** Registers `warren export` and `warren import`. */
export function registerDataCommands(program: Command): void {
  program
    .command('export')
    .description(
      'write everything the database holds (tasks, attempts, events, usage, runners, endpoints) as JSON lines; stop the hub first',
    )
    .option('-o, --output <file>', 'file to write (default: stdout)')
    .option(
      '--database <url>',
      'postgres:// URL to export from (default: WARREN_DATABASE_URL, else the SQLite file in the data dir)',
    )
    .action(async (options: DatabaseOptions & { output?: string }) => {
      const location = locateCommandDatabase(options);
      if (location.dialect === 'sqlite' && !existsSync(location.filename)) {
        throw new CliError(`no database to export: ${location.filename} does not exist`, {
          hint: 'set WARREN_HOME to the data dir of the hub, or pass --database URL',
        });
      }
      const file = options.output !== undefined && options.output !== '-' ? options.output : undefined;
      const toFile = file !== undefined;
      const store = await openForCommand(location);
      let output: Writable = process.stdout;
      if (file !== undefined) {
        const handle = await open(file, 'w').catch(async (error: unknown) => {
          await store.close();
          throw new CliError(`cannot write ${file}: ${(error as Error).message}`);
        });
        output = handle.createWriteStream();
      }
      const started = performance.now();
      const counts = new Map<ExportRecord['kind'], number>();
      let written = false;
      // Failed writes reject in writeChunk; without a listener the stream's 'error' event would also crash.
      const ignoreStreamError = (): void => undefined;
      output.on('error', ignoreStreamError);
      try {
        let chunk = '';
        for await (const record of store.exportRecords()) {
          counts.set(record.kind, (counts.get(record.kind) ?? 0) + 1);
          chunk += `${JSON.stringify(record)}\n`;
          if (chunk.length >= outputChunkCharacters) {
            await writeChunk(output, chunk);
            chunk = '';
          }
        }
        await writeChunk(output, chunk);
        if (toFile) {
          output.end();
          await finished(output);
        }
        written = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EPIPE') {
          throw new CliError('the export was cut short: its reader closed stdout', { exitCode: 1 });
        }
        throw error;
      } finally {
        output.off('error', ignoreStreamError);
        await store.close();
        if (toFile && !written) {
          output.destroy();
          // A half-written export would look complete to the next import; better none at all.
          await rm(file, { force: true });
        }
      }
      const records = [...counts.values()].reduce((sum, count) => sum + count, 0);
      process.stderr.write(
        `exported ${formatCount(records)} records from ${describeDatabaseLocation(location)}${toFile ? ` to ${file}` : ''} in ${formatDuration(performance.now() - started)}: ${describeCounts(counts)}\n`,
      );
    });

  program
    .command('import')
    .argument('<file>', 'a file written by `warren export`, or - for stdin')
    .description('load an export into an empty database (a new data dir, or a new PostgreSQL database)')
    .option(
      '--database <url>',
      'postgres:// URL to import into (default: WARREN_DATABASE_URL, else the SQLite file in the data dir)',
    )
    .action(async (file: string, options: DatabaseOptions) => {
      const location = locateCommandDatabase(options);
      if (file !== '-') {
        await access(file).catch((error: unknown) => {
          throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
        });
      }
      if (location.dialect === 'sqlite') {
        await mkdir(resolveDataDir(), { recursive: true });
      }
      const store = await openForCommand(location);
      try {
        await refuseNonEmpty(store, location);
        await importFile(store, file, location);
      } finally {
        await store.close();
      }
    });
}

/** Where the command's database is (see `locateDatabase`). */
function locateCommandDatabase(options: DatabaseOptions): DatabaseLocation {
  const dataDir = resolveDataDir();
  const configPath = findConfigFile(undefined, dataDir);
  return locateDatabase({
    flag: options.database,
    configFile: configPath === undefined ? undefined : readConfigFile(configPath),
    dataDir,
  });
}

/**
 * Opens and migrates the store at `location`. A SQLite file that a hub holds is refused with the hub
 * named (from `hub.json`) or, when another process holds it, once SQLite gives up waiting for it.
 */
async function openForCommand(location: DatabaseLocation): Promise<Store> {
  if (location.dialect === 'sqlite') {
    const dataDir = resolveDataDir();
    const hub = await readHubFile(dataDir);
    if (hub !== undefined && isProcessRunning(hub.pid)) {
      throw new CliError(`a hub is running on ${dataDir} (pid ${hub.pid}, ${hub.url})`, {
        hint: STOP_THE_HUB_HINT,
      });
    }
  }
  let store: Store | undefined;
  try {
    store = await openStore(location);
    await store.migrate();
    return store;
  } catch (error) {
    await store?.close();
    if (WarrenError.isInstance(error) && error.code === 'unavailable') {
      throw databaseUnavailableError(location, error, { action: 'open' });
    }
    throw error;
  }
}

/** Refuses a database that holds anything: an import keeps ids, so it only goes into an empty one. */
async function refuseNonEmpty(store: Store, location: DatabaseLocation): Promise<void> {
  const [tasks, runners, endpoints, lastEventId] = [
    (await store.listTasks({ limit: 1 })).items.length,
    (await store.listRunners()).length,
    (await store.listEndpoints()).length,
    await store.lastEventId(),
  ];
  if (tasks + runners + endpoints + lastEventId === 0) return;
  const held = [
    tasks > 0 ? 'tasks' : undefined,
    runners > 0 ? 'runners' : undefined,
    endpoints > 0 ? 'model endpoints' : undefined,
    lastEventId > 0 ? 'events' : undefined,
  ].filter((part) => part !== undefined);
  throw new CliError(
    `${describeDatabaseLocation(location)} is not empty (it holds ${held.join(', ')}); an import goes into an empty database`,
    {
      hint: 'import into a new data dir (WARREN_HOME=...) or a new PostgreSQL database (--database URL); a hub started on the database first adds its config endpoints, so import before starting it',
    },
  );
}

/** Streams `file` (or stdin) line by line into `store` in batches, with progress and a summary on stderr. */
async function importFile(store: Store, file: string, location: DatabaseLocation): Promise<void> {
  const started = performance.now();
  const input = file === '-' ? process.stdin : createReadStream(file);
  const lines = createInterface({ input, crlfDelay: Infinity });
  const counts = new Map<ExportRecord['kind'], number>();
  let batch: ExportRecord[] = [];
  let batchLines: number[] = [];
  let imported = 0;
  let lineNumber = 0;
  let sawHeader = false;

  const partialHint = (): string =>
    imported === 0
      ? 'nothing was imported; fix the file and run the command again'
      : `the ${formatCount(imported)} records before it were imported: empty the database (a new data dir, or drop and recreate the PostgreSQL database) before importing again`;

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    try {
      await store.importRecords(batch);
    } catch (error) {
      throw explainBatchRefusal(error, batchLines, partialHint());
    }
    imported += batch.length;
    if (Math.floor(imported / progressEvery) > Math.floor((imported - batch.length) / progressEvery)) {
      process.stderr.write(
        `imported ${formatCount(imported)} records (${formatDuration(performance.now() - started)})…\n`,
      );
    }
    batch = [];
    batchLines = [];
  };

  for await (const line of lines) {
    lineNumber += 1;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new CliError(`line ${lineNumber} is not JSON (${(error as Error).message})`, {
        hint: partialHint(),
      });
    }
    let record: ExportRecord;
    try {
      record = parseExportRecord(value, lineNumber);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      throw new CliError(`line ${lineNumber} is not a valid export record: ${describeIssues(error.issues)}`, {
        hint: partialHint(),
      });
    }
    if (!sawHeader) {
      if (record.kind !== 'header') {
        throw new CliError(
          `${file === '-' ? 'stdin' : file} is not a warren export: line ${lineNumber} is not its header`,
          {
            hint: 'make the file with `warren export`',
          },
        );
      }
      sawHeader = true;
      continue;
    }
    if (record.kind === 'header') continue;
    counts.set(record.kind, (counts.get(record.kind) ?? 0) + 1);
    batch.push(record);
    batchLines.push(lineNumber);
    if (batch.length >= importBatchSize) await flush();
  }
  await flush();
  if (!sawHeader) {
    throw new CliError(`${file === '-' ? 'stdin' : file} is empty`, {
      hint: 'make the file with `warren export`',
    });
  }
  process.stderr.write(
    `imported ${formatCount(imported)} records into ${describeDatabaseLocation(location)} in ${formatDuration(performance.now() - started)}: ${describeCounts(counts)}\n`,
  );
}

/**
 * The error to show for a batch the store refused: field issues get their line numbers back (the store
 * names a record by its place in the batch), a clash says what to do.
 */
function explainBatchRefusal(error: unknown, batchLines: number[], hint: string): unknown {
  if (error instanceof InvalidInputError) {
    const byLine = error.issues.map((issue) => {
      const match = /^(\d+)(?:\.(.*))?$/.exec(issue.field);
      const line = match ? batchLines[Number(match[1])] : undefined;
      return line === undefined
        ? `${issue.field || '(record)'}: ${issue.reason}`
        : `line ${line}: ${match?.[2] ? `${match[2]}: ` : ''}${issue.reason}`;
    });
    return new CliError(`the import was refused: ${byLine.join('; ')}`, { hint });
  }
  if (error instanceof ConflictError) {
    const first = batchLines[0];
    const last = batchLines.at(-1);
    return new CliError(
      `the records of lines ${first}–${last} clash with what the database holds: ${error.message}`,
      {
        hint,
      },
    );
  }
  return error;
}

/** Field issues of one line, without the line-number prefix the check adds. */
function describeIssues(issues: FieldIssue[]): string {
  return issues
    .map((issue) => {
      const field = issue.field.replace(/^\d+\.?/, '');
      return field === '' ? issue.reason : `${field}: ${issue.reason}`;
    })
    .join('; ');
}

/** "2 endpoints, 1 runner, 40 tasks, ..." in file order, kinds with none left out. */
function describeCounts(counts: ReadonlyMap<ExportRecord['kind'], number>): string {
  const parts = kindNames
    .filter(([kind]) => (counts.get(kind) ?? 0) > 0)
    .map(([kind, one, many]) => {
      const count = counts.get(kind)!;
      return `${formatCount(count)} ${count === 1 ? one : many}`;
    });
  return parts.length === 0 ? 'nothing but the header' : parts.join(', ');
}

function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** Writes `chunk` and waits until it is handed on, so that memory stays flat and a failed write throws. */
async function writeChunk(output: Writable, chunk: string): Promise<void> {
  if (chunk === '') return;
  await new Promise<void>((resolve, reject) => {
    output.write(chunk, (error) => (error ? reject(error) : resolve()));
  });
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
