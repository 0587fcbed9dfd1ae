/**
 * A hub app on a real temporary SQLite store, for in-process route tests with `app.request()`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import type { RunnerCreated } from '../../core/api.ts';
import { silentLogger } from '../../core/logger.ts';
import type { Runner, TaskSpecInput } from '../../core/types.ts';
import { createSqliteStore } from '../../store/index.ts';
import type { Store, StoreOptions } from '../../store/store.ts';
import type { AgentDefinitionRegistry } from '../agent-definitions/create-agent-definition-registry.ts';
import { createHubAuth } from '../auth.ts';
import { createHubApp } from '../create-hub-app.ts';
import { createEndpointHealthChecker, type EndpointHealthChecker } from '../endpoint-health.ts';
import { resolveHubConfig, type HubConfig, type HubConfigOverrides } from '../hub-config.ts';
import type { HubEnv } from '../hub-env.ts';
import { createHubMetrics, type HubMetrics } from '../metrics.ts';

/** Options of one test request. */
export interface TestRequestOptions {
  /** JSON-encoded unless already a string. */
  body?: unknown;
  /** Bearer token; default the admin token; `null` sends no Authorization header. */
  token?: string | null;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** A hub app under test and helpers around it. */
export interface TestHub {
  app: Hono<HubEnv>;
  store: Store;
  metrics: HubMetrics;
  config: HubConfig;
  endpointHealth: EndpointHealthChecker;
  adminToken: string;
  /** Sends one request to the app in-process. */
  request(method: string, path: string, options?: TestRequestOptions): Promise<Response>;
  /** Creates a task through the API and returns it. */
  createTask(spec?: Partial<TaskSpecInput>): Promise<{ id: string }>;
  /** Creates a runner through the API and registers it; returns the runner and its token. */
  createRunner(
    name: string,
    options?: { capabilities?: string[]; slots?: number },
  ): Promise<{ runner: Runner; token: string }>;
  /** Ends long polls and streams, closes the store and deletes the temporary directory. */
  close(): Promise<void>;
}

/** Options of {@link createTestHub}. */
export interface TestHubOptions {
  /** Settings; `endpoints` are upserted into the store and checked as `startHub` would. */
  config?: HubConfigOverrides;
  storeOptions?: StoreOptions;
  /**
   * The fetch endpoint health checks use. Default: one that answers every check 200, so that every
   * endpoint is up (tests of health use their own).
   */
  endpointCheckFetch?: typeof fetch;
  /** The runner enrollment token; default none (enrollment off). */
  enrollmentToken?: string;
  /** The agent definitions served by `/v1/agents`; default none. */
  agentDefinitions?: AgentDefinitionRegistry;
  /** Current time in epoch ms, for the rate limits; default `Date.now`. */
  clock?: () => number;
}

/** A fetch answering every request 200 with an empty model list. */
const everythingUp: typeof fetch = async () =>
  new Response('{"data":[]}', { status: 200, headers: { 'content-type': 'application/json' } });

/** The admin token of every test hub. */
export const TEST_ADMIN_TOKEN = 'wrn_admin_test-token';

/** A minimal valid task spec. */
export const minimalTaskSpec: TaskSpecInput = {
  title: 'Add a README',
  repo: '/tmp/example-repo',
  executorInput: { run: 'echo hello > README.md' },
};

/** Creates a hub app on a fresh SQLite file in a temporary directory. */
export async function createTestHub(options: TestHubOptions = {}): Promise<TestHub> {
  const directory = await mkdtemp(join(tmpdir(), 'warren-hub-test-'));
  const store = await createSqliteStore({ filename: join(directory, 'warren.db'), ...options.storeOptions });
  await store.migrate();
  const shutdown = new AbortController();
  const config = resolveHubConfig(options.config);
  const endpointHealth = createEndpointHealthChecker({
    config,
    logger: silentLogger,
    fetch: options.endpointCheckFetch ?? everythingUp,
  });
  for (const endpoint of config.endpoints) await store.upsertEndpoint(endpoint);
  endpointHealth.sync(await store.listEndpoints());
  const metrics = createHubMetrics({
    store,
    processMetrics: false,
    endpointStatuses: () => endpointHealth.list(),
  });
  const auth = createHubAuth({ store, adminToken: TEST_ADMIN_TOKEN });
  const app = createHubApp({
    store,
    auth,
    config,
    logger: silentLogger,
    metrics,
    endpointHealth,
    signal: shutdown.signal,
    enrollmentToken: options.enrollmentToken,
    agentDefinitions: options.agentDefinitions,
    clock: options.clock,
  });

  const request: TestHub['request'] = async (method, path, requestOptions = {}) => {
    const headers: Record<string, string> = { ...requestOptions.headers };
    const token = requestOptions.token === undefined ? TEST_ADMIN_TOKEN : requestOptions.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (requestOptions.body !== undefined) {
      body =
        typeof requestOptions.body === 'string' ? requestOptions.body : JSON.stringify(requestOptions.body);
      headers['content-type'] ??= 'application/json';
    }
    return app.request(path, { method, headers, body, signal: requestOptions.signal });
  };

  return {
    app,
    store,
    metrics,
    config,
    endpointHealth,
    adminToken: TEST_ADMIN_TOKEN,
    request,
    async createTask(spec = {}) {
      const response = await request('POST', '/v1/tasks', { body: { ...minimalTaskSpec, ...spec } });
      if (response.status !== 201)
        throw new Error(`creating a task answered ${response.status}: ${await response.text()}`);
      return ((await response.json()) as { task: { id: string } }).task;
    },
    async createRunner(name, runnerOptions = {}) {
      const capabilities = runnerOptions.capabilities ?? ['executor:shell'];
      const slots = runnerOptions.slots ?? 1;
      const created = await request('POST', '/v1/runners', { body: { name, capabilities, slots } });
      if (created.status !== 201)
        throw new Error(`creating a runner answered ${created.status}: ${await created.text()}`);
      const { token } = (await created.json()) as RunnerCreated;
      const registered = await request('POST', '/v1/runner/register', {
        token,
        body: { capabilities, slots },
      });
      if (registered.status !== 200)
        throw new Error(`registering answered ${registered.status}: ${await registered.text()}`);
      return { runner: ((await registered.json()) as { runner: Runner }).runner, token };
    },
    async close() {
      endpointHealth.stop();
      shutdown.abort();
      await store.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
