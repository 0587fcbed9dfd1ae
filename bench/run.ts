/**
 * Runs the benches: every `bench/*.ts` but this one (helpers live in `bench/support/`), or the ones
 * named, each in its own process (`node --import tsx`), one after another, streaming their output. Ends
 * with a summary of each bench's last-line JSON.
 *
 * Usage: `npm run bench [-- [NAME ...] [FLAGS ...]]`, e.g. `npm run bench -- throughput --quick`.
 * Names come first; every argument from the first one starting with `-` is passed to each bench. When
 * running them all, pass only flags every bench knows (`--quick`).
 *
 * A bench declares what it needs in its header comment with `@requires NAME` (known: `redis`, checked at
 * `WARREN_BENCH_REDIS_URL`, default `redis://127.0.0.1:6379`); when that is missing the bench is skipped
 * with a line saying so. A bench may also skip itself: last line `{"bench":...,"skipped":"why"}`.
 *
 * Exit status: 0 when every bench ran (or was skipped); 1 when one crashed or did not end with a JSON line;
 * 2 for an unknown bench name; 130 after Ctrl-C. Never fails on figures.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printTable } from './support/figures.ts';

const benchDirectory = fileURLToPath(new URL('.', import.meta.url));
const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
// why: no bench should need an hour; past that, something hangs and its whole process group is killed.
const benchTimeoutMs = Number(process.env.WARREN_BENCH_TIMEOUT_MS ?? 60 * 60 * 1_000);
// why: long enough for a bench to stop its children and remove its temp files, short enough for Ctrl-C.
const stopGraceMs = 3_000;
// why: only the tail is needed to find the last line; the rest has already been streamed.
const keptOutputChars = 64 * 1024;

/** Set on Ctrl-C (or SIGTERM): the bench running is stopped and no further one starts. */
let interrupted = false;

type Outcome =
  | { status: 'ok'; seconds: number; figures: Record<string, unknown> }
  | { status: 'skipped'; seconds: number; reason: string }
  | { status: 'failed'; seconds: number; reason: string };

/** Checks of the prerequisites a bench can name with `@requires`; each answers undefined or why not. */
const prerequisites: Record<string, () => Promise<string | undefined>> = {
  async redis() {
    const url = new URL(process.env.WARREN_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379');
    const reachable = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: url.hostname, port: Number(url.port || 6379) });
      const finish = (answer: boolean): void => {
        socket.destroy();
        resolve(answer);
      };
      socket.setTimeout(1_000, () => finish(false));
      socket.once('connect', () => finish(true));
      socket.once('error', () => finish(false));
    });
    return reachable ? undefined : `Redis does not answer at ${url.href} (set WARREN_BENCH_REDIS_URL)`;
  },
};

async function listBenches(): Promise<string[]> {
  const entries = await readdir(benchDirectory, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && entry.name !== self)
    .map((entry) => entry.name.slice(0, -'.ts'.length))
    .sort();
}

/** Why the bench cannot run here, or undefined. */
async function missingPrerequisite(file: string): Promise<string | undefined> {
  const header = /^\s*\/\*\*[\s\S]*?\*\//.exec(await readFile(file, 'utf8'))?.[0] ?? '';
  for (const match of header.matchAll(/@requires\s+([a-z0-9-]+)/g)) {
    const name = match[1]!;
    const check = prerequisites[name];
    const reason = check ? await check() : `unknown prerequisite "${name}"`;
    if (reason) return reason;
  }
  return undefined;
}

