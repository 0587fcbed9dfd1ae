/**
 * The hub's tunable settings and their defaults. Parsing them from the environment, the command line or a
 * config file belongs to the CLI; the hub merges partial settings over the defaults and validates the
 * model endpoints and the routing config it is given.
 */
import {
  DEFAULT_FLEET_CONFIG,
  fleetConfigSchema,
  type FleetConfig,
  type FleetConfigInput,
} from './fleet-config.ts';
import {
  agentSourceConfigSchema,
  type AgentSourceConfig,
  type AgentSourceConfigInput,
} from '../core/agent-source-config.ts';
import { InvalidInputError, type FieldIssue } from '../core/errors.ts';
import { modelEndpointSchema, type ModelEndpoint, type ModelEndpointInput } from '../core/model-endpoints.ts';
import { toFieldIssues } from '../core/parse-input.ts';
import {
  DEFAULT_ROUTING_CONFIG,
  routingConfigSchema,
  type RoutingConfig,
  type RoutingConfigInput,
} from '../core/routing-config.ts';
import {
  DEFAULT_RATE_LIMIT_CONFIG,
  rateLimitConfigSchema,
  type RateLimitConfig,
  type RateLimitConfigInput,
} from './rate-limit-config.ts';

/** Settings of one hub. */
export interface HubConfig {
  /** Lease length of every new attempt; a runner that stops heartbeating loses its attempt after this. */
  leaseMs: number;
  /** How often runners should extend their leases (handed to runners at registration). */
  heartbeatIntervalMs: number;
  /** Spacing of the maintenance loop (lease expiry, retry promotion, stale runners). */
  maintenanceIntervalMs: number;
  /** A runner without a heartbeat for this long is marked offline. */
  runnerStaleAfterMs: number;
  /**
   * An online runner without a heartbeat for this long (it missed one) is marked degraded: it still gets
   * work, after online runners that score the same. Less than `runnerStaleAfterMs`.
   */
  runnerLateAfterMs: number;
  /** Largest request body on ordinary routes, in bytes. */
  bodyLimitBytes: number;
  /** Largest request body on bulk routes (task batches, attempt logs, completion and failure reports). */
  bulkBodyLimitBytes: number;
  /**
   * Model endpoints from the config file; upserted into the store at start (endpoints defined through the
   * API are kept in the store too).
   */
  endpoints: ModelEndpoint[];
  /** Where tasks go by complexity and seniority. */
  routing: RoutingConfig;
  /** Time limit of one endpoint health check. */
  endpointCheckTimeoutMs: number;
  /** Spacing of health checks of an endpoint that is up. */
  endpointUpIntervalMs: number;
  /** First re-check delay of an endpoint that is down; doubles with each failure. */
  endpointDownInitialDelayMs: number;
  /** Longest re-check delay of an endpoint that is down. */
  endpointDownMaxDelayMs: number;
  /** Spacing of re-reading the model endpoints from the store (changes made through other hubs). */
  endpointSyncIntervalMs: number;
  /** How long a starting hub waits for a PostgreSQL database it cannot reach before giving up. */
  databaseStartupWaitMs: number;
  /**
   * How long the maintenance leadership lasts in the store unless renewed: after a leader hub dies, another
   * takes over maintenance within this time. A hub stops acting as leader a fifth of it before it ends.
   */
  leaderLeaseMs: number;
  /** Mean spacing of leadership renewals (and of a follower's attempts to take over); under `leaderLeaseMs`. */
  leaderRenewIntervalMs: number;
  /** Token-bucket rate limits per runner and for the admin client, and what each action costs. */
  rateLimits: RateLimitConfig;
  /** Fleet routing: deferral to the best candidate, circuit breakers, named concurrency limits. */
  fleet: FleetConfig;
  /**
   * Where agent definitions come from: a directory or a Git repository (`{ git: { url, ref, path? } }`),
   * holding `agents/<name>.yaml` and `skills/<name>/` (docs/agents.md). Undefined: the hub has none.
   */
  agents?: AgentSourceConfig;
}

/** Partial settings: what {@link resolveHubConfig} accepts. Endpoints and routing as written, unvalidated. */
export type HubConfigOverrides = Partial<
  Omit<HubConfig, 'endpoints' | 'routing' | 'rateLimits' | 'agents' | 'fleet'>
> & {
  agents?: AgentSourceConfigInput;
  endpoints?: ModelEndpointInput[];
  routing?: RoutingConfigInput;
  rateLimits?: RateLimitConfigInput;
  fleet?: FleetConfigInput;
};

