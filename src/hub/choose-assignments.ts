/**
 * The scheduler's decision for one claiming runner: of the queued tasks it could run, which it should take.
 *
 * A runner takes a task only when one of its pairings is the best eligible candidate of the whole fleet for
 * that task (`chooseCandidate` over a scorecard per pairing), or when the best candidate has left the task
 * waiting for longer than `maxDeferMs` (a best runner that stopped claiming must not strand work). A task
 * another runner should take is left queued for it. Every assignment carries its decision, which the store
 * keeps on the attempt (`warren routing explain`).
 */
import type { RoutingDecisionRecord } from '../core/api.ts';
import { breakerGate, breakerKey } from '../core/circuit-breaker.ts';
import type { DependencyHealth, RunnerAgentPairing } from '../core/fleet-types.ts';
import {
  candidateLabel,
  chooseCandidate,
  scoreCandidate,
  type Decision,
  type Scorecard,
} from '../core/routing-score.ts';
import type { Runner } from '../core/types.ts';
import type { ClaimCandidate, TaskAssignment } from '../store/store.ts';
import { pairingKey, type FleetSnapshot } from './fleet-view.ts';

/** What the scheduler knows of an agent definition. */
export interface AgentLimits {
  /** The executor the agent runs on; a pairing takes only tasks of this executor. */
  type: string;
  /** Attempts of this agent active at once, fleet-wide. */
  maxActive: number;
}

/** A named concurrency limit and the tasks it applies to. */
export interface ConcurrencyLimit {
  name: string;
  /** Active attempts holding it at once. */
  limit: number;
  /** Tasks it applies to: those with every listed property (a task's capability or label, its repo). */
  match: { capability?: string; label?: string; repo?: string };
}

/**
 * The routing record kept on an attempt: the decision that gave the task to this runner (at most
 * {@link maxRecordedCards} scorecards, best first). The API's `RoutingDecisionRecord`.
 */
export type RoutingRecord = RoutingDecisionRecord;

/** Input of {@link chooseAssignments}. */
export interface ChooseAssignmentsInput {
  snapshot: FleetSnapshot;
  /** The claiming runner, as read just now. */
  runner: Runner;
  /** Queued tasks the runner could run, in claim order. */
  candidates: ClaimCandidate[];
  /**
   * The heads of lanes owed their share of claims (see `lane-fairness.ts`): weighed before `candidates`, and
   * at most one task of each such lane is taken ahead of the others.
   */
  promoted?: ClaimCandidate[];
  /** `model:` capabilities of the healthy endpoints: every runner has them. */
  modelCapabilities: readonly string[];
  /** The definition of an agent, when the hub has one. */
  agentLimits(name: string): AgentLimits | undefined;
  concurrencyLimits: readonly ConcurrencyLimit[];
  /** Most tasks to take. */
  room: number;
  now: number;
  /** How long a task may wait for a better candidate before any eligible one may take it. */
  maxDeferMs: number;
}

/** What {@link chooseAssignments} decided. */
export interface ChosenAssignments {
  assignments: TaskAssignment[];
  /** Tasks left for a better candidate: the runner should ask again soon, in case that one does not come. */
  deferred: number;
}

// why: the scorecards of a big fleet would bloat every attempt row; the best ten explain any decision.
const maxRecordedCards = 10;
// why: one active attempt per agent definition unless the definition says otherwise (issue 6).
const defaultAgentMaxActive = 1;

/** A runner's pairings; a runner with none is one pairing without an agent. */
export function pairingsOf(runner: Runner): Array<RunnerAgentPairing | undefined> {
  return runner.agents.length > 0 ? runner.agents : [undefined];
}

/** Whether the pairing can run the task at all (capabilities, agent type), regardless of its state. */
function canRun(
  runner: Runner,
  pairing: RunnerAgentPairing | undefined,
  task: Pick<ClaimCandidate, 'requiredCapabilities' | 'executor'>,
  input: Pick<ChooseAssignmentsInput, 'modelCapabilities' | 'agentLimits'>,
): boolean {
  if (pairing) {
    const limits = input.agentLimits(pairing.agent);
    if (limits && limits.type !== task.executor) return false;
  }
  return task.requiredCapabilities.every(
    (capability) =>
      runner.capabilities.includes(capability) ||
      input.modelCapabilities.includes(capability) ||
      (pairing?.offers.some((offer) => offer.name === capability) ?? false),
  );
}

