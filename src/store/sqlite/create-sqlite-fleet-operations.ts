/**
 * The SQLite store's reads and writes for fleet routing: peeking at claimable tasks, the recent outcomes of
 * each runner-agent pairing, and circuit breakers.
 */
import type { BreakerRecord } from '../../core/circuit-breaker.ts';
import type { AttemptState, Lane } from '../../core/types.ts';
import { breakerColumnOf, breakerFromRow } from '../rows/breaker-row.ts';
import { checkLimit } from '../rows/check-limit.ts';
import type { BreakerRow } from '../rows/database-schema.ts';
import { epochToIso } from '../rows/epoch-to-iso.ts';
import { pairingOutcomesOf, type PairingOutcomeRow } from '../rows/pairing-outcomes.ts';
import { parseJsonColumn } from '../rows/parse-json-column.ts';
import { laneRankOf } from '../rows/task-row.ts';
import type { ClaimCandidate, Store } from '../store.ts';
import { claimCandidatesSql, claimLaneCandidatesSql } from './claim-tasks.sql.ts';
import type { QueuedCapabilitySets } from './create-queued-capability-sets.ts';
import type { SqliteStoreContext } from './sqlite-store-context.ts';

/** The fleet routing methods of a SQLite store. */
export type SqliteFleetOperations = Pick<
  Store,
  'listClaimCandidates' | 'listPairingOutcomes' | 'listBreakers' | 'updateBreaker'
>;

// why: the HTTP claim route takes at most 256 tasks per call; peeking further ahead serves no claim.
const maxCandidates = 256;
// why: routing weighs the last 20 outcomes (SUCCESS_WINDOW); 100 leaves room for a wider window later.
const maxOutcomesPerPairing = 100;

/** The condition of the attempts_outcomes index (migration 5), repeated so that SQLite uses it. */
const finishedCondition = `state IN ('succeeded','failed','lost')`;

/**
 * The statements of listPairingOutcomes: a loose scan of attempts_outcomes that jumps from one runner to
 * the next and, within a runner, from one agent to the next (one index seek each), then reads the newest
 * outcomes of each pairing. why: the cost follows the number of pairings, not the length of the history.
 * `agent` is `''` for none (migration 5), which sorts before every agent.
 */
export const pairingOutcomeStatements = {
  nextRunner: `SELECT runner_id FROM attempts
    WHERE ${finishedCondition} AND runner_id > ? ORDER BY runner_id LIMIT 1`,
  firstAgent: `SELECT agent FROM attempts
    WHERE ${finishedCondition} AND runner_id = ? ORDER BY agent LIMIT 1`,
  nextAgent: `SELECT agent FROM attempts
    WHERE ${finishedCondition} AND runner_id = ? AND agent > ? ORDER BY agent LIMIT 1`,
  recent: `SELECT state FROM attempts
    WHERE ${finishedCondition} AND runner_id = ? AND agent = ?
    ORDER BY finished_at DESC, id DESC LIMIT ?`,
} as const;

const selectLastAttempt = 'SELECT state, runner_id FROM attempts WHERE id = ?';
const selectBreakers = 'SELECT key, record FROM breakers ORDER BY key';
const selectBreaker = 'SELECT key, record FROM breakers WHERE key = ?';
const upsertBreaker = `INSERT INTO breakers (key, record, updated_at) VALUES (?, ?, ?)
  ON CONFLICT (key) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at`;

/** A row of {@link claimCandidatesSql}. */
interface CandidateRow {
  seq: number;
  id: string;
  required_capabilities: string;
  capabilities: string;
  lane: Lane;
  lane_rank: number;
  priority: number;
  attempt_count: number;
  executor: string;
  repo: string;
  labels: string;
  updated_at: number;
  last_attempt_id: string | null;
}

/** Claim order: lane (high first), then priority (higher first), then age. */
function compareClaimOrder(left: CandidateRow, right: CandidateRow): number {
  return left.lane_rank - right.lane_rank || right.priority - left.priority || left.seq - right.seq;
}

