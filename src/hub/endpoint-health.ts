/**
 * The hub's endpoint health checker: keeps the configured model endpoints and checks each one with a cheap
 * models listing, so that tasks are claimed only while a model they may use is reachable.
 *
 * Each endpoint has its own self-rescheduling timer: the first check runs at once, an endpoint that is up
 * is checked again after `endpointUpIntervalMs`, one that is down after an exponential backoff with jitter
 * (`endpointDownInitialDelayMs` doubling up to `endpointDownMaxDelayMs`). An endpoint added or changed is
 * checked at once; a check in flight for an old definition is aborted and its answer ignored.
 *
 * The API key is read locally at each check (environment variable or file) and is never logged, stored or
 * put in an error: a failed check says only the status code or the network error.
 */
import { readFile } from 'node:fs/promises';
import type { EndpointWithHealth } from '../core/api.ts';
import { computeRetryDelay, type RetryPolicy } from '../core/backoff.ts';
import type { Logger } from '../core/logger.ts';
import { offeredModelSelectors } from '../core/model-assignment.ts';
import type {
  EndpointHealth,
  EndpointStatus,
  ModelEndpoint,
  ModelProvider,
} from '../core/model-endpoints.ts';
import { modelCapabilityOf, parseModelSelector } from '../core/model-selector.ts';
import type { HubConfig } from './hub-config.ts';
import { describeNetworkError } from '../core/describe-network-error.ts';

/** The endpoints that are up at one moment, and the model capabilities they offer runners. */
export interface AvailableModels {
  /** Endpoints whose last check succeeded, by name. */
  endpoints: readonly ModelEndpoint[];
  /** `model:<endpoint>/<model>` and `model:<tier>` of every model of those endpoints, sorted. */
  capabilities: readonly string[];
}

/** A change of an endpoint's status. */
export interface EndpointStatusChange {
  name: string;
  from: EndpointStatus;
  to: EndpointStatus;
}

/** The checker of the hub's model endpoints. */
export interface EndpointHealthChecker {
  /** Replaces every endpoint: new and changed ones are checked at once, missing ones dropped. */
  sync(endpoints: readonly ModelEndpoint[]): void;
  /** Adds or replaces one endpoint; checks it at once unless its definition is unchanged. */
  set(endpoint: ModelEndpoint): void;
  /** Drops an endpoint and its checks. */
  remove(name: string): void;
  /** Every endpoint with its health, by name. */
  list(): EndpointWithHealth[];
  /** One endpoint with its health, or undefined. */
  get(name: string): EndpointWithHealth | undefined;
  /** Every selector the configured endpoints offer, up or not (what task creation may ask for). */
  configuredSelectors(): ReadonlySet<string>;
  /** Like {@link configuredSelectors}, counting only endpoints of these providers (for CLI agents). */
  configuredSelectorsFor(providers: readonly ModelProvider[]): ReadonlySet<string>;
  /** The endpoints up now and their capabilities; one consistent snapshot. */
  available(): AvailableModels;
  /**
   * Checks now, instead of at their next scheduled time, the endpoints that serve `selector` (the pinned
   * endpoint, or every endpoint with a model of the tier) and are not being checked already. The hub calls
   * it when an attempt fails because its model endpoint could not serve.
   */
  recheck(selector: string): void;
  /** Calls `listener` on every change of an endpoint's status; returns the unsubscribe function. */
  subscribe(listener: (change: EndpointStatusChange) => void): () => void;
  /** Stops every timer and check; later calls change nothing. */
  stop(): void;
}

/** Options of {@link createEndpointHealthChecker}. */
export interface EndpointHealthCheckerOptions {
  config: Pick<
    HubConfig,
    | 'endpointCheckTimeoutMs'
    | 'endpointUpIntervalMs'
    | 'endpointDownInitialDelayMs'
    | 'endpointDownMaxDelayMs'
  >;
  logger: Logger;
  /** The fetch checks are sent with (tests inject one). Default: the global fetch. */
  fetch?: typeof fetch;
  /** Where `apiKeyEnv` names are looked up. Default: `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Reads an `apiKeyFile`. Default: the file's text. */
  readKeyFile?: (path: string) => Promise<string>;
  /** Randomness in [0, 1) for backoff jitter. */
  random?: () => number;
}

/** The version of the Anthropic API the check asks for. why: the models listing exists in this version. */
const anthropicVersion = '2023-06-01';

