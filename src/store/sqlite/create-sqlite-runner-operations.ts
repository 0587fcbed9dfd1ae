/**
 * The SQLite store's runner records: creation, registration, heartbeats, presence and deletion.
 */
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import { createId } from '../../core/ids.ts';
import type { RunnerStatus } from '../../core/types.ts';
import type { Store } from '../store.ts';
import type { WriteScope } from './create-sqlite-writer.ts';
import type { RunnerRow } from '../rows/database-schema.ts';
import { agentsColumnOf, dependencyHealthColumnOf, runnerFromRow } from '../rows/runner-row.ts';
import { sqliteStatements } from './sqlite-statements.ts';
import type { SqliteStoreContext } from './sqlite-store-context.ts';

/** The runner methods of a SQLite store. */
export type SqliteRunnerOperations = Pick<
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

/**
 * Creates the runner methods on `context`. A new runner is `offline` until it registers; every change of
 * presence appends `runner.state`.
 */
export function createSqliteRunnerOperations(context: SqliteStoreContext): SqliteRunnerOperations {
  const { writer, statement } = context;

  function requireRunnerRow(id: string): RunnerRow {
    const row = statement(sqliteStatements.selectRunnerById).get(id) as RunnerRow | undefined;
    if (row === undefined) throw new NotFoundError('runner', id);
    return row;
  }

  /** Attempts the runner holds now: derived, never stored, so it cannot drift. */
  function activeAttemptsOf(runnerId: string): number {
    return statement(sqliteStatements.countActiveAttemptsOfRunner).pluck().get(runnerId) as number;
  }

  /** Sets `status` on the runners `select` finds silent for `silentMs`; answers how many. */
  function markSilentRunners(select: string, silentMs: number, status: RunnerStatus): number {
    return writer.write((scope) => {
      const silent = statement(select).all(scope.now - silentMs) as RunnerRow[];
      for (const row of silent) {
        const next: RunnerRow = { ...row, status };
        statement(sqliteStatements.updateRunner).run(next);
        addRunnerEvent(scope, next);
      }
      return silent.length;
    });
  }

  return {
    async createRunner(runner) {
      return writer.write((scope) => {
        if (statement(sqliteStatements.selectRunnerByName).get(runner.name) !== undefined) {
          throw new ConflictError(`a runner named "${runner.name}" already exists`);
        }
        if (statement(sqliteStatements.selectRunnerByTokenHash).get(runner.tokenHash) !== undefined) {
          throw new ConflictError('another runner already has this token');
        }
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
        statement(sqliteStatements.insertRunner).run(row);
        addRunnerEvent(scope, row);
        return runnerFromRow(row, 0);
      });
    },

    async findRunnerByTokenHash(tokenHash) {
      const row = statement(sqliteStatements.selectRunnerByTokenHash).get(tokenHash) as RunnerRow | undefined;
      return row === undefined ? undefined : runnerFromRow(row, activeAttemptsOf(row.id));
    },

    async getRunner(id) {
      const row = statement(sqliteStatements.selectRunnerById).get(id) as RunnerRow | undefined;
      return row === undefined ? undefined : runnerFromRow(row, activeAttemptsOf(row.id));
    },

    async registerRunner(id, registration) {
      return writer.write((scope) => {
        const row = requireRunnerRow(id);
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
        statement(sqliteStatements.updateRunner).run(next);
        addRunnerEvent(scope, next);
        return runnerFromRow(next, activeAttemptsOf(id));
      });
    },

    async heartbeatRunner(id, status: RunnerStatus = 'online', options = {}) {
      const { dependencyHealth } = options;
      return writer.write((scope) => {
        const row = requireRunnerRow(id);
        const next: RunnerRow = {
          ...row,
          status,
          last_heartbeat_at: scope.now,
          dependency_health:
            dependencyHealth === undefined
              ? row.dependency_health
              : dependencyHealthColumnOf(dependencyHealth),
        };
        statement(sqliteStatements.updateRunner).run(next);
        if (row.status !== status) addRunnerEvent(scope, next);
        return runnerFromRow(next, activeAttemptsOf(id));
      });
    },

    async markStaleRunnersOffline(staleAfterMs) {
      return markSilentRunners(sqliteStatements.selectStaleRunners, staleAfterMs, 'offline');
    },

    async markLateRunnersDegraded(lateAfterMs) {
      return markSilentRunners(sqliteStatements.selectLateRunners, lateAfterMs, 'degraded');
    },

    async listRunners() {
      const rows = statement(sqliteStatements.selectRunners).all() as RunnerRow[];
      const counts = statement(sqliteStatements.countActiveAttemptsByRunner).all() as Array<{
        runner_id: string;
        count: number;
      }>;
      const activeByRunner = new Map(counts.map((count) => [count.runner_id, count.count]));
      return rows.map((row) => runnerFromRow(row, activeByRunner.get(row.id) ?? 0));
    },

    async deleteRunner(id) {
      return writer.write((scope) => {
        const row = statement(sqliteStatements.selectRunnerById).get(id) as RunnerRow | undefined;
        if (row === undefined) return false;
        statement(sqliteStatements.deleteRunner).run(id);
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
function addRunnerEvent(scope: WriteScope, runner: RunnerRow): void {
  scope.addEvent({
    type: 'runner.state',
    runnerId: runner.id,
    data: { status: runner.status, name: runner.name },
  });
}
