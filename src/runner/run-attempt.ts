import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { HubClient } from '../client/hub-client.ts';
import type { ClaimedWork, RunnerConfig } from '../core/api.ts';
import { branchNameFor } from '../core/branch-name.ts';
import { effectiveGrants } from '../core/claimed-agent.ts';
import { formatIssues, LeaseLostError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { AttemptError, TaskResult, VerificationRound } from '../core/types.ts';
import { SKILLS_DIR_ENV } from '../executors/agent-context-prompt.ts';
import type { ExecutorRegistry } from '../executors/registry.ts';
import type { ExecutorContext, ExecutorEvent, ExecutorResult, GrantSecrets } from '../executors/spec.ts';
import {
  commitAll,
  createWorktree,
  restoreWorktree,
  snapshotWorktree,
  ensureMirror,
  fetchMirror,
  GitError,
  pushBranch,
  redactCredentials,
  resolveBaseRef,
  scanForSecrets,
  type KeyedLock,
  type Mirror,
} from '../vcs/index.ts';
import { createAttemptLog } from './create-attempt-log.ts';
import { createUsageReporter } from './create-usage-reporter.ts';
import { removeAttemptWorktree } from './remove-attempt-worktree.ts';
import type { HeldAttemptRecord, RunnerStateFile } from './runner-state-file.ts';
import { verifyCriteria } from './verify-criteria.ts';
import { writeAgentSkills } from './write-agent-skills.ts';
import { describeProcessGroup, type ProcessGroupRecord } from './process-groups.ts';

/** Where a runner keeps its files. */
export interface RunnerDirectories {
  /** Bare mirrors of source repositories. */
  mirrors: string;
  /** One worktree per attempt: `<worktrees>/<attempt id>`. */
  worktrees: string;
  /**
   * Scratch space per attempt (its HOME and TMPDIR, and the agent's skills in `skills/`):
   * `<scratch>/<attempt id>`.
   */
  scratch: string;
}

/** Everything {@link runAttempt} needs. */
export interface RunAttemptOptions {
  work: ClaimedWork;
  client: HubClient;
  executors: ExecutorRegistry;
  /** The runner's one lock per mirror. */
  lock: KeyedLock;
  stateFile: RunnerStateFile;
  directories: RunnerDirectories;
  /** Lease settings from the hub. */
  config: RunnerConfig;
  /** Environment granted to the task, over the defaults (PATH, HOME, TMPDIR, LANG). */
  env?: Record<string, string>;
  /**
   * Secrets by grant (`{ 'github:read': { GITHUB_TOKEN: '…' } }`). A task gets the variables of the grants
   * it holds, in its environment and for the tool servers whose grants allow them; nothing else. With an
   * agent definition that lists grants, only the grants both the task and the definition hold count.
   */
  grantSecrets?: GrantSecrets;
  /** How long a failed attempt's worktree is kept for inspection; 0 removes it at once. */
  keepFailedWorktreesMs: number;
  logger: Logger;
}

/** Why the runner interrupts an attempt from outside. */
export type AttemptInterruption =
  /** The hub says the runner no longer holds the attempt (cancelled, expired): stop without reporting. */
  | 'revoked'
  /** The runner is shutting down and its drain time ran out: stop and report a retryable failure. */
  | 'stopped';

/** How an attempt ended, from the runner's side. */
export type AttemptOutcome =
  /** Completed and reported. */
  | { status: 'succeeded'; result: TaskResult }
  /** Failed; `reported` says whether the hub accepted the failure report. */
  | { status: 'failed'; error: AttemptError; reported: boolean }
  /** The lease was lost (cancelled, expired, revoked): nothing was reported or pushed after that. */
  | { status: 'abandoned'; reason: string };

/** A running attempt. */
export interface AttemptRun {
  attemptId: string;
  taskId: string;
  /** Stops the attempt: its executor and verification are aborted. */
  interrupt(reason: AttemptInterruption): void;
  /** Resolves when the attempt has been reported and cleaned up. Never rejects. */
  finished: Promise<AttemptOutcome>;
}

export type { GrantSecrets };

/** The grants of `secrets` the task holds. */
export function secretsForGrants(grants: readonly string[], secrets: GrantSecrets): GrantSecrets {
  return Object.fromEntries(
    grants.flatMap((grant) => (secrets[grant] ? [[grant, { ...secrets[grant] }] as const] : [])),
  );
}

/** Descriptions of criteria that passed in `before` and fail in `after`. */
export function regressedCriteria(before: VerificationRound, after: VerificationRound): string[] {
  return after.criteria
    .filter((result, index) => !result.passed && before.criteria[index]?.passed === true)
    .map((result) => result.description);
}

/** Why the attempt's abort signal fired. */
interface Interruption {
  kind: 'timeout' | 'lease_lost' | 'stopped';
  message: string;
}

/** What the pipeline decided, before it is reported. */
type Decision =
  | { status: 'succeeded'; result: TaskResult; verification: VerificationRound[] }
  | { status: 'failed'; error: AttemptError; verification: VerificationRound[] }
  | { status: 'abandoned'; reason: string };

// why: the hub keeps at most 1 000 characters of progress per heartbeat.
const maxProgressLength = 1_000;
// why: the hub keeps at most 10 000 characters of an error message.
const maxErrorMessageLength = 10_000;
// why: a PATH that finds the usual tools when the runner's own PATH is unset.
const fallbackPath = '/usr/local/bin:/usr/bin:/bin';

/**
 * Runs one claimed attempt: fetch the repository, create the worktree, run the executor, verify the
 * success criteria, commit, scan for secrets, push and report; heartbeats the lease throughout.
 *
 * Fencing: as soon as any call says the lease is lost (or the lease could not be extended for a whole
 * lease period) the attempt is aborted and nothing more is committed, pushed or reported. Every outcome,
 * including unexpected errors, is reported as a value; `finished` never rejects.
 */
export function runAttempt(options: RunAttemptOptions): AttemptRun {
  const { work, client, config } = options;
  const { task, attempt, leaseToken } = work;
  const attemptId = attempt.id;
  const logger = options.logger.child({ attemptId, taskId: task.id });
  const controller = new AbortController();
  let interruption: Interruption | undefined;
  let progress: string | undefined;
  let lastLeaseConfirmedAt = Date.now();

  const interrupt = (kind: Interruption['kind'], message: string): void => {
    if (interruption) return;
    interruption = { kind, message };
    // why: cancellation and revocation are ordinary outcomes; only unexpected stops deserve a warning.
    const level = kind === 'lease_lost' ? 'info' : 'warn';
    logger[level]({ reason: kind }, `stopping the attempt: ${message}`);
    controller.abort();
  };

  const log = createAttemptLog({
    logger,
    send: async (entries) => {
      if (interruption?.kind === 'lease_lost') return;
      try {
        await client.attempts.appendLogs(attemptId, { leaseToken, entries });
      } catch (error) {
        if (error instanceof LeaseLostError) interrupt('lease_lost', error.message);
        else throw error;
      }
    },
  });

  const usage = createUsageReporter({
    logger,
    send: async (records) => {
      if (interruption?.kind === 'lease_lost') return;
      try {
        await client.attempts.recordUsage(attemptId, { leaseToken, records });
      } catch (error) {
        // why: a lost lease refuses the records for good; they are dropped, not retried.
        if (error instanceof LeaseLostError) interrupt('lease_lost', error.message);
        else throw error;
      }
    },
  });

  let heartbeatInFlight: Promise<void> | undefined;
  const heartbeat = (): Promise<void> => {
    heartbeatInFlight ??= (async () => {
      try {
        const message = progress?.slice(0, maxProgressLength);
        await client.attempts.heartbeat(attemptId, { leaseToken, ...(message ? { message } : {}) });
        lastLeaseConfirmedAt = Date.now();
      } catch (error) {
        if (error instanceof LeaseLostError) interrupt('lease_lost', error.message);
        else logger.warn({ err: error }, 'extending the lease failed; will try again');
      } finally {
        heartbeatInFlight = undefined;
      }
    })();
    return heartbeatInFlight;
  };
  const heartbeatTimer = setInterval(() => {
    // why: past a whole lease period without a confirmed heartbeat, the hub may have given the task
    // to another runner; carrying on could push over that runner's work.
    if (Date.now() - lastLeaseConfirmedAt > config.leaseMs) {
      interrupt('lease_lost', `the lease could not be extended for ${config.leaseMs} ms`);
      return;
    }
    void heartbeat();
  }, config.heartbeatIntervalMs);

  // The task's time limit covers the executor and the verification (see `taskSpecSchema.timeoutMs`);
  // it starts when the executor starts, so a slow fetch cannot eat the work's budget.
  let taskTimer: NodeJS.Timeout | undefined;
  const startTaskTimer = (): void => {
    taskTimer = setTimeout(
      () => interrupt('timeout', `the attempt ran past the task's time limit of ${task.timeoutMs} ms`),
      task.timeoutMs,
    );
  };

  const worktreePath = path.join(options.directories.worktrees, attemptId);
  const scratchPath = path.join(options.directories.scratch, attemptId);
  const record: HeldAttemptRecord = {
    attemptId,
    taskId: task.id,
    leaseToken,
    worktreePath,
    sourceRepo: task.repo,
  };
  let mirror: Mirror | undefined;
  let branch: string | undefined;
  let worktreeCreated = false;

  /** Calls the hub about this attempt; a LeaseLostError interrupts the attempt before it is rethrown. */
  const callHub = async <Result>(call: () => Promise<Result>): Promise<Result> => {
    try {
      return await call();
    } catch (error) {
      if (error instanceof LeaseLostError) interrupt('lease_lost', error.message);
      throw error;
    }
  };

  const interrupted = (verification: VerificationRound[] = []): Decision => {
    const current = interruption!;
    switch (current.kind) {
      case 'lease_lost':
        return { status: 'abandoned', reason: current.message };
      case 'timeout':
        return {
          status: 'failed',
          error: { kind: 'timeout', retryable: true, message: current.message },
          verification,
        };
      case 'stopped':
        return {
          status: 'failed',
          error: { kind: 'runner_stopped', retryable: true, message: current.message },
          verification,
        };
    }
  };

  const failed = (error: AttemptError, verification: VerificationRound[] = []): Decision => ({
    status: 'failed',
    error: { ...error, message: error.message.slice(0, maxErrorMessageLength) },
    verification,
  });

  /** Keeps the executor's process groups in the state file while they live (killed at restart after a crash). */
  function trackProcessGroup(processGroupId: number): () => void {
    const group = describeProcessGroup(processGroupId);
    const save = (change: (groups: ProcessGroupRecord[]) => ProcessGroupRecord[]): void => {
      options.stateFile
        .update((state) => {
          const held = state.held.find((candidate) => candidate.attemptId === attemptId);
          if (held) held.processGroups = change(held.processGroups ?? []);
        })
        .catch((error: unknown) => logger.warn({ err: error }, 'recording a process group failed'));
    };
    save((groups) => [...groups, group]);
    return () => save((groups) => groups.filter((candidate) => candidate.id !== processGroupId));
  }

  /** Runs the executor; a throw (a bug in the executor) becomes a retryable failure. */
  async function runExecutor(name: string, run: () => Promise<ExecutorResult>): Promise<ExecutorResult> {
    try {
      return await run();
    } catch (error) {
      return {
        status: 'failed',
        error: {
          kind: 'executor_failed',
          retryable: true,
          message: `executor ${name} threw: ${error instanceof Error ? error.message : String(error)}`,
        },
      };
    }
  }

  async function execute(): Promise<Decision> {
    const executor = options.executors.get(task.executor);
    if (!executor) {
      return failed({
        kind: 'executor_unavailable',
        retryable: true,
        message: `this runner has no "${task.executor}" executor`,
      });
    }
    const issues = executor.validateInput(task.executorInput);
    if (issues.length > 0) {
      return failed({ kind: 'invalid_input', retryable: false, message: formatIssues(issues) });
    }

    // Recorded before anything touches the disk, so a crash from here on is cleaned up at restart.
    await options.stateFile.update((state) => state.held.push({ ...record }));
    log.system(`fetching ${redactCredentials(task.repo)}`);
    mirror = await ensureMirror({
      sourceRepo: task.repo,
      cacheDir: options.directories.mirrors,
      lock: options.lock,
    });
    await fetchMirror(mirror, { lock: options.lock });
    const base = await resolveBaseRef(mirror, task.baseBranch);
    if (interruption) return interrupted();

    branch = branchNameFor(task.id, task.title);
    record.mirrorPath = mirror.path;
    record.branch = branch;
    await options.stateFile.update((state) => {
      const held = state.held.find((candidate) => candidate.attemptId === attemptId);
      if (held) Object.assign(held, record);
    });
    await removeSupersededWorktrees(mirror.path, branch);
    log.system(`creating worktree ${branch} from ${base.branch} at ${base.sha.slice(0, 12)}`);
    const worktree = await createWorktree({
      mirror,
      lock: options.lock,
      baseRef: base.ref,
      branch,
      path: worktreePath,
    });
    worktreeCreated = true;
    if (interruption) return interrupted();

    const home = path.join(scratchPath, 'home');
    const temporary = path.join(scratchPath, 'tmp');
    await mkdir(home, { recursive: true });
    await mkdir(temporary, { recursive: true });
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? fallbackPath,
      HOME: home,
      TMPDIR: temporary,
      LANG: process.env.LANG ?? 'C.UTF-8',
      ...options.env,
    };
    // Credentials reach the executor only through the task's grants (see RunAttemptOptions.grantSecrets),
    // narrowed to the agent definition's grants when it lists any.
    const agent = work.agent;
    const grants = effectiveGrants(task.grants, agent);
    const withheld = task.grants.filter((grant) => !grants.includes(grant));
    if (agent && withheld.length > 0) {
      log.system(
        `agent ${agent.name} does not grant ${withheld.join(', ')}; the task runs without ${withheld.length === 1 ? 'it' : 'them'}`,
      );
    }
    const grantSecrets = secretsForGrants(grants, options.grantSecrets ?? {});
    for (const variables of Object.values(grantSecrets)) Object.assign(env, variables);
    // The executor sees the grants it holds, so its tool servers ask for no more than that.
    const executorTask = withheld.length > 0 ? { ...task, grants } : task;

    // The agent's skills, as files outside the worktree; removed with the scratch space.
    let agentSkillsDir: string | undefined;
    if (agent && agent.skills.length > 0) {
      agentSkillsDir = path.join(scratchPath, 'skills');
      const written = await writeAgentSkills(agentSkillsDir, agent.skills, logger);
      env[SKILLS_DIR_ENV] = agentSkillsDir;
      log.system(
        `agent ${agent.name}: ${agent.skills.length} skill${agent.skills.length === 1 ? '' : 's'} (${agent.skills.map((skill) => skill.name).join(', ')}) in ${agentSkillsDir}, ${written.files} file${written.files === 1 ? '' : 's'}${written.skipped > 0 ? `, ${written.skipped} left out` : ''}`,
      );
    }
    for (const unloaded of agent?.unloadedSkills ?? []) {
      log.system(
        `agent ${agent?.name}: skill ${unloaded.name} could not be loaded by the hub: ${unloaded.reason}`,
      );
    }

    progress = `running ${executor.name}`;
    // why: send narration first so watchers see it before the phase change it led to.
    await log.flush();
    await callHub(() =>
      client.attempts.setPhase(attemptId, {
        leaseToken,
        phase: 'running',
        message: progress,
        branch,
        worktreePath: worktree.path,
      }),
    );
    log.system(`running ${executor.name}`);
    startTaskTimer();
    const context: ExecutorContext = {
      task: executorTask,
      attempt: { id: attemptId, number: attempt.number },
      worktreePath: worktree.path,
      abortSignal: controller.signal,
      timeoutMs: task.timeoutMs,
      env,
      heartbeat: (message) => {
        if (message !== undefined) progress = message;
      },
      emit: (event) => onExecutorEvent(event),
      trackProcessGroup,
      logger: logger.child({ executor: executor.name }),
      ...(work.model ? { model: work.model } : {}),
      grantSecrets,
      ...(agent ? { agent } : {}),
      ...(agentSkillsDir === undefined ? {} : { agentSkillsDir }),
    };
    const executorResult = await runExecutor(executor.name, () => executor.run(context));
    if (interruption) return interrupted();
    if (executorResult.status === 'failed') {
      log.system(`${executor.name} failed: ${executorResult.error.message.split('\n')[0] ?? ''}`);
      return failed(executorResult.error);
    }
    let summary = executorResult.summary;
    log.system(`${executor.name} finished${summary ? `: ${summary}` : ''}`);

    // Verify, and while criteria fail and fix rounds are left, hand the evidence back to the executor.
    // A fix round that breaks a criterion which had passed is undone, so rounds never regress.
    const criteria = task.successCriteria;
    const rounds: VerificationRound[] = [];
    let session = executorResult.session;
    // The best state so far: the last failed round that broke nothing, and the worktree as it was then.
    let reference: { round: VerificationRound; snapshot: string } | undefined;
    for (let roundNumber = 1; ; roundNumber += 1) {
      progress = `verifying ${criteria.length} criteri${criteria.length === 1 ? 'on' : 'a'}${roundNumber > 1 ? ` (round ${roundNumber})` : ''}`;
      await log.flush();
      await callHub(() =>
        client.attempts.setPhase(attemptId, { leaseToken, phase: 'verifying', message: progress }),
      );
      log.system(progress);
      const round = await verifyCriteria({
        criteria,
        round: roundNumber,
        worktreePath: worktree.path,
        env,
        abortSignal: controller.signal,
        onCriterionStart: (criterion, index) =>
          log.system(`checking criterion ${index + 1}: ${criterion.description}`),
        onOutput: (stream, text) => log.write(stream, text),
        trackProcessGroup,
      });
      rounds.push(round);
      if (interruption) return interrupted(rounds);
      for (const [index, result] of round.criteria.entries()) {
        const verdict = result.passed
          ? 'passed'
          : result.timedOut
            ? 'timed out'
            : `failed (exit ${result.exitCode})`;
        log.system(`criterion ${index + 1} ${verdict}: ${result.description}`);
      }
      if (round.passed) break;

      const regressed = reference ? regressedCriteria(reference.round, round) : [];
      if (reference && regressed.length > 0) {
        log.system(
          `round ${roundNumber} broke ${regressed.length} criteri${regressed.length === 1 ? 'on' : 'a'} that had passed; undoing that round's changes`,
        );
        await restoreWorktree(worktree.path, reference.snapshot, controller.signal);
      }
      const fixRoundsUsed = roundNumber - 1;
      if (!executor.resume || session === undefined || fixRoundsUsed >= task.fixRounds) {
        const failing = round.criteria.filter((result) => !result.passed);
        const why =
          !executor.resume || session === undefined
            ? ''
            : fixRoundsUsed > 0
              ? ` after ${fixRoundsUsed} fix round${fixRoundsUsed === 1 ? '' : 's'}`
              : '';
        return failed(
          {
            kind: 'verification_failed',
            retryable: true,
            message: `${failing.length} of ${round.criteria.length} success criteria failed${why}: ${failing
              .map((result) => `"${result.description}"`)
              .join(', ')}`,
          },
          rounds,
        );
      }
      if (!reference || regressed.length === 0) {
        reference = { round, snapshot: await snapshotWorktree(worktree.path, controller.signal) };
      }
      // After an undo the worktree is back at the reference, so its round is the evidence that fits.
      const feedback = reference.round;
      progress = `fix round ${fixRoundsUsed + 1} of ${task.fixRounds}`;
      await log.flush();
      await callHub(() =>
        client.attempts.setPhase(attemptId, { leaseToken, phase: 'running', message: progress }),
      );
      log.system(`${progress}: handing the failed criteria back to ${executor.name}`);
      const resume = executor.resume.bind(executor);
      const resumed: ExecutorResult = await runExecutor(executor.name, () =>
        resume(
          { ...context, feedback, ...(regressed.length > 0 ? { regressedCriteria: regressed } : {}) },
          session,
        ),
      );
      if (interruption) return interrupted(rounds);
      if (resumed.status === 'failed') {
        log.system(`${executor.name} failed in ${progress}: ${resumed.error.message.split('\n')[0] ?? ''}`);
        return failed(resumed.error, rounds);
      }
      session = resumed.session;
      summary = resumed.summary ?? summary;
      log.system(`${executor.name} finished ${progress}${resumed.summary ? `: ${resumed.summary}` : ''}`);
    }
    // why: the time limit covers the work and its verification; committing and pushing verified work
    // must not be cut short by it (git has its own time limits).
    clearTimeout(taskTimer);

    log.system('committing');
    const commit = await commitAll({
      worktreePath: worktree.path,
      message: `${task.title}\n\nWarren-Task: ${task.id}\nWarren-Attempt: ${attemptId}\n`,
    });
    const resultBase = { branch, baseBranch: base.branch, baseSha: worktree.baseSha, summary };
    if (!commit) {
      log.system('nothing to commit: the work changed no files');
      return {
        status: 'succeeded',
        result: { ...resultBase, changedFiles: [], pushed: false },
        verification: rounds,
      };
    }
    log.system(
      `committed ${commit.sha.slice(0, 12)} (${commit.changedFiles.length} file${commit.changedFiles.length === 1 ? '' : 's'})`,
    );
    const findings = await scanForSecrets({ worktreePath: worktree.path, baseSha: worktree.baseSha });
    if (findings.length > 0) {
      const listed = findings
        .slice(0, 20)
        .map((finding) => `${finding.file}:${finding.line} (${finding.rule}) ${finding.excerpt}`)
        .join('\n');
      log.system(`secret scan found ${findings.length} possible secrets; not pushing`);
      return failed(
        {
          kind: 'secret_detected',
          retryable: false,
          message: `the commit adds ${findings.length} possible secret${findings.length === 1 ? '' : 's'}; it was not pushed:\n${listed}`,
        },
        rounds,
      );
    }

    // Fencing: confirm the lease right before the one step that changes the source repository.
    await heartbeat();
    if (interruption) return interrupted(rounds);
    if (Date.now() - lastLeaseConfirmedAt > config.leaseMs) {
      interrupt('lease_lost', 'the lease could not be confirmed before pushing');
      return interrupted(rounds);
    }
    log.system(`pushing ${branch}`);
    const push = await pushBranch({ worktreePath: worktree.path, remote: task.repo, branch, force: true });
    if (push.status === 'rejected') {
      return failed(
        {
          kind: 'push_rejected',
          retryable: true,
          message: `the source repository refused branch ${branch}: ${push.reason}`,
        },
        rounds,
      );
    }
    log.system(`pushed ${branch} (${push.sha.slice(0, 12)})`);
    return {
      status: 'succeeded',
      result: { ...resultBase, commitSha: commit.sha, changedFiles: commit.changedFiles, pushed: true },
      verification: rounds,
    };
  }

  function onExecutorEvent(event: ExecutorEvent): void {
    switch (event.type) {
      case 'output':
        log.write(event.stream, event.text);
        break;
      case 'text-delta':
        log.write('stdout', event.text);
        break;
      case 'tool-call':
        progress = `calling ${event.toolName}`;
        log.system(`tool call ${event.toolName}`);
        break;
      case 'tool-result':
        if (event.isError) log.system(`tool ${event.toolName} returned an error`);
        break;
      case 'file-change':
        logger.debug({ path: event.path, change: event.change }, 'file changed');
        break;
      case 'usage':
        logger.debug({ inputTokens: event.inputTokens, outputTokens: event.outputTokens }, 'model usage');
        if (event.endpoint && event.model) {
          usage.add({
            endpoint: event.endpoint,
            model: event.model,
            inputTokens: event.inputTokens,
            outputTokens: event.outputTokens,
            costUsd: event.costUsd ?? 0,
          });
        }
        break;
      case 'step-end':
        progress = `step ${event.step} done${event.description ? `: ${event.description}` : ''}`;
        break;
      case 'run-end':
        break;
      case 'error':
        log.system(`executor reported: ${event.error.message}`);
        break;
    }
  }

  /** Kept worktrees of earlier attempts on the same branch would block `git worktree add -B`. */
  async function removeSupersededWorktrees(mirrorPath: string, branchName: string): Promise<void> {
    const superseded = options.stateFile
      .current()
      .kept.filter((kept) => kept.mirrorPath === mirrorPath && kept.branch === branchName);
    for (const kept of superseded) {
      await removeAttemptWorktree(kept, options.lock, logger);
      await options.stateFile.update((state) => {
        state.kept = state.kept.filter((candidate) => candidate.worktreePath !== kept.worktreePath);
      });
    }
  }

  /** Reports the decision, then removes or keeps the worktree. */
  async function finish(decision: Decision): Promise<AttemptOutcome> {
    clearTimeout(taskTimer);
    let outcome: AttemptOutcome;
    if (decision.status === 'abandoned' || interruption?.kind === 'lease_lost') {
      log.discard();
      outcome = {
        status: 'abandoned',
        reason: decision.status === 'abandoned' ? decision.reason : interruption!.message,
      };
    } else {
      await log.flush();
      await usage.flush();
      outcome = await report(decision);
    }
    usage.close();
    clearInterval(heartbeatTimer);
    log.discard();
    await cleanUp(outcome);
    return outcome;
  }

  async function report(decision: Exclude<Decision, { status: 'abandoned' }>): Promise<AttemptOutcome> {
    try {
      if (decision.status === 'succeeded') {
        await callHub(() =>
          client.attempts.complete(attemptId, {
            leaseToken,
            result: decision.result,
            verification: decision.verification,
          }),
        );
        logger.info({ branch: decision.result.branch, pushed: decision.result.pushed }, 'attempt succeeded');
        return { status: 'succeeded', result: decision.result };
      }
      await callHub(() =>
        client.attempts.fail(attemptId, {
          leaseToken,
          error: decision.error,
          verification: decision.verification,
          ...(branch && worktreeCreated ? { branch, worktreePath } : {}),
        }),
      );
      logger.info({ kind: decision.error.kind, retryable: decision.error.retryable }, 'attempt failed');
      return { status: 'failed', error: decision.error, reported: true };
    } catch (error) {
      if (error instanceof LeaseLostError) return { status: 'abandoned', reason: error.message };
      logger.error({ err: error }, 'reporting the attempt to the hub failed; its lease will expire');
      const attemptError =
        decision.status === 'failed'
          ? decision.error
          : { kind: 'report_failed', retryable: true, message: 'the success could not be reported' };
      return { status: 'failed', error: attemptError, reported: false };
    }
  }

  async function cleanUp(outcome: AttemptOutcome): Promise<void> {
    await rm(scratchPath, { recursive: true, force: true }).catch(() => undefined);
    const keep = outcome.status === 'failed' && worktreeCreated && options.keepFailedWorktreesMs > 0;
    try {
      if (keep && mirror && branch) {
        const keepUntil = new Date(Date.now() + options.keepFailedWorktreesMs).toISOString();
        await options.stateFile.update((state) => {
          state.held = state.held.filter((held) => held.attemptId !== attemptId);
          state.kept.push({
            attemptId,
            taskId: task.id,
            worktreePath,
            mirrorPath: mirror!.path,
            sourceRepo: task.repo,
            branch: branch!,
            keepUntil,
          });
        });
        logger.info({ worktreePath, keepUntil }, "keeping the failed attempt's worktree for inspection");
        return;
      }
      if (worktreeCreated || mirror) {
        await removeAttemptWorktree(
          { worktreePath, mirrorPath: mirror?.path, sourceRepo: task.repo, branch },
          options.lock,
          logger,
        );
      }
      await options.stateFile.update((state) => {
        state.held = state.held.filter((held) => held.attemptId !== attemptId);
      });
    } catch (error) {
      logger.error({ err: error }, 'cleaning up after the attempt failed');
    }
  }

  const finished = (async (): Promise<AttemptOutcome> => {
    let decision: Decision;
    try {
      decision = await execute();
    } catch (error) {
      if (interruption) decision = interrupted();
      else if (error instanceof GitError) {
        log.system(`git failed: ${error.message}`);
        decision = failed({ kind: 'git_failed', retryable: true, message: error.message });
      } else {
        logger.error({ err: error }, 'the attempt failed unexpectedly');
        const message = error instanceof Error ? error.message : String(error);
        decision = failed({ kind: 'runner_error', retryable: true, message: `runner error: ${message}` });
      }
    }
    return finish(decision);
  })();

  return {
    attemptId,
    taskId: task.id,
    interrupt(reason) {
      if (reason === 'revoked')
        interrupt('lease_lost', 'the hub revoked the lease (task cancelled or lease expired)');
      else interrupt('stopped', 'the runner stopped before the attempt finished');
    },
    finished,
  };
}
