/**
 * The PostgreSQL store's reads and writes for fleet routing: peeking at claimable tasks, the recent outcomes
 * of each runner-agent pairing, and circuit breakers.
 */
import type { BreakerRecord } from '../../core/circuit-breaker.ts';
import type { Lane } from '../../core/types.ts';
import { breakerColumnOf, breakerFromRow } from '../rows/breaker-row.ts';
import { checkLimit } from '../rows/check-limit.ts';
import type { BreakerRow } from '../rows/database-schema.ts';
import { epochToIso } from '../rows/epoch-to-iso.ts';
import { pairingOutcomesOf, type PairingOutcomeRow } from '../rows/pairing-outcomes.ts';
import { parseJsonColumn } from '../rows/parse-json-column.ts';
import { laneRankOf } from '../rows/task-row.ts';
import type { ClaimCandidate, Store } from '../store.ts';
import { RetryTransactionError } from './postgres-errors.ts';
import type { PostgresStoreContext } from './postgres-store-context.ts';

/** The fleet routing methods of a PostgreSQL store. */
export type PostgresFleetOperations = Pick<
  Store,
  'listClaimCandidates' | 'listPairingOutcomes' | 'listBreakers' | 'updateBreaker'
>;

// why: the HTTP claim route takes at most 256 tasks per call; peeking further ahead serves no claim.
const maxCandidates = 256;
// why: routing weighs the last 20 outcomes (SUCCESS_WINDOW); 100 leaves room for a wider window later.
const maxOutcomesPerPairing = 100;

/**
 * The claimable head of the queue without claiming it. Parameters: $1 text[] the capabilities offered;
 * $2 integer the limit. `head` is the claim's own index walk (tasks_claim_order, see claim-tasks.sql.ts)
 * without the locks. The runner of the latest attempt (number = attempt_count, through attempts_task)
 * comes from a subquery under CASE, so that it runs only for tasks that have had an attempt.
 */
export const claimCandidatesSql = `
WITH head AS (
  SELECT seq, id, required_capabilities, capabilities, lane, lane_rank, priority, attempt_count, executor,
    repo, labels, updated_at
  FROM tasks
  WHERE state = 'queued' AND required_capabilities <@ $1::text[]
  ORDER BY lane_rank, priority DESC, seq
  LIMIT $2
)
SELECT head.*,
  CASE WHEN head.attempt_count > 0 THEN (
    SELECT attempt.runner_id FROM attempts AS attempt
    WHERE attempt.task_id = head.id AND attempt.number = head.attempt_count
      AND attempt.state IN ('failed','lost')
  ) END AS failed_runner_id
FROM head
ORDER BY head.lane_rank, head.priority DESC, head.seq
`;

/** {@link claimCandidatesSql} within one lane ($3 integer, its `lane_rank`): the same index walk, one lane. */
export const claimLaneCandidatesSql = claimCandidatesSql.replace(
  'AND required_capabilities <@ $1::text[]',
  'AND lane_rank = $3 AND required_capabilities <@ $1::text[]',
);

/** The condition of the attempts_outcomes index (migration 2), repeated so that PostgreSQL uses it. */
const finished = `state IN ('succeeded','failed','lost')`;

/**
 * The recent outcomes of each pairing of the runners in `runner_ids`. Parameters: $1 integer the limit per
 * pairing (and $2 text[] the runner ids, with {@link listedRunnerIds}). A loose scan of attempts_outcomes:
 * within each runner it jumps from one agent to the next (one index seek each, `''` standing for none),
 * then reads each pairing's newest outcomes under its LIMIT. why: the cost follows the number of pairings,
 * not the length of the history, which grows without end.
 */
function pairingOutcomesSql(runnerIds: string): string {
  return `
WITH RECURSIVE runner_ids AS (${runnerIds}),
pairs AS (
  SELECT runner_ids.runner_id, (
    SELECT agent FROM attempts
    WHERE ${finished} AND runner_id = runner_ids.runner_id ORDER BY agent LIMIT 1
  ) AS agent_key
  FROM runner_ids WHERE runner_ids.runner_id IS NOT NULL
  UNION ALL
  SELECT pairs.runner_id, (
    SELECT agent FROM attempts
    WHERE ${finished} AND runner_id = pairs.runner_id AND agent > pairs.agent_key
    ORDER BY agent LIMIT 1
  )
  FROM pairs WHERE pairs.agent_key IS NOT NULL
)
SELECT pairs.runner_id, pairs.agent_key, recent.state
FROM pairs CROSS JOIN LATERAL (
  SELECT state, finished_at, id FROM attempts
  WHERE ${finished} AND runner_id = pairs.runner_id AND agent = pairs.agent_key
  ORDER BY finished_at DESC, id DESC LIMIT $1
) AS recent
WHERE pairs.agent_key IS NOT NULL
ORDER BY pairs.runner_id, pairs.agent_key, recent.finished_at DESC, recent.id DESC
`;
}