/** Creates the fleet routing methods on `context`; `queuedCapabilitySets` is the claim's list of sets. */
export function createSqliteFleetOperations(
  context: SqliteStoreContext,
  queuedCapabilitySets: QueuedCapabilitySets,
): SqliteFleetOperations {
  const { writer, statement } = context;

  /** The runner of the attempt when it failed or was lost. */
  function failedRunnerOf(attemptId: string): string | undefined {
    const attempt = statement(selectLastAttempt).get(attemptId) as
      { state: AttemptState; runner_id: string } | undefined;
    return attempt !== undefined && (attempt.state === 'failed' || attempt.state === 'lost')
      ? attempt.runner_id
      : undefined;
  }

  /** The agents (`''` for none) of a runner's finished attempts, in index order. */
  function agentKeysOf(runnerId: string): string[] {
    const keys: string[] = [];
    let key = statement(pairingOutcomeStatements.firstAgent).pluck().get(runnerId) as string | undefined;
    while (key !== undefined) {
      keys.push(key);
      key = statement(pairingOutcomeStatements.nextAgent).pluck().get(runnerId, key) as string | undefined;
    }
    return keys;
  }

  /** Every runner with a finished attempt, in index order. */
  function runnersWithOutcomes(): string[] {
    const runnerIds: string[] = [];
    let runnerId = statement(pairingOutcomeStatements.nextRunner).pluck().get('') as string | undefined;
    while (runnerId !== undefined) {
      runnerIds.push(runnerId);
      runnerId = statement(pairingOutcomeStatements.nextRunner).pluck().get(runnerId) as string | undefined;
    }
    return runnerIds;
  }

  return {
    async listClaimCandidates(query) {
      checkLimit(query.limit, maxCandidates);
      const laneRank = query.lane === undefined ? undefined : laneRankOf(query.lane);
      const offered = new Set(query.capabilities);
      // The head of each requirement set the capabilities satisfy, merged in claim order, as a claim does.
      let rows: CandidateRow[] = [];
      const sets = queuedCapabilitySets.eligible(offered);
      for (const required of sets) {
        const head = (
          laneRank === undefined
            ? statement(claimCandidatesSql).all({ required, limit: query.limit })
            : statement(claimLaneCandidatesSql).all({ required, limit: query.limit, lane_rank: laneRank })
        ) as CandidateRow[];
        // why: an empty lane says nothing of the set's other lanes.
        if (head.length === 0 && laneRank === undefined) queuedCapabilitySets.remove(required);
        rows = rows.concat(head);
      }
      if (sets.length > 1) rows.sort(compareClaimOrder);
      return rows.slice(0, query.limit).map((row): ClaimCandidate => {
        const candidate: ClaimCandidate = {
          id: row.id,
          requiredCapabilities: parseJsonColumn<string[]>(row.required_capabilities),
          capabilities: parseJsonColumn<string[]>(row.capabilities),
          lane: row.lane,
          priority: row.priority,
          attemptCount: row.attempt_count,
          executor: row.executor,
          repo: row.repo,
          labels: parseJsonColumn<string[]>(row.labels),
          queuedSince: epochToIso(row.updated_at),
        };
        const failedRunner = row.last_attempt_id === null ? undefined : failedRunnerOf(row.last_attempt_id);
        if (failedRunner !== undefined) candidate.previousFailedRunnerId = failedRunner;
        return candidate;
      });
    },

    async listPairingOutcomes(query) {
      checkLimit(query.limitPerPairing, maxOutcomesPerPairing);
      const runnerIds =
        query.runnerIds === undefined ? runnersWithOutcomes() : [...new Set(query.runnerIds)].sort();
      const rows: PairingOutcomeRow[] = [];
      for (const runnerId of runnerIds) {
        for (const agentKey of agentKeysOf(runnerId)) {
          const states = statement(pairingOutcomeStatements.recent)
            .pluck()
            .all(runnerId, agentKey, query.limitPerPairing) as AttemptState[];
          for (const state of states) rows.push({ runner_id: runnerId, agent_key: agentKey, state });
        }
      }
      return pairingOutcomesOf(rows);
    },

    async listBreakers() {
      return (statement(selectBreakers).all() as BreakerRow[]).map(breakerFromRow);
    },

    async updateBreaker(key, update) {
      return writer.write((scope): BreakerRecord | undefined => {
        const row = statement(selectBreaker).get(key) as BreakerRow | undefined;
        const current = row === undefined ? undefined : breakerFromRow(row);
        const next = update(current);
        if (next === undefined) return current;
        const record = breakerColumnOf(key, next);
        statement(upsertBreaker).run(key, record, scope.now);
        return breakerFromRow({ key, record });
      });
    },
  };
}
