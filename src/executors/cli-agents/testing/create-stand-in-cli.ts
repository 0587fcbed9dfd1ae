/**
 * A stand-in for a CLI agent's binary, for adapter tests through the real shared CLI-agent executor where
 * the real CLI cannot be installed. The stand-in is a small Node script written at test time under the
 * CLI's name: it records the argv, environment, working directory and stdin it was started with, prints a
 * fixture as the CLI's stdout, edits a file if told to, and exits with the code it is given. It works in a
 * fresh git repository (the worktree, holding a buggy `src/math.js`), with a runner secret in this
 * process's environment that must never reach it.
 */
import { chmod, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ModelAssignment } from '../../../core/model-endpoints.ts';
import type { VerificationRound } from '../../../core/types.ts';
import { runProcess } from '../../run-process.ts';
import type { Executor, ExecutorContext, ExecutorEvent, ExecutorResult } from '../../spec.ts';
import { createTestContext } from '../../testing/create-test-context.ts';
import { createTestTask } from '../../testing/create-test-task.ts';
import type { CliAgentExecutorOptions } from '../create-cli-agent-executor.ts';
import { fixtureDirectory } from './create-parser-fixtures.ts';

/** What the stand-in recorded about how it was started. */
export interface StandInRecord {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  stdin: string;
}

/** What the stand-in does on its next start. */
export interface StandInScript {
  /** The fixture it prints, by name in test/fixtures/cli-agents/<cli>. */
  fixture: string;
  exitCode?: number;
  /** A file (relative to its working directory) it writes, as the CLI's edit would. */
  edit?: { path: string; content: string };
}

/** Which CLI the stand-in stands for, and the values the tests check for. */
export interface StandInCliOptions {
  /**
   * The binary's name, which is also the executor the task asks for and the fixture folder's name
   * (`aider`).
   */
  cli: string;
  /** What `<cli> --version` prints (`aider 0.86.2`). */
  version: string;
  /** The CLI's executor factory (`createAiderExecutor`). */
  createExecutor: (options: CliAgentExecutorOptions) => Executor;
  /** The key the executor is given for any model endpoint. */
  endpointKey: string;
  /** The credential the task is granted (`GITHUB_TOKEN` in its environment). */
  grantedToken: string;
  /** The value of `WARREN_E2E_RUNNER_SECRET` in the runner's own environment during a test. */
  runnerSecret: string;
}

/** One test's stand-in: `setUp` before each test, `tearDown` after it. */
export interface StandInCli {
  /** Creates the worktree repository and the stand-in binary, and sets the runner secret. */
  setUp(): Promise<void>;
  /** Removes all a test made (the activation homes the stand-in saw included), and the runner secret. */
  tearDown(): Promise<void>;
  /** The git repository the task works in. */
  readonly worktree: string;
  /** The events the executor emitted through contexts from `context`. */
  readonly events: ExecutorEvent[];
  /** Sets what the stand-in does next; returns where it will record how it was started. */
  script(next: StandInScript): Promise<string>;
  /** How the stand-in was started, as it recorded at `recordPath`. */
  record(recordPath: string): Promise<StandInRecord>;
  /** An executor context for the task "Fix add" in the worktree, with the granted token; `overrides` win. */
  context(overrides?: Partial<ExecutorContext>): ExecutorContext;
  /** A fresh executor for the CLI that runs the stand-in binary, with `endpointKey` as every key. */
  executor(): Executor;
  /** Scripts the stand-in with `next`, runs a fresh executor in `context(overrides)`, and records. */
  run(
    next: StandInScript,
    overrides?: Partial<ExecutorContext>,
  ): Promise<{ result: ExecutorResult; started: StandInRecord }>;
  /**
   * A first run printing the fixture `first`, which must succeed (else this throws), then a fix round
   * by a fresh executor, resuming its session with a failed `node --test` as evidence and printing
   * `resumed`; both with `model`.
   */
  fixRound(
    model: ModelAssignment,
    fixtures: { first: string; resumed: string },
  ): Promise<{ resumed: ExecutorResult; firstStart: StandInRecord; secondStart: StandInRecord }>;
}

/** The stand-in task's first verification, failed on its `node --test` criterion: a fix round's evidence. */
const failedTestsRound: VerificationRound = {
  round: 1,
  passed: false,
  criteria: [
    {
      description: 'tests pass',
      command: 'node --test',
      passed: false,
      exitCode: 1,
      timedOut: false,
      durationMs: 12,
      output: "AssertionError: expected add('1', 2) to be 3",
    },
  ],
};

