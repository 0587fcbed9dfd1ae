/**
 * Starting a hub process: data directory, store, admin token, the config's model endpoints (upserted into
 * the store) and their health checker, HTTP server on loopback, leader election and the maintenance loop
 * it gates, and `hub.json` for discovery; `close()` undoes it all without hanging on open connections.
 */
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError, WarrenError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { openStore, SQLITE_FILENAME, type DatabaseLocation } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { ADMIN_TOKEN_FILE, loadAdminToken } from './admin-token.ts';
import { createAgentSource } from './agent-definitions/agent-source.ts';
import {
  createAgentDefinitionRegistry,
  type AgentDefinitionRegistry,
} from './agent-definitions/create-agent-definition-registry.ts';
import { createHubAuth } from './auth.ts';
import { createHubApp } from './create-hub-app.ts';
import { createLogger } from './create-logger.ts';
import { createEndpointHealthChecker, type EndpointHealthChecker } from './endpoint-health.ts';
import type { HubEnv } from './hub-env.ts';
import { resolveHubConfig, type HubConfig, type HubConfigOverrides } from './hub-config.ts';
import { removeHubFile, writeHubFile, type HubFile } from './hub-file.ts';
import { startLeaderElection, type LeaderElection } from './leader-election.ts';
import { startMaintenance } from './maintenance.ts';
import { createFleetView } from './fleet-view.ts';
import { startEndpointSync } from './start-endpoint-sync.ts';
import { createHubMetrics } from './metrics.ts';

/** Options of {@link startHub}. */
export interface StartHubOptions {
  /** Directory for the database, the admin token and `hub.json`; created when absent. */
  dataDir: string;
  /** TCP port; default 7420, 0 picks a free one. */
  port?: number;
  /** Interface to listen on; default `127.0.0.1` (loopback only, unless told otherwise). */
  host?: string;
  /**
   * The store to use, which the caller closes. Default: the store at `database`, opened (and closed by
   * `close()`) by the hub.
   */
  store?: Store;
  /** Where the hub's own store lives when `store` is not given; default `<dataDir>/warren.db` (SQLite). */
  database?: DatabaseLocation;
  /**
   * The admin token. Default: the one in `<dataDir>/admin-token`, created on first start. Hubs that share
   * a database must share it (`WARREN_ADMIN_TOKEN`), since each has its own data dir.
   */
  adminToken?: string;
  /**
   * Overrides of the default settings, with the model endpoints and routing config (validated:
   * InvalidInputError names each bad field, e.g. `endpoints.0.baseUrl`).
   */
  config?: HubConfigOverrides;
  /** The fetch endpoint health checks use (tests inject one). Default: the global fetch. */
  endpointCheckFetch?: typeof fetch;
  /** Default: a pino logger at `info`. */
  logger?: Logger;
  /** The runner enrollment token (`POST /v1/runners/enroll`); default none, enrollment off. */
  enrollmentToken?: string;
}

/** A running hub. */
export interface RunningHub {
  /** Base URL, e.g. `http://127.0.0.1:7420`. */
  url: string;
  /** The port actually listened on. */
  port: number;
  store: Store;
  /** The admin token (also in `<dataDir>/admin-token`). */
  adminToken: string;
  /** The settings in force. */
  config: HubConfig;
  /** The model endpoints and their health. */
  endpointHealth: EndpointHealthChecker;
  /** The agent definitions of the `agents` setting, loaded at start; undefined without one. */
  agentDefinitions?: AgentDefinitionRegistry;
  /**
   * This hub process's unique id (`hub_<host>_<pid>_<random>`), new on every start: the holder name it
   * uses in leader election.
   */
  instanceId: string;
  /** Whether this hub is now the elected leader that runs maintenance. */
  isLeader(): boolean;
  /**
   * Stops the hub: maintenance, parked claims and event streams end, the server closes (idle keep-alive
   * connections at once, busy ones after a short grace), `hub.json` is removed and a store the hub opened
   * is closed. Safe to call more than once.
   */
  close(): Promise<void>;
}