/** Every runner with a finished attempt: a loose scan that jumps from one runner id to the next. */
const everyRunnerId = `
  SELECT (SELECT runner_id FROM attempts WHERE ${finished} ORDER BY runner_id LIMIT 1) AS runner_id
  UNION ALL
  SELECT (
    SELECT runner_id FROM attempts WHERE ${finished} AND runner_id > runner_ids.runner_id
    ORDER BY runner_id LIMIT 1
  )
  FROM runner_ids WHERE runner_ids.runner_id IS NOT NULL`;

/** The runners asked for ($2). */
const listedRunnerIds = `SELECT DISTINCT runner_id FROM unnest($2::text[]) AS runner_id`;

/** The outcomes of every runner's pairings. */
export const everyPairingOutcomesSql = pairingOutcomesSql(everyRunnerId);
/** The outcomes of the listed runners' pairings. */
export const listedPairingOutcomesSql = pairingOutcomesSql(listedRunnerIds);

/** A row of {@link claimCandidatesSql}. */
interface CandidateRow {
  id: string;
  required_capabilities: string[];
  capabilities: string;
  lane: Lane;
  priority: number;
  attempt_count: number;
  executor: string;
  repo: string;
  labels: string;
  updated_at: number;
  failed_runner_id: string | null;
}

/** Creates the fleet routing methods on `context`. */
export function createPostgresFleetOperations(context: PostgresStoreContext): PostgresFleetOperations {
  const { pool, writer } = context;

  return {
    async listClaimCandidates(query) {
      checkLimit(query.limit, maxCandidates);
      const rows =
        query.lane === undefined
          ? await pool.query<CandidateRow>(claimCandidatesSql, [query.capabilities, query.limit])
          : await pool.query<CandidateRow>(claimLaneCandidatesSql, [
              query.capabilities,
              query.limit,
              laneRankOf(query.lane),
            ]);
      return rows.map((row): ClaimCandidate => {
        const candidate: ClaimCandidate = {
          id: row.id,
          requiredCapabilities: [...row.required_capabilities],
          capabilities: parseJsonColumn<string[]>(row.capabilities),
          lane: row.lane,
          priority: row.priority,
          attemptCount: row.attempt_count,
          executor: row.executor,
          repo: row.repo,
          labels: parseJsonColumn<string[]>(row.labels),
          queuedSince: epochToIso(row.updated_at),
        };
        if (row.failed_runner_id !== null) candidate.previousFailedRunnerId = row.failed_runner_id;
        return candidate;
      });
    },

    async listPairingOutcomes(query) {
      checkLimit(query.limitPerPairing, maxOutcomesPerPairing);
      const rows = await pool.transaction(async (client) => {
        // why: the planner cannot know how few pairings the loose scan will find, so it estimates the
        // recursion at thousands of rows, well past jit_above_cost; compiling the query would then cost
        // more than running it (milliseconds against well under one), on a read the scheduler repeats
        // several times a second.
        await client.query('SET LOCAL jit = off');
        return query.runnerIds === undefined
          ? client.query<PairingOutcomeRow>(everyPairingOutcomesSql, [query.limitPerPairing])
          : client.query<PairingOutcomeRow>(listedPairingOutcomesSql, [
              query.limitPerPairing,
              query.runnerIds,
            ]);
      });
      return pairingOutcomesOf(rows);
    },

    async listBreakers() {
      const rows = await pool.query<BreakerRow>('SELECT key, record FROM breakers ORDER BY key');
      return rows.map(breakerFromRow);
    },

    async updateBreaker(key, update) {
      return writer.write(async (scope): Promise<BreakerRecord | undefined> => {
        // The row lock makes concurrent updates of one key take turns, each reading the last one's result.
        const [row] = await scope.client.query<BreakerRow>(
          'SELECT key, record FROM breakers WHERE key = $1 FOR UPDATE',
          [key],
        );
        const current = row === undefined ? undefined : breakerFromRow(row);
        const next = update(current);
        if (next === undefined) return current;
        const record = breakerColumnOf(key, next);
        if (row !== undefined) {
          await scope.client.query('UPDATE breakers SET record = $2, updated_at = $3 WHERE key = $1', [
            key,
            record,
            scope.now,
          ]);
        } else {
          // No row to lock yet: of concurrent first updates one inserts, and the others (which waited for
          // it and inserted nothing) run again, now finding its row to lock.
          const inserted = await scope.client.query(
            `INSERT INTO breakers (key, record, updated_at) VALUES ($1, $2, $3)
              ON CONFLICT (key) DO NOTHING RETURNING key`,
            [key, record, scope.now],
          );
          if (inserted.length === 0) {
            throw new RetryTransactionError(`breaker ${key} was created meanwhile; trying again`);
          }
        }
        return breakerFromRow({ key, record });
      });
    },
  };
}
