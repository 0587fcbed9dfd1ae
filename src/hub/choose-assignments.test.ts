import { describe, expect, it } from 'vitest';
import type { Runner } from '../core/types.ts';
import type { ClaimCandidate } from '../store/store.ts';
import { chooseAssignments, type ChooseAssignmentsInput, type RoutingRecord } from './choose-assignments.ts';
import { pairingKey, type FleetSnapshot } from './fleet-view.ts';

const now = Date.parse('2026-11-21T10:00:00Z');

function runner(name: string, weight: number, overrides: Partial<Runner> = {}): Runner {
  return {
    id: `run_${name}`,
    name,
    capabilities: ['executor:shell'],
    slots: 1,
    status: 'online',
    createdAt: new Date(now - 60_000).toISOString(),
    activeAttempts: 0,
    agents: [
      { agent: name, offers: [{ name: 'deploy-service', weight, preferred: false }], healthChecks: [] },
    ],
    dependencyHealth: [],
    ...overrides,
  };
}

function task(id: string, overrides: Partial<ClaimCandidate> = {}): ClaimCandidate {
  return {
    id,
    requiredCapabilities: ['deploy-service', 'executor:shell'],
    capabilities: ['deploy-service'],
    lane: 'normal',
    priority: 0,
    attemptCount: 0,
    executor: 'shell',
    repo: '/srv/repo',
    labels: [],
    queuedSince: new Date(now - 1_000).toISOString(),
    ...overrides,
  };
}

function input(
  runners: Runner[],
  claimer: Runner,
  candidates: ClaimCandidate[],
  extra: Partial<ChooseAssignmentsInput> = {},
): ChooseAssignmentsInput {
  const snapshot: FleetSnapshot = { readAt: now, runners, outcomes: new Map(), breakers: new Map() };
  return {
    snapshot,
    runner: claimer,
    candidates,
    modelCapabilities: [],
    agentLimits: () => undefined,
    concurrencyLimits: [],
    room: 1,
    now,
    maxDeferMs: 10_000,
    ...extra,
  };
}

describe('chooseAssignments', () => {
  const gitops = runner('gitops', 0.9);
  const direct = runner('direct', 0.7);

  it('gives the task to the best candidate and leaves it queued for a worse one, with the decision', () => {
    const best = chooseAssignments(input([gitops, direct], gitops, [task('tsk_1')]));
    expect(best.assignments).toHaveLength(1);
    const record = best.assignments[0]!.routing as unknown as RoutingRecord;
    expect(best.assignments[0]).toMatchObject({
      taskId: 'tsk_1',
      agent: 'gitops',
      holds: [{ key: 'agent:gitops', limit: 1 }],
    });
    expect(record.winner).toBe('gitops@gitops');
    expect(record.cards.map((card) => card.agent)).toEqual(['gitops', 'direct']);

    const worse = chooseAssignments(input([gitops, direct], direct, [task('tsk_1')]));
    expect(worse).toEqual({ assignments: [], deferred: 1 });
  });

  it('lets the next best take a task whose best candidate is busy, or has left it waiting too long', () => {
    const busy = { ...gitops, activeAttempts: 1 };
    expect(chooseAssignments(input([busy, direct], direct, [task('tsk_1')])).assignments).toHaveLength(1);

    const stale = task('tsk_2', { queuedSince: new Date(now - 11_000).toISOString() });
    const taken = chooseAssignments(input([gitops, direct], direct, [stale]));
    expect(taken.assignments).toHaveLength(1);
    const record = taken.assignments[0]!.routing as unknown as RoutingRecord;
    expect(record.deferralExpired).toBe(true);
    expect(record.reason).toMatch(/did not claim it/);
  });

  it('skips the runner that ran the failed previous attempt when another is eligible', () => {
    const retry = task('tsk_1', { attemptCount: 1, previousFailedRunnerId: gitops.id });
    expect(chooseAssignments(input([gitops, direct], gitops, [retry])).assignments).toEqual([]);
    expect(chooseAssignments(input([gitops, direct], direct, [retry])).assignments).toHaveLength(1);
    // Alone, it takes the retry after all.
    expect(chooseAssignments(input([gitops], gitops, [retry])).assignments).toHaveLength(1);
  });

  it('weighs the success rate: a failing best candidate loses its tasks', () => {
    const snapshotInput = input([gitops, direct], direct, [task('tsk_1')]);
    snapshotInput.snapshot.outcomes.set(pairingKey(gitops.id, 'gitops'), [false, false, true, true, true]);
    expect(chooseAssignments(snapshotInput).assignments).toHaveLength(1);
  });

  it('holds the named concurrency limits a task matches, and the agent its definition limits', () => {
    const chosen = chooseAssignments(
      input([gitops], gitops, [task('tsk_1', { labels: ['prod'] })], {
        agentLimits: (name) => (name === 'gitops' ? { type: 'shell', maxActive: 3 } : undefined),
        concurrencyLimits: [
          { name: 'deploys', limit: 1, match: { capability: 'deploy-service' } },
          { name: 'prod', limit: 2, match: { label: 'prod', repo: '/srv/repo' } },
          { name: 'other-repo', limit: 1, match: { repo: '/srv/other' } },
        ],
      }),
    );
    expect(chosen.assignments[0]!.holds).toEqual([
      { key: 'agent:gitops', limit: 3 },
      { key: 'limit:deploys', limit: 1 },
      { key: 'limit:prod', limit: 2 },
    ]);
  });

  it('never gives a task to an agent of another executor type', () => {
    const chosen = chooseAssignments(
      input([gitops], gitops, [task('tsk_1')], {
        agentLimits: () => ({ type: 'claude-code', maxActive: 1 }),
      }),
    );
    expect(chosen).toEqual({ assignments: [], deferred: 0 });
  });

  it('weighs the heads of owed lanes first and takes at most one task of each ahead of the rest', () => {
    const wide = { ...gitops, slots: 4 };
    const high = ['tsk_h1', 'tsk_h2', 'tsk_h3'].map((id) => task(id, { lane: 'high' }));
    const low = ['tsk_l1', 'tsk_l2'].map((id) => task(id, { lane: 'low' }));
    const chosen = chooseAssignments(
      input([wide], wide, [...high, ...low], {
        promoted: low,
        room: 4,
        agentLimits: () => ({ type: 'shell', maxActive: 4 }),
      }),
    );
    expect(chosen.assignments.map((assignment) => assignment.taskId)).toEqual([
      'tsk_l1',
      'tsk_h1',
      'tsk_h2',
      'tsk_h3',
    ]);
    const records = chosen.assignments.map((assignment) => assignment.routing as unknown as RoutingRecord);
    expect(records.map((record) => record.laneShare ?? false)).toEqual([true, false, false, false]);
  });

  it('lets the claiming runner take a task its equals could take too', () => {
    const twin = runner('twin', 0.9, {
      agents: gitops.agents.map((pairing) => ({ ...pairing, agent: 'twin' })),
    });
    const chosen = chooseAssignments(input([gitops, twin], twin, [task('tsk_1')]));
    expect(chosen.assignments).toHaveLength(1);
    const record = chosen.assignments[0]!.routing as unknown as RoutingRecord;
    expect(record.claimant).toBe(twin.id);
    expect(record.reason).toMatch(/tie broken by claiming runner/);
  });
});