/** The default port. why: unassigned by IANA and easy to remember; any free port works. */
export const DEFAULT_HUB_PORT = 7420;
/** The folder under the data dir where a Git source of agent definitions is cloned. */
const agentDefinitionsCacheDir = 'agent-definitions';
/** The leadership that hubs sharing a store elect: its holder runs the maintenance loop. */
const maintenanceLeadership = 'maintenance';
// why: requests already being answered get this long to finish before their connections are cut.
const closeGraceMs = 2_000;
// why: connections become idle as their last response ends; closing them promptly lets close() finish fast.
const idleSweepIntervalMs = 25;
// why: an idle keep-alive connection must be closed by the client, never by the hub as the client writes
// a new request on it (the client then sees ECONNRESET). Node's default is 5 s; Warren's client drops idle
// connections after 15 s (`src/client/http-transport.ts`), and proxies in front of a hub commonly after
// 60 s, so the hub waits longer than both.
const keepAliveTimeoutMs = 65_000;

/** Starts a hub and resolves once it listens. */
export async function startHub(options: StartHubOptions): Promise<RunningHub> {
  const logger = options.logger ?? createLogger();
  const config = resolveHubConfig(options.config);
  const host = options.host ?? '127.0.0.1';
  const { dataDir } = options;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const adminToken =
    options.adminToken === undefined
      ? await loadAdminToken(dataDir)
      : { token: checkAdminToken(options.adminToken), created: false };
  if (adminToken.created) logger.info({ file: join(dataDir, ADMIN_TOKEN_FILE) }, 'created the admin token');

  const ownsStore = options.store === undefined;
  const database = options.database ?? { dialect: 'sqlite', filename: join(dataDir, SQLITE_FILENAME) };
  const store = options.store ?? (await openStore(database, { logger }));
  const instanceId = createInstanceId();
  // why a fixed holder on SQLite: the store holds its file exclusively, so no other hub can share it, and
  // a hub restarted after a crash renews its predecessor's leadership at once instead of waiting it out.
  const leadershipHolder = store.dialect === 'sqlite' ? 'hub_embedded' : instanceId;
  const endpointHealth = createEndpointHealthChecker({ config, logger, fetch: options.endpointCheckFetch });
  let server: Server | undefined;
  let election: LeaderElection | undefined;
  try {
    await migrateWhenReachable(store, config.databaseStartupWaitMs, logger);
    for (const endpoint of config.endpoints) await store.upsertEndpoint(endpoint);
    endpointHealth.sync(await store.listEndpoints());
    const agentDefinitions =
      config.agents === undefined
        ? undefined
        : createAgentDefinitionRegistry({
            source: createAgentSource(config.agents, { cacheDir: join(dataDir, agentDefinitionsCacheDir) }),
            logger,
          });
    // A broken definitions source does not keep the hub from starting: the registry logs the problems,
    // serves them on GET /v1/agents and reads the source again later.
    await agentDefinitions?.refresh();
    const shutdown = new AbortController();
    const metrics = createHubMetrics({
      store,
      endpointStatuses: () => endpointHealth.list(),
      isLeader: () => election?.isLeader() ?? false,
    });
    const auth = createHubAuth({ store, adminToken: adminToken.token });
    const fleetView = createFleetView({ store, outcomesPerPairing: config.fleet.outcomesPerPairing });
    const app = createHubApp({
      fleetView,
      store,
      auth,
      config,
      logger,
      metrics,
      endpointHealth,
      signal: shutdown.signal,
      enrollmentToken: options.enrollmentToken,
      agentDefinitions,
    });
    server = await listen(app, options.port ?? DEFAULT_HUB_PORT, host);
    const port = (server.address() as AddressInfo).port;
    const hubFile: HubFile = {
      url: `http://${urlHostOf(host)}:${port}`,
      pid: process.pid,
      startedAt: new Date().toISOString(),
    };
    await writeHubFile(dataDir, hubFile);
    // Only the leader runs maintenance (lease expiry, retry promotion, stale runners). Endpoint health
    // checks stay per hub: each hub routes claims from its own view of endpoint health, and keeps its
    // endpoint list in step with the store (another hub may have changed it).
    const endpointSync = startEndpointSync({
      store,
      endpointHealth,
      intervalMs: config.endpointSyncIntervalMs,
      logger,
    });
    const leaderElection = startLeaderElection({
      store,
      name: maintenanceLeadership,
      holder: leadershipHolder,
      ttlMs: config.leaderLeaseMs,
      renewIntervalMs: config.leaderRenewIntervalMs,
      logger,
    });
    election = leaderElection;
    // why wait: a single hub then leads before its first maintenance pass, exactly as before elections.
    await leaderElection.ready;
    const maintenance = startMaintenance({
      store,
      config,
      logger,
      metrics,
      shouldRun: () => leaderElection.isLeader(),
      breakers: { store, fleetView, logger, breakerPolicy: config.fleet.breaker },
    });
    logger.info({ url: hubFile.url, dataDir, instanceId }, 'hub listening');

    const listening = server;
    let closing: Promise<void> | undefined;
    const close = async (): Promise<void> => {
      try {
        await maintenance.stop();
        // After maintenance has stopped, so that the next leader never overlaps a pass of ours.
        await leaderElection.stop();
        await endpointSync.stop();
        endpointHealth.stop();
        shutdown.abort();
        await closeServer(listening);
        await removeHubFile(dataDir, hubFile);
      } finally {
        if (ownsStore) await store.close();
        logger.info({ url: hubFile.url }, 'hub stopped');
      }
    };
    return {
      url: hubFile.url,
      port,
      store,
      adminToken: adminToken.token,
      config,
      endpointHealth,
      agentDefinitions,
      instanceId,
      isLeader: () => leaderElection.isLeader(),
      close: () => (closing ??= close()),
    };
  } catch (error) {
    await election?.stop();
    endpointHealth.stop();
    if (server) await closeServer(server);
    if (ownsStore) await store.close();
    throw error;
  }
}