interface EndpointState {
  endpoint: ModelEndpoint;
  /** The definition as JSON, to tell a real change from a repeated upsert. */
  definition: string;
  health: EndpointHealth;
  /** Consecutive failed checks. */
  failures: number;
  timer?: NodeJS.Timeout;
  /** Aborts the check in flight. */
  inFlight?: AbortController;
  /** False once the endpoint was replaced or removed: answers of its checks are ignored. */
  current: boolean;
}

/** Creates a checker with no endpoints; give it some with `sync` or `set`. */
export function createEndpointHealthChecker(options: EndpointHealthCheckerOptions): EndpointHealthChecker {
  const { config, logger } = options;
  const fetchImplementation = options.fetch ?? globalThis.fetch;
  const env = options.env ?? process.env;
  const readKeyFile = options.readKeyFile ?? ((path: string) => readFile(path, 'utf8'));
  const random = options.random ?? Math.random;
  const downPolicy: RetryPolicy = {
    baseDelayMs: config.endpointDownInitialDelayMs,
    maxDelayMs: config.endpointDownMaxDelayMs,
    factor: 2,
    jitter: 0.5,
  };
  const states = new Map<string, EndpointState>();
  const listeners = new Set<(change: EndpointStatusChange) => void>();
  let stopped = false;
  let selectors: ReadonlySet<string> | undefined;
  let snapshot: AvailableModels | undefined;

  function invalidate(): void {
    selectors = undefined;
    snapshot = undefined;
  }

  function cancel(state: EndpointState): void {
    state.current = false;
    clearTimeout(state.timer);
    state.inFlight?.abort();
  }

  function schedule(state: EndpointState, delayMs: number): void {
    if (stopped || !state.current) return;
    clearTimeout(state.timer);
    state.health = { ...state.health, nextCheckAt: new Date(Date.now() + delayMs).toISOString() };
    state.timer = setTimeout(() => void check(state), delayMs);
    // why: a pending check must not keep a process alive that has nothing else to do.
    state.timer.unref();
  }

  async function check(state: EndpointState): Promise<void> {
    if (stopped || !state.current) return;
    const controller = new AbortController();
    state.inFlight = controller;
    const timeout = setTimeout(() => controller.abort(), config.endpointCheckTimeoutMs);
    let failure: string | undefined;
    let key: string | undefined;
    try {
      key = await resolveKey(state.endpoint);
      const response = await fetchImplementation(`${state.endpoint.baseUrl}/models`, {
        method: 'GET',
        headers: requestHeaders(state.endpoint, key),
        signal: controller.signal,
      });
      // The body is not needed; reading it frees the connection.
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok)
        failure = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    } catch (error) {
      failure = controller.signal.aborted
        ? `no answer within ${config.endpointCheckTimeoutMs} ms`
        : describeFailure(error);
    } finally {
      clearTimeout(timeout);
      if (state.inFlight === controller) state.inFlight = undefined;
    }
    if (stopped || !state.current) return;
    if (failure !== undefined && key !== undefined && key !== '')
      failure = failure.split(key).join('[redacted]');
    const from = state.health.status;
    const to: EndpointStatus = failure === undefined ? 'up' : 'down';
    state.failures = failure === undefined ? 0 : state.failures + 1;
    state.health = { status: to, lastCheckedAt: new Date().toISOString() };
    if (failure !== undefined) state.health.lastError = failure;
    schedule(
      state,
      failure === undefined
        ? config.endpointUpIntervalMs
        : computeRetryDelay(state.failures, downPolicy, random),
    );
    if (from !== to) {
      invalidate();
      const name = state.endpoint.name;
      if (to === 'down') logger.warn({ endpoint: name, reason: failure }, 'model endpoint is down');
      else logger.info({ endpoint: name }, 'model endpoint is up');
      notify({ name, from, to });
    }
  }

  /** The API key, read locally; undefined when the endpoint names none. Throws a readable error. */
  async function resolveKey(endpoint: ModelEndpoint): Promise<string | undefined> {
    if (endpoint.apiKeyEnv !== undefined) {
      const value = env[endpoint.apiKeyEnv]?.trim();
      if (!value)
        throw new KeyUnavailableError(`environment variable ${endpoint.apiKeyEnv} is not set on the hub`);
      return value;
    }
    if (endpoint.apiKeyFile !== undefined) {
      let text: string;
      try {
        text = await readKeyFile(endpoint.apiKeyFile);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new KeyUnavailableError(
          `cannot read key file ${endpoint.apiKeyFile}${code ? ` (${code})` : ''}`,
        );
      }
      const value = text.trim();
      if (value === '') throw new KeyUnavailableError(`key file ${endpoint.apiKeyFile} is empty`);
      return value;
    }
    return undefined;
  }

  function withHealth(state: EndpointState): EndpointWithHealth {
    return { ...state.endpoint, ...state.health };
  }

  function add(endpoint: ModelEndpoint): void {
    const definition = JSON.stringify(endpoint);
    const existing = states.get(endpoint.name);
    if (existing?.definition === definition) return;
    if (existing) cancel(existing);
    const state: EndpointState = {
      endpoint,
      definition,
      health: { status: 'unknown' },
      failures: 0,
      current: true,
    };
    states.set(endpoint.name, state);
    invalidate();
    if (existing && existing.health.status !== 'unknown') {
      notify({ name: endpoint.name, from: existing.health.status, to: 'unknown' });
    }
    void check(state);
  }

  function notify(change: EndpointStatusChange): void {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (error) {
        logger.error({ err: error, endpoint: change.name }, 'an endpoint status listener failed');
      }
    }
  }

  function remove(name: string): void {
    const state = states.get(name);
    if (!state) return;
    cancel(state);
    states.delete(name);
    invalidate();
  }

  return {
    sync(endpoints) {
      if (stopped) return;
      const names = new Set(endpoints.map((endpoint) => endpoint.name));
      for (const name of [...states.keys()]) if (!names.has(name)) remove(name);
      for (const endpoint of endpoints) add(endpoint);
    },
    set(endpoint) {
      if (!stopped) add(endpoint);
    },
    remove,
    list() {
      return [...states.values()]
        .sort((left, right) => (left.endpoint.name < right.endpoint.name ? -1 : 1))
        .map(withHealth);
    },
    get(name) {
      const state = states.get(name);
      return state && withHealth(state);
    },
    configuredSelectors() {
      selectors ??= offeredModelSelectors([...states.values()].map((state) => state.endpoint));
      return selectors;
    },
    configuredSelectorsFor(providers) {
      return offeredModelSelectors(
        [...states.values()]
          .map((state) => state.endpoint)
          .filter((endpoint) => providers.includes(endpoint.provider)),
      );
    },
    available() {
      if (snapshot === undefined) {
        const endpoints = [...states.values()]
          .filter((state) => state.health.status === 'up')
          .map((state) => state.endpoint)
          .sort((left, right) => (left.name < right.name ? -1 : 1));
        const capabilities = [...offeredModelSelectors(endpoints)].map(modelCapabilityOf);
        snapshot = { endpoints, capabilities: [...new Set(capabilities)].sort() };
      }
      return snapshot;
    },
    recheck(selector) {
      if (stopped) return;
      const parsed = parseModelSelector(selector);
      for (const state of states.values()) {
        const serves =
          parsed.kind === 'pin'
            ? state.endpoint.name === parsed.endpoint
            : state.endpoint.models.some((model) => model.tier === parsed.tier);
        if (!serves || state.inFlight !== undefined || !state.current) continue;
        clearTimeout(state.timer);
        void check(state);
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      stopped = true;
      for (const state of states.values()) cancel(state);
      listeners.clear();
    },
  };
}

/** The key of an endpoint cannot be found on the hub; its message names where it was looked for. */
class KeyUnavailableError extends Error {}

/** The headers of a models listing: the provider's way of sending the key, then the endpoint's own headers. */
function requestHeaders(endpoint: ModelEndpoint, key: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json', ...endpoint.headers };
  switch (endpoint.provider) {
    case 'anthropic':
      headers['anthropic-version'] = anthropicVersion;
      if (key !== undefined) headers['x-api-key'] = key;
      break;
    case 'google':
      if (key !== undefined) headers['x-goog-api-key'] = key;
      break;
    case 'openai':
    case 'openai-compatible':
      if (key !== undefined) headers.authorization = `Bearer ${key}`;
      break;
  }
  return headers;
}

/** A failed check in words (never the key). */
function describeFailure(error: unknown): string {
  if (error instanceof KeyUnavailableError) return error.message;
  return describeNetworkError(error);
}