/** The scorecard of every pairing in the fleet that could run the task, and the decision among them. */
export function decideTask(
  task: Pick<ClaimCandidate, 'requiredCapabilities' | 'capabilities' | 'executor'> & {
    previousFailedRunnerId?: string;
  },
  input: Pick<
    ChooseAssignmentsInput,
    'snapshot' | 'modelCapabilities' | 'agentLimits' | 'now' | 'concurrencyLimits'
  > & {
    /** Fresh records that override the snapshot's (the claiming runner). */
    runners?: Runner[];
    /** Active attempts per agent, as this decision counts them. */
    activeByAgent?: ReadonlyMap<string, number>;
    /** The runner asking for work, which wins ties (see `chooseCandidate`). */
    claimant?: string;
  },
): Decision {
  const fresh = new Map((input.runners ?? []).map((runner) => [runner.id, runner]));
  const cards: Scorecard[] = [];
  for (const listed of input.snapshot.runners) {
    const runner = fresh.get(listed.id) ?? listed;
    for (const pairing of pairingsOf(runner)) {
      if (!canRun(runner, pairing, task, input)) continue;
      const agent = pairing?.agent;
      const maxActive =
        agent === undefined ? undefined : (input.agentLimits(agent)?.maxActive ?? defaultAgentMaxActive);
      const active = agent === undefined ? 0 : (input.activeByAgent?.get(agent) ?? 0);
      cards.push(
        scoreCandidate(task.capabilities, {
          runnerId: runner.id,
          runnerName: runner.name,
          ...(agent === undefined ? {} : { agent }),
          offers: pairing?.offers ?? [],
          dependencyChecks: dependencyChecksOf(pairing, runner.dependencyHealth),
          outcomes: input.snapshot.outcomes.get(pairingKey(runner.id, agent)) ?? [],
          presence: runner.status,
          freeSlots: runner.slots - runner.activeAttempts,
          activeAttempts: runner.activeAttempts,
          breakers: [
            gateOf(input.snapshot, breakerKey('runner', runner.id), input.now),
            ...(agent === undefined ? [] : [gateOf(input.snapshot, breakerKey('agent', agent), input.now)]),
          ],
          ranFailedPreviousAttempt: task.previousFailedRunnerId === runner.id,
          ...(maxActive !== undefined && active >= maxActive
            ? { blockedBy: `agent ${agent} has ${active} of ${maxActive} active attempts` }
            : {}),
        }),
      );
    }
  }
  return chooseCandidate(cards, input.claimant === undefined ? {} : { claimant: input.claimant });
}

/**
 * Chooses the tasks the claiming runner should take now, with the agent and holds of each and the routing
 * record to keep on its attempt.
 */
