/**
 * Starting a hub process: data directory, store, admin token, the config's model endpoints (upserted into
 * the store) and their health checker, HTTP server on loopback, maintenance loop, and `hub.json` for
 * discovery; `close()` undoes it all without hanging on open connections.
 */
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/logger.ts';
import { createSqliteStore } from '../store/index.ts';
import type { Store } from '../store/store.ts';
import { ADMIN_TOKEN_FILE, loadAdminToken } from './admin-token.ts';
import { createHubAuth } from './auth.ts';
import { createHubApp } from './create-hub-app.ts';
import { createLogger } from './create-logger.ts';
import { createEndpointHealthChecker, type EndpointHealthChecker } from './endpoint-health.ts';
import type { HubEnv } from './hub-env.ts';
import { resolveHubConfig, type HubConfig, type HubConfigOverrides } from './hub-config.ts';
import { removeHubFile, writeHubFile, type HubFile } from './hub-file.ts';
import { startMaintenance } from './maintenance.ts';
import { createHubMetrics } from './metrics.ts';

/** Options of {@link startHub}. */
export interface StartHubOptions {
  /** Directory for the database, the admin token and `hub.json`; created when absent. */
  dataDir: string;
  /** TCP port; default 7420, 0 picks a free one. */
  port?: number;
  /** Interface to listen on; default `127.0.0.1` (loopback only, unless told otherwise). */
  host?: string;
  /** The store to use; default a SQLite store in `<dataDir>/warren.db`, which `close()` closes. */
  store?: Store;
  /**
   * Overrides of the default settings, with the model endpoints and routing config (validated:
   * InvalidInputError names each bad field, e.g. `endpoints.0.baseUrl`).
   */
  config?: HubConfigOverrides;
  /** The fetch endpoint health checks use (tests inject one). Default: the global fetch. */
  endpointCheckFetch?: typeof fetch;
  /** Default: a pino logger at `info`. */
  logger?: Logger;
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
  /**
   * Stops the hub: maintenance, parked claims and event streams end, the server closes (idle keep-alive
   * connections at once, busy ones after a short grace), `hub.json` is removed and a store the hub opened
   * is closed. Safe to call more than once.
   */
  close(): Promise<void>;
}

/** The default port. why: unassigned by IANA and easy to remember; any free port works. */
export const DEFAULT_HUB_PORT = 7420;
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
  const adminToken = await loadAdminToken(dataDir);
  if (adminToken.created) logger.info({ file: join(dataDir, ADMIN_TOKEN_FILE) }, 'created the admin token');

  const ownsStore = options.store === undefined;
  const store = options.store ?? (await createSqliteStore({ filename: join(dataDir, 'warren.db') }));
  const endpointHealth = createEndpointHealthChecker({ config, logger, fetch: options.endpointCheckFetch });
  let server: Server | undefined;
  try {
    await store.migrate();
    for (const endpoint of config.endpoints) await store.upsertEndpoint(endpoint);
    endpointHealth.sync(await store.listEndpoints());
    const shutdown = new AbortController();
    const metrics = createHubMetrics({ store, endpointStatuses: () => endpointHealth.list() });
    const auth = createHubAuth({ store, adminToken: adminToken.token });
    const app = createHubApp({
      store,
      auth,
      config,
      logger,
      metrics,
      endpointHealth,
      signal: shutdown.signal,
    });
    server = await listen(app, options.port ?? DEFAULT_HUB_PORT, host);
    const port = (server.address() as AddressInfo).port;
    const hubFile: HubFile = {
      url: `http://${urlHostOf(host)}:${port}`,
      pid: process.pid,
      startedAt: new Date().toISOString(),
    };
    await writeHubFile(dataDir, hubFile);
    const maintenance = startMaintenance({ store, config, logger, metrics });
    logger.info({ url: hubFile.url, dataDir }, 'hub listening');

    const listening = server;
    let closing: Promise<void> | undefined;
    const close = async (): Promise<void> => {
      try {
        await maintenance.stop();
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
      close: () => (closing ??= close()),
    };
  } catch (error) {
    endpointHealth.stop();
    if (server) await closeServer(server);
    if (ownsStore) await store.close();
    throw error;
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
