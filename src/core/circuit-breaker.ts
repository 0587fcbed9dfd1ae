/**
 * Circuit breakers per agent and per runner, as pure transitions over a plain, JSON-serialisable record.
 *
 * closed ──(failureThreshold failures in a row)──▶ open ──(openUntil passes)──▶ half-open (admits one probe)
 * half-open ──(probe succeeds)──▶ closed, backoff back to base
 * half-open ──(probe fails)──▶ open again, backoff doubled up to maxBackoffMs
 * half-open ──(probe cancelled: breakerAfterProbeLost)──▶ half-open without a probe, backoff unchanged
 *
 * A scheduler reserves the probe before it claims the task (`breakerAfterProbeReserved`, a compare-and-set in
 * the store), so two hubs deciding at once cannot both send one; the claim then turns the reservation into
 * the attempt (`breakerAfterProbeClaimed`), or it is released (`breakerAfterProbeLost`). A reservation that is
 * neither (its hub died in between) lapses at `probeReservedUntil`.
 *
 * Only the probe's outcome moves an open or half-open breaker. Outcomes of other attempts ("stragglers" that
 * started before the breaker opened) change nothing but the failure count, which is kept for information.
 * A lost attempt (crashed runner, expired lease) is a failure: report it with `breakerAfterOutcome`. Only a
 * cancellation, which says nothing about the work, goes through `breakerAfterProbeLost`.
 */
import { z } from 'zod';

/**
 * Breaker states.
 * - `closed`: work flows; failures are counted.
 * - `open`: nothing is admitted until `openUntil`.
 * - `half-open`: the backoff has passed; one probe attempt may run, and its outcome closes or reopens it.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** When a breaker opens and for how long. */
export interface BreakerPolicy {
  /** Consecutive failures that open a closed breaker. */
  failureThreshold: number;
  /** How long the first opening lasts. */
  baseBackoffMs: number;
  /** Upper bound of an opening; each failed probe doubles the last one up to this. */
  maxBackoffMs: number;
}

/**
 * The default policy. why: three failures in a row is rarely chance; 30 s is long enough for a restarted
 * dependency to come back, and 10 minutes caps the wait so a mended runner or agent is retried soon enough
 * (30 s, 1 m, 2 m, 4 m, 8 m, 10 m ...).
 */
export const DEFAULT_BREAKER_POLICY: BreakerPolicy = {
  failureThreshold: 3,
  baseBackoffMs: 30_000,
  maxBackoffMs: 600_000,
};

/** One breaker as the store keeps it (plain data, ISO times, safe to round-trip through JSON). */
export interface BreakerRecord {
  /** What it guards, e.g. `runner:run_…` or `agent:gitops` (see `breakerKey`). */
  key: string;
  /** As last stored; a stored `open` becomes half-open by time alone, see `breakerGate`. */
  state: BreakerState;
  /** Failures in a row, stragglers included; reset by a success while closed or by a successful probe. */
  consecutiveFailures: number;
  /** The backoff of the current or last opening. */
  backoffMs: number;
  /** When it last opened. */
  openedAt?: string;
  /** Until when the current or last opening admits nothing. */
  openUntil?: string;
  /** The one attempt a half-open breaker let through, while it runs (or a scheduler's reservation). */
  probeAttemptId?: string;
  /** Set while `probeAttemptId` is a reservation, not yet an attempt: when it lapses if not claimed. */
  probeReservedUntil?: string;
  /** When the record last changed. */
  updatedAt: string;
}

/** Zod schema of a stored breaker record, for reading it back from JSON. */
export const breakerRecordSchema: z.ZodType<BreakerRecord> = z.object({
  key: z.string().min(1),
  state: z.enum(['closed', 'open', 'half-open']),
  consecutiveFailures: z.number().int().min(0),
  backoffMs: z.number().int().min(0),
  openedAt: z.iso.datetime().optional(),
  openUntil: z.iso.datetime().optional(),
  probeAttemptId: z.string().min(1).optional(),
  probeReservedUntil: z.iso.datetime().optional(),
  updatedAt: z.iso.datetime(),
});

/** What a breaker lets through now. */
export interface BreakerGate {
  /** The state by the clock (an expired `open` reads `half-open`). */
  state: BreakerState;
  /** Anything (closed), one probe (half-open, none in flight), or nothing. */
  admits: 'any' | 'probe' | 'none';
  /** When an open breaker will admit a probe (ISO time); set only while open. */
  retryAt?: string;
}

