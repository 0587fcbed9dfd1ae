/**
 * The hub's agent definitions: read from a source (directory or Git), each served from cache until its own
 * `cache_ttl` has passed since it was loaded, then re-read on the next use. A bad file is rejected with its
 * file, field and reason while the last good version of that definition stays in use; a source that
 * cannot be read keeps the last good set in use and says why. Skills are read only when asked.
 */
import type { AgentDefinition, AgentDefinitionProblem } from '../../core/agent-definition.ts';
import { DEFAULT_CACHE_TTL_SECONDS } from '../../core/agent-definition.ts';
import type { AgentSkill } from '../../core/agent-skill.ts';
import type { AgentDefinitionEntry, AgentSourceInfo, AgentSourceStatus } from '../../core/api.ts';
import { UnavailableError } from '../../core/errors.ts';
import { silentLogger, type Logger } from '../../core/logger.ts';
import type { AgentSource, AgentSourceTree } from './agent-source.ts';
import { listSkillNames, loadSkill } from './load-skill.ts';
import { readAgentDefinitions } from './read-agent-definitions.ts';

/** Options of {@link createAgentDefinitionRegistry}. */
export interface AgentDefinitionRegistryOptions {
  source: AgentSource;
  /** Current time in epoch ms; default `Date.now`. Cache lifetimes are measured on it. */
  clock?: () => number;
  logger?: Logger;
  /**
   * How long `list` and `get` wait for a refresh they started before answering from the cache (the refresh
   * goes on). Only once something is cached; the first load is always waited for. Default 5 s.
   */
  refreshWaitMs?: number;
  /** After a failed read of the source, the next one is tried no sooner than this; default 30 s. */
  retryDelayMs?: number;
}

/** What one refresh did. */
export interface AgentRefreshResult {
  /** False when the source could not be read (the last good definitions stay in use). */
  ok: boolean;
  /** The commit the definitions in use come from (Git sources). */
  revision?: string;
  /** How many definitions are in use now. */
  definitions: number;
  /** The problems now (rejected files, and the failed read when `ok` is false). */
  problems: AgentDefinitionProblem[];
  /** Why the source could not be read. */
  error?: string;
}

/** What the scheduler needs of a definition, without waiting: its executor and its concurrency. */
export interface AgentDefinitionLimits {
  /** The executor the agent runs on (`type` in the file). */
  type: string;
  /** Tasks of this agent active at once (`max_active` in the file). */
  maxActive: number;
}

/** The agent definitions of one hub. Safe to use concurrently; at most one refresh runs at a time. */
export interface AgentDefinitionRegistry {
  /** Where definitions come from. */
  readonly source: AgentSourceInfo;
  /** Every definition in use, by name; re-reads the source first when any has expired. */
  list(): Promise<AgentDefinitionEntry[]>;
  /** The definition `name`, or undefined; re-reads the source first when it has expired. */
  get(name: string): Promise<AgentDefinitionEntry | undefined>;
  /**
   * The cached definition's executor and `max_active`, at once and without I/O, for the scheduler's claim
   * path; undefined when no definition of that name is loaded. When it has expired, a refresh is started
   * in the background and the cached version answers meanwhile.
   */
  limitsOf(name: string): AgentDefinitionLimits | undefined;
  /**
   * The cached definition `name`, at once and without I/O, as {@link AgentDefinitionRegistry.limitsOf}
   * (a refresh is started in the background when it has expired); for the claim path, which must not wait
   * for a fetch. Undefined when no definition of that name is loaded.
   */
  cached(name: string): AgentDefinitionEntry | undefined;
  /** The rejected files (file, field, reason) of the last read, and a failed read of the source. */
  problems(): AgentDefinitionProblem[];
  /** The source, the commit in use, when it was read and when it is read next. */
  status(): AgentSourceStatus;
  /**
   * Reads the source now and replaces every definition (not only expired ones). Never throws: a failure
   * is in the result and in `problems()`. Joins a refresh already running.
   */
  refresh(): Promise<AgentRefreshResult>;
  /** The skill folders in the source, by name. */
  skillNames(): Promise<string[]>;
  /**
   * Reads skill `name` (`skills/<name>/`) from the tree the definitions in use were read from. Throws
   * SkillNotFoundError for an unknown skill, InvalidInputError naming the file for a bad one.
   */
  loadSkill(name: string): Promise<AgentSkill>;
}

// why: a refresh of a local or nearby repository takes milliseconds; five seconds covers a slow fetch
// without making an API call wait out a dead network (a fetch is given a minute).
const defaultRefreshWaitMs = 5_000;
// why: an unreachable repository is tried again twice a minute, not on every use.
const defaultRetryDelayMs = 30_000;

