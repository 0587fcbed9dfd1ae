/**
 * The PostgreSQL store's runner records: creation, registration, heartbeats, presence and deletion.
 */
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import { createId } from '../../core/ids.ts';
import type { RunnerStatus } from '../../core/types.ts';
import type { RunnerRow } from '../rows/database-schema.ts';
import { agentsColumnOf, dependencyHealthColumnOf, runnerFromRow } from '../rows/runner-row.ts';
import type { Store } from '../store.ts';
import { activeAttemptCondition } from './active-attempt-states.ts';
import type { PostgresClient } from './create-postgres-pool.ts';
import type { PostgresWriteScope } from './create-postgres-writer.ts';
import { sqlStateOf } from './postgres-errors.ts';
import type { PostgresStoreContext } from './postgres-store-context.ts';

/** The runner methods of a PostgreSQL store. */
export type PostgresRunnerOperations = Pick<
  Store,
  | 'createRunner'
  | 'findRunnerByTokenHash'
  | 'getRunner'
  | 'registerRunner'
  | 'heartbeatRunner'
  | 'markStaleRunnersOffline'
  | 'markLateRunnersDegraded'
  | 'listRunners'
  | 'deleteRunner'
>;

const updateRunnerSql = `UPDATE runners SET capabilities = $2, slots = $3, status = $4, version = $5, hostname = $6,
  last_heartbeat_at = $7, agents = $8, dependency_health = $9 WHERE id = $1`;