/** The defaults {@link resolveHubConfig} fills in. */
export const DEFAULT_HUB_CONFIG: Readonly<HubConfig> = {
  // why: 30 s survives a few missed heartbeats (every 10 s) yet frees a crashed runner's work quickly.
  leaseMs: 30_000,
  // why: a third of the lease, so two heartbeats can fail before the lease runs out.
  heartbeatIntervalMs: 10_000,
  // why: bounds the latency of lease expiry and retry promotion to a quarter second at negligible cost.
  maintenanceIntervalMs: 250,
  // why: three missed runner heartbeats (10 s each) before a runner is shown offline.
  runnerStaleAfterMs: 30_000,
  // why: one and a half heartbeat intervals: a runner's heartbeat comes every 8 to 12 s (jittered), so this
  // means one was missed.
  runnerLateAfterMs: 15_000,
  // why: the largest valid task spec (100k-character instructions, 50 criteria) is about 0.7 MB of JSON.
  bodyLimitBytes: 1024 * 1024,
  // why: a batch holds up to 1000 specs and a log upload up to 200 chunks of 64 KiB; 16 MiB fits both in practice.
  bulkBodyLimitBytes: 16 * 1024 * 1024,
  endpoints: [],
  routing: DEFAULT_ROUTING_CONFIG,
  // why: a models listing answers in well under a second; 5 s allows a slow region without hanging a check.
  endpointCheckTimeoutMs: 5_000,
  // why: a minute notices an outage soon enough for queued work, at one cheap request per endpoint.
  endpointUpIntervalMs: 60_000,
  // why: a blip heals in seconds; 2 s doubling reaches the cap after four failures (about half a minute).
  endpointDownInitialDelayMs: 2_000,
  // why: someone who starts their local model server expects queued tasks to start within seconds, not
  // minutes; a models-list call every 30 s per down endpoint costs nothing.
  endpointDownMaxDelayMs: 30_000,
  // why: an endpoint added through one hub is used by the others within seconds, for one small query.
  endpointSyncIntervalMs: 5_000,
  // why: a database started together with the hubs (or restarting) is usually up within seconds; a minute
  // covers a slow start, and a hub that still cannot reach it then exits with the reason.
  databaseStartupWaitMs: 60_000,
  // why: 15 s is half the task lease, so a dead leader's maintenance resumes elsewhere before a lapsed task
  // lease has waited much longer than usual; one small write per hub per renewal costs nothing.
  leaderLeaseMs: 15_000,
  // why: a third of the lease: one failed renewal (a database blip) is ridden out without a handover.
  leaderRenewIntervalMs: 5_000,
  rateLimits: DEFAULT_RATE_LIMIT_CONFIG,
  fleet: DEFAULT_FLEET_CONFIG,
};

/**
 * Merges `overrides` over {@link DEFAULT_HUB_CONFIG}; undefined values keep the default. Validates the
 * leader election timings (positive, renewal under the lease), the endpoints (`modelEndpointSchema`,
 * unique names), the routing config (`routingConfigSchema`, defaults filled) and the rate limits
 * (`rateLimitConfigSchema`, defaults filled); throws InvalidInputError naming each bad field
 * (`leaderRenewIntervalMs`, `endpoints.0.baseUrl`, `routing.seniority.junior`, `rateLimits.runner.capacity`).
 */
export function resolveHubConfig(overrides: HubConfigOverrides = {}): HubConfig {
  const config: HubConfig = { ...DEFAULT_HUB_CONFIG };
  const { endpoints, routing, rateLimits, agents, fleet, ...settings } = overrides;
  for (const key of Object.keys(settings) as (keyof typeof settings)[]) {
    const value = settings[key];
    if (value !== undefined) config[key] = value;
  }
  const issues: FieldIssue[] = [];
  for (const field of ['leaderLeaseMs', 'leaderRenewIntervalMs'] as const) {
    if (!Number.isFinite(config[field]) || config[field] <= 0) {
      issues.push({ field, reason: 'must be a positive number of milliseconds' });
    }
  }
  if (!(config.runnerLateAfterMs > 0 && config.runnerLateAfterMs < config.runnerStaleAfterMs)) {
    issues.push({
      field: 'runnerLateAfterMs',
      reason: `must be a positive number of milliseconds less than runnerStaleAfterMs (${config.runnerStaleAfterMs})`,
    });
  }
  if (issues.length === 0 && config.leaderRenewIntervalMs >= config.leaderLeaseMs) {
    issues.push({
      field: 'leaderRenewIntervalMs',
      reason: `must be less than leaderLeaseMs (${config.leaderLeaseMs}), or the leadership lapses between renewals`,
    });
  }
  if (endpoints !== undefined) {
    const parsed: ModelEndpoint[] = [];
    const names = new Set<string>();
    for (const [index, endpoint] of endpoints.entries()) {
      const result = modelEndpointSchema.safeParse(endpoint);
      if (!result.success) {
        issues.push(...toFieldIssues(result.error, `endpoints.${index}`));
        continue;
      }
      if (names.has(result.data.name)) {
        issues.push({
          field: `endpoints.${index}.name`,
          reason: `endpoint "${result.data.name}" is listed twice`,
        });
      }
      names.add(result.data.name);
      parsed.push(result.data);
    }
    config.endpoints = parsed;
  }
  if (routing !== undefined) {
    const result = routingConfigSchema.safeParse(routing);
    if (result.success) config.routing = result.data;
    else issues.push(...toFieldIssues(result.error, 'routing'));
  }
  if (rateLimits !== undefined) {
    const result = rateLimitConfigSchema.safeParse(rateLimits);
    if (result.success) config.rateLimits = result.data;
    else issues.push(...toFieldIssues(result.error, 'rateLimits'));
  }
  if (agents !== undefined) {
    const result = agentSourceConfigSchema.safeParse(agents);
    if (result.success) config.agents = result.data;
    else issues.push(...toFieldIssues(result.error, 'agents'));
  }
  if (fleet !== undefined) {
    const result = fleetConfigSchema.safeParse(fleet);
    if (result.success) config.fleet = result.data;
    else issues.push(...toFieldIssues(result.error, 'fleet'));
  }
  if (issues.length > 0) throw new InvalidInputError(issues);
  return config;
}
