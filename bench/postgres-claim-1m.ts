/**
 * PostgreSQL claim cost by queue depth: the store's `claimTasks` with 1,000, 100,000 and 1,000,000 queued
 * tasks, to show that it stays flat, and the plan of the claim statement, to show why (it reads the
 * partial index `tasks_claim_order` from the front and stops after LIMIT rows). Also the documented weak
 * spot, shown as measured: a runner that lacks a capability the tasks at the front of the queue need reads
 * past all of them on every claim.
 *
 * How: a fresh schema (`warren_bench_<random>`, dropped at the end and on Ctrl-C), migrated by the store.
 * One task is enqueued through the store as a template; the queue is then filled by copying its row with
 * `INSERT ... SELECT ... FROM generate_series` (ids keep the template's time digits and end in the series
 * number, so they are unique, valid and in age order), then `ANALYZE`. No events are written for the
 * copies: claims never read events.
 *
 * Each claim is `claimTasks({ limit: 1, maxActive: 1 })`, exactly what the hub sends for a one-slot runner,
 * timed alone; each claimed attempt is then completed (not timed), as a runner would, so the runner's slot
 * is free for the next claim and every claim leaves behind what production leaves: a dead index entry and
 * a dead row version at the front of the queue, a new attempt row and a finished task. (Claims without
 * completions would leave `maxActive` counting a growing number of active attempts, which no runner does.)
 * The queue is filled to depth + samples + warm-up before each depth, so the depth never drops below the
 * one named while sampling. Claim p50/p99 are over `--samples` claims after 100 warm-up claims.
 *
 * The plans: `EXPLAIN (ANALYZE, BUFFERS)` of `claimTasksSql` (src/store/postgres/claim-tasks.sql.ts) at
 * the deepest queue, in a transaction that is rolled back, for the usual runner; and after `--blockers`
 * tasks that need a capability the runner lacks (`gpu`) are put ahead of the rest (higher priority), the
 * same plan and `--blocked-samples` timed claims with them in the way.
 *
 * Run: `npm run bench -- postgres-claim-1m [--quick] [--samples 2000] [--depths 1000,100000,1000000]
 *   [--blockers 1000000] [--blocked-samples 10] [--postgres-url postgres://...]`.
 * PostgreSQL at `WARREN_BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`); when it
 * does not answer, the bench skips itself. `--quick`: depths 1,000 and 100,000, 500 samples, 100,000
 * blockers (about 1 minute); the full run about 4 minutes on 2 cores. Prints tables, the plans and, last,
 * one JSON line.
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { claimTasksSql } from '../src/store/postgres/claim-tasks.sql.ts';
import { createPostgresStore, type Store } from '../src/store/index.ts';
import { createProgress, runBench, startWatchdog } from './support/bench-lifecycle.ts';
import { printTable, round, summarizeLatencies, type LatencySummary } from './support/figures.ts';
import {
  benchPostgresUrl,
  connectPostgres,
  describePostgresUrl,
  dropSchemasLater,
  freshSchemaName,
} from './support/postgres-backends.ts';
import { BENCH_LEASE_MS, claimAndComplete, noOpRoutedSpec } from './support/store-claims.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    samples: { type: 'string' },
    depths: { type: 'string' },
    blockers: { type: 'string' },
    'blocked-samples': { type: 'string' },
    'postgres-url': { type: 'string', default: benchPostgresUrl() },
    'max-seconds': { type: 'string' },
  },
});
const quick = values.quick;
const sampleCount = Number(values.samples ?? (quick ? 500 : 2_000));
const depths = (values.depths ?? (quick ? '1000,100000' : '1000,100000,1000000'))
  .split(',')
  .map(Number)
  .sort((left, right) => left - right);
const blockerCount = Number(values.blockers ?? (quick ? 100_000 : 1_000_000));
// why: with a million blockers each claim reads past all of them (hundreds of ms); ten show the figure.
const blockedSampleCount = Number(values['blocked-samples'] ?? (quick ? 5 : 10));
const postgresUrl = values['postgres-url'];
const maxSeconds = Number(values['max-seconds'] ?? (quick ? 300 : 900));

// why: a hundred claims warm the plan cache, the connection and the index pages before anything is timed.
const warmupClaims = 100;
// why: rows per INSERT statement while filling: large enough to be quick, small enough to show progress.
const fillChunk = 250_000;
const runner = { runnerId: 'run_BENCHCLAIM1M', capabilities: ['executor:shell'] };
const blockerCapability = 'gpu';

const progress = createProgress();

/** Claim latencies at one queue depth. */
interface DepthFigures {
  queued: number;
  claim: LatencySummary;
  /** Wall-clock ms of one claim + completion, averaged: what a one-slot runner loop costs the store. */
  claimAndCompleteMeanMs: number;
  claimOrderIndexMegabytes: number;
  tasksTableMegabytes: number;
  /** The claim statement alone, on the server: median `Execution Time` of a few EXPLAIN ANALYZE runs. */
  planExecutionMs: number;
  planBuffers: number;
  /**
   * `store.countTasks()` (a GROUP BY over every task): the hub runs it to size each round of wake-ups of
   * parked claims, so it sits on the path from a new task to a waiting runner.
   */
  countTasksMs: number;
}