/** The outcome of one attempt that ran under a breaker. */
export interface BreakerOutcome {
  /** The attempt's id, compared with the breaker's probe. */
  attemptId: string;
  /** Whether the attempt succeeded. A lost attempt counts as failed. */
  succeeded: boolean;
}

/** The key of the breaker guarding a runner (`runner:<id>`) or an agent definition (`agent:<name>`). */
export function breakerKey(kind: 'runner' | 'agent', name: string): string {
  return `${kind}:${name}`;
}

/** A closed breaker with no failures and the base backoff. */
export function newBreaker(
  key: string,
  now: number,
  policy: BreakerPolicy = DEFAULT_BREAKER_POLICY,
): BreakerRecord {
  return {
    key,
    state: 'closed',
    consecutiveFailures: 0,
    backoffMs: policy.baseBackoffMs,
    updatedAt: new Date(now).toISOString(),
  };
}

/**
 * What the breaker admits at `now`. No record means a closed breaker. An open breaker whose `openUntil` has
 * passed reads half-open and admits one probe, until `breakerAfterProbeClaimed` records one.
 */
export function breakerGate(record: BreakerRecord | undefined, now: number): BreakerGate {
  if (record === undefined || record.state === 'closed') return { state: 'closed', admits: 'any' };
  if (record.probeAttemptId !== undefined) {
    const lapsed = record.probeReservedUntil !== undefined && now >= Date.parse(record.probeReservedUntil);
    return { state: 'half-open', admits: lapsed ? 'probe' : 'none' };
  }
  if (record.state === 'open' && record.openUntil !== undefined && now < Date.parse(record.openUntil)) {
    return { state: 'open', admits: 'none', retryAt: record.openUntil };
  }
  return { state: 'half-open', admits: 'probe' };
}

/**
 * The record once a scheduler has reserved the half-open breaker's one probe as `reservation` (a name of the
 * claim under way) until `now + holdMs`; undefined when the gate does not admit a probe at `now` (closed,
 * still open, or another probe or reservation in flight): the scheduler must not send the task. Reserving
 * again under the same name returns the record unchanged. Store it with `Store.updateBreaker`, which
 * applies it under the row's lock.
 */
export function breakerAfterProbeReserved(
  record: BreakerRecord,
  reservation: string,
  now: number,
  holdMs: number,
): BreakerRecord | undefined {
  if (record.probeAttemptId === reservation && record.probeReservedUntil !== undefined) return record;
  if (breakerGate(record, now).admits !== 'probe') return undefined;
  return {
    ...withoutProbe(record),
    state: 'half-open',
    probeAttemptId: reservation,
    probeReservedUntil: new Date(now + holdMs).toISOString(),
    updatedAt: new Date(now).toISOString(),
  };
}

/**
 * The record once `attemptId` has been let through as the half-open breaker's one probe, taking over the
 * scheduler's `reservation` when given (lapsed or not, as long as nobody replaced it); undefined when there
 * is no such reservation and the gate does not admit a probe at `now`, which means the caller's view is
 * stale. Claiming the same probe twice returns the record unchanged.
 */
export function breakerAfterProbeClaimed(
  record: BreakerRecord,
  attemptId: string,
  now: number,
  reservation?: string,
): BreakerRecord | undefined {
  if (record.probeAttemptId === attemptId && record.state === 'half-open') return record;
  const reserved = reservation !== undefined && record.probeAttemptId === reservation;
  if (!reserved && breakerGate(record, now).admits !== 'probe') return undefined;
  return {
    ...withoutProbe(record),
    state: 'half-open',
    probeAttemptId: attemptId,
    updatedAt: new Date(now).toISOString(),
  };
}

/** The record without its probe or reservation. */
function withoutProbe(record: BreakerRecord): BreakerRecord {
  const { probeAttemptId: _probe, probeReservedUntil: _until, ...rest } = record;
  return rest;
}

/**
 * The record after an attempt's outcome. No record means a new closed breaker for `key`.
 *
 * - closed: a success resets the failure count; a failure adds one, and at `failureThreshold` the breaker
 *   opens for `baseBackoffMs`.
 * - the probe's outcome (half-open): a success closes it and resets the backoff to base; a failure opens it
 *   again for twice the last backoff, at most `maxBackoffMs`.
 * - any other attempt while open or half-open (a straggler that started before the breaker opened): a
 *   failure only adds to the failure count; a success changes nothing, because only the probe, sent after
 *   the backoff, shows that the trouble has passed.
 */
