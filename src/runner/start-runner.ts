import { access, mkdir, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHubClient, type HubClient } from '../client/hub-client.ts';
import type { RunnerConfig } from '../core/api.ts';
import { computeRetryDelay, type RetryPolicy } from '../core/backoff.ts';
import { InvalidInputError, LeaseLostError, UnauthorizedError } from '../core/errors.ts';
import type { RunnerAgentPairing } from '../core/fleet-types.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { sleep } from '../core/sleep.ts';
import { createExecutorRegistry } from '../executors/registry.ts';
import type { AgentDefinitionInput } from '../executors/agent/agent-definition.ts';
import { createAgentExecutor } from '../executors/agent/create-agent-executor.ts';
import {
  createCliAgentExecutors,
  type CliAgentConfig,
  type CliAgentName,
} from '../executors/cli-agents/index.ts';
import { createShellExecutor } from '../executors/shell/create-shell-executor.ts';
import type { Executor } from '../executors/spec.ts';
import { collectOrphanWorktrees, createKeyedLock, runGit, type Mirror } from '../vcs/index.ts';
import { removeAttemptWorktree } from './remove-attempt-worktree.ts';
import { runAttempt, type AttemptRun, type GrantSecrets, type RunnerDirectories } from './run-attempt.ts';
import { createRunnerStateFile } from './runner-state-file.ts';
import { killRecordedProcessGroup } from './process-groups.ts';
import { startDependencyHealthChecks, type DependencyHealthCheck } from './dependency-health-checks.ts';

/** Options of {@link startRunner}. */
export interface StartRunnerOptions {
  /** The hub's base URL. */
  hubUrl: string;
  /** This runner's token (from `POST /v1/runners`). */
  token: string;
  /** The runner's own directory: `mirrors/`, `worktrees/`, `scratch/` and `state.json` live here. */
  workDir: string;
  /** Name used in local logs. */
  name?: string;
  /** Capabilities to advertise besides `executor:<name>` for each available executor. */
  capabilities?: string[];
  /** Attempts run at once. Default 1. */
  slots?: number;
  /**
   * Executors offered. Default: `shell`, `agent` with {@link StartRunnerOptions.agents}, and every CLI agent
   * (claude-code, codex, opencode, gemini-cli, aider, goose) whose binary is found, per
   * {@link StartRunnerOptions.cliAgents}.
   */
  executors?: Executor[];
  /** Agent definitions of the default `agent` executor (besides its built-in `default`). */
  agents?: AgentDefinitionInput[];
  /** Settings of the default CLI agent executors: binary paths, extra arguments, `enabled: false`. */
  cliAgents?: Partial<Record<CliAgentName, CliAgentConfig>>;
  /**
   * Secrets by grant: `{ 'github:read': { GITHUB_TOKEN: '…' } }`. A task gets the variables of the grants it
   * holds (and its MCP servers those their own grants allow); no other secret reaches a task.
   */
  grantSecrets?: GrantSecrets;
  /** How long a failed attempt's worktree is kept for inspection. Default 24 hours; 0 removes it at once. */
  keepFailedWorktreesMs?: number;
  /**
   * Agent definitions this runner runs for the hub's fleet routing, each with the capabilities it offers
   * (weight, preferred) and the names of the dependency health checks it requires.
   */
  pairings?: RunnerAgentPairing[];
  /** The dependency health checks the pairings name, by name. */
  healthChecks?: Record<string, DependencyHealthCheck>;
  /** Long-poll wait of each claim request. Default 30 s (the hub's maximum). */
  pollWaitMs?: number;
  /** Interval of the runner heartbeat. Default: the hub's heartbeat interval, at most 5 s. */
  runnerHeartbeatIntervalMs?: number;
  /** Spacing of retries after the hub could not be reached. Default 1 s growing to 30 s. */
  retryPolicy?: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>;
  logger?: Logger;
  /**
   * Environment granted to tasks, over the defaults: PATH (the runner's), HOME and TMPDIR (scratch
   * directories of the attempt) and LANG. Nothing else from the runner's environment reaches a task.
   */
  env?: Record<string, string>;
  /** Client to use instead of one built from `hubUrl` and `token` (tests). */
  client?: HubClient;
}