export function chooseAssignments(input: ChooseAssignmentsInput): ChosenAssignments {
  // why: a runner asking for work is alive, whatever its last heartbeat made the store think.
  const runner: Runner = {
    ...input.runner,
    status: input.runner.status === 'offline' ? 'online' : input.runner.status,
  };
  const assignments: TaskAssignment[] = [];
  let deferred = 0;
  const activeByAgent = new Map<string, number>();
  for (const listed of input.snapshot.runners) {
    // why: an approximation from the snapshot; the store enforces the real limit with a hold per agent.
    if (listed.agents.length === 1 && listed.activeAttempts > 0) {
      const agent = listed.agents[0]!.agent;
      activeByAgent.set(agent, (activeByAgent.get(agent) ?? 0) + listed.activeAttempts);
    }
  }
  // why: tasks that need the same things get the same decision; weighing the fleet once per kind of task
  // instead of once per task matters with a thousand runners. An assignment changes the fleet: start over.
  let decisions = new Map<string, Decision>();
  const promoted = input.promoted ?? [];
  const promotedIds = new Set(promoted.map((task) => task.id));
  const promotedLanesTaken = new Set<string>();
  const ordered = [...promoted, ...input.candidates.filter((task) => !promotedIds.has(task.id))];
  for (const [index, task] of ordered.entries()) {
    if (assignments.length >= input.room) break;
    const isPromoted = index < promoted.length;
    if (isPromoted && promotedLanesTaken.has(task.lane)) continue;
    const key = JSON.stringify([
      task.requiredCapabilities,
      task.capabilities,
      task.executor,
      task.previousFailedRunnerId ?? '',
    ]);
    let decision = decisions.get(key);
    if (!decision) {
      decision = decideTask(task, { ...input, runners: [runner], activeByAgent, claimant: runner.id });
      decisions.set(key, decision);
    }
    const waitedMs = input.now - Date.parse(task.queuedSince);
    let chosen: Scorecard | undefined;
    let deferralExpired = false;
    if (decision.winner?.runnerId === runner.id) {
      chosen = decision.winner;
    } else if (waitedMs >= input.maxDeferMs) {
      // The best candidate has not taken it in time: this runner's best eligible pairing may.
      chosen = decision.cards.find((card) => card.eligible && card.runnerId === runner.id);
      deferralExpired = chosen !== undefined;
    }
    if (!chosen) {
      if (decision.winner) deferred += 1;
      continue;
    }
    const record: RoutingRecord = {
      decidedAt: new Date(input.now).toISOString(),
      taskCapabilities: task.capabilities,
      winner: candidateLabel(chosen),
      claimant: runner.id,
      reason: deferralExpired
        ? `${candidateLabel(chosen)} took it after ${Math.round(waitedMs / 1_000)} s: ${decision.reason}, but the winner did not claim it`
        : decision.reason,
      ...(deferralExpired ? { deferralExpired } : {}),
      ...(isPromoted ? { laneShare: true } : {}),
      cards: decision.cards.slice(0, maxRecordedCards),
    };
    if (isPromoted) promotedLanesTaken.add(task.lane);
    const holds = holdsOf(task, chosen.agent, input);
    assignments.push({
      taskId: task.id,
      ...(chosen.agent === undefined ? {} : { agent: chosen.agent }),
      routing: record as unknown as Record<string, unknown>,
      ...(holds.length > 0 ? { holds } : {}),
    });
    runner.activeAttempts += 1;
    decisions = new Map();
    if (chosen.agent !== undefined)
      activeByAgent.set(chosen.agent, (activeByAgent.get(chosen.agent) ?? 0) + 1);
  }
  return { assignments, deferred };
}

/** The concurrency holds an attempt of this task takes: its agent's, and each matching named limit. */
function holdsOf(
  task: Pick<ClaimCandidate, 'capabilities' | 'labels' | 'repo'>,
  agent: string | undefined,
  input: Pick<ChooseAssignmentsInput, 'agentLimits' | 'concurrencyLimits'>,
): Array<{ key: string; limit: number }> {
  const holds: Array<{ key: string; limit: number }> = [];
  if (agent !== undefined) {
    holds.push({
      key: `agent:${agent}`,
      limit: input.agentLimits(agent)?.maxActive ?? defaultAgentMaxActive,
    });
  }
  for (const limit of input.concurrencyLimits) {
    const { capability, label, repo } = limit.match;
    if (capability !== undefined && !task.capabilities.includes(capability)) continue;
    if (label !== undefined && !task.labels.includes(label)) continue;
    if (repo !== undefined && task.repo !== repo) continue;
    holds.push({ key: `limit:${limit.name}`, limit: limit.limit });
  }
  return holds;
}

function dependencyChecksOf(
  pairing: RunnerAgentPairing | undefined,
  health: readonly DependencyHealth[],
): Array<{ name: string; healthy: boolean; detail?: string }> {
  return (pairing?.healthChecks ?? []).map((name) => {
    const result = health.find((entry) => entry.name === name);
    if (!result) return { name, healthy: false, detail: 'not checked yet' };
    return { name, healthy: result.healthy, ...(result.detail ? { detail: result.detail } : {}) };
  });
}

function gateOf(snapshot: FleetSnapshot, key: string, now: number) {
  const gate = breakerGate(snapshot.breakers.get(key), now);
  return { key, admits: gate.admits, ...(gate.retryAt ? { retryAt: gate.retryAt } : {}) };
}
