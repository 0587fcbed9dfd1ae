/**
 * An MCP client transport over the stdin/stdout of a child process, in place of the SDK's
 * `StdioClientTransport`, for three reasons:
 *
 * - Environment: the SDK spawns with `{ ...getDefaultEnvironment(), ...env }`, which copies HOME, LOGNAME,
 *   PATH, SHELL, TERM and USER from the runner's own `process.env` under the environment it is given.
 *   Here the child's environment is exactly `env`, nothing added.
 * - Process group: the SDK signals only the process it started, so whatever a server starts (an `npx`
 *   wrapper's real server, a language server) outlives it. Here the child leads its own process group,
 *   the group is recorded with `trackProcessGroup`, and closing kills the whole group.
 * - stderr: kept as a capped tail for error messages instead of inherited into the runner's stderr.
 *
 * Messages are framed as the SDK frames them (newline-delimited JSON-RPC, its `ReadBuffer`).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** How to start the server process. */
export interface ChildProcessTransportOptions {
  /** Program to run, without a shell; resolved against `env.PATH`. */
  command: string;
  args: readonly string[];
  cwd: string;
  /** The complete environment of the process; nothing is added to it. */
  env: Record<string, string>;
  /** Told the process group id once the process exists; the returned function is called when it is gone. */
  trackProcessGroup?: (processGroupId: number) => () => void;
  /** Most characters of stderr kept (the tail). Default 8 KiB. */
  maxStderrCharacters?: number;
}

/** How the server process ended. */
export interface ChildProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** An MCP transport to a child process, with what the caller needs for diagnostics. */
export interface ChildProcessTransport extends Transport {
  /** The process id (and process group id), once started. */
  readonly pid: number | undefined;
  /** How the process ended; undefined while it runs or before it started. */
  readonly exit: ChildProcessExit | undefined;
  /** The last characters the process wrote to stderr. */
  stderrTail(): string;
}

// why: the MCP stdio shutdown sequence (close stdin, wait, SIGTERM, wait, SIGKILL); 2 s each lets a
// well-behaved server flush and exit by itself, as the SDK's own transport waits.
const stdinCloseGraceMs = 2_000;
const terminateGraceMs = 2_000;
// why: after SIGKILL of the group the pipes close at once unless a process outside the group holds them;
// do not wait for such a process forever.
const pipeCloseGraceMs = 1_000;
// why: enough stderr to quote a stack trace or a usage message in an error, small enough for a log line.
const defaultMaxStderrCharacters = 8 * 1024;
// why: POSIX process groups; Windows has no `process.kill(-pid)`.
const usesProcessGroup = process.platform !== 'win32';

/**
 * Creates a transport that starts `command` when the MCP client connects and stops its process group when
 * the client closes. `start` rejects when the process cannot be started (no such program, bad `cwd`).
 */