/** Options of {@link RunningRunner.stop}. */
export interface StopRunnerOptions {
  /** How long running attempts may finish before they are aborted. Default 60 s. */
  drainTimeoutMs?: number;
}

/** Counters of a runner since it started. */
export interface RunnerStats {
  /** Attempts running now. */
  active: number;
  claimed: number;
  succeeded: number;
  failed: number;
  /** Attempts stopped because the lease was lost (cancelled, expired, revoked). */
  abandoned: number;
  /** Claim requests that failed since the last one that worked. */
  consecutiveClaimFailures: number;
}

/** A started runner. */
export interface RunningRunner {
  runnerId: string;
  /** The settings the hub handed out at registration. */
  config: RunnerConfig;
  /**
   * Stops the runner: claims stop (the hub sees it draining), running attempts get `drainTimeoutMs` to
   * finish and are then aborted (reported as retryable `runner_stopped` failures). Safe to call twice.
   */
  stop(options?: StopRunnerOptions): Promise<void>;
  /** Resolves when no attempt is running (tests). */
  idle(): Promise<void>;
  stats(): RunnerStats;
}

// why: a long poll of 30 s (the hub's maximum) costs one request per half minute per idle runner.
const defaultPollWaitMs = 30_000;
// why: the hub learns of a drain or of our attempts' state within a few seconds, at negligible cost.
const maxRunnerHeartbeatIntervalMs = 5_000;
// why: one day leaves a failed attempt's worktree around for a human to look at the next morning.
const defaultKeepFailedWorktreesMs = 24 * 60 * 60_000;
// why: attempts usually finish in minutes; a minute of drain lets short ones end cleanly on shutdown.
const defaultDrainTimeoutMs = 60_000;
// why: reconnect quickly after a blip, but a hub that is down for long is asked only every 30 s.
const defaultRetryPolicy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'> = {
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
};
// why: kept worktrees expire in hours; checking once a minute is timely enough and costs nothing.
const sweepIntervalMs = 60_000;

/**
 * Starts a runner daemon: registers with the hub, cleans up after a previous run, then claims and runs
 * attempts until `stop()` is called. Hub outages never crash it: calls are retried with backoff and the
 * runner carries on when the hub is back. Resolves once registered; throws when registration fails.
 */