export function breakerAfterOutcome(
  record: BreakerRecord | undefined,
  key: string,
  outcome: BreakerOutcome,
  policy: BreakerPolicy,
  now: number,
): BreakerRecord {
  const current = record ?? newBreaker(key, now, policy);
  const updatedAt = new Date(now).toISOString();

  if (current.state === 'closed') {
    if (outcome.succeeded) {
      return current.consecutiveFailures === 0 ? current : { ...current, consecutiveFailures: 0, updatedAt };
    }
    const consecutiveFailures = current.consecutiveFailures + 1;
    if (consecutiveFailures < policy.failureThreshold) return { ...current, consecutiveFailures, updatedAt };
    return openBreaker(current, consecutiveFailures, policy.baseBackoffMs, now);
  }

  const isProbe = current.probeAttemptId !== undefined && current.probeAttemptId === outcome.attemptId;
  if (!isProbe) {
    if (outcome.succeeded) return current;
    return { ...current, consecutiveFailures: current.consecutiveFailures + 1, updatedAt };
  }
  if (outcome.succeeded) {
    return {
      key: current.key,
      state: 'closed',
      consecutiveFailures: 0,
      backoffMs: policy.baseBackoffMs,
      updatedAt,
    };
  }
  const backoffMs = Math.min(policy.maxBackoffMs, current.backoffMs * 2);
  return openBreaker(current, current.consecutiveFailures + 1, backoffMs, now);
}

/** An open record: nothing admitted for `backoffMs` from `now`, no probe. */
function openBreaker(
  record: BreakerRecord,
  consecutiveFailures: number,
  backoffMs: number,
  now: number,
): BreakerRecord {
  const { probeAttemptId: _probe, ...rest } = record;
  return {
    ...rest,
    state: 'open',
    consecutiveFailures,
    backoffMs,
    openedAt: new Date(now).toISOString(),
    openUntil: new Date(now + backoffMs).toISOString(),
    updatedAt: new Date(now).toISOString(),
  };
}

/**
 * The record after the probe `attemptId` ended without an outcome of the work itself (it was cancelled):
 * half-open with no probe, so that another probe may go; backoff unchanged. Any other attempt id leaves the
 * record as it is. A probe lost to a crashed runner or an expired lease is a failure instead: report it with
 * `breakerAfterOutcome`.
 */
export function breakerAfterProbeLost(record: BreakerRecord, attemptId: string, now: number): BreakerRecord {
  if (record.probeAttemptId !== attemptId) return record;
  return { ...withoutProbe(record), state: 'half-open', updatedAt: new Date(now).toISOString() };
}

/**
 * One line for people: "closed", "open for 1m 0s more (3 consecutive failures, backoff 60s)",
 * "half-open: probe att_… in flight", "half-open: waiting for a probe (…)".
 */
export function describeBreaker(record: BreakerRecord | undefined, now: number): string {
  const gate = breakerGate(record, now);
  if (record === undefined || gate.state === 'closed') {
    const failures = record?.consecutiveFailures ?? 0;
    return failures === 0 ? 'closed' : `closed (${pluralFailures(failures)})`;
  }
  const backoffSeconds = Math.round(record.backoffMs / 1000);
  const history = `${pluralFailures(record.consecutiveFailures)}, backoff ${backoffSeconds}s`;
  if (record.probeReservedUntil !== undefined && gate.admits === 'none') {
    return `half-open: probe reserved by a claim under way (${record.probeAttemptId ?? 'unnamed'})`;
  }
  if (record.probeAttemptId !== undefined && record.probeReservedUntil === undefined) {
    return `half-open: probe ${record.probeAttemptId} in flight`;
  }
  if (gate.state === 'open' && gate.retryAt !== undefined) {
    return `open for ${formatDuration(Date.parse(gate.retryAt) - now)} more (${history})`;
  }
  return `half-open: waiting for a probe (${history})`;
}

/** "1 consecutive failure", "3 consecutive failures". */
function pluralFailures(count: number): string {
  return `${count} consecutive failure${count === 1 ? '' : 's'}`;
}

/** "45s", "1m 0s", "1h 5m": whole seconds, rounded up so that an open breaker never reads "0s more". */
function formatDuration(milliseconds: number): string {
  const totalSeconds = Math.max(0, Math.ceil(milliseconds / 1000));
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours}h ${minutes}m`;
  if (minutes > 0) return `${minutes}m ${seconds}s`;
  return `${seconds}s`;
}