/** Creates the runner methods on `context`; every change of presence appends `runner.state`. */
export function createPostgresRunnerOperations(context: PostgresStoreContext): PostgresRunnerOperations {
  const { pool, writer } = context;

  async function activeAttemptsOf(client: Pick<PostgresClient, 'query'>, runnerId: string): Promise<number> {
    const [row] = await client.query<{ count: number }>(
      `SELECT COUNT(*)::integer AS count FROM attempts WHERE runner_id = $1 AND ${activeAttemptCondition}`,
      [runnerId],
    );
    return row?.count ?? 0;
  }

  async function lockRunner(scope: PostgresWriteScope, id: string): Promise<RunnerRow> {
    const [row] = await scope.client.query<RunnerRow>('SELECT * FROM runners WHERE id = $1 FOR UPDATE', [id]);
    if (row === undefined) throw new NotFoundError('runner', id);
    return row;
  }

  async function updateRunner(scope: PostgresWriteScope, row: RunnerRow): Promise<void> {
    await scope.client.query(updateRunnerSql, [
      row.id,
      row.capabilities,
      row.slots,
      row.status,
      row.version,
      row.hostname,
      row.last_heartbeat_at,
      row.agents,
      row.dependency_health,
    ]);
  }

  /**
   * Sets `status` on the runners that `condition` ($1: the time `silentMs` ago) finds; answers how many.
   * SKIP LOCKED: a runner being updated right now (its heartbeat) is not silent.
   */
  function markSilentRunners(condition: string, silentMs: number, status: RunnerStatus): Promise<number> {
    return writer.write(async (scope) => {
      const silent = await scope.client.query<RunnerRow>(
        `SELECT * FROM runners WHERE ${condition} ORDER BY name FOR UPDATE SKIP LOCKED`,
        [scope.now - silentMs],
      );
      for (const row of silent) {
        const next: RunnerRow = { ...row, status };
        await updateRunner(scope, next);
        addRunnerEvent(scope, next);
      }
      return silent.length;
    });
  }

  return {
    async createRunner(runner) {
      return writer.write(async (scope) => {
        const row: RunnerRow = {
          id: createId('run', scope.now),
          name: runner.name,
          token_hash: runner.tokenHash,
          capabilities: JSON.stringify(runner.capabilities),
          slots: runner.slots,
          status: 'offline',
          version: null,
          hostname: null,
          last_heartbeat_at: null,
          created_at: scope.now,
          agents: '[]',
          dependency_health: '[]',
        };
        // The unique indexes on name and token hash decide, so two hubs creating the same runner at once
        // cannot both succeed. A savepoint keeps the transaction usable to say which one clashed.
        await scope.client.query('SAVEPOINT create_runner');
        try {
          await scope.client.query(
            `INSERT INTO runners (id, name, token_hash, capabilities, slots, status, version, hostname,
              last_heartbeat_at, created_at, agents, dependency_health)
              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
            [
              row.id,
              row.name,
              row.token_hash,
              row.capabilities,
              row.slots,
              row.status,
              row.version,
              row.hostname,
              row.last_heartbeat_at,
              row.created_at,
              row.agents,
              row.dependency_health,
            ],
          );
        } catch (error) {
          if (sqlStateOf(error) !== '23505') throw error;
          await scope.client.query('ROLLBACK TO SAVEPOINT create_runner');
          const [byName] = await scope.client.query('SELECT 1 FROM runners WHERE name = $1', [runner.name]);
          throw byName === undefined
            ? new ConflictError('another runner already has this token')
            : new ConflictError(`a runner named "${runner.name}" already exists`);
        }
        addRunnerEvent(scope, row);
        return runnerFromRow(row, 0);
      });
    },

    async findRunnerByTokenHash(tokenHash) {
      const [row] = await pool.query<RunnerRow>('SELECT * FROM runners WHERE token_hash = $1', [tokenHash]);
      return row === undefined ? undefined : runnerFromRow(row, await activeAttemptsOf(pool, row.id));
    },

    async getRunner(id) {
      const [row] = await pool.query<RunnerRow>('SELECT * FROM runners WHERE id = $1', [id]);
      return row === undefined ? undefined : runnerFromRow(row, await activeAttemptsOf(pool, row.id));
    },

    async registerRunner(id, registration) {
      return writer.write(async (scope) => {
        const row = await lockRunner(scope, id);
        const next: RunnerRow = {
          ...row,
          capabilities:
            registration.capabilities === undefined
              ? row.capabilities
              : JSON.stringify(registration.capabilities),
          slots: registration.slots ?? row.slots,
          version: registration.version ?? row.version,
          hostname: registration.hostname ?? row.hostname,
          status: registration.status ?? 'online',
          last_heartbeat_at: scope.now,
          agents: registration.agents === undefined ? row.agents : agentsColumnOf(registration.agents),
        };
        await updateRunner(scope, next);
        addRunnerEvent(scope, next);
        return runnerFromRow(next, await activeAttemptsOf(scope.client, id));
      });
    },

    async heartbeatRunner(id, status: RunnerStatus = 'online', options = {}) {
      const { dependencyHealth } = options;
      return writer.write(async (scope) => {
        const row = await lockRunner(scope, id);
        const next: RunnerRow = {
          ...row,
          status,
          last_heartbeat_at: scope.now,
          dependency_health:
            dependencyHealth === undefined
              ? row.dependency_health
              : dependencyHealthColumnOf(dependencyHealth),
        };
        await updateRunner(scope, next);
        if (row.status !== status) addRunnerEvent(scope, next);
        return runnerFromRow(next, await activeAttemptsOf(scope.client, id));
      });
    },

    async markStaleRunnersOffline(staleAfterMs) {
      return markSilentRunners(
        `status <> 'offline' AND (last_heartbeat_at IS NULL OR last_heartbeat_at < $1)`,
        staleAfterMs,
        'offline',
      );
    },

    async markLateRunnersDegraded(lateAfterMs) {
      return markSilentRunners(`status = 'online' AND last_heartbeat_at < $1`, lateAfterMs, 'degraded');
    },

    async listRunners() {
      const rows = await pool.query<RunnerRow>('SELECT * FROM runners ORDER BY name');
      const counts = await pool.query<{ runner_id: string; count: number }>(
        `SELECT runner_id, COUNT(*)::integer AS count FROM attempts WHERE ${activeAttemptCondition} GROUP BY runner_id`,
      );
      const activeByRunner = new Map(counts.map((count) => [count.runner_id, count.count]));
      return rows.map((row) => runnerFromRow(row, activeByRunner.get(row.id) ?? 0));
    },

    async deleteRunner(id) {
      return writer.write(async (scope) => {
        const [row] = await scope.client.query<RunnerRow>('DELETE FROM runners WHERE id = $1 RETURNING *', [
          id,
        ]);
        if (row === undefined) return false;
        scope.addEvent({
          type: 'runner.state',
          runnerId: id,
          data: { status: 'offline', name: row.name, reason: 'deleted' },
        });
        return true;
      });
    },
  };
}

/** Appends `runner.state` with the runner's current status. */
function addRunnerEvent(scope: PostgresWriteScope, runner: RunnerRow): void {
  scope.addEvent({
    type: 'runner.state',
    runnerId: runner.id,
    data: { status: runner.status, name: runner.name },
  });
}