// The stand-in binary: a Node script (with this Node's absolute path in its shebang, so it needs nothing
// from PATH) reading its instructions from stand-in.json beside it.
const standInSource = `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
const config = JSON.parse(fs.readFileSync(path.join(__dirname, 'stand-in.json'), 'utf8'));
if (process.argv.includes('--version')) {
  process.stdout.write(config.version + '\\n');
  process.exit(0);
}
let stdin = '';
try { stdin = fs.readFileSync(0, 'utf8'); } catch {}
fs.writeFileSync(config.recordPath, JSON.stringify({ argv: process.argv.slice(2), env: process.env, cwd: process.cwd(), stdin }));
if (config.edit) fs.writeFileSync(path.join(process.cwd(), config.edit.path), config.edit.content);
process.stdout.write(fs.readFileSync(config.fixture, 'utf8'));
process.exit(config.exitCode ?? 0);
`;

/** A stand-in for `options.cli`; nothing exists until `setUp`. */
export function createStandInCli(options: StandInCliOptions): StandInCli {
  let root: string | undefined;
  let runs = 0;
  const events: ExecutorEvent[] = [];
  const homes = new Set<string>();

  const rootPath = (): string => {
    if (root === undefined) throw new Error('the stand-in is not set up');
    return root;
  };
  const worktreePath = (): string => path.join(rootPath(), 'worktree');
  const binaryPath = (): string => path.join(rootPath(), 'bin', options.cli);

  async function git(args: string[]): Promise<void> {
    const worktree = worktreePath();
    const result = await runProcess({
      command: ['git', ...args],
      cwd: worktree,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: worktree },
      timeoutMs: 10_000,
      maxOutputBytes: 10_000,
    });
    if (result.exitCode !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.output}`);
  }

  return {
    async setUp() {
      root = await realpath(await mkdtemp(path.join(tmpdir(), `warren-${options.cli}-standin-`)));
      const worktree = worktreePath();
      await mkdir(path.join(worktree, 'src'), { recursive: true });
      await writeFile(
        path.join(worktree, 'src', 'math.js'),
        'export function add(a, b) {\n  return a - b;\n}\n',
      );
      await git(['init', '--quiet', '--initial-branch=main']);
      await git(['add', '--all']);
      await git(['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'initial']);
      await mkdir(path.join(root, 'bin'));
      await writeFile(binaryPath(), standInSource);
      await chmod(binaryPath(), 0o755);
      events.length = 0;
      runs = 0;
      process.env.WARREN_E2E_RUNNER_SECRET = options.runnerSecret;
    },

    async tearDown() {
      delete process.env.WARREN_E2E_RUNNER_SECRET;
      for (const home of homes) await rm(home, { recursive: true, force: true });
      homes.clear();
      if (root !== undefined) await rm(root, { recursive: true, force: true });
      root = undefined;
    },

    get worktree() {
      return worktreePath();
    },

    events,

    async script(next) {
      runs += 1;
      const recordPath = path.join(rootPath(), `record-${runs}.json`);
      await writeFile(
        path.join(rootPath(), 'bin', 'stand-in.json'),
        JSON.stringify({
          ...next,
          fixture: path.join(fixtureDirectory(options.cli), next.fixture),
          recordPath,
          version: options.version,
        }),
      );
      return recordPath;
    },

    async record(recordPath) {
      const recorded = JSON.parse(await readFile(recordPath, 'utf8')) as StandInRecord;
      homes.add(recorded.env.HOME!);
      return recorded;
    },

    context(overrides = {}) {
      const worktree = worktreePath();
      return createTestContext(worktree, {
        task: createTestTask({
          title: 'Fix add',
          instructions: 'add() must return the sum of its arguments.',
          executor: options.cli,
          successCriteria: [{ description: 'tests pass', command: 'node --test' }],
        }),
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: worktree,
          LANG: 'C.UTF-8',
          GITHUB_TOKEN: options.grantedToken,
        },
        grantSecrets: { 'github:read': { GITHUB_TOKEN: options.grantedToken } },
        emit: (event) => events.push(event),
        ...overrides,
      });
    },

    executor() {
      return options.createExecutor({
        binaryPath: binaryPath(),
        resolveApiKey: () => Promise.resolve(options.endpointKey),
      });
    },

    async run(next, overrides) {
      const recordPath = await this.script(next);
      const result = await this.executor().run(this.context(overrides));
      return { result, started: await this.record(recordPath) };
    },

    async fixRound(model, fixtures) {
      const { result: first, started: firstStart } = await this.run({ fixture: fixtures.first }, { model });
      if (first.status !== 'succeeded') {
        throw new Error(`the first run did not succeed: ${JSON.stringify(first)}`);
      }
      const second = await this.script({ fixture: fixtures.resumed });
      const executor = this.executor();
      if (!executor.resume) throw new Error('the executor cannot resume a session');
      const resumed = await executor.resume(
        this.context({ model, feedback: failedTestsRound }),
        first.session,
      );
      return { resumed, firstStart, secondStart: await this.record(second) };
    },
  };
}