export function createChildProcessTransport(options: ChildProcessTransportOptions): ChildProcessTransport {
  const maxStderrCharacters = options.maxStderrCharacters ?? defaultMaxStderrCharacters;
  const readBuffer = new ReadBuffer();
  const stderrDecoder = new StringDecoder('utf8');
  let stderr = '';
  let child: ChildProcessWithoutNullStreams | undefined;
  let exit: ChildProcessExit | undefined;
  let closedNotified = false;
  let untrack: (() => void) | undefined;
  let closing: Promise<void> | undefined;
  let exited: Promise<void> = Promise.resolve();
  let pipesClosed: Promise<void> = Promise.resolve();

  const appendStderr = (text: string) => {
    stderr = (stderr + text).slice(-maxStderrCharacters);
  };

  const signalGroup = (signal: NodeJS.Signals) => {
    const pid = child?.pid;
    if (pid === undefined) return;
    try {
      if (usesProcessGroup) process.kill(-pid, signal);
      else child?.kill(signal);
    } catch {
      // The group is already gone.
    }
  };

  const notifyClosed = () => {
    if (closedNotified) return;
    closedNotified = true;
    untrack?.();
    untrack = undefined;
    transport.onclose?.();
  };

  const transport: ChildProcessTransport = {
    get pid() {
      return child?.pid;
    },
    get exit() {
      return exit;
    },
    stderrTail: () => stderr.trim(),

    start() {
      if (child) return Promise.reject(new Error('the MCP server process was already started'));
      return new Promise<void>((resolve, reject) => {
        let spawned: ChildProcessWithoutNullStreams;
        try {
          spawned = spawn(options.command, [...options.args], {
            cwd: options.cwd,
            env: options.env,
            stdio: ['pipe', 'pipe', 'pipe'],
            detached: usesProcessGroup,
            shell: false,
            windowsHide: true,
          });
        } catch (error) {
          reject(describeSpawnError(error, options));
          return;
        }
        child = spawned;
        exited = new Promise((resolveExited) => spawned.once('exit', () => resolveExited()));
        pipesClosed = new Promise((resolveClosed) => spawned.once('close', () => resolveClosed()));
        let started = false;

        spawned.once('spawn', () => {
          started = true;
          if (usesProcessGroup && spawned.pid !== undefined)
            untrack = options.trackProcessGroup?.(spawned.pid);
          resolve();
        });
        spawned.on('error', (error) => {
          if (!started) {
            exit ??= { code: null, signal: null };
            reject(describeSpawnError(error, options));
            notifyClosed();
          } else {
            transport.onerror?.(error);
          }
        });
        spawned.on('exit', (code, signal) => {
          exit = { code, signal };
          // What the server left running in its group dies with it.
          signalGroup('SIGKILL');
        });
        spawned.on('close', () => {
          appendStderr(stderrDecoder.end());
          notifyClosed();
        });
        spawned.stdout.on('data', (chunk: Buffer) => {
          try {
            readBuffer.append(chunk);
          } catch (error) {
            // One message past the SDK's 10 MB buffer: the stream cannot be resynchronised; stop the server.
            transport.onerror?.(error instanceof Error ? error : new Error(String(error)));
            void transport.close();
            return;
          }
          for (;;) {
            let message: JSONRPCMessage | null;
            try {
              message = readBuffer.readMessage();
            } catch (error) {
              // A line that is not JSON-RPC (a server logging to stdout) is reported and skipped.
              transport.onerror?.(error instanceof Error ? error : new Error(String(error)));
              continue;
            }
            if (message === null) break;
            transport.onmessage?.(message);
          }
        });
        spawned.stderr.on('data', (chunk: Buffer) => appendStderr(stderrDecoder.write(chunk)));
        // EPIPE when the server has exited; the exit itself is reported through `close`.
        spawned.stdin.on('error', (error) => transport.onerror?.(error));
        spawned.stdout.on('error', (error) => transport.onerror?.(error));
      });
    },

    send(message) {
      const stdin = child?.stdin;
      if (!stdin || exit || closing || !stdin.writable) {
        return Promise.reject(new Error('not connected: the MCP server process is not running'));
      }
      return new Promise<void>((resolve, reject) => {
        const written = stdin.write(serializeMessage(message), (error) => {
          if (error) reject(error);
        });
        if (written) resolve();
        else stdin.once('drain', () => resolve());
      });
    },

    close() {
      closing ??= (async () => {
        if (child && exit === undefined) {
          child.stdin.end();
          if (!(await settlesWithin(exited, stdinCloseGraceMs))) {
            signalGroup('SIGTERM');
            if (!(await settlesWithin(exited, terminateGraceMs))) signalGroup('SIGKILL');
          }
          await settlesWithin(exited, terminateGraceMs);
        }
        // Leftovers of the group, also when the leader had already exited.
        signalGroup('SIGKILL');
        if (child && !(await settlesWithin(pipesClosed, pipeCloseGraceMs))) {
          child.stdout.destroy();
          child.stderr.destroy();
        }
        readBuffer.clear();
        notifyClosed();
      })();
      return closing;
    },
  };
  return transport;
}

/** Resolves true when `promise` settles within `ms`, false otherwise. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function describeSpawnError(error: unknown, options: ChildProcessTransportOptions): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  const reason = code === 'ENOENT' ? 'no such program, or no such directory' : message;
  return new Error(`could not start "${options.command}" in ${options.cwd}: ${reason}`, { cause: error });
}
