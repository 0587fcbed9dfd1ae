/**
 * A real hub on SQLite and one real runner registered with it, in a git sandbox, for end-to-end tests.
 */
import { createHubClient, type HubClient } from '../../../src/client/hub-client.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { HubConfigOverrides } from '../../../src/hub/hub-config.ts';
import { startHub, type RunningHub } from '../../../src/hub/start-hub.ts';
import {
  startRunner,
  type RunningRunner,
  type StartRunnerOptions,
} from '../../../src/runner/start-runner.ts';
import type { GitSandbox } from '../../../src/vcs/testing/create-git-sandbox.ts';

/** Options of {@link startHubWithRunner}. */
export interface StartHubWithRunnerOptions {
  /** The hub keeps its data in `hub/` of the sandbox, the runner its work in `runner/`. */
  sandbox: GitSandbox;
  /** Hub settings over the fast test defaults (300 ms heartbeats, 50 ms maintenance). */
  config: HubConfigOverrides;
  /** The name the runner is registered under. */
  runnerName: string;
  /** Runner options over the default of a 1 s claim long-poll. */
  runner?: Omit<Partial<StartRunnerOptions>, 'hubUrl' | 'token' | 'workDir'>;
}

/** A running hub with its admin client and one runner. */
export interface HubWithRunner {
  hub: RunningHub;
  admin: HubClient;
  runner: RunningRunner;
  /** Stops the runner (aborting what it runs) and closes the hub. */
  stop(): Promise<void>;
}

/** Starts a hub, registers a runner with it and starts that runner. */
export async function startHubWithRunner(options: StartHubWithRunnerOptions): Promise<HubWithRunner> {
  const { sandbox } = options;
  const hub = await startHub({
    dataDir: sandbox.path('hub'),
    port: 0,
    // why: fast heartbeats and maintenance, so lease expiry and timeouts show within a test's time.
    config: { heartbeatIntervalMs: 300, maintenanceIntervalMs: 50, ...options.config },
    logger: silentLogger,
  });
  try {
    const admin = createHubClient({ baseUrl: hub.url, token: hub.adminToken });
    const { token } = await admin.runners.create({ name: options.runnerName });
    const runner = await startRunner({
      hubUrl: hub.url,
      token,
      workDir: sandbox.path('runner'),
      pollWaitMs: 1_000,
      ...options.runner,
    });
    return {
      hub,
      admin,
      runner,
      async stop() {
        await runner.stop({ drainTimeoutMs: 0 });
        await hub.close();
      },
    };
  } catch (error) {
    await hub.close();
    throw error;
  }
}
