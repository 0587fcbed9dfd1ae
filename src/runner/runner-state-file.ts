import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProcessGroupRecord } from './process-groups.ts';

/** An attempt this runner holds a lease on; written before its worktree is created. */
export interface HeldAttemptRecord {
  attemptId: string;
  taskId: string;
  /** The lease token, so that a restarted runner can report the attempt as failed. */
  leaseToken: string;
  worktreePath: string;
  /** The mirror the worktree belongs to; undefined until the mirror is ready. */
  mirrorPath?: string;
  sourceRepo: string;
  branch?: string;
  /** Process groups the attempt's executor and checks have running now. */
  processGroups?: ProcessGroupRecord[];
}

/** A failed attempt's worktree kept for inspection until `keepUntil`. */
export interface KeptWorktreeRecord {
  attemptId: string;
  taskId: string;
  worktreePath: string;
  mirrorPath: string;
  sourceRepo: string;
  branch: string;
  /** ISO time after which the worktree is removed. */
  keepUntil: string;
}

/** What the runner remembers across restarts. */
export interface RunnerState {
  version: 1;
  held: HeldAttemptRecord[];
  kept: KeptWorktreeRecord[];
}

/** The runner's `state.json`: read once at start, then updated in memory and written atomically. */
export interface RunnerStateFile {
  /** Reads the file; a missing file is an empty state, an unreadable one is moved aside (returned in `damaged`). */
  load(): Promise<{ state: RunnerState; damaged?: string }>;
  /** A copy of the current state. */
  current(): RunnerState;
  /** Applies `change` to the state and writes it; writes are serialized, each one complete (temp file + rename). */
  update(change: (state: RunnerState) => void): Promise<void>;
}

/** Creates the state file accessor for `filePath` (written with mode 0600: it holds lease tokens). */
export function createRunnerStateFile(filePath: string): RunnerStateFile {
  let state: RunnerState = emptyState();
  let writing: Promise<void> = Promise.resolve();

  const write = async (): Promise<void> => {
    await mkdir(path.dirname(filePath), { recursive: true });
    const temporaryPath = `${filePath}.${randomUUID().slice(0, 8)}.tmp`;
    try {
      await writeFile(temporaryPath, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
      await rename(temporaryPath, filePath);
    } finally {
      await rm(temporaryPath, { force: true });
    }
  };

  return {
    async load() {
      let text: string;
      try {
        text = await readFile(filePath, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          state = emptyState();
          return { state: structuredClone(state) };
        }
        throw error;
      }
      try {
        state = parseState(JSON.parse(text));
        return { state: structuredClone(state) };
      } catch {
        const damaged = `${filePath}.damaged-${Date.now()}`;
        await rename(filePath, damaged);
        state = emptyState();
        return { state: structuredClone(state), damaged };
      }
    },
    current: () => structuredClone(state),
    update(change) {
      change(state);
      // why: chained so that two attempts finishing at once cannot interleave their writes.
      const next = writing.then(write, write);
      writing = next.catch(() => undefined);
      return next;
    },
  };
}

function emptyState(): RunnerState {
  return { version: 1, held: [], kept: [] };
}

function parseState(value: unknown): RunnerState {
  if (typeof value !== 'object' || value === null) throw new Error('not an object');
  const candidate = value as Partial<RunnerState>;
  if (candidate.version !== 1 || !Array.isArray(candidate.held) || !Array.isArray(candidate.kept)) {
    throw new Error('not a version 1 runner state');
  }
  const isString = (field: unknown): field is string => typeof field === 'string' && field !== '';
  return {
    version: 1,
    held: candidate.held.filter(
      (record) =>
        isString(record.attemptId) &&
        isString(record.leaseToken) &&
        isString(record.worktreePath) &&
        isString(record.sourceRepo),
    ),
    kept: candidate.kept.filter(
      (record) => isString(record.worktreePath) && isString(record.mirrorPath) && isString(record.keepUntil),
    ),
  };
}
