/**
 * Real child processes for cross-component tests: hubs, runners and the CLI, each the leader of its own
 * process group, all killed with SIGKILL (the whole group) by `cleanup()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  describeProcessGroup,
  killRecordedProcessGroup,
  type ProcessGroupRecord,
} from '../../src/runner/process-groups.ts';
import { createGitSandbox, type GitSandbox } from '../../src/vcs/testing/create-git-sandbox.ts';
import type { HubProcessReady, HubProcessSettings } from './hub-process.ts';

/** The repository root: where `bin/warren.js` and `test/support/` are. */
export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

// why: enough of a child's output to explain a failure without holding a flood in memory.
const maxKeptOutputCharacters = 256 * 1024;

/** How a child process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process the harness tracks. */
export interface TrackedProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Everything written on stdout so far (the last 256 KiB). */
  stdout(): string;
  /** Everything written on stderr so far (the last 256 KiB). */
  stderr(): string;
  /** Resolves when the process has exited. */
  exited: Promise<ProcessExit>;
  /** Resolves when the process has exited and its output has been read to the end. */
  closed: Promise<void>;
  /** True until the process has exited. */
  isRunning(): boolean;
  /** Resolves with the first stdout line that `match` accepts; rejects when the process exits first. */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Sends `signal` to the process group. */
  signalGroup(signal: NodeJS.Signals): void;
}

/** A hub started by {@link ProcessHarness.startHub}. */
export interface HubProcess extends HubProcessReady {
  process: TrackedProcess;
}

/** Temp directory, git repositories and child processes of one test. */
export interface ProcessHarness {
  /** The test's temporary directory. */
  root: string;
  /** A path inside {@link root}. */
  path(...segments: string[]): string;
  sandbox: GitSandbox;
  /** Environment of every child: this process's, git isolated from the machine's config, no colours. */
  env: Record<string, string>;
  /** Spawns `node --import tsx <script> ...args` from the repository root, detached (own process group). */
  spawnNode(
    name: string,
    script: string,
    args?: string[],
    options?: { env?: Record<string, string>; stdin?: 'pipe' | 'ignore' },
  ): TrackedProcess;
  /** Spawns the real CLI: `node bin/warren.js ...args`. */
  spawnCli(name: string, args: string[], options?: { env?: Record<string, string> }): TrackedProcess;
  /**
   * Runs the CLI to the end and returns its exit code and output. A CLI still running after `timeoutMs`
   * (default 30 s) is killed with SIGKILL, so a hang shows up as `signal: 'SIGKILL'` with its output.
   */
  runCli(
    args: string[],
    options?: { env?: Record<string, string>; timeoutMs?: number },
  ): Promise<ProcessExit & { stdout: string; stderr: string }>;
  /** Starts `test/support/hub-process.ts` and resolves once it listens. */
  startHub(settings: HubProcessSettings): Promise<HubProcess>;
  /** Starts `warren runner start` against a hub. */
  startCliRunner(options: { hubUrl: string; token: string; workDir: string; name: string }): TrackedProcess;
  /** Kills this process group too at cleanup (e.g. an executor orphaned by a killed runner). */
  adoptProcessGroup(pid: number): void;
  /** Kills every child process group with SIGKILL, waits for the exits and removes the temp directory. */
  cleanup(): Promise<void>;
}