interface Entry {
  definition: AgentDefinition;
  file: string;
  revision: string | undefined;
  loadedAtMs: number;
  expiresAtMs: number;
  replacementRejected: boolean;
}

/** Creates a registry over `source`. Nothing is read until the first use or `refresh()`. */
export function createAgentDefinitionRegistry(
  options: AgentDefinitionRegistryOptions,
): AgentDefinitionRegistry {
  const { source } = options;
  const clock = options.clock ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const refreshWaitMs = options.refreshWaitMs ?? defaultRefreshWaitMs;
  const retryDelayMs = options.retryDelayMs ?? defaultRetryDelayMs;

  let entries = new Map<string, Entry>();
  let fileProblems: AgentDefinitionProblem[] = [];
  let tree: AgentSourceTree | undefined;
  let attemptedAtMs: number | undefined;
  let refreshedAtMs: number | undefined;
  let lastError: { atMs: number; message: string } | undefined;
  let inFlight: Promise<AgentRefreshResult> | undefined;
  let loggedProblems = '';
  // Skills and skill names of an immutable (Git) tree, read once per tree.
  let skillCache = new Map<string, Promise<AgentSkill>>();
  let skillNamesCache: Promise<string[]> | undefined;

  const mayRetry = (now: number): boolean => lastError === undefined || now >= lastError.atMs + retryDelayMs;

  /** When the registry as a whole is due for a read: its earliest expiry, or the retry time after a failure. */
  const dueAtMs = (): number => {
    if (attemptedAtMs === undefined) return Number.NEGATIVE_INFINITY;
    if (lastError !== undefined) return lastError.atMs + retryDelayMs;
    if (entries.size === 0) return (refreshedAtMs ?? attemptedAtMs) + DEFAULT_CACHE_TTL_SECONDS * 1_000;
    return Math.min(...[...entries.values()].map((entry) => entry.expiresAtMs));
  };

  const problems = (): AgentDefinitionProblem[] => {
    if (lastError === undefined) return [...fileProblems];
    const serving =
      entries.size > 0
        ? `serving the last good definitions${tree?.revision ? ` (commit ${tree.revision.slice(0, 12)})` : ''}`
        : 'no definitions are loaded';
    return [
      ...fileProblems,
      { file: source.label, field: '', reason: `could not be read: ${lastError.message}; ${serving}` },
    ];
  };

  const startRefresh = (force: boolean): Promise<AgentRefreshResult> => {
    inFlight ??= runRefresh(force).finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  async function runRefresh(force: boolean): Promise<AgentRefreshResult> {
    attemptedAtMs = clock();
    let opened: AgentSourceTree;
    let read: Awaited<ReturnType<typeof readAgentDefinitions>>;
    try {
      opened = await source.open();
      read = await readAgentDefinitions(opened);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      lastError = { atMs: clock(), message };
      logger.warn(
        { source: source.label, error: message, definitions: entries.size },
        'could not read agent definitions; the last good ones stay in use',
      );
      return {
        ok: false,
        ...revisionField(),
        definitions: entries.size,
        problems: problems(),
        error: message,
      };
    }

    const now = clock();
    const next = new Map<string, Entry>();
    for (const { file, definition } of read.definitions) {
      const existing = entries.get(definition.name);
      if (existing !== undefined && !force && existing.expiresAtMs > now) {
        // Still fresh: served from cache until its own cache_ttl has passed.
        next.set(definition.name, { ...existing, replacementRejected: false });
        continue;
      }
      next.set(definition.name, {
        definition,
        file,
        revision: opened.revision,
        loadedAtMs: now,
        expiresAtMs: now + definition.cache_ttl * 1_000,
        replacementRejected: false,
      });
    }
    const presentFiles = new Set(read.files);
    for (const [name, existing] of entries) {
      // A removed file removes its definition; a rejected one keeps its last good version in use.
      if (next.has(name) || !presentFiles.has(existing.file)) continue;
      next.set(name, {
        ...existing,
        replacementRejected: true,
        expiresAtMs:
          existing.expiresAtMs > now ? existing.expiresAtMs : now + existing.definition.cache_ttl * 1_000,
      });
    }

    entries = next;
    fileProblems = read.problems;
    if (tree === undefined || opened.revision === undefined || tree.revision !== opened.revision) {
      skillCache = new Map();
      skillNamesCache = undefined;
    }
    tree = opened;
    refreshedAtMs = now;
    lastError = undefined;
    logRead(read.problems);
    return { ok: true, ...revisionField(), definitions: entries.size, problems: problems() };
  }

  function logRead(current: AgentDefinitionProblem[]): void {
    // why: with a short cache_ttl the same rejected file is read again and again; say it once per change.
    const fingerprint = JSON.stringify(current);
    if (fingerprint === loggedProblems) return;
    loggedProblems = fingerprint;
    logger.info(
      { source: source.label, revision: tree?.revision, definitions: entries.size, problems: current.length },
      'read agent definitions',
    );
    for (const problem of current) {
      logger.warn({ source: source.label, ...problem }, 'rejected agent definition file');
    }
  }

  function revisionField(): { revision?: string } {
    return tree?.revision === undefined ? {} : { revision: tree.revision };
  }

  /** Runs a refresh when due; waits for it, but once something is cached no longer than `refreshWaitMs`. */
  async function refreshWhen(due: boolean): Promise<void> {
    if (!due) return;
    const nothingCached = refreshedAtMs === undefined && entries.size === 0;
    const running = startRefresh(false);
    if (nothingCached || refreshWaitMs === Number.POSITIVE_INFINITY) {
      await running;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, refreshWaitMs);
      timer.unref();
    });
    try {
      await Promise.race([running, waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function ensureTree(): Promise<AgentSourceTree> {
    if (attemptedAtMs === undefined) await startRefresh(false);
    else if (inFlight !== undefined && tree === undefined) await inFlight;
    if (tree === undefined) {
      throw new UnavailableError(
        `agent definitions from ${source.label} could not be read${lastError ? `: ${lastError.message}` : ''}`,
      );
    }
    return tree;
  }

  /** The cached entry `name`, starting a background refresh when it (or the registry) is due. */
  function cachedEntry(name: string): Entry | undefined {
    const now = clock();
    const entry = entries.get(name);
    const due = entry === undefined ? now >= dueAtMs() : entry.expiresAtMs <= now && mayRetry(now);
    if (due) {
      // A refresh records its own failures; anything else thrown is a bug worth a log line, not a crash.
      startRefresh(false).catch((error: unknown) => {
        logger.error({ source: source.label, err: error }, 'refreshing agent definitions failed');
      });
    }
    return entry;
  }

  const toEntry = (entry: Entry): AgentDefinitionEntry => ({
    definition: entry.definition,
    file: entry.file,
    ...(entry.revision === undefined ? {} : { revision: entry.revision }),
    loadedAt: new Date(entry.loadedAtMs).toISOString(),
    expiresAt: new Date(entry.expiresAtMs).toISOString(),
    replacementRejected: entry.replacementRejected,
  });

  const registry: AgentDefinitionRegistry = {
    source: source.info,
    async list() {
      await refreshWhen(clock() >= dueAtMs());
      return [...entries.values()]
        .sort((a, b) => (a.definition.name < b.definition.name ? -1 : 1))
        .map(toEntry);
    },
    async get(name) {
      const now = clock();
      const cached = entries.get(name);
      await refreshWhen(cached === undefined ? now >= dueAtMs() : cached.expiresAtMs <= now && mayRetry(now));
      const entry = entries.get(name);
      return entry === undefined ? undefined : toEntry(entry);
    },
    limitsOf(name) {
      const entry = cachedEntry(name);
      return entry === undefined
        ? undefined
        : { type: entry.definition.type, maxActive: entry.definition.max_active };
    },
    cached(name) {
      const entry = cachedEntry(name);
      return entry === undefined ? undefined : toEntry(entry);
    },
    problems,
    status() {
      const status: AgentSourceStatus = { source: source.info, ...revisionField() };
      if (refreshedAtMs !== undefined) status.refreshedAt = new Date(refreshedAtMs).toISOString();
      const due = dueAtMs();
      if (Number.isFinite(due)) status.nextRefreshAt = new Date(due).toISOString();
      if (lastError !== undefined) {
        status.lastError = { at: new Date(lastError.atMs).toISOString(), message: lastError.message };
      }
      return status;
    },
    refresh: () => startRefresh(true),
    async skillNames() {
      const current = await ensureTree();
      if (current.revision === undefined) return listSkillNames(current);
      skillNamesCache ??= listSkillNames(current).catch((error: unknown) => {
        skillNamesCache = undefined;
        throw error;
      });
      return skillNamesCache;
    },
    async loadSkill(name) {
      const current = await ensureTree();
      if (current.revision === undefined) return loadSkill(current, name);
      const cache = skillCache;
      let loading = cache.get(name);
      if (loading === undefined) {
        loading = loadSkill(current, name);
        cache.set(name, loading);
        // A failure is not kept: a Git error may pass; a missing skill costs one cheap listing to ask again.
        void loading.catch(() => cache.delete(name));
      }
      return loading;
    },
  };
  return registry;
}
