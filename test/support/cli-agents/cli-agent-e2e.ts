/**
 * The set-up the CLI-agent end-to-end tests share: a git sandbox with a small source repository (a
 * greeting whose test wants `goodbye`), the scripted model server, a real hub on SQLite and a real runner
 * offering only the executor under test, with two grants and a secret of its own; every event the
 * executor emits is recorded.
 */
import { afterEach } from 'vitest';
import type { HubClient, TaskCreated } from '../../../src/client/hub-client.ts';
import type { ModelEndpointInput } from '../../../src/core/model-endpoints.ts';
import type { Attempt, Task, TaskSpecInput } from '../../../src/core/types.ts';
import type { Executor, ExecutorEvent } from '../../../src/executors/spec.ts';
import type { RunningHub } from '../../../src/hub/start-hub.ts';
import type { RunningRunner } from '../../../src/runner/start-runner.ts';
import { runGit } from '../../../src/vcs/run-git.ts';
import { createGitSandbox, type GitSandbox } from '../../../src/vcs/testing/create-git-sandbox.ts';
import {
  startScriptedModelServer,
  type ModelScript,
  type ScriptedModelServer,
} from '../scripted-model-server/index.ts';
import { recordingEvents } from './recording-events.ts';
import { startHubWithRunner } from './start-hub-with-runner.ts';
import { waitForTaskEnd } from './wait-for-task-end.ts';

/** The source repository: `greet.js` says `hello`, `greet.test.js` wants `goodbye`. */
export const GREETING_SOURCE_FILES = {
  'greet.js': "export const greeting = 'hello';\n",
  'greet.test.js':
    "import assert from 'node:assert/strict';\nimport { greeting } from './greet.js';\nassert.equal(greeting, 'goodbye');\nconsole.log('greeting ok');\n",
  'package.json': '{ "type": "module" }\n',
};

/** The task's one success criterion. */
export const GREETING_CRITERION = { description: 'the greeting test passes', command: 'node greet.test.js' };

/** The task's instructions, which the CLI's first request must carry. */
export const GREETING_INSTRUCTIONS =
  'greet.js must export the greeting "goodbye"; node greet.test.js must pass.';

/**
 * The runner's secrets: `granted` is `DEPLOY_TOKEN` of the grant `deploy:read`, which the tasks hold;
 * `ungranted` is `PROD_TOKEN` of `prod:write`, which they do not; `runner` is in the runner's own
 * environment as `WARREN_E2E_RUNNER_SECRET`. Only `granted` may reach the CLI.
 */
export const E2E_SECRETS = {
  granted: 'granted-deploy-token-7d2e41',
  ungranted: 'ungranted-prod-token-c03b9a',
  runner: 'runner-secret-never-granted-e61f',
} as const;

/**
 * A shell command that runs the greeting test, then prints which of the secrets its shell has:
 * {@link CREDENTIALS_SHOWN} when only the granted one.
 */
export const TEST_AND_SHOW_CREDENTIALS =
  'node greet.test.js && echo "granted=${DEPLOY_TOKEN:-absent} ungranted=${PROD_TOKEN:-absent} runner=${WARREN_E2E_RUNNER_SECRET:-absent}"';

/** What {@link TEST_AND_SHOW_CREDENTIALS} prints in a shell with only the granted secret. */
export const CREDENTIALS_SHOWN = `granted=${E2E_SECRETS.granted} ungranted=absent runner=absent`;

// why: each pinned CLI runs a scripted task in one to four seconds on two cores; a loaded machine can take
// several times that.
export const CLI_AGENT_TASK_TIMEOUT_MS = 45_000;

/** Options of {@link startCliAgentE2e}. */
export interface CliAgentE2eOptions {
  /** Builds the executor under test; the runner offers only it. */
  createExecutor: () => Executor;
  /** The hub's one endpoint, at the scripted model server's URL; tasks use its first model. */
  endpoint: (modelServerUrl: string) => ModelEndpointInput;
  /** The endpoint's key: the server requires it; it is put in the environment variable `apiKeyEnv` names. */
  apiKey: string;
  /** Model ids the server's listing names (its default otherwise). */
  models?: string[];
}

/** The two sides of a finished task: the task and its first attempt. */
export interface TaskOutcome {
  task: Task;
  attempt: Attempt;
}