export async function startRunner(options: StartRunnerOptions): Promise<RunningRunner> {
  const logger = (options.logger ?? silentLogger).child({ runner: options.name ?? os.hostname() });
  const client = options.client ?? createHubClient({ baseUrl: options.hubUrl, token: options.token, logger });
  const slots = options.slots ?? 1;
  const pollWaitMs = options.pollWaitMs ?? defaultPollWaitMs;
  const keepFailedWorktreesMs = options.keepFailedWorktreesMs ?? defaultKeepFailedWorktreesMs;
  const retryPolicy: RetryPolicy = { ...(options.retryPolicy ?? defaultRetryPolicy), factor: 2, jitter: 0.5 };
  const workDir = path.resolve(options.workDir);
  const directories: RunnerDirectories = {
    mirrors: path.join(workDir, 'mirrors'),
    worktrees: path.join(workDir, 'worktrees'),
    scratch: path.join(workDir, 'scratch'),
  };
  for (const directory of [directories.mirrors, directories.worktrees, directories.scratch]) {
    await mkdir(directory, { recursive: true });
  }
  const lock = createKeyedLock();
  const stateFile = createRunnerStateFile(path.join(workDir, 'state.json'));

  const detected = await availableExecutors(
    options.executors ?? [
      createShellExecutor(),
      createAgentExecutor({ agents: options.agents }),
      ...createCliAgentExecutors(options.cliAgents),
    ],
    logger,
  );
  const registry = createExecutorRegistry(detected.map((entry) => entry.executor));
  // `executor:<name>` for each executor, and `executor:<name>:<version>` where the version is known, so a
  // task can require a CLI agent at a given version.
  const capabilities = [
    ...new Set([
      ...(options.capabilities ?? []),
      ...detected.flatMap(({ executor, version }) => [
        `executor:${executor.name}`,
        ...(version ? [`executor:${executor.name}:${capabilityVersion(version)}`] : []),
      ]),
    ]),
  ].sort();

  const pairings = options.pairings ?? [];
  checkPairings(pairings, options.healthChecks ?? {});
  // why: the first results go with the registration, so the hub never scores a pairing on no result.
  let sendHeartbeatSoon = () => {};
  const healthChecks = startDependencyHealthChecks({
    checks: options.healthChecks ?? {},
    logger,
    onChange: () => sendHeartbeatSoon(),
  });
  await healthChecks.checkAll();

  const registered = await client.runner.register({
    capabilities,
    slots,
    hostname: os.hostname().slice(0, 255),
    ...(pairings.length > 0 ? { agents: pairings } : {}),
    ...(options.healthChecks ? { dependencyHealth: healthChecks.results() } : {}),
  });
  const runnerId = registered.runner.id;
  const config = registered.config;
  logger.info({ runnerId, capabilities, slots, hub: client.baseUrl }, 'runner registered');
  for (const warning of registered.warnings ?? []) logger.warn({ runnerId }, warning);

  await recoverFromPreviousRun();

  const active = new Map<string, AttemptRun>();
  const stats = { claimed: 0, succeeded: 0, failed: 0, abandoned: 0, consecutiveClaimFailures: 0 };
  const stopping = new AbortController();
  let claimController = new AbortController();
  let idleWaiters: Array<() => void> = [];
  let slotWaiters: Array<() => void> = [];

  const wakeSlotWaiters = () => {
    const waiters = slotWaiters;
    slotWaiters = [];
    for (const wake of waiters) wake();
  };

  function track(run: AttemptRun): void {
    active.set(run.attemptId, run);
    void run.finished.then((outcome) => {
      active.delete(run.attemptId);
      if (outcome.status === 'succeeded') stats.succeeded += 1;
      else if (outcome.status === 'failed') stats.failed += 1;
      else stats.abandoned += 1;
      wakeSlotWaiters();
      if (active.size === 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    });
  }

  async function claimLoop(): Promise<void> {
    while (!stopping.signal.aborted) {
      const freeSlots = slots - active.size;
      if (freeSlots <= 0) {
        await new Promise<void>((resolve) => slotWaiters.push(resolve));
        continue;
      }
      claimController = new AbortController();
      const signal = AbortSignal.any([stopping.signal, claimController.signal]);
      let claims;
      try {
        claims = await client.runner.claim({ limit: freeSlots, waitMs: pollWaitMs }, { signal });
        stats.consecutiveClaimFailures = 0;
      } catch (error) {
        if (stopping.signal.aborted) break;
        stats.consecutiveClaimFailures += 1;
        const delayMs = computeRetryDelay(stats.consecutiveClaimFailures, retryPolicy);
        const hint =
          error instanceof UnauthorizedError
            ? 'the hub refused the runner token; was this runner deleted? create it again and restart'
            : 'will keep trying';
        logger.error(
          { err: error, failures: stats.consecutiveClaimFailures, delayMs },
          `claiming work from ${client.baseUrl} failed; ${hint}`,
        );
        await sleep(delayMs, stopping.signal);
        continue;
      }
      for (const work of claims) {
        stats.claimed += 1;
        logger.info(
          { taskId: work.task.id, attemptId: work.attempt.id, title: work.task.title },
          'claimed a task',
        );
        track(
          runAttempt({
            work,
            client,
            executors: registry,
            lock,
            stateFile,
            directories,
            config,
            env: options.env,
            grantSecrets: options.grantSecrets,
            keepFailedWorktreesMs,
            logger,
          }),
        );
      }
    }
  }

  let heartbeatInFlight = false;
  /** Sends the runner heartbeat; `force` sends even while another is in flight (the drain notice). */
  async function runnerHeartbeat(force = false): Promise<void> {
    if (heartbeatInFlight && !force) return;
    heartbeatInFlight = true;
    try {
      const attemptIds = [...active.keys()];
      const answer = await client.runner.heartbeat({
        status: stopping.signal.aborted ? 'draining' : 'online',
        attemptIds,
        ...(options.healthChecks ? { dependencyHealth: healthChecks.results() } : {}),
      });
      for (const attemptId of answer.revokedAttemptIds) {
        const run = active.get(attemptId);
        if (run) {
          logger.info({ attemptId, taskId: run.taskId }, 'the hub revoked an attempt; stopping it');
          run.interrupt('revoked');
        }
      }
    } catch (error) {
      logger.warn({ err: error }, 'runner heartbeat failed; will try again');
    } finally {
      heartbeatInFlight = false;
    }
  }
  sendHeartbeatSoon = () => void runnerHeartbeat();
  const heartbeatIntervalMs =
    options.runnerHeartbeatIntervalMs ?? Math.min(maxRunnerHeartbeatIntervalMs, config.heartbeatIntervalMs);
  // why: jittered (±20 %), so a fleet restarted at once does not heartbeat in lockstep.
  let heartbeatTimer: NodeJS.Timeout | undefined;
  const scheduleHeartbeat = () => {
    heartbeatTimer = setTimeout(
      () => {
        void runnerHeartbeat();
        if (!heartbeatsStopped) scheduleHeartbeat();
      },
      heartbeatIntervalMs * (0.8 + 0.4 * Math.random()),
    );
  };
  let heartbeatsStopped = false;
  scheduleHeartbeat();
  const sweepTimer = setInterval(() => void sweepKeptWorktrees(false), sweepIntervalMs);
  sweepTimer.unref();

  const loop = claimLoop().catch((error: unknown) =>
    logger.error({ err: error }, 'the claim loop ended unexpectedly'),
  );

  let stopped: Promise<void> | undefined;
  async function stop(stopOptions: StopRunnerOptions = {}): Promise<void> {
    const drainTimeoutMs = stopOptions.drainTimeoutMs ?? defaultDrainTimeoutMs;
    logger.info({ active: active.size, drainTimeoutMs }, 'runner stopping');
    stopping.abort();
    claimController.abort();
    wakeSlotWaiters();
    await loop;
    await runnerHeartbeat(true);
    const drained = Promise.all([...active.values()].map((run) => run.finished));
    let drainTimer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      drainTimer = setTimeout(() => resolve('timeout'), drainTimeoutMs);
    });
    if ((await Promise.race([drained, timedOut])) === 'timeout') {
      logger.warn({ active: active.size }, 'drain time ran out; stopping running attempts');
      for (const run of active.values()) run.interrupt('stopped');
    }
    clearTimeout(drainTimer);
    await Promise.all([...active.values()].map((run) => run.finished));
    heartbeatsStopped = true;
    clearTimeout(heartbeatTimer);
    healthChecks.stop();
    clearInterval(sweepTimer);
    // Best effort: a hub that can't be reached marks the runner offline once its heartbeats go stale.
    await client.runner
      .heartbeat({ status: 'offline', attemptIds: [] }, { signal: AbortSignal.timeout(2_000) })
      .catch((error: unknown) => logger.debug({ err: error }, 'could not tell the hub we are offline'));
    logger.info({ runnerId }, 'runner stopped');
  }

  return {
    runnerId,
    config,
    stop: (stopOptions) => (stopped ??= stop(stopOptions)),
    idle: () =>
      active.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve)),
    stats: () => ({ active: active.size, ...stats }),
  };

  /** Reports attempts a previous run left behind, removes their worktrees and sweeps orphans. */
  async function recoverFromPreviousRun(): Promise<void> {
    const { state, damaged } = await stateFile.load();
    if (damaged) logger.warn({ movedTo: damaged }, 'the state file was unreadable; moved it aside');
    for (const held of state.held) {
      for (const group of held.processGroups ?? []) {
        const outcome = killRecordedProcessGroup(group);
        logger.info(
          { attemptId: held.attemptId, processGroup: group.id, outcome },
          'leftover process group of an abandoned attempt',
        );
      }
      try {
        await client.attempts.fail(held.attemptId, {
          leaseToken: held.leaseToken,
          error: {
            kind: 'runner_restarted',
            retryable: true,
            message: 'the runner restarted while it held this attempt',
          },
        });
        logger.info(
          { attemptId: held.attemptId, taskId: held.taskId },
          'reported an attempt abandoned by a restart',
        );
      } catch (error) {
        // A lease that is already gone (expired, cancelled) is the expected case after a long outage.
        if (!(error instanceof LeaseLostError)) {
          logger.warn({ err: error, attemptId: held.attemptId }, 'reporting an abandoned attempt failed');
        }
      }
      await removeAttemptWorktree(held, lock, logger);
      await stateFile.update((current) => {
        current.held = current.held.filter((candidate) => candidate.attemptId !== held.attemptId);
      });
    }
    await sweepKeptWorktrees(true);
    await rm(directories.scratch, { recursive: true, force: true });
    await mkdir(directories.scratch, { recursive: true });
  }

  /** Removes kept worktrees whose time is up; with `collectOrphans`, also worktrees nobody accounts for. */
  async function sweepKeptWorktrees(collectOrphans: boolean): Promise<void> {
    try {
      const now = Date.now();
      const expired = stateFile.current().kept.filter((kept) => Date.parse(kept.keepUntil) <= now);
      for (const kept of expired) {
        await removeAttemptWorktree(kept, lock, logger);
        await stateFile.update((current) => {
          current.kept = current.kept.filter((candidate) => candidate.worktreePath !== kept.worktreePath);
        });
      }
      if (!collectOrphans) return;
      const state = stateFile.current();
      const keep = new Set([
        ...state.kept.map((kept) => kept.worktreePath),
        ...state.held.map((held) => held.worktreePath),
      ]);
      for (const mirror of await listMirrors(directories.mirrors)) {
        const removed = await collectOrphanWorktrees({ mirror, lock, root: directories.worktrees, keep });
        if (removed.length > 0) logger.info({ removed, mirror: mirror.path }, 'removed orphaned worktrees');
      }
    } catch (error) {
      logger.warn({ err: error }, 'sweeping worktrees failed');
    }
  }
}

