/**
 * The failover scenario of fleet routing, end to end with a hub process and two real runner processes:
 * two deployer agents offer `deploy-service`, "gitops" with weight 0.9 and "direct" with 0.7.
 *
 * 1. Deploys go to gitops.
 * 2. gitops starts failing: its rolling success rate drops, its breaker opens, and deploys move to direct;
 *    when the breaker half-opens, one probe goes to gitops (and fails: the breaker opens again).
 * 3. gitops's health check fails: its score is 0 and direct takes every deploy.
 * 4. gitops's health recovers while its success rate is still low: it gets a deploy only through the
 *    breaker's probe (which now succeeds and closes it), not while direct scores higher.
 * 5. While direct is busy, the next deploy goes to gitops, the best idle candidate; gitops's successes
 *    raise its score until a lone deploy goes to it again.
 *
 * Every decision is checked against the scorecards stored on its attempt: the stored winner is the one
 * `chooseCandidate` picks from the stored cards, and it is the pairing that ran the attempt.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHubClient, type HubClient } from '../src/client/hub-client.ts';
import type { RoutingDecisionRecord } from '../src/core/api.ts';
import { candidateLabel, chooseCandidate } from '../src/core/routing-score.ts';
import { DEFAULT_FLEET_CONFIG } from '../src/hub/fleet-config.ts';
import type { Task } from '../src/core/types.ts';
import { createProcessHarness, type ProcessHarness } from './support/create-process-harness.ts';
import { waitFor } from './support/wait-for.ts';

// why: short breaker backoffs so that open → half-open happens within the test, doubling visibly.
const breaker = { failureThreshold: 1, baseBackoffMs: 4_000, maxBackoffMs: 16_000 };

describe('fleet routing failover between two deployer agents', () => {
  let harness: ProcessHarness;
  let healthServer: Server | undefined;

  beforeEach(async () => {
    harness = await createProcessHarness();
  });

  afterEach(async () => {
    healthServer?.close();
    await harness.cleanup();
  });

  it('moves deploys from a failing, then unhealthy agent to the other and back, as the scorecards say', async () => {
    // The dependency gitops needs: a loopback endpoint the test turns healthy or not.
    let argoHealthy = true;
    healthServer = createServer((_request, response) => {
      response.statusCode = argoHealthy ? 200 : 503;
      response.end(argoHealthy ? 'ok' : 'down');
    });
    await new Promise<void>((resolve) => healthServer!.listen(0, '127.0.0.1', resolve));
    const argoUrl = `http://127.0.0.1:${(healthServer.address() as AddressInfo).port}/healthz`;

    const definitions = harness.path('definitions');
    await mkdir(path.join(definitions, 'agents'), { recursive: true });
    for (const name of ['gitops', 'direct']) {
      await writeFile(path.join(definitions, 'agents', `${name}.yaml`), `name: ${name}\ntype: shell\n`);
    }
    const hub = await harness.startHub({
      dataDir: harness.path('hub'),
      port: 0,
      config: {
        agents: { directory: definitions },
        fleet: { ...DEFAULT_FLEET_CONFIG, maxDeferMs: 600_000, reconsiderMs: 200, breaker },
      },
      logFile: harness.path('hub.log'),
    });
    const admin: HubClient = createHubClient({ baseUrl: hub.url, token: hub.adminToken });

    const control = harness.path('control');
    await mkdir(control);
    const source = await harness.sandbox.createSourceRepo({ files: { 'README.md': '# service\n' } });

    const startRunner = async (name: 'gitops' | 'direct', weight: number) => {
      const created = await admin.runners.create({ name });
      const configPath = harness.path(`${name}.config.json`);
      await writeFile(
        configPath,
        JSON.stringify({
          runner: {
            pairings: [
              {
                agent: name,
                offers: [{ name: 'deploy-service', weight }],
                healthChecks: name === 'gitops' ? ['argo'] : [],
              },
            ],
            ...(name === 'gitops' ? { healthChecks: { argo: { url: argoUrl, intervalMs: 1_000 } } } : {}),
          },
        }),
      );
      harness.spawnCli(`runner ${name}`, [
        'runner',
        'start',
        '--hub',
        hub.url,
        '--token',
        created.token,
        '--work-dir',
        harness.path(`runner-${name}`),
        '--name',
        name,
        '--config',
        configPath,
      ]);
      return created.runner.id;
    };
    await startRunner('gitops', 0.9);
    await startRunner('direct', 0.7);
    await waitFor('both runners online with their pairings', async () => {
      const runners = await admin.runners.list();
      return (
        runners.filter((runner) => runner.status === 'online' && runner.agents.length === 1).length === 2
      );
    });

    // A deploy fails on gitops while the control file exists; it always works on direct. It takes a second,
    // so that two deploys sent together find the first candidate busy.
    const failFlag = path.join(control, 'gitops-fails');
    let deploys = 0;
    /** Submits a deploy; with `holdOnDirect` (a path) it runs on direct until that file exists. */
    const submit = async (options: { holdOnDirect?: string } = {}): Promise<Task> => {
      deploys += 1;
      const hold = options.holdOnDirect
        ? `*/runner-direct/*) while [ ! -e ${options.holdOnDirect} ]; do sleep 0.05; done ;; `
        : '';
      const { task } = await admin.tasks.create({
        title: `Deploy ${deploys}`,
        repo: source,
        executor: 'shell',
        capabilities: ['deploy-service'],
        executorInput: {
          run: `case "$PWD" in */runner-gitops/*) if [ -e ${failFlag} ]; then echo 'argo sync failed' >&2; exit 1; fi ;; ${hold}esac; sleep 1; echo ${deploys} > deployed.txt`,
        },
        successCriteria: [{ description: 'deployed', command: 'test -f deployed.txt' }],
        maxAttempts: 1,
      });
      return task;
    };
    const finish = (task: Task) =>
      waitFor(
        `${task.title} to finish`,
        async () => {
          const detail = await admin.tasks.get(task.id);
          return detail && ['succeeded', 'dead'].includes(detail.task.state) ? detail : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 50 },
      );

    /** The decision stored on the task's (only) attempt, checked against its own scorecards. */
    const decisionOf = async (task: Task): Promise<{ agent: string; routing: RoutingDecisionRecord }> => {
      const detail = await finish(task);
      const attempt = detail.attempts[0]!;
      const routing = (await admin.tasks.routing(task.id)).attempts[0]!.routing!;
      checkDecision(routing, attempt.agent);
      return { agent: attempt.agent!, routing };
    };
    /** Runs deploys (several at once when asked) and returns each one's agent and decision. */
    const deploy = async (count = 1) => {
      const tasks: Task[] = [];
      for (let index = 0; index < count; index += 1) tasks.push(await submit());
      const decisions = [];
      for (const task of tasks) decisions.push(await decisionOf(task));
      return decisions;
    };
    const agentsOf = (decisions: Array<{ agent: string }>) => decisions.map((decision) => decision.agent);
    const cardOf = (routing: RoutingDecisionRecord, agent: string) =>
      routing.cards.find((card) => card.agent === agent)!;
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    // 1. gitops is primary.
    for (let index = 0; index < 3; index += 1) expect(agentsOf(await deploy())).toEqual(['gitops']);

    // 2. gitops fails: its breaker opens (threshold 1) and the next deploy goes to direct, whose scorecard
    //    shows gitops shut out by the breaker with a lower success rate.
    await writeFile(failFlag, '');
    const failure = await submit();
    expect((await decisionOf(failure)).agent).toBe('gitops');
    const failed = await finish(failure);
    expect(failed.task.state, JSON.stringify(failed.attempts[0])).toBe('dead');
    const failedAt = Date.now();
    const [moved] = await deploy();
    expect(moved!.agent).toBe('direct');
    expect(cardOf(moved!.routing, 'gitops').eligible).toBe(false);
    expect(cardOf(moved!.routing, 'gitops').reason).toMatch(/breaker/);
    expect(cardOf(moved!.routing, 'gitops').factors.successRate).toBeLessThan(1);
    // After the backoff the breaker half-opens: one probe goes to gitops although direct scores higher.
    await sleep(failedAt + breaker.baseBackoffMs + 300 - Date.now());
    const probe = await submit();
    expect((await finish(probe)).task.state).toBe('dead');
    const probed = await decisionOf(probe);
    expect(probed.agent).toBe('gitops');
    expect(probed.routing.cards[0]!.probe).toBe(true);
    const reopenedAt = Date.now();
    // The probe failed: open again, for twice as long.
    const [afterProbe] = await deploy();
    expect(afterProbe!.agent).toBe('direct');
    expect(cardOf(afterProbe!.routing, 'gitops').reason).toMatch(/breaker/);

    // 3. gitops's health check fails: score 0, and direct takes the deploy even once the backoff is over.
    argoHealthy = false;
    await waitFor('gitops to report argo failing', async () => {
      const runner = (await admin.runners.list()).find((candidate) => candidate.name === 'gitops');
      return runner?.dependencyHealth.some((check) => check.name === 'argo' && !check.healthy)
        ? true
        : undefined;
    });
    // `warren runners` shows the pairings and the failing check.
    const listed = await harness.runCli(['runners', '--hub', hub.url, '--token', hub.adminToken]);
    expect(listed.code, listed.stderr).toBe(0);
    const lineOf = (name: string) => listed.stdout.split('\n').find((line) => line.startsWith(`${name} `));
    expect(lineOf('gitops')).toMatch(/ degraded .*gitops: deploy-service 0\.9 +argo FAILING$/);
    expect(lineOf('direct')).toMatch(/direct: deploy-service 0\.7 +-$/);
    await sleep(reopenedAt + breaker.baseBackoffMs * 2 + 300 - Date.now());
    const [unhealthy] = await deploy();
    expect(unhealthy!.agent).toBe('direct');
    const unhealthyCard = cardOf(unhealthy!.routing, 'gitops');
    expect(unhealthyCard.factors.dependencyHealth).toBe(0);
    expect(unhealthyCard.score).toBe(0);
    expect(unhealthyCard.eligible).toBe(false);

    // 4. Health recovers and gitops works again, but its record is poor: the next deploy is its breaker's
    //    probe (it succeeds and closes the breaker); then direct scores higher and takes a lone deploy.
    argoHealthy = true;
    await rm(failFlag);
    await waitFor('gitops to report argo healthy', async () => {
      const runner = (await admin.runners.list()).find((candidate) => candidate.name === 'gitops');
      return runner?.dependencyHealth.every((check) => check.healthy) ? true : undefined;
    });
    const [recoveryProbe] = await deploy();
    expect(recoveryProbe!.agent).toBe('gitops');
    expect(recoveryProbe!.routing.cards[0]!.probe).toBe(true);
    const [lowRecord] = await deploy();
    expect(lowRecord!.agent).toBe('direct');
    const lowCard = cardOf(lowRecord!.routing, 'gitops');
    expect(lowCard.eligible).toBe(true);
    expect(lowCard.score).toBeLessThan(cardOf(lowRecord!.routing, 'direct').score);

    // 5. While direct is busy with a deploy, gitops is the best idle candidate and takes the next one; its
    //    successes raise its score until a lone deploy goes to it again. (direct is held busy by a file the
    //    test creates, so the overflow does not depend on how fast the machine is.)
    let rounds = 0;
    for (; rounds < 10; rounds += 1) {
      const release = path.join(control, `release-${rounds}`);
      const held = await submit({ holdOnDirect: release });
      await waitFor(
        `${held.title} to start on direct`,
        async () => ((await admin.tasks.get(held.id))?.attempts[0]?.agent === 'direct' ? true : undefined),
        { timeoutMs: 30_000, intervalMs: 50 },
      );
      const [overflow] = await deploy();
      expect(overflow!.agent).toBe('gitops');
      expect(cardOf(overflow!.routing, 'direct').eligible).toBe(false);
      await writeFile(release, '');
      expect((await decisionOf(held)).agent).toBe('direct');
      const [lone] = await deploy();
      if (lone!.agent === 'gitops') {
        expect(cardOf(lone!.routing, 'gitops').score).toBeGreaterThan(cardOf(lone!.routing, 'direct').score);
        break;
      }
      expect(lone!.agent).toBe('direct');
    }
    expect(rounds).toBeLessThan(10);
  }, 180_000);
});

/** The stored winner is what `chooseCandidate` picks from the stored cards, and it ran the attempt. */
function checkDecision(routing: RoutingDecisionRecord, agent: string | undefined): void {
  const recomputed = chooseCandidate(
    routing.cards,
    routing.claimant === undefined ? {} : { claimant: routing.claimant },
  );
  expect(recomputed.winner).toBeDefined();
  expect(candidateLabel(recomputed.winner!)).toBe(routing.winner);
  expect(routing.winner.startsWith(`${agent}@`)).toBe(true);
  expect(routing.deferralExpired).toBeUndefined();
}