// why: one EXPLAIN ANALYZE can land on a busy moment of a shared machine; the median of five does not.
const explainRuns = 5;

/** Copies the template row `count` times into the queue. */
interface Filler {
  /** Adds `count` queued tasks behind the rest, or ahead of them needing `gpu` when `blocking`. */
  fill(count: number, blocking?: boolean): Promise<void>;
}

/**
 * Makes a filler from the task `templateId`, which must still be queued: its row is copied aside at once
 * (`bench_template`), since the task itself is claimed with the rest.
 */
async function createFiller(client: pg.Client, schema: string, templateId: string): Promise<Filler> {
  await client.query(`CREATE TABLE ${schema}.bench_template AS SELECT * FROM ${schema}.tasks WHERE id = $1`, [
    templateId,
  ]);
  const { rows: columns } = await client.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
      WHERE table_schema = $1 AND table_name = 'tasks' AND column_name <> 'seq' ORDER BY ordinal_position`,
    [schema],
  );
  // The template's id is `tsk_` + 10 time digits + 16 random digits: keep the time, number the rest.
  const prefix = templateId.slice(0, 'tsk_'.length + 10);
  const expressions = columns.map(({ column_name: name }) => {
    switch (name) {
      case 'id':
        return `$1 || lpad(series::text, 16, '0')`;
      case 'priority':
        return `CASE WHEN $4 THEN template.priority + 1 ELSE template.priority END`;
      case 'capabilities':
        return `CASE WHEN $4 THEN '["${blockerCapability}"]'::json ELSE template.capabilities END`;
      case 'required_capabilities':
        return `CASE WHEN $4 THEN template.required_capabilities || '{${blockerCapability}}'::text[] ELSE template.required_capabilities END`;
      default:
        return `template.${name}`;
    }
  });
  const sql = `INSERT INTO ${schema}.tasks (${columns.map((column) => column.column_name).join(', ')})
    SELECT ${expressions.join(', ')}
    FROM ${schema}.bench_template AS template CROSS JOIN generate_series($2::bigint, $3::bigint) AS series
    WHERE template.id = $5`;
  let nextNumber = 1;
  return {
    async fill(count, blocking = false) {
      const started = performance.now();
      for (let done = 0; done < count; done += fillChunk) {
        const size = Math.min(fillChunk, count - done);
        await client.query(sql, [prefix, nextNumber, nextNumber + size - 1, blocking, templateId]);
        nextNumber += size;
        if (count > fillChunk)
          progress(`  inserted ${(done + size).toLocaleString('en-US')} of ${count.toLocaleString('en-US')}`);
      }
      await client.query(`ANALYZE ${schema}.tasks`);
      const { rows } = await client.query<{ count: number }>(
        `SELECT COUNT(*)::integer AS count FROM ${schema}.tasks WHERE state = 'queued'`,
      );
      progress(`  queued now: ${(rows[0]?.count ?? 0).toLocaleString('en-US')}`);
      const seconds = (performance.now() - started) / 1_000;
      progress(
        `  ${count.toLocaleString('en-US')} tasks inserted and analysed in ${seconds.toFixed(1)} s (${Math.round(count / seconds).toLocaleString('en-US')}/s)`,
      );
    },
  };
}

/** Times `count` claims, one after another, each completed before the next. */
async function measureClaims(
  store: Store,
  count: number,
): Promise<{ claim: LatencySummary; meanMs: number }> {
  const latencies: number[] = [];
  let total = 0;
  for (let index = 0; index < count; index += 1) {
    // maxActive 1: what the hub sends for a one-slot runner.
    const { claimMs, totalMs } = await claimAndComplete(store, runner, 1);
    latencies.push(claimMs);
    total += totalMs;
  }
  return { claim: summarizeLatencies(latencies), meanMs: total / count };
}

async function relationMegabytes(client: pg.Client, schema: string, relation: string): Promise<number> {
  const { rows } = await client.query<{ bytes: string }>(
    'SELECT pg_relation_size($1::regclass)::text AS bytes',
    [`${schema}.${relation}`],
  );
  return Number(rows[0]?.bytes ?? Number.NaN) / 1024 / 1024;
}

/** What any store call pays here, for scale: a round trip, and a transaction that writes and commits. */
interface ReferenceFigures {
  roundTrip: LatencySummary;
  writeCommit: LatencySummary;
}

// why: 200 of each give a stable median in well under a second.
const referenceSamples = 200;

async function measureReference(client: pg.Client, schema: string): Promise<ReferenceFigures> {
  const roundTrips: number[] = [];
  const commits: number[] = [];
  for (let index = 0; index < referenceSamples; index += 1) {
    let started = performance.now();
    await client.query('SELECT 1');
    roundTrips.push(performance.now() - started);
    started = performance.now();
    await client.query('BEGIN');
    await client.query(`UPDATE ${schema}.bench_template SET updated_at = updated_at + 1`);
    await client.query('COMMIT');
    commits.push(performance.now() - started);
  }
  return { roundTrip: summarizeLatencies(roundTrips), writeCommit: summarizeLatencies(commits) };
}

/** `EXPLAIN (ANALYZE, BUFFERS)` of the claim statement for `capabilities`, in a rolled-back transaction. */
async function explainClaim(client: pg.Client, schema: string, capabilities: string[]): Promise<string[]> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL search_path TO ${schema}`);
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) ${claimTasksSql}`,
      [
        capabilities,
        1,
        Date.now(),
        ['att_BENCHEXPLAIN0000000000000'],
        [createHash('sha256').update('explain').digest('hex')],
        runner.runnerId,
        BENCH_LEASE_MS,
      ],
    );
    return rows.map((row) => row['QUERY PLAN']);
  } finally {
    await client.query('ROLLBACK');
  }
}

function printPlan(title: string, plan: string[]): void {
  console.log(`\n${title}\n`);
  for (const line of plan) console.log(`  ${line}`);
}

/** The execution time and shared buffers the plan reports. */
function planFigures(plan: string[]): {
  executionMs: number;
  sharedHit: number;
  sharedRead: number;
  usesClaimOrder: boolean;
} {
  const text = plan.join('\n');
  const executionMs = Number(/Execution Time: ([\d.]+) ms/.exec(text)?.[1] ?? Number.NaN);
  // The first Buffers line belongs to the top node and sums its children.
  const buffers = /Buffers: shared(?: hit=(\d+))?(?: read=(\d+))?/.exec(text);
  return {
    executionMs,
    sharedHit: Number(buffers?.[1] ?? 0),
    sharedRead: Number(buffers?.[2] ?? 0),
    usesClaimOrder: /tasks_claim_order/.test(text),
  };
}

async function main(): Promise<void> {
  const admin = await connectPostgres(postgresUrl);
  if (typeof admin === 'string') {
    console.log(admin);
    console.log(JSON.stringify({ bench: 'postgres-claim-1m', skipped: admin }));
    return;
  }
  startWatchdog('postgres-claim-1m', maxSeconds);
  const schema = freshSchemaName();
  const dropSchema = dropSchemasLater(admin, [schema]);
  const loadBefore = loadavg()[0] ?? 0;
  // why 2 connections: claims and completions run one at a time, like one runner's loop.
  const store = await createPostgresStore({ connectionString: postgresUrl, schema, maxConnections: 2 });
  const figures: DepthFigures[] = [];
  let plan: string[] = [];
  let blockedPlan: string[] | undefined;
  let blocked: LatencySummary | undefined;
  let referenceFigures: ReferenceFigures | undefined;
  try {
    await store.migrate();
    const template = await store.enqueueTask(noOpRoutedSpec);
    const filler = await createFiller(admin, schema, template.task.id);
    referenceFigures = await measureReference(admin, schema);
    let queued = 1; // the template
    for (const depth of depths) {
      const wanted = depth + sampleCount + warmupClaims;
      progress(
        `depth ${depth.toLocaleString('en-US')}: filling the queue to ${wanted.toLocaleString('en-US')}`,
      );
      if (wanted > queued) await filler.fill(wanted - queued);
      queued = Math.max(queued, wanted);
      progress(
        `depth ${depth.toLocaleString('en-US')}: ${warmupClaims} warm-up claims, then ${sampleCount} timed`,
      );
      await measureClaims(store, warmupClaims);
      const measured = await measureClaims(store, sampleCount);
      queued -= warmupClaims + sampleCount;
      const plans: string[][] = [];
      for (let run = 0; run < explainRuns; run += 1)
        plans.push(await explainClaim(admin, schema, runner.capabilities));
      const summaries = plans.map(planFigures).sort((left, right) => left.executionMs - right.executionMs);
      const median = summaries[Math.floor(summaries.length / 2)]!;
      plan = plans.at(-1)!;
      const countStarted = performance.now();
      await store.countTasks();
      const countTasksMs = performance.now() - countStarted;
      figures.push({
        countTasksMs,
        planExecutionMs: median.executionMs,
        planBuffers: median.sharedHit + median.sharedRead,
        queued: depth,
        claim: measured.claim,
        claimAndCompleteMeanMs: measured.meanMs,
        claimOrderIndexMegabytes: await relationMegabytes(admin, schema, 'tasks_claim_order'),
        tasksTableMegabytes: await relationMegabytes(admin, schema, 'tasks'),
      });
    }
    if (blockerCount > 0) {
      progress(
        `heterogeneous queue: ${blockerCount.toLocaleString('en-US')} tasks needing "${blockerCapability}" put ahead`,
      );
      await filler.fill(blockerCount, true);
      blockedPlan = await explainClaim(admin, schema, runner.capabilities);
      progress(`heterogeneous queue: ${blockedSampleCount} timed claims`);
      blocked = (await measureClaims(store, blockedSampleCount)).claim;
    }
  } finally {
    await store.close();
    await dropSchema();
    await admin.end();
  }

  const loadAfter = loadavg()[0] ?? 0;
  console.log(
    `\npostgres-claim-1m: store claimTasks (limit 1, maxActive 1) then completeAttempt, one at a time; PostgreSQL at ${describePostgresUrl(postgresUrl)}`,
  );
  console.log(
    `${sampleCount} timed claims per depth after ${warmupClaims} warm-up; load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after`,
  );
  if (referenceFigures) {
    console.log(
      `for scale: a round trip (SELECT 1) p50 ${referenceFigures.roundTrip.p50.toFixed(3)} ms; a one-row write + COMMIT p50 ${referenceFigures.writeCommit.p50.toFixed(3)} ms, p99 ${referenceFigures.writeCommit.p99.toFixed(3)} ms (a store claim is 8 round trips: BEGIN, runner lock, active count, claim, event counter, events, NOTIFY, COMMIT)`,
    );
  }
  console.log('');
  printTable(
    [
      'queued',
      'claim p50 ms',
      'claim p90 ms',
      'claim p99 ms',
      'claim max ms',
      'claim+complete mean ms',
      'statement ms (EXPLAIN)',
      'buffers',
      'countTasks ms',
      'tasks_claim_order MiB',
      'tasks MiB',
    ],
    figures.map((each) => [
      each.queued,
      round(each.claim.p50, 3),
      round(each.claim.p90, 3),
      round(each.claim.p99, 3),
      round(each.claim.max, 3),
      round(each.claimAndCompleteMeanMs, 3),
      round(each.planExecutionMs, 3),
      each.planBuffers,
      round(each.countTasksMs, 1),
      round(each.claimOrderIndexMegabytes, 1),
      round(each.tasksTableMegabytes, 1),
    ]),
  );
  const deepest = figures.at(-1);
  const planSummary = planFigures(plan);
  printPlan(
    `claim plan at ${deepest?.queued.toLocaleString('en-US') ?? '?'} queued (EXPLAIN (ANALYZE, BUFFERS), rolled back): ${planSummary.usesClaimOrder ? 'reads tasks_claim_order' : 'DOES NOT read tasks_claim_order'}`,
    plan,
  );
  const blockedSummary = blockedPlan ? planFigures(blockedPlan) : undefined;
  if (blockedPlan && blocked) {
    printPlan(
      `claim plan with ${blockerCount.toLocaleString('en-US')} tasks the runner cannot run ahead of the rest (the documented weak spot)`,
      blockedPlan,
    );
    console.log('');
    printTable(
      [
        'queue',
        'claims',
        'claim p50 ms',
        'claim p99 ms',
        'claim max ms',
        'plan execution ms',
        'plan buffers',
      ],
      [
        [
          `${(deepest?.queued ?? 0).toLocaleString('en-US')} runnable`,
          sampleCount,
          round(deepest?.claim.p50 ?? Number.NaN, 3),
          round(deepest?.claim.p99 ?? Number.NaN, 3),
          round(deepest?.claim.max ?? Number.NaN, 3),
          round(deepest?.planExecutionMs ?? Number.NaN, 3),
          deepest?.planBuffers ?? null,
        ],
        [
          `${blockerCount.toLocaleString('en-US')} blocked ahead`,
          blockedSampleCount,
          round(blocked.p50, 3),
          round(blocked.p99, 3),
          round(blocked.max, 3),
          round(blockedSummary!.executionMs, 3),
          blockedSummary!.sharedHit + blockedSummary!.sharedRead,
        ],
      ],
    );
  }
  console.log(
    JSON.stringify({
      bench: 'postgres-claim-1m',
      samples: sampleCount,
      loadAverage: [round(loadBefore, 2), round(loadAfter, 2)],
      claimLatency: figures.map((each) => ({
        queued: each.queued,
        claimP50Ms: round(each.claim.p50, 3),
        claimP99Ms: round(each.claim.p99, 3),
        claimMaxMs: round(each.claim.max, 3),
        claimAndCompleteMeanMs: round(each.claimAndCompleteMeanMs, 3),
        statementMs: round(each.planExecutionMs, 3),
        statementBuffers: each.planBuffers,
        countTasksMs: round(each.countTasksMs, 1),
      })),
      roundTripP50Ms: referenceFigures ? round(referenceFigures.roundTrip.p50, 3) : null,
      writeCommitP50Ms: referenceFigures ? round(referenceFigures.writeCommit.p50, 3) : null,
      planUsesClaimOrderIndex: planSummary.usesClaimOrder,
      blockers: blockerCount,
      blockedClaimP50Ms: blocked ? round(blocked.p50, 3) : null,
      blockedClaimP99Ms: blocked ? round(blocked.p99, 3) : null,
      blockedPlanExecutionMs: blockedSummary ? round(blockedSummary.executionMs, 3) : null,
      blockedPlanSharedBuffers: blockedSummary ? blockedSummary.sharedHit + blockedSummary.sharedRead : null,
    }),
  );
}

await runBench('postgres-claim-1m', main);