/**
 * A new hub instance id: host and pid say which process it is in logs and in the leadership row, the random
 * part keeps a restarted process with a reused pid (containers often run as pid 1) from passing for the
 * old one.
 */
/**
 * Checks an admin token given in the environment: long enough to resist guessing. Throws InvalidInputError
 * naming `WARREN_ADMIN_TOKEN` otherwise.
 */
function checkAdminToken(token: string): string {
  const trimmed = token.trim();
  // why 32: a token shorter than that could be guessed or be a placeholder someone forgot to replace.
  if (trimmed.length < 32) {
    throw new InvalidInputError([
      { field: 'WARREN_ADMIN_TOKEN', reason: 'must be at least 32 characters (e.g. `openssl rand -hex 32`)' },
    ]);
  }
  return trimmed;
}

function createInstanceId(): string {
  return `hub_${hostname()}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/**
 * Migrates the store, waiting for a PostgreSQL database that cannot be reached yet (hubs and database
 * starting together, a database restarting) for up to `waitMs`, retrying with backoff and saying so in
 * the log. A SQLite store is not waited for: its only unavailability is another hub holding the file,
 * which must be reported at once.
 */
async function migrateWhenReachable(store: Store, waitMs: number, logger: Logger): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await store.migrate();
      return;
    } catch (error) {
      const waitable =
        store.dialect === 'postgres' && WarrenError.isInstance(error) && error.code === 'unavailable';
      if (!waitable || Date.now() >= deadline) throw error;
      // why: 250 ms doubling to 5 s finds a database that comes up in seconds without hammering one that doesn't.
      const delayMs = Math.min(250 * 2 ** (attempt - 1), 5_000, Math.max(deadline - Date.now(), 0));
      logger.warn({ err: error, retryInMs: delayMs }, 'waiting for the database');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** Serves `app` on `host:port`; resolves once listening, rejects when the port cannot be bound. */
function listen(app: Hono<HubEnv>, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: host }, () => {
      server.off('error', reject);
      resolve(server);
    }) as Server;
    server.keepAliveTimeout = keepAliveTimeoutMs;
    server.once('error', reject);
  });
}

/** Closes the server: refuses new connections, ends idle ones as they go idle, cuts the rest after a grace. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), idleSweepIntervalMs);
    const cut = setTimeout(() => server.closeAllConnections(), closeGraceMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** The host part of the hub's URL: wildcard addresses become loopback, IPv6 gets brackets. */
function urlHostOf(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
