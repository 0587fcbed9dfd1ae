/**
 * The IPC protocol between the throughput bench and its worker processes (Warren no-op runners and
 * BullMQ workers speak the same one, so the bench measures both the same way).
 *
 * Bench → worker: `{ type: 'report' }` (send and forget what you recorded), `{ type: 'stop' }`.
 * Worker → bench: `ready`, then `progress` every few ms while the count changes, `report` when asked.
 */

/** The worker is connected (registered) and is waiting for work. */
export interface WorkerReady {
  type: 'ready';
}

/** Cumulative counts since the worker started. */
export interface WorkerProgress {
  type: 'progress';
  /** Tasks completed (the completion was acknowledged). */
  completed: number;
  /** Calls that failed (claim or complete); a correct run has none. */
  errors: number;
}

/**
 * What the worker recorded since the last report, as parallel arrays (one entry per claimed task).
 * Times are wall-clock ms (`performance.timeOrigin + performance.now()`).
 */
export interface WorkerReport {
  type: 'report';
  ids: string[];
  /** When the worker received the task (the claim answer arrived; BullMQ: the processor was called). */
  claimedAt: number[];
  /** When the completion was acknowledged; NaN when it failed. */
  completedAt: number[];
  /** CPU time this process used since it started, in µs (user + system). */
  cpuMicros: number;
  /**
   * Requests answered with claims (with work or empty; a completion that claimed counts) since the last
   * report; always 0 for BullMQ workers.
   */
  claimRequests: number;
  /** Hub requests sent (claims and completions) since the last report; always 0 for BullMQ workers. */
  requests: number;
  /** The first few error messages since the last report. */
  errors: string[];
}

/**
 * `progress` is sent every this many ms while the counts change. why: often enough to end a phase promptly;
 * 20 processes waking more often would take CPU from what is measured. Figures use recorded times, not this.
 */
export const PROGRESS_INTERVAL_MS = 25;

/** Records what a worker saw; shared by both kinds of worker. */
export function createWorkerRecorder() {
  let ids: string[] = [];
  let claimedAt: number[] = [];
  let completedAt: number[] = [];
  let errors: string[] = [];
  const indexById = new Map<string, number>();
  let completed = 0;
  let errorCount = 0;
  let claimRequests = 0;
  let requests = 0;
  let lastSent = -1;

  const timer = setInterval(() => {
    if (completed + errorCount === lastSent) return;
    lastSent = completed + errorCount;
    const message: WorkerProgress = { type: 'progress', completed, errors: errorCount };
    process.send?.(message);
  }, PROGRESS_INTERVAL_MS);
  timer.unref();

  return {
    /** A request that claims was answered. */
    claimAnswered(): void {
      claimRequests += 1;
    },
    /** A request to the hub was sent. */
    requestSent(): void {
      requests += 1;
    },
    claimed(id: string, at: number): void {
      indexById.set(id, ids.length);
      ids.push(id);
      claimedAt.push(at);
      completedAt.push(Number.NaN);
    },
    completed(id: string, at: number): void {
      const index = indexById.get(id);
      if (index !== undefined) completedAt[index] = at;
      completed += 1;
    },
    failed(error: unknown): void {
      errorCount += 1;
      // why: a handful of messages says what went wrong; thousands would only flood the bench's output.
      if (errors.length < 5) errors.push(error instanceof Error ? error.message : String(error));
    },
    report(): WorkerReport {
      const usage = process.cpuUsage();
      const report: WorkerReport = {
        type: 'report',
        ids,
        claimedAt,
        completedAt,
        cpuMicros: usage.user + usage.system,
        claimRequests,
        requests,
        errors,
      };
      claimRequests = 0;
      requests = 0;
      ids = [];
      claimedAt = [];
      completedAt = [];
      errors = [];
      indexById.clear();
      return report;
    },
  };
}