/** A running CLI-agent end-to-end set-up. */
export interface CliAgentE2e {
  sandbox: GitSandbox;
  /** The source repository, made of {@link GREETING_SOURCE_FILES}. */
  source: string;
  /** The runner's directory: worktrees, and the working directories of the CLI and its commands. */
  runnerDir: string;
  model: ScriptedModelServer;
  hub: RunningHub;
  admin: HubClient;
  runner: RunningRunner;
  /** Every event the executor emitted, in order. */
  events: ExecutorEvent[];
  /** Creates a task for the executor on the endpoint's first model: the greeting task unless `spec` says. */
  createTask(spec?: Partial<TaskSpecInput>): Promise<TaskCreated>;
  /** Waits for a task to end; then the task and its first attempt. */
  taskOutcome(taskId: string): Promise<TaskOutcome>;
  /** {@link CliAgentE2e.createTask}, then {@link CliAgentE2e.taskOutcome}. */
  runTask(spec?: Partial<TaskSpecInput>): Promise<TaskOutcome>;
  /** A file as the task's result branch holds it. */
  committedFile(task: Task, file: string): Promise<string>;
  /** The text of the task's `attempt.log` events on the hub. */
  attemptLog(taskId: string): Promise<string>;
  /** Stops the runner, the hub and the model server, removes the sandbox and the environment variables. */
  stop(): Promise<void>;
}

/** Starts the set-up with the model playing `script`. On failure, what was started is stopped. */
export async function startCliAgentE2e(
  options: CliAgentE2eOptions & { script: ModelScript },
): Promise<CliAgentE2e> {
  const cleanups: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    const sandbox = await createGitSandbox();
    cleanups.push(() => sandbox.cleanup());
    const source = await sandbox.createSourceRepo({ files: GREETING_SOURCE_FILES });
    const model = await startScriptedModelServer({
      script: options.script,
      apiKey: options.apiKey,
      ...(options.models ? { models: options.models } : {}),
    });
    cleanups.push(() => model.close());
    const endpoint = options.endpoint(model.url);
    process.env[endpoint.apiKeyEnv!] = options.apiKey;
    process.env.WARREN_E2E_RUNNER_SECRET = E2E_SECRETS.runner;
    cleanups.push(() => {
      delete process.env[endpoint.apiKeyEnv!];
      delete process.env.WARREN_E2E_RUNNER_SECRET;
      return Promise.resolve();
    });
    const events: ExecutorEvent[] = [];
    const executor = options.createExecutor();
    const hubWithRunner = await startHubWithRunner({
      sandbox,
      config: { leaseMs: 10_000, endpoints: [endpoint] },
      runnerName: `${executor.name}-runner`,
      runner: {
        keepFailedWorktreesMs: 0,
        executors: [recordingEvents(executor, events)],
        grantSecrets: {
          'deploy:read': { DEPLOY_TOKEN: E2E_SECRETS.granted },
          'prod:write': { PROD_TOKEN: E2E_SECRETS.ungranted },
        },
      },
    });
    cleanups.push(() => hubWithRunner.stop());
    const { hub, admin, runner } = hubWithRunner;

    const createTask = (spec: Partial<TaskSpecInput> = {}) =>
      admin.tasks.create({
        title: 'Say goodbye',
        instructions: GREETING_INSTRUCTIONS,
        repo: source,
        executor: executor.name,
        model: `${endpoint.name}/${endpoint.models[0]!.id}`,
        successCriteria: [GREETING_CRITERION],
        timeoutMs: CLI_AGENT_TASK_TIMEOUT_MS,
        ...spec,
      });
    const taskOutcome = async (taskId: string): Promise<TaskOutcome> => {
      const task = await waitForTaskEnd(admin, taskId);
      return { task, attempt: (await admin.tasks.get(taskId))!.attempts[0]! };
    };
    return {
      sandbox,
      source,
      runnerDir: sandbox.path('runner'),
      model,
      hub,
      admin,
      runner,
      events,
      createTask,
      taskOutcome,
      runTask: async (spec) => taskOutcome((await createTask(spec)).task.id),
      committedFile: async (task, file) =>
        (await runGit(['show', `${task.result!.branch}:${file}`], { cwd: source })).stdout,
      attemptLog: async (taskId) =>
        (await admin.tasks.logs(taskId))
          .filter((event) => event.type === 'attempt.log')
          .map((event) => String(event.data.text))
          .join(''),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Starts a {@link CliAgentE2e} with the model playing `script`. */
export type StartCliAgentE2e = (script: ModelScript) => Promise<CliAgentE2e>;

/**
 * For use inside a `describe`: returns a function that starts a {@link CliAgentE2e} in a test, and
 * registers an `afterEach` that stops it.
 */
export function useCliAgentE2e(options: CliAgentE2eOptions): StartCliAgentE2e {
  let running: CliAgentE2e | undefined;
  afterEach(async () => {
    const stopping = running;
    running = undefined;
    await stopping?.stop();
  });
  return async (script) => {
    running = await startCliAgentE2e({ ...options, script });
    return running;
  };
}
