/**
 * Leader election between hubs sharing one store: each hub keeps asking the store for a named leadership
 * (`Store.acquireLeadership`), and acts as leader only while its last renewal is recent enough that the
 * lease cannot have run out yet.
 *
 * A self-rescheduling timer, like the maintenance loop: the next attempt is scheduled only after the
 * current one ends, so attempts never overlap however slow the store is. Errors are logged, never thrown;
 * a store that fails (database down) is simply asked again on the next round.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../core/logger.ts';
import type { Leadership, Store } from '../store/store.ts';

/** Options of {@link startLeaderElection}. */
export interface LeaderElectionOptions {
  store: Pick<Store, 'acquireLeadership' | 'releaseLeadership'>;
  /** The leadership's name, e.g. `maintenance`. */
  name: string;
  /** This hub's unique instance id. */
  holder: string;
  /** How long each acquire or renewal lasts in the store. */
  ttlMs: number;
  /** Mean spacing of renewals (each is jittered by ±20%); must be well under `ttlMs`. */
  renewIntervalMs: number;
  logger: Logger;
  /** Called each time this hub becomes leader (true) or stops being leader (false). */
  onChange?: (isLeader: boolean) => void;
}

/** A running election. */
export interface LeaderElection {
  /**
   * True while this hub leads: its last successful acquire named it the holder, and less than
   * `ttlMs - safety margin` has passed (on this process's monotonic clock) since that request was sent.
   */
  isLeader(): boolean;
  /** The leadership as the store last answered (possibly held by another hub); undefined before any answer. */
  current(): Leadership | undefined;
  /** Settles once the first acquire attempt (made at once on start) has ended, whatever its outcome. */
  readonly ready: Promise<void>;
  /**
   * Stops the loop, waits for an attempt in flight, gives the leadership up in the store if this hub held
   * it (errors ignored) and, if it was leader, calls `onChange(false)`. Safe to call more than once.
   */
  stop(): Promise<void>;
}

// why: ±20% spread: a fleet restarted at once must not hit the database in lockstep every interval, while
// an attempt still comes at most 1.2 intervals after the last one.
const renewJitter = 0.2;

/**
 * Starts electing: the first acquire is sent at once (so a single hub leads as soon as it has started),
 * then one every `renewIntervalMs` ±20%.
 */
export function startLeaderElection(options: LeaderElectionOptions): LeaderElection {
  const { store, name, holder, ttlMs, renewIntervalMs, logger, onChange } = options;
  // why a fifth of the lease: the store's lease runs from when it executes our request, which is after we
  // sent it, so stepping down at `sent + ttl - margin` is always before the lease ends in the store; the
  // margin absorbs what can delay the step-down itself: a late timer after an event-loop stall, a
  // maintenance pass still finishing, clock rate differences. It is deliberately not tied to the renew
  // interval: with the default renewal every third of the lease, the deadline falls after the second
  // renewal attempt, so one failed renewal is ridden out and two in a row make the hub step down.
  const safetyMarginMs = ttlMs / 5;
  let leader = false;
  let latest: Leadership | undefined;
  /** On the monotonic clock: when leading must end unless a renewal succeeds first. */
  let leadUntil = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let deadlineTimer: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  function notify(isLeader: boolean): void {
    try {
      onChange?.(isLeader);
    } catch (error) {
      logger.error({ err: error, name, holder }, 'leader election: onChange failed');
    }
  }

  function stepDown(reason: string): void {
    if (deadlineTimer) clearTimeout(deadlineTimer);
    deadlineTimer = undefined;
    if (!leader) return;
    leader = false;
    logger.info({ name, holder, term: latest?.term, reason }, 'stepped down');
    notify(false);
  }

  function lead(leadership: Leadership, sentAt: number): void {
    leadUntil = sentAt + ttlMs - safetyMarginMs;
    const remainingMs = leadUntil - performance.now();
    if (remainingMs <= 0) {
      stepDown('the renewal answered too late to rely on');
      return;
    }
    if (deadlineTimer) clearTimeout(deadlineTimer);
    deadlineTimer = setTimeout(() => {
      deadlineTimer = undefined;
      stepDown('no renewal succeeded in time');
    }, remainingMs);
    // why: the election alone must not keep a process alive.
    deadlineTimer.unref();
    if (!leader) {
      leader = true;
      logger.info({ name, holder, term: leadership.term }, 'became leader');
      notify(true);
    }
  }

  async function attempt(): Promise<void> {
    const sentAt = performance.now();
    try {
      const leadership = await store.acquireLeadership({ name, holder, ttlMs });
      const previousTerm = latest?.holder === holder ? latest.term : undefined;
      latest = leadership;
      // Stopping: `latest` is kept so that stop() gives up a leadership this answer may have granted.
      if (stopped) return;
      if (leadership.holder !== holder) {
        stepDown(`held by ${leadership.holder}`);
        return;
      }
      if (leader && previousTerm !== leadership.term) {
        // Our lease lapsed in the store and we took it back: someone may have led in between.
        logger.info({ name, holder, term: leadership.term }, 'leader again in a new term');
      }
      lead(leadership, sentAt);
    } catch (error) {
      logger.warn({ err: error, name, holder }, 'leader election: acquiring the leadership failed');
    }
  }

  function schedule(): void {
    if (stopped) return;
    const delayMs = renewIntervalMs * (1 - renewJitter + 2 * renewJitter * Math.random());
    timer = setTimeout(() => {
      timer = undefined;
      inFlight = attempt().then(schedule);
    }, delayMs);
    // why: the election alone must not keep a process alive (the HTTP server does that while the hub runs).
    timer.unref();
  }

  const ready = attempt();
  inFlight = ready.then(schedule);

  async function stop(): Promise<void> {
    stopped = true;
    if (timer) clearTimeout(timer);
    timer = undefined;
    await inFlight;
    const held = latest?.holder === holder;
    // Steps down before giving the leadership up, so that this hub never counts itself leader while the
    // next one already does.
    stepDown('stopping');
    if (held) {
      try {
        await store.releaseLeadership(name, holder);
      } catch (error) {
        logger.debug({ err: error, name, holder }, 'leader election: releasing the leadership failed');
      }
    }
  }

  return {
    isLeader() {
      // why check here too: after an event-loop stall, a maintenance timer can run before the deadline
      // timer; the answer must already be false then.
      if (leader && performance.now() >= leadUntil) stepDown('no renewal succeeded in time');
      return leader;
    },
    current: () => latest,
    ready,
    stop: () => (stopping ??= stop()),
  };
}