/** Creates the harness of one test (call `cleanup()` in `afterEach` or `finally`). */
export async function createProcessHarness(): Promise<ProcessHarness> {
  const sandbox = await createGitSandbox();
  const tracked: TrackedProcess[] = [];
  const adopted: ProcessGroupRecord[] = [];
  // A watchdog in its own process group: it reads process group ids on stdin (`+id` to watch, `-id` to
  // forget) and, when stdin ends because this test process died without cleaning up (killed runner of
  // vitest, Ctrl-C), kills the groups it still watches. why: runners retry a vanished hub forever by
  // design; without this they would outlive a killed test run. A group is forgotten as soon as its leader
  // exits: the id may then be handed to an unrelated process (pids wrap at 32768 on CI machines), and a
  // stale id must never be signalled.
  const watchdog = spawn(
    '/bin/sh',
    [
      '-c',
      'groups=" "; while read -r line; do case "$line" in ' +
        '+*) groups="$groups${line#+} " ;; -*) groups=$(printf "%s" "$groups" | sed "s/ ${line#-} / /g") ;; ' +
        'esac; done; for group in $groups; do kill -s KILL -- "-$group" 2>/dev/null; done',
    ],
    { detached: true, stdio: ['pipe', 'ignore', 'ignore'] },
  );
  watchdog.unref();
  (watchdog.stdin as unknown as { unref(): void }).unref();
  const watch = (pid: number): void => {
    if (Number.isSafeInteger(pid) && pid > 1) watchdog.stdin?.write(`+${pid}\n`);
  };
  const forget = (pid: number): void => {
    watchdog.stdin?.write(`-${pid}\n`);
  };
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    GIT_AUTHOR_NAME: 'Warren Test',
    GIT_AUTHOR_EMAIL: 'test@warren.invalid',
    GIT_COMMITTER_NAME: 'Warren Test',
    GIT_COMMITTER_EMAIL: 'test@warren.invalid',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    NO_COLOR: '1',
  };
  delete env.FORCE_COLOR;

  const track = (name: string, child: ChildProcess): TrackedProcess => {
    if (child.pid === undefined) throw new Error(`${name} did not start`);
    const pid = child.pid;
    let stdout = '';
    let stderr = '';
    let pending = '';
    let lineWaiters: Array<{ match: (line: string) => boolean; resolve: (line: string) => void }> = [];
    let exit: ProcessExit | undefined;
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => {
      stdout = (stdout + text).slice(-maxKeptOutputCharacters);
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const matched = lineWaiters.filter((waiter) => waiter.match(line));
        lineWaiters = lineWaiters.filter((waiter) => !matched.includes(waiter));
        for (const waiter of matched) waiter.resolve(line);
      }
    });
    child.stderr?.on('data', (text: string) => {
      stderr = (stderr + text).slice(-maxKeptOutputCharacters);
    });
    const exited = new Promise<ProcessExit>((resolve) => {
      child.once('exit', (code, signal) => {
        exit = { code, signal };
        // why: the leader is reaped now, so its pid may be reused once the rest of its group is gone. Kill
        // what is left of the group while the id is surely still ours, then never signal the id again.
        signalOwnGroup('SIGKILL');
        forget(pid);
        resolve(exit);
      });
    });
    const signalOwnGroup = (signal: NodeJS.Signals): void => {
      try {
        process.kill(-pid, signal);
      } catch {
        // The group is gone already.
      }
    };
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const process_: TrackedProcess = {
      name,
      child,
      pid,
      stdout: () => stdout,
      stderr: () => stderr,
      exited,
      closed,
      isRunning: () => exit === undefined,
      waitForLine(match, timeoutMs = 30_000) {
        return new Promise<string>((resolve, reject) => {
          const done = stdout
            .split('\n')
            .slice(0, -1)
            .find((line) => match(line));
          if (done !== undefined) {
            resolve(done);
            return;
          }
          const timer = setTimeout(() => {
            reject(new Error(`${name}: no matching line within ${timeoutMs} ms\n${describe()}`));
          }, timeoutMs);
          lineWaiters.push({
            match,
            resolve: (line) => {
              clearTimeout(timer);
              resolve(line);
            },
          });
          void exited.then((ended) => {
            clearTimeout(timer);
            reject(
              new Error(`${name} exited (${ended.code ?? ended.signal}) before the line\n${describe()}`),
            );
          });
        });
      },
      signalGroup(signal) {
        // why: after the exit the id is no longer ours (see the 'exit' handler).
        if (exit === undefined) signalOwnGroup(signal);
      },
    };
    const describe = () => `--- stdout\n${stdout.slice(-4_000)}\n--- stderr\n${stderr.slice(-4_000)}`;
    tracked.push(process_);
    watch(pid);
    return process_;
  };

  const spawnNode: ProcessHarness['spawnNode'] = (name, script, args = [], options = {}) =>
    track(
      name,
      spawn(process.execPath, ['--import', 'tsx', script, ...args], {
        cwd: REPO_ROOT,
        env: { ...env, ...options.env },
        detached: true,
        stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
      }),
    );

  const spawnCli: ProcessHarness['spawnCli'] = (name, args, options = {}) =>
    track(
      name,
      spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'warren.js'), ...args], {
        cwd: REPO_ROOT,
        env: { ...env, ...options.env },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );

  return {
    root: sandbox.root,
    path: (...segments) => sandbox.path(...segments),
    sandbox,
    env,
    spawnNode,
    spawnCli,
    async runCli(args, options) {
      const cli = spawnCli(`warren ${args.slice(0, 2).join(' ')}`, args, options);
      const hang = setTimeout(() => cli.signalGroup('SIGKILL'), options?.timeoutMs ?? 30_000);
      const ended = await cli.exited;
      clearTimeout(hang);
      // why: 'exit' can come before the last output is read; 'close' means the pipes are drained.
      await cli.closed;
      return { ...ended, stdout: cli.stdout(), stderr: cli.stderr() };
    },
    async startHub(settings) {
      const hub = spawnNode('hub', 'test/support/hub-process.ts', [], {
        env: { WARREN_TEST_HUB: JSON.stringify(settings) },
      });
      const line = await hub.waitForLine((candidate) => candidate.startsWith('{'), 30_000);
      return { ...(JSON.parse(line) as HubProcessReady), process: hub };
    },
    startCliRunner({ hubUrl, token, workDir, name }) {
      return spawnCli(`runner ${name}`, [
        'runner',
        'start',
        '--hub',
        hubUrl,
        '--token',
        token,
        '--work-dir',
        workDir,
        '--name',
        name,
      ]);
    },
    adoptProcessGroup(pid) {
      // The leader's start time goes with the id, so a later process given the same pid is never signalled.
      adopted.push(describeProcessGroup(pid));
      watch(pid);
    },
    async cleanup() {
      for (const group of adopted) killRecordedProcessGroup(group);
      for (const child of tracked) child.signalGroup('SIGKILL');
      await Promise.all(tracked.filter((child) => child.isRunning()).map((child) => child.exited));
      // Everything is dead already; the watchdog must not signal process group ids that may be reused.
      watchdog.kill('SIGKILL');
      await sandbox.cleanup();
    },
  };
}

/**
 * What became of a process: `gone` (kill(pid, 0) throws ESRCH), `zombie` (dead, not yet reaped; in a
 * container whose PID 1 never reaps orphans it stays so) or `alive`.
 */
export function processState(pid: number): 'gone' | 'zombie' | 'alive' {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
    throw error;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z' ? 'zombie' : 'alive';
  } catch {
    return 'gone';
  }
}
