/**
 * Child processes for benches: TypeScript entry points run with `node --import tsx`, an IPC channel for
 * messages, and a registry that kills every child still alive when the bench process exits, however it
 * exits (normal end, error, Ctrl-C, a kill from `bench/run.ts`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root: children run there so that `--import tsx` resolves from our node_modules. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const children = new Set<ChildProcess>();
const exitHooks: Array<() => void> = [];
const interruptHooks: Array<() => Promise<void>> = [];
// why: cleanup that talks to a server (removing a Redis queue) takes milliseconds; 3 s bounds a stuck one.
const interruptHookTimeoutMs = 3_000;
let handlersInstalled = false;

/**
 * Runs `hook` synchronously when this process exits (after the children are killed). For cleanup that
 * must happen even when the bench dies half way, e.g. removing a temp directory with `rmSync`.
 */
export function onProcessExit(hook: () => void): void {
  installHandlers();
  exitHooks.push(hook);
}

/**
 * Registers async cleanup to run, bounded, before this process exits on a signal or through
 * {@link exitAfterInterrupt} (e.g. removing a Redis queue). Returns a function that unregisters it.
 */
export function onInterrupt(hook: () => Promise<void>): () => void {
  installHandlers();
  interruptHooks.push(hook);
  return () => {
    const index = interruptHooks.indexOf(hook);
    if (index >= 0) interruptHooks.splice(index, 1);
  };
}

/** Runs the interrupt hooks (at most {@link interruptHookTimeoutMs}), then exits with `code`. */
export function exitAfterInterrupt(code: number): void {
  const hooks = Promise.allSettled(interruptHooks.splice(0).map((hook) => hook()));
  const bound = new Promise((resolve) => setTimeout(resolve, interruptHookTimeoutMs));
  void Promise.race([hooks, bound]).finally(() => process.exit(code));
}

function killEveryChild(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    killEveryChild();
    for (const hook of exitHooks.splice(0)) {
      try {
        hook();
      } catch {
        // Best effort: the process is going away.
      }
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping every child process\n`);
      // why: 128 + signal number is the shell's convention for "killed by a signal".
      exitAfterInterrupt(signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 129);
    });
  }
}

/** Options of {@link spawnTypeScript}. */
export interface SpawnTypeScriptOptions {
  /** Arguments after the script. */
  args?: string[];
  /** Node options before `--import tsx`, e.g. `--cpu-prof`. */
  nodeOptions?: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts `node --import tsx <file>` with an IPC channel. The child's standard output goes to our standard
 * error, so that nothing a child prints can come after a bench's last-line JSON.
 */
export function spawnTypeScript(file: string, options: SpawnTypeScriptOptions = {}): ChildProcess {
  installHandlers();
  const child = spawn(
    process.execPath,
    [...(options.nodeOptions ?? []), '--import', 'tsx', file, ...(options.args ?? [])],
    { cwd: REPOSITORY_ROOT, stdio: ['ignore', 2, 2, 'ipc'], env: options.env ?? process.env },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Resolves with the first IPC message that `accept` returns a value for; rejects on exit or timeout. */
export function waitForMessage<Result>(
  child: ChildProcess,
  accept: (message: unknown) => Result | undefined,
  timeoutMs: number,
  what: string,
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const cleanUp = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: unknown): void => {
      const result = accept(message);
      if (result === undefined) return;
      cleanUp();
      resolve(result);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      cleanUp();
      reject(
        new Error(`${what}: the child process exited (code ${code}, signal ${signal}) before answering`),
      );
    };
    const timer = setTimeout(() => {
      cleanUp();
      reject(new Error(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Sends `message` over IPC and waits for the answer `accept` picks. */
export function request<Result>(
  child: ChildProcess,
  message: object,
  accept: (message: unknown) => Result | undefined,
  timeoutMs: number,
  what: string,
): Promise<Result> {
  const answer = waitForMessage(child, accept, timeoutMs, what);
  child.send(message);
  return answer;
}

/**
 * Asks a child to stop (an IPC `stop` message), waits up to `graceMs` for it to exit, then kills it.
 * Never throws.
 */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    if (child.connected) child.send({ type: 'stop' });
  } catch {
    // The channel is already closed; the kill below does the job.
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  if ((await Promise.race([exited, timedOut])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
  clearTimeout(timer);
}

/** Reads `{ type }` from an IPC message, or undefined when it has none. */
export function messageType(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const type = (message as { type?: unknown }).type;
  return typeof type === 'string' ? type : undefined;
}

/** Exits this child process when its parent goes away (the IPC channel closes), whatever the parent did. */
export function exitWithParent(beforeExit?: () => Promise<void>): void {
  process.on('disconnect', () => {
    const done = (): never => process.exit(0);
    if (!beforeExit) done();
    // why: a child must never outlive its bench; 2 s bounds any cleanup.
    setTimeout(done, 2_000).unref();
    beforeExit!().then(done, done);
  });
}
