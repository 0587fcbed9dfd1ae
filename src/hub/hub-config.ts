/**
 * The hub's tunable settings and their defaults. Parsing them from the environment or the command line
 * belongs to the CLI; the hub only merges a partial config over the defaults.
 */

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
  /** Largest request body on ordinary routes, in bytes. */
  bodyLimitBytes: number;
  /** Largest request body on bulk routes (task batches, attempt logs, completion and failure reports). */
  bulkBodyLimitBytes: number;
}

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
  // why: the largest valid task spec (100k-character instructions, 50 criteria) is about 0.7 MB of JSON.
  bodyLimitBytes: 1024 * 1024,
  // why: a batch holds up to 1000 specs and a log upload up to 200 chunks of 64 KiB; 16 MiB fits both in practice.
  bulkBodyLimitBytes: 16 * 1024 * 1024,
};

/** Merges `overrides` over {@link DEFAULT_HUB_CONFIG}; undefined values keep the default. */
export function resolveHubConfig(overrides: Partial<HubConfig> = {}): HubConfig {
  const config: HubConfig = { ...DEFAULT_HUB_CONFIG };
  for (const key of Object.keys(config) as (keyof HubConfig)[]) {
    const value = overrides[key];
    if (value !== undefined) config[key] = value;
  }
  return config;
}
