import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { PROCESS_TAG_VARIABLE, createProcessTag, signalTaggedProcesses } from './tagged-processes.ts';

/** The stream a chunk of process output came from. */
export type ProcessStream = 'stdout' | 'stderr';

/** How to run one process. */
export interface RunProcessOptions {
  /** A string is run with `/bin/sh -c`; an array is `[program, ...arguments]`, run without a shell. */
  command: string | string[];
  /** Directory the process runs in. */
  cwd: string;
  /** The complete environment of the process. `process.env` is never inherited. */
  env: Record<string, string>;
  /** The process group is terminated after this many milliseconds. */
  timeoutMs: number;
  /** Terminates the process group when it fires. */
  abortSignal?: AbortSignal;
  /** Most bytes of combined output kept in the result; the tail is kept. */
  maxOutputBytes: number;
  /** Most bytes passed to `onOutput`; after that one notice is passed and forwarding stops. Default 1 MiB. */
  maxStreamedBytes?: number;
  /** Called with output as it arrives (decoded as UTF-8). */
  onOutput?: (stream: ProcessStream, text: string) => void;
  /** Told the id of the process group once it exists; the returned function is called when it is gone. */
  trackProcessGroup?: (processGroupId: number) => () => void;
  /** Written to the process's stdin, which is then closed; without it stdin is closed from the start. */
  stdin?: string;
  /** Wait between SIGTERM and SIGKILL on timeout or abort. Default 2 s. */
  killGracePeriodMs?: number;
  /**
   * Also stop processes that left the process group (started in a new session by the command, as some CLI
   * agents do with their shell commands): the run's environment gets a unique `WARREN_PROCESS_TAG`, and
   * whatever carries it is signalled with the group. Costs a scan of `/proc` per signal. Default false.
   */
  sweepEscapedProcesses?: boolean;
}

/** How a process ended. Failing commands are results, never throws. */
export interface RunProcessResult {
  /** Exit status; null when the process was killed by a signal or never started. */
  exitCode: number | null;
  /** The signal that killed the process, if any. */
  signal: NodeJS.Signals | null;
  /** True when the process ran past `timeoutMs` and was terminated. */
  timedOut: boolean;
  /** True when the abort signal fired and the process was terminated. */
  aborted: boolean;
  /** Combined stdout and stderr in arrival order, capped to the tail of `maxOutputBytes` bytes. */
  output: string;
  durationMs: number;
  /** Why the process could not be started; absent when it started. */
  error?: string;
}

// why: 2 s lets a well-behaved process flush and clean up after SIGTERM; anything slower is killed.
const defaultKillGracePeriodMs = 2_000;
// why: after the main process exits, its output pipes close at once unless a leftover background
// process still holds them; 500 ms is plenty for the last buffered bytes to arrive.
const closeGracePeriodMs = 500;
// why: the runner stores at most 1 MiB of log per attempt; streaming more than that is wasted work.
const defaultMaxStreamedBytes = 1024 * 1024;
// why: POSIX process groups; Windows has no `process.kill(-pid)`.
const killsProcessGroup = process.platform !== 'win32';

/**
 * Runs a command as the leader of its own process group and resolves when it has ended.
 *
 * On timeout or abort the whole group (the command and everything it started) gets SIGTERM, then
 * SIGKILL after a grace period. Processes the command leaves running in its group after it exits are
 * killed as well, so nothing outlives the step that started it. Never throws: a command that cannot be
 * started resolves with `error` set.
 */
