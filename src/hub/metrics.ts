/**
 * The hub's Prometheus metrics, in a registry of their own so that several hubs in one process (tests)
 * never clash in prom-client's global registry.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EndpointStatus } from '../core/model-endpoints.ts';
import { LANES, RUNNER_STATUSES, TASK_STATES, type AttemptState, type RunnerStatus } from '../core/types.ts';
import type { UsageRecordInput } from '../core/usage.ts';
import type { Store, TaskCount } from '../store/store.ts';

/** How an attempt ended, as counted by `warren_attempts_total`. */
export type AttemptOutcome = Extract<AttemptState, 'succeeded' | 'failed' | 'lost' | 'cancelled'>;

/** One finished HTTP request. */
export interface HttpRequestObservation {
  method: string;
  /** The matched route pattern (never the raw path, which would make one series per id). */
  route: string;
  status: number;
  durationSeconds: number;
}

/** The hub's metrics and the calls that record them. */
export interface HubMetrics {
  /** The registry holding every hub metric. */
  readonly registry: Registry;
  /** Renders every metric in the Prometheus text format. */
  render(): Promise<string>;
  /** The `Content-Type` of {@link HubMetrics.render}'s output. */
  readonly contentType: string;
  /** Counts a finished attempt and, when known, how long it ran. */
  recordAttemptEnd(outcome: AttemptOutcome, durationSeconds?: number): void;
  /** Records how long a claim request waited and whether it got work. */
  recordClaimWait(seconds: number, claimed: boolean): void;
  /** Records one HTTP request. */
  recordHttpRequest(observation: HttpRequestObservation): void;
  /** Counts the tokens, dollars and calls of reported model calls. */
  recordUsage(records: readonly UsageRecordInput[]): void;
  /** Counts one request refused by the rate limits, by principal kind and action (`rate-limit-action.ts`). */
  recordRateLimited(principal: 'admin' | 'runner', action: string): void;
}

/** Options of {@link createHubMetrics}. */
export interface HubMetricsOptions {
  /** Read on scrape for task and runner counts. */
  store: Store;
  /** How long task and runner counts are reused between scrapes. */
  cacheMs?: number;
  /** Whether to include Node's default process metrics (CPU, memory, event loop). */
  processMetrics?: boolean;
  /** Read on scrape for `warren_endpoint_up`: every configured endpoint and its status. */
  endpointStatuses?: () => ReadonlyArray<{ name: string; status: EndpointStatus }>;
  /** Read on scrape for `warren_hub_leader`: whether this hub leads maintenance. Default: never. */
  isLeader?: () => boolean;
}

// why: scrapes from several Prometheus replicas within a second share one pair of counting queries.
const defaultCacheMs = 1_000;
// why: attempts run from seconds (shell) to hours (agents); buckets span 1 s to 4 h.
const attemptDurationBuckets = [1, 5, 15, 30, 60, 120, 300, 600, 1_800, 3_600, 7_200, 14_400];
// why: claims answer at once or wait up to the 30 s long-poll limit.
const claimWaitBuckets = [0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 20, 30];

