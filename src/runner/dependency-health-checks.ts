/**
 * The dependency health checks a runner's pairings require (`runner.healthChecks` in the config file): each
 * is an HTTP GET of a URL, healthy on a 2xx answer within its time limit. The runner runs them on a jittered
 * interval and reports the last results with its heartbeat; the hub scores a pairing 0 while a check it
 * requires is failing.
 */
import type { DependencyHealth } from '../core/fleet-types.ts';
import type { Logger } from '../core/logger.ts';

/** One named check. */
export interface DependencyHealthCheck {
  url: string;
  /** Time limit of one check. Default 5 s. */
  timeoutMs?: number;
  /** Mean spacing of checks. Default 10 s. */
  intervalMs?: number;
}

/** Running checks. */
export interface DependencyHealthChecks {
  /** The last result of every check (a check not run yet is absent). */
  results(): DependencyHealth[];
  /** Runs every check now and waits for the results. */
  checkAll(): Promise<void>;
  stop(): void;
}

// why: a dependency that takes longer than 5 s to say it is healthy is not one to deploy through.
const defaultTimeoutMs = 5_000;
// why: a failing dependency is noticed within about 10 s, at one request per check per runner.
const defaultIntervalMs = 10_000;
// why: ±20 % spreads the checks of a fleet restarted at once, so they never arrive together.
const jitterFraction = 0.2;

/** Starts the checks; `onChange` is called when a check's health flips. */
export function startDependencyHealthChecks(options: {
  checks: Record<string, DependencyHealthCheck>;
  logger: Logger;
  onChange?: () => void;
  random?: () => number;
}): DependencyHealthChecks {
  const random = options.random ?? Math.random;
  const results = new Map<string, DependencyHealth>();
  const timers = new Map<string, NodeJS.Timeout>();
  let stopped = false;

  async function check(name: string, settings: DependencyHealthCheck): Promise<void> {
    let healthy = false;
    let detail: string;
    try {
      const response = await fetch(settings.url, {
        signal: AbortSignal.timeout(settings.timeoutMs ?? defaultTimeoutMs),
        redirect: 'manual',
      });
      await response.body?.cancel();
      healthy = response.status >= 200 && response.status < 300;
      detail = `HTTP ${response.status}`;
    } catch (error) {
      detail =
        error instanceof Error && error.name === 'TimeoutError'
          ? `no answer within ${settings.timeoutMs ?? defaultTimeoutMs} ms`
          : `unreachable: ${error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error)}`;
    }
    const before = results.get(name);
    results.set(name, { name, healthy, detail, checkedAt: new Date().toISOString() });
    if (before?.healthy !== healthy) {
      options.logger[healthy ? 'info' : 'warn'](
        { check: name, detail },
        `dependency check ${name} is ${healthy ? 'healthy' : 'failing'}`,
      );
      options.onChange?.();
    }
  }

  function schedule(name: string, settings: DependencyHealthCheck): void {
    if (stopped) return;
    const intervalMs = settings.intervalMs ?? defaultIntervalMs;
    const delayMs = intervalMs * (1 - jitterFraction + 2 * jitterFraction * random());
    const timer = setTimeout(() => {
      void check(name, settings).finally(() => schedule(name, settings));
    }, delayMs);
    timer.unref();
    timers.set(name, timer);
  }

  for (const [name, settings] of Object.entries(options.checks)) schedule(name, settings);

  return {
    results: () => [...results.values()],
    async checkAll() {
      await Promise.all(Object.entries(options.checks).map(([name, settings]) => check(name, settings)));
    },
    stop() {
      stopped = true;
      for (const timer of timers.values()) clearTimeout(timer);
    },
  };
}