/**
 * The executors whose `detect()` says they can run here (executors without `detect` always can), with
 * their versions. Detection runs in parallel: each CLI's `--version` takes up to a second or two.
 */
async function availableExecutors(
  executors: Executor[],
  logger: Logger,
): Promise<Array<{ executor: Executor; version?: string }>> {
  const results = await Promise.all(
    executors.map(async (executor) => {
      if (!executor.detect) return { executor };
      try {
        const detected = await executor.detect();
        if (detected.available) {
          if (detected.version)
            logger.info({ executor: executor.name, version: detected.version }, 'executor found');
          return detected.version ? { executor, version: detected.version } : { executor };
        }
        // why debug for CLI agents: most machines have few of them; a warning per missing CLI is noise.
        logger.debug(
          { executor: executor.name, reason: detected.reason },
          'executor not available; not offering it',
        );
      } catch (error) {
        logger.warn({ err: error, executor: executor.name }, 'detecting an executor failed; not offering it');
      }
      return undefined;
    }),
  );
  return results.filter((result) => result !== undefined);
}

/** A version as a capability segment: lowercase, with anything but letters, digits, `.`, `_`, `-` as `-`. */
function capabilityVersion(version: string): string {
  return version
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '-')
    .slice(0, 40);
}

/** The bare mirrors under `mirrorsDirectory` (half-made clones are skipped). */
async function listMirrors(mirrorsDirectory: string): Promise<Mirror[]> {
  let entries;
  try {
    entries = await readdir(mirrorsDirectory, { withFileTypes: true });
  } catch {
    return [];
  }
  const mirrors: Mirror[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.includes('.partial-')) continue;
    const mirrorPath = path.join(mirrorsDirectory, entry.name);
    try {
      await access(path.join(mirrorPath, 'HEAD'));
      const { stdout } = await runGit([`--git-dir=${mirrorPath}`, 'config', '--get', 'remote.origin.url'], {
        cwd: mirrorPath,
      });
      mirrors.push({ path: mirrorPath, sourceRepo: stdout.trim() });
    } catch {
      // Not a mirror.
    }
  }
  return mirrors;
}

/** Refuses pairings that name a health check the runner does not define, naming the field. */
function checkPairings(pairings: RunnerAgentPairing[], checks: Record<string, DependencyHealthCheck>): void {
  const issues = pairings.flatMap((pairing, index) =>
    pairing.healthChecks
      .filter((name) => !(name in checks))
      .map((name) => ({
        field: `runner.pairings.${index}.healthChecks`,
        reason: `names the health check "${name}", which runner.healthChecks does not define`,
      })),
  );
  if (issues.length > 0) throw new InvalidInputError(issues);
}