/** Creates the hub's metrics in a fresh registry. */
export function createHubMetrics(options: HubMetricsOptions): HubMetrics {
  const { store } = options;
  const cacheMs = options.cacheMs ?? defaultCacheMs;
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  let snapshot: { at: number; value: Promise<Snapshot> } | undefined;
  function readSnapshot(): Promise<Snapshot> {
    const now = Date.now();
    if (!snapshot || now - snapshot.at >= cacheMs) {
      const value = Promise.all([store.countTasks(), store.listRunners()]).then(([taskCounts, runners]) => ({
        taskCounts,
        runnerCounts: countRunners(runners.map((runner) => runner.status)),
      }));
      snapshot = { at: now, value };
      // why: a failed read must not be reused for a whole cache period.
      value.catch(() => {
        if (snapshot?.value === value) snapshot = undefined;
      });
    }
    return snapshot.value;
  }

  new Gauge({
    name: 'warren_tasks',
    help: 'Tasks by lane and state.',
    labelNames: ['lane', 'state'] as const,
    registers: [registry],
    async collect() {
      const { taskCounts } = await readSnapshot();
      for (const lane of LANES) for (const state of TASK_STATES) this.set({ lane, state }, 0);
      for (const count of taskCounts) this.set({ lane: count.lane, state: count.state }, count.count);
    },
  });
  new Gauge({
    name: 'warren_runners',
    help: 'Runners by status.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const { runnerCounts } = await readSnapshot();
      for (const status of RUNNER_STATUSES) this.set({ status }, runnerCounts[status]);
    },
  });
  const attemptsTotal = new Counter({
    name: 'warren_attempts_total',
    help: 'Finished attempts by outcome.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const attemptDuration = new Histogram({
    name: 'warren_attempt_duration_seconds',
    help: 'How long finished attempts ran, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: attemptDurationBuckets,
    registers: [registry],
  });
  const claimWait = new Histogram({
    name: 'warren_claim_wait_seconds',
    help: 'How long claim requests waited before answering, by whether they got work.',
    labelNames: ['result'] as const,
    buckets: claimWaitBuckets,
    registers: [registry],
  });
  new Gauge({
    name: 'warren_endpoint_up',
    help: 'Model endpoints: 1 when the last health check succeeded, else 0.',
    labelNames: ['endpoint'] as const,
    registers: [registry],
    collect() {
      // why: reset first, so that a removed endpoint's series goes away.
      this.reset();
      for (const endpoint of options.endpointStatuses?.() ?? []) {
        this.set({ endpoint: endpoint.name }, endpoint.status === 'up' ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'warren_hub_leader',
    help: 'Whether this hub is the elected leader that runs maintenance: 1 when it is, else 0.',
    registers: [registry],
    collect() {
      this.set(options.isLeader?.() ? 1 : 0);
    },
  });
  const modelTokens = new Counter({
    name: 'warren_model_tokens_total',
    help: 'Model tokens reported by runners, by endpoint, model and direction (input or output).',
    labelNames: ['endpoint', 'model', 'direction'] as const,
    registers: [registry],
  });
  const modelCost = new Counter({
    name: 'warren_model_cost_usd_total',
    help: 'Dollars of model calls reported by runners, by endpoint and model.',
    labelNames: ['endpoint', 'model'] as const,
    registers: [registry],
  });
  const modelCalls = new Counter({
    name: 'warren_model_calls_total',
    help: 'Model calls reported by runners, by endpoint and model.',
    labelNames: ['endpoint', 'model'] as const,
    registers: [registry],
  });
  const httpRequests = new Counter({
    name: 'warren_http_requests_total',
    help: 'HTTP requests by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'warren_http_request_duration_seconds',
    help: 'Time to answer HTTP requests (to the first byte for streams), by method and route.',
    labelNames: ['method', 'route'] as const,
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'warren_rate_limited_total',
    help: 'Requests refused with 429 by the rate limits, by principal kind (admin or runner) and action.',
    labelNames: ['principal', 'action'] as const,
    registers: [registry],
  });

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    recordAttemptEnd(outcome, durationSeconds) {
      attemptsTotal.inc({ outcome });
      if (durationSeconds !== undefined) attemptDuration.observe({ outcome }, durationSeconds);
    },
    recordClaimWait(seconds, claimed) {
      claimWait.observe({ result: claimed ? 'claimed' : 'empty' }, seconds);
    },
    recordHttpRequest({ method, route, status, durationSeconds }) {
      httpRequests.inc({ method, route, status: String(status) });
      httpDuration.observe({ method, route }, durationSeconds);
    },
    recordUsage(records) {
      for (const { endpoint, model, inputTokens, outputTokens, costUsd } of records) {
        modelTokens.inc({ endpoint, model, direction: 'input' }, inputTokens);
        modelTokens.inc({ endpoint, model, direction: 'output' }, outputTokens);
        modelCost.inc({ endpoint, model }, costUsd);
        modelCalls.inc({ endpoint, model });
      }
    },
    recordRateLimited(principal, action) {
      rateLimited.inc({ principal, action });
    },
  };
}

interface Snapshot {
  taskCounts: TaskCount[];
  runnerCounts: Record<RunnerStatus, number>;
}

function countRunners(statuses: RunnerStatus[]): Record<RunnerStatus, number> {
  const counts: Record<RunnerStatus, number> = { online: 0, degraded: 0, draining: 0, offline: 0 };
  for (const status of statuses) counts[status] += 1;
  return counts;
}