export function runProcess(options: RunProcessOptions): Promise<RunProcessResult> {
  const startedAt = Date.now();
  const output = createTailBuffer(options.maxOutputBytes);
  const maxStreamedBytes = options.maxStreamedBytes ?? defaultMaxStreamedBytes;
  let streamedBytes = 0;
  let streamingStopped = false;

  const result = (fields: Partial<RunProcessResult>): RunProcessResult => ({
    exitCode: null,
    signal: null,
    timedOut: false,
    aborted: false,
    output: output.text(),
    durationMs: Date.now() - startedAt,
    ...fields,
  });

  if (options.abortSignal?.aborted) {
    return Promise.resolve(result({ aborted: true }));
  }

  const [program, ...programArguments] =
    typeof options.command === 'string' ? ['/bin/sh', '-c', options.command] : options.command;
  if (program === undefined || program === '') {
    return Promise.resolve(result({ error: 'no command given' }));
  }

  const tag = options.sweepEscapedProcesses ? createProcessTag() : undefined;
  const env = tag === undefined ? options.env : { ...options.env, [PROCESS_TAG_VARIABLE]: tag };

  return new Promise<RunProcessResult>((resolve) => {
    let child;
    try {
      child = spawn(program, programArguments, {
        cwd: options.cwd,
        env,
        stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        detached: killsProcessGroup,
        windowsHide: true,
      });
    } catch (error) {
      resolve(result({ error: describeSpawnError(error, program, options.cwd) }));
      return;
    }

    const untrack =
      killsProcessGroup && child.pid !== undefined ? options.trackProcessGroup?.(child.pid) : undefined;
    let timedOut = false;
    let aborted = false;
    let settled = false;
    let exited: { exitCode: number | null; signal: NodeJS.Signals | null } | undefined;
    let escalationTimer: NodeJS.Timeout | undefined;
    let closeTimer: NodeJS.Timeout | undefined;

    const signalGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        if (killsProcessGroup) process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // The group is already gone.
      }
      if (tag !== undefined) signalTaggedProcesses(tag, signal);
    };
    const terminate = () => {
      signalGroup('SIGTERM');
      escalationTimer ??= setTimeout(
        () => signalGroup('SIGKILL'),
        options.killGracePeriodMs ?? defaultKillGracePeriodMs,
      );
      // why: a process that ignores SIGTERM would otherwise keep the timer (and the event loop) alive.
      escalationTimer.unref();
    };

    const settle = (fields: Partial<RunProcessResult>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeoutTimer);
      clearTimeout(closeTimer);
      options.abortSignal?.removeEventListener('abort', onAbort);
      // Leftover processes in the group (background jobs of the command) die with the step.
      signalGroup('SIGKILL');
      untrack?.();
      clearTimeout(escalationTimer);
      for (const [stream, decoder] of decoders) forward(stream, decoder.end());
      resolve(result({ timedOut, aborted, ...exited, ...fields }));
    };

    const onAbort = () => {
      aborted = true;
      terminate();
    };
    const timeoutTimer = setTimeout(
      () => {
        timedOut = true;
        terminate();
      },
      Math.max(0, options.timeoutMs),
    );
    options.abortSignal?.addEventListener('abort', onAbort, { once: true });

    const decoders = new Map<ProcessStream, StringDecoder>([
      ['stdout', new StringDecoder('utf8')],
      ['stderr', new StringDecoder('utf8')],
    ]);
    const forward = (stream: ProcessStream, text: string) => {
      if (!options.onOutput || text === '' || streamingStopped) return;
      const bytes = Buffer.byteLength(text);
      if (streamedBytes + bytes > maxStreamedBytes) {
        streamingStopped = true;
        options.onOutput(
          stream,
          `\n[… output streaming stopped after ${streamedBytes} bytes; the tail is kept in the result …]\n`,
        );
        return;
      }
      streamedBytes += bytes;
      options.onOutput(stream, text);
    };
    const onData = (stream: ProcessStream) => (chunk: Buffer) => {
      output.push(chunk);
      forward(stream, decoders.get(stream)!.write(chunk));
    };
    if (options.stdin !== undefined && child.stdin) {
      // A process that exits without reading its input closes the pipe: that is its choice, not a failure.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.stdin);
    }
    child.stdout?.on('data', onData('stdout'));
    child.stderr?.on('data', onData('stderr'));

    child.on('error', (error) => {
      // 'error' without a pid means the process never started (ENOENT, EACCES, bad cwd).
      if (child.pid === undefined) settle({ error: describeSpawnError(error, program, options.cwd) });
    });
    child.on('exit', (exitCode, signal) => {
      exited = { exitCode, signal };
      // A background process that inherited the pipes keeps them open; do not wait for it forever.
      closeTimer = setTimeout(() => settle({}), closeGracePeriodMs);
    });
    child.on('close', (exitCode, signal) => {
      exited ??= { exitCode, signal };
      settle({});
    });
  });
}

function describeSpawnError(error: unknown, program: string, cwd: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ENOENT') return `could not start "${program}" in ${cwd}: no such program or directory`;
  return `could not start "${program}" in ${cwd}: ${message}`;
}

/** Keeps the last `maxBytes` bytes pushed into it. */
function createTailBuffer(maxBytes: number) {
  const chunks: Buffer[] = [];
  let keptBytes = 0;
  let droppedBytes = 0;
  return {
    push(chunk: Buffer) {
      chunks.push(chunk);
      keptBytes += chunk.length;
      while (keptBytes > maxBytes && chunks.length > 0) {
        const first = chunks[0]!;
        const excess = keptBytes - maxBytes;
        if (first.length <= excess) {
          chunks.shift();
          keptBytes -= first.length;
          droppedBytes += first.length;
        } else {
          chunks[0] = first.subarray(excess);
          keptBytes -= excess;
          droppedBytes += excess;
        }
      }
    },
    text(): string {
      let buffer = Buffer.concat(chunks);
      if (droppedBytes === 0) return buffer.toString('utf8');
      // Skip UTF-8 continuation bytes so the cut does not start in the middle of a character.
      let start = 0;
      while (start < buffer.length && start < 4 && (buffer[start]! & 0xc0) === 0x80) start += 1;
      buffer = buffer.subarray(start);
      return `[… ${droppedBytes + start} bytes truncated …]\n${buffer.toString('utf8')}`;
    },
  };
}