/** The last non-empty line, parsed as a JSON object, or undefined. */
function lastJsonLine(output: string): Record<string, unknown> | undefined {
  const line = output.trimEnd().split('\n').at(-1)?.trim() ?? '';
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Runs one bench in its own process group, streaming its output; kills the group on timeout or Ctrl-C. */
function runBench(name: string, args: string[]): Promise<Outcome> {
  const startedAt = performance.now();
  const seconds = (): number => (performance.now() - startedAt) / 1_000;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(benchDirectory, `${name}.ts`), ...args], {
      cwd: repositoryRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
      // why: its own process group, so that a kill reaches the bench's own children (hub, runners) too.
      detached: true,
    });
    const signalGroup = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    };
    /** SIGTERM first, so that the bench can remove its temp files and stop its children; SIGKILL after. */
    const stopGroup = (): Promise<void> => {
      signalGroup('SIGTERM');
      return new Promise((resolve) => {
        setTimeout(() => {
          signalGroup('SIGKILL');
          resolve();
        }, stopGraceMs);
      });
    };
    const onSignal = (): void => {
      interrupted = true;
      void stopGroup();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.stderr.write(`\nbench ${name}: no end after ${benchTimeoutMs} ms; stopping it\n`);
      void stopGroup();
    }, benchTimeoutMs);
    let tail = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      process.stdout.write(chunk);
      tail = (tail + chunk).slice(-keptOutputChars);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // why: a bench that exits early can leave children behind in its group; make sure none survive.
      signalGroup('SIGKILL');
      const figures = lastJsonLine(tail);
      if (timedOut)
        resolve({ status: 'failed', seconds: seconds(), reason: `killed after ${benchTimeoutMs} ms` });
      else if (code !== 0)
        resolve({ status: 'failed', seconds: seconds(), reason: `exited with ${signal ?? `code ${code}`}` });
      else if (!figures)
        resolve({ status: 'failed', seconds: seconds(), reason: 'last line is not a JSON object' });
      else if (typeof figures.skipped === 'string')
        resolve({ status: 'skipped', seconds: seconds(), reason: figures.skipped });
      else resolve({ status: 'ok', seconds: seconds(), figures });
    });
  });
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const firstFlag = argv.findIndex((argument) => argument.startsWith('-'));
  const names = firstFlag < 0 ? argv : argv.slice(0, firstFlag);
  const passed = firstFlag < 0 ? [] : argv.slice(firstFlag);
  const available = await listBenches();
  const unknown = names.filter((name) => !available.includes(name.replace(/\.ts$/, '')));
  if (unknown.length > 0) {
    process.stderr.write(`unknown bench ${unknown.join(', ')}; available: ${available.join(', ')}\n`);
    return 2;
  }
  const selected = names.length > 0 ? names.map((name) => name.replace(/\.ts$/, '')) : available;

  const outcomes = new Map<string, Outcome>();
  for (const name of selected) {
    if (interrupted) break;
    console.log(`\n=== bench ${name}${passed.length > 0 ? ` ${passed.join(' ')}` : ''} ===`);
    const missing = await missingPrerequisite(join(benchDirectory, `${name}.ts`));
    if (missing) {
      console.log(`SKIPPED ${name}: ${missing}`);
      outcomes.set(name, { status: 'skipped', seconds: 0, reason: missing });
      continue;
    }
    const outcome = await runBench(name, passed);
    if (outcome.status !== 'ok') console.log(`${outcome.status.toUpperCase()} ${name}: ${outcome.reason}`);
    outcomes.set(name, outcome);
  }

  console.log('\n=== summary ===');
  printTable(
    ['bench', 'status', 'seconds', 'note'],
    [...outcomes].map(([name, outcome]) => [
      name,
      outcome.status,
      Math.round(outcome.seconds),
      outcome.status === 'ok' ? '' : outcome.reason,
    ]),
    [0, 1, 3],
  );
  console.log('');
  for (const [name, outcome] of outcomes) {
    if (outcome.status === 'ok') console.log(JSON.stringify(outcome.figures));
    else console.log(JSON.stringify({ bench: name, [outcome.status]: outcome.reason }));
  }
  if (interrupted) return 130;
  return [...outcomes.values()].some((outcome) => outcome.status === 'failed') ? 1 : 0;
}

process.exitCode = await main();
