/**
 * Fleet routing: how well each candidate (a runner, or a runner-agent pairing) suits a task, and which one
 * gets it. Pure functions only; the scheduler gathers the facts and the store keeps the outcomes.
 *
 * score = baseWeight × dependencyHealth × successRate × recoveryBoost × preferredBonus
 */

/**
 * Recent outcomes that count towards a candidate's success rate. why: enough that one bad attempt does not
 * sink a good pairing, few enough that results from before a fix or an outage soon stop counting.
 */
export const SUCCESS_WINDOW = 20;
/**
 * Weight of an outcome one place older than the last. why: the outcome i places back weighs 0.95^i, so the
 * newest result counts most while the oldest of the window (0.95^19 ≈ 0.38) still counts for something.
 */
export const SUCCESS_DECAY = 0.95;
/** Newest successes in a row that mark a candidate as recovered. why: one may be luck; three is a trend. */
export const RECOVERY_STREAK = 3;
/**
 * Multiplier for a recovered candidate. why: the decayed rate remembers old failures for a while; the
 * boost lets a pairing that works again win back its tasks sooner than the window alone would allow.
 */
export const RECOVERY_BOOST = 1.1;
/**
 * Multiplier when an offer the task needs is marked preferred. why: enough to settle near-ties, too little to
 * outweigh a real difference in weight or record.
 */
export const PREFERRED_BONUS = 1.05;
/** Scores closer than this are a tie. why: products of the same factors may differ in the last bits. */
const SCORE_TIE_TOLERANCE = 1e-9;

/** One capability a candidate offers, with its base weight in [0,1] and whether it is preferred. */
export interface CapabilityOffer {
  /** The capability, e.g. `gitops`. */
  name: string;
  /** How well the candidate does this kind of work, in [0,1]. */
  weight: number;
  /** Whether the operator prefers this candidate for this capability. */
  preferred: boolean;
}

/** A breaker gate as the scheduler read it for one candidate. */
export interface CandidateBreaker {
  /** The breaker's key, e.g. `runner:run_1` or `agent:gitops`. */
  key: string;
  /** What the breaker admits now: anything, one probe, or nothing. */
  admits: 'any' | 'probe' | 'none';
  /** When an open breaker will admit a probe (ISO time); absent otherwise. */
  retryAt?: string;
}

/** The result of one dependency health check a pairing requires. */
export interface DependencyCheck {
  /** The check's name, e.g. `argo`. */
  name: string;
  /** Whether its last run passed. */
  healthy: boolean;
  /** What the check reported, e.g. `HTTP 503`. */
  detail?: string;
}

/** Everything the scheduler knows about one candidate for one task. */
export interface CandidateFacts {
  /** The runner's id. */
  runnerId: string;
  /** The runner's name, for people and for deterministic tie-breaks. */
  runnerName: string;
  /** Agent definition name; absent for a runner without agent pairings. */
  agent?: string;
  /** The pairing's weighted offers. */
  offers: CapabilityOffer[];
  /** Names of the dependency health checks the pairing requires, with their last result. */
  dependencyChecks: DependencyCheck[];
  /** This pairing's recent attempt outcomes, newest first (true = succeeded). */
  outcomes: boolean[];
  /** The runner's presence. */
  presence: 'online' | 'degraded' | 'offline' | 'draining';
  /** Slots the runner has free now. */
  freeSlots: number;
  /** Attempts the runner holds now. */
  activeAttempts: number;
  /** Breaker gates, per runner and per agent: what each admits now. */
  breakers: CandidateBreaker[];
  /** True when this runner ran the task's previous attempt, and that attempt failed. */
  ranFailedPreviousAttempt: boolean;
  /** A limit (agent max active, semaphore) that this candidate would exceed, in words; absent when none. */
  blockedBy?: string;
}

/**
 * Why a candidate may not take the task, as a category for summaries.
 * - `offline`: the runner is offline.
 * - `draining`: the runner is draining and takes no new work.
 * - `breaker open`: a breaker admits nothing (open, or half-open with its probe in flight).
 * - `dependency failing`: a dependency health check the pairing requires is failing.
 * - `blocked`: a limit (agent max active, semaphore) would be exceeded.
 * - `no free slot`: the runner has no free slot.
 */
export type IneligibleCause =
  'offline' | 'draining' | 'breaker open' | 'dependency failing' | 'blocked' | 'no free slot';

/** The factors of a score; their product is the score. */
export interface ScoreFactors {
  /** Minimum weight among the offers the task needs (1 when none is weighed). */
  baseWeight: number;
  /** 1 when every required dependency check is healthy, else 0. */
  dependencyHealth: number;
  /** Decay-weighted success rate of the recent outcomes. */
  successRate: number;
  /** RECOVERY_BOOST after RECOVERY_STREAK successes in a row, else 1. */
  recoveryBoost: number;
  /** PREFERRED_BONUS when a matching offer is preferred, else 1. */
  preferredBonus: number;
}

/** One candidate's score for one task, with its factors and whether it may take the task now. */
export interface Scorecard {
  /** The runner's id. */
  runnerId: string;
  /** The runner's name. */
  runnerName: string;
  /** The agent definition name, when the candidate is a pairing. */
  agent?: string;
  /** The factors of `score`. */
  factors: ScoreFactors;
  /** The product of the factors. Kept for ineligible candidates too, so that `explain` can show them. */
  score: number;
  /** Whether it may take the task now. */
  eligible: boolean;
  /** Why not, in words (e.g. "no free slot", "breaker runner:r1 open until …"); several joined by "; ". */
  reason?: string;
  /** The first reason as a category, for summaries; set exactly when `eligible` is false. */
  cause?: IneligibleCause;
  /** Set when a half-open breaker lets this candidate take the task as its one probe. */
  probe?: boolean;
  /** How many outcomes the success rate considered, and how many of those succeeded. */
  outcomes: { considered: number; succeeded: number };
  /** The runner's presence. */
  presence: CandidateFacts['presence'];
  /** Slots the runner has free now (a tie-break). */
  freeSlots: number;
  /** True when this runner ran the task's failed previous attempt (see `chooseCandidate`). */
  ranFailedPreviousAttempt: boolean;
}

/** The routing decision for one task. */
export interface Decision {
  /** The candidate that takes the task; absent when none is eligible. */
  winner?: Scorecard;
  /** One sentence for people (`warren routing explain`). */
  reason: string;
  /** Every card, best first: the winner, the other eligible ones in order, then the ineligible ones. */
  cards: Scorecard[];
}

/**
 * The decay-weighted success rate of outcomes given newest first: sum(0.95^i × s_i) / sum(0.95^i) over the
 * first SUCCESS_WINDOW outcomes. With no outcomes it is 1: a new pairing is trusted until it has a record
 * (its breaker guards it meanwhile).
 */
export function rollingSuccessRate(outcomes: readonly boolean[]): number {
  const window = outcomes.slice(0, SUCCESS_WINDOW);
  if (window.length === 0) return 1;
  let succeededWeight = 0;
  let totalWeight = 0;
  window.forEach((succeeded, index) => {
    const weight = SUCCESS_DECAY ** index;
    totalWeight += weight;
    if (succeeded) succeededWeight += weight;
  });
  return succeededWeight / totalWeight;
}

/** True when there are at least RECOVERY_STREAK outcomes and the newest RECOVERY_STREAK all succeeded. */
export function hasRecovered(outcomes: readonly boolean[]): boolean {
  return outcomes.length >= RECOVERY_STREAK && outcomes.slice(0, RECOVERY_STREAK).every(Boolean);
}

/** The label people see for a candidate: `agent@runner`, or the runner's name alone. */
export function candidateLabel(card: Pick<Scorecard, 'agent' | 'runnerName'>): string {
  return card.agent === undefined ? card.runnerName : `${card.agent}@${card.runnerName}`;
}

/**
 * Scores one candidate for a task whose routing capabilities are `taskCapabilities`, and says whether it may
 * take the task now.
 *
 * The base weight is the minimum over the task's capabilities of the candidate's offer weight for it, where a
 * capability the candidate does not weigh counts 1 (so the base is 1 when the task names none it weighs).
 * Whether the candidate has the capabilities at all is the claim filter's business, not this function's.
 */
export function scoreCandidate(taskCapabilities: readonly string[], facts: CandidateFacts): Scorecard {
  const needed = new Set(taskCapabilities);
  const matching = facts.offers.filter((offer) => needed.has(offer.name));
  const baseWeight = Math.min(1, ...matching.map((offer) => offer.weight));
  const failingChecks = facts.dependencyChecks.filter((check) => !check.healthy);
  const window = facts.outcomes.slice(0, SUCCESS_WINDOW);
  const factors: ScoreFactors = {
    baseWeight,
    dependencyHealth: failingChecks.length === 0 ? 1 : 0,
    successRate: rollingSuccessRate(facts.outcomes),
    recoveryBoost: hasRecovered(facts.outcomes) ? RECOVERY_BOOST : 1,
    preferredBonus: matching.some((offer) => offer.preferred) ? PREFERRED_BONUS : 1,
  };
  const score =
    factors.baseWeight *
    factors.dependencyHealth *
    factors.successRate *
    factors.recoveryBoost *
    factors.preferredBonus;

  // The order decides `cause`: the most fundamental obstacle first.
  const obstacles: Array<{ cause: IneligibleCause; reason: string }> = [];
  if (facts.presence === 'offline' || facts.presence === 'draining') {
    obstacles.push({ cause: facts.presence, reason: `runner ${facts.presence}` });
  }
  for (const breaker of facts.breakers) {
    if (breaker.admits !== 'none') continue;
    const reason =
      breaker.retryAt === undefined
        ? `breaker ${breaker.key} half-open with its probe in flight`
        : `breaker ${breaker.key} open until ${breaker.retryAt}`;
    obstacles.push({ cause: 'breaker open', reason });
  }
  for (const check of failingChecks) {
    const detail = check.detail === undefined ? '' : `: ${check.detail}`;
    obstacles.push({
      cause: 'dependency failing',
      reason: `dependency check ${check.name} failing${detail}`,
    });
  }
  if (facts.blockedBy !== undefined) obstacles.push({ cause: 'blocked', reason: facts.blockedBy });
  if (facts.freeSlots <= 0) obstacles.push({ cause: 'no free slot', reason: 'no free slot' });

  const first = obstacles[0];
  const card: Scorecard = {
    runnerId: facts.runnerId,
    runnerName: facts.runnerName,
    ...(facts.agent === undefined ? {} : { agent: facts.agent }),
    factors,
    score,
    eligible: first === undefined,
    outcomes: { considered: window.length, succeeded: window.filter(Boolean).length },
    presence: facts.presence,
    freeSlots: facts.freeSlots,
    ranFailedPreviousAttempt: facts.ranFailedPreviousAttempt,
  };
  if (first !== undefined) {
    card.reason = obstacles.map((obstacle) => obstacle.reason).join('; ');
    card.cause = first.cause;
  } else if (facts.breakers.some((breaker) => breaker.admits === 'probe')) {
    card.probe = true;
  }
  return card;
}

/** Orders eligible cards on merit alone: probe first, then score, then the tie-breaks. */
function compareOnMerit(left: Scorecard, right: Scorecard, claimant?: string): number {
  const probeOrder = Number(right.probe === true) - Number(left.probe === true);
  if (probeOrder !== 0) return probeOrder;
  if (Math.abs(left.score - right.score) > SCORE_TIE_TOLERANCE) return right.score - left.score;
  return compareTieBreaks(left, right, claimant);
}

/**
 * Orders cards of equal score: online before degraded, then the claiming runner, more free slots, then
 * names for determinism.
 */
function compareTieBreaks(left: Scorecard, right: Scorecard, claimant?: string): number {
  const presenceOrder = Number(right.presence === 'online') - Number(left.presence === 'online');
  if (presenceOrder !== 0) return presenceOrder;
  // why: the claiming runner is asking now; an equally good idle one may not ask for a while, and leaving
  // the task for it would hand a fleet of equals' work to whichever sorts first by name.
  const claimantOrder = Number(right.runnerId === claimant) - Number(left.runnerId === claimant);
  if (claimantOrder !== 0) return claimantOrder;
  if (left.freeSlots !== right.freeSlots) return right.freeSlots - left.freeSlots;
  return (
    compareText(left.runnerName, right.runnerName) ||
    compareText(left.agent ?? '', right.agent ?? '') ||
    compareText(left.runnerId, right.runnerId)
  );
}

/** Code-point order, the same on every machine (unlike localeCompare). */
function compareText(left: string, right: string): number {
  if (left === right) return 0;
  return left < right ? -1 : 1;
}

/** Which tie-break separated two cards of equal score, in words. */
function tieBreakName(winner: Scorecard, other: Scorecard, claimant?: string): string {
  if (winner.presence !== other.presence) return 'presence';
  if (winner.runnerId === claimant && other.runnerId !== claimant) return 'claiming runner';
  if (winner.freeSlots !== other.freeSlots) return 'free slots';
  return 'name';
}

/** "2 breaker open, 1 no free slot": ineligible cards counted by cause, most frequent first. */
function summariseCauses(cards: readonly Scorecard[]): string {
  const counts = new Map<IneligibleCause, number>();
  for (const card of cards) {
    if (card.cause !== undefined) counts.set(card.cause, (counts.get(card.cause) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort(([leftCause, left], [rightCause, right]) => right - left || compareText(leftCause, rightCause))
    .map(([cause, count]) => `${count} ${cause}`)
    .join(', ');
}

/** A score as people read it: four decimals. */
function formatScore(score: number): string {
  return score.toFixed(4);
}

/**
 * Chooses the candidate that takes the task from the scorecards of `scoreCandidate`.
 *
 * Among eligible cards: (1) a probe candidate beats non-probe ones (a half-open breaker's probe gets the one
 * task it lets through; among probes the highest score wins); (2) otherwise the highest score wins, ties
 * broken by presence (online before degraded), then the claiming runner (`options.claimant`, a runner id: of
 * equals, the one asking now takes the task), then more free slots, then runner name, agent and runner id;
 * (3) a candidate whose runner ran the failed previous attempt (`ranFailedPreviousAttempt`) is passed over
 * whenever an eligible candidate on another runner exists, even a probe; (4) with no eligible card there is
 * no winner and the reason counts the causes.
 */
export function chooseCandidate(cards: readonly Scorecard[], options: { claimant?: string } = {}): Decision {
  const { claimant } = options;
  const eligible = cards.filter((card) => card.eligible);
  const ineligible = cards
    .filter((card) => !card.eligible)
    .sort((left, right) => {
      if (Math.abs(left.score - right.score) > SCORE_TIE_TOLERANCE) return right.score - left.score;
      return compareTieBreaks(left, right);
    });
  if (eligible.length === 0) {
    const reason =
      cards.length === 0
        ? 'no eligible candidate: no runner offers what the task needs'
        : `no eligible candidate: ${summariseCauses(cards)}`;
    return { reason, cards: ineligible };
  }

  const onMerit = [...eligible].sort((left, right) => compareOnMerit(left, right, claimant));
  const hasFreshRunner = eligible.some((card) => !card.ranFailedPreviousAttempt);
  const isSkipped = (card: Scorecard): boolean => hasFreshRunner && card.ranFailedPreviousAttempt;
  const ranked = [...onMerit.filter((card) => !isSkipped(card)), ...onMerit.filter(isSkipped)];
  const [winner, ...rest] = ranked as [Scorecard, ...Scorecard[]];
  const label = candidateLabel(winner);
  const meritLeader = onMerit[0];
  const runnerUp = rest[0];

  let reason: string;
  if (meritLeader !== undefined && meritLeader !== winner && isSkipped(meritLeader)) {
    reason =
      `${label} won with ${formatScore(winner.score)}: ${candidateLabel(meritLeader)} ` +
      `(${formatScore(meritLeader.score)}) ran the failed previous attempt`;
  } else if (winner.probe === true && runnerUp !== undefined && runnerUp.probe !== true) {
    reason =
      `${label} won with ${formatScore(winner.score)} as a half-open breaker's probe ` +
      `over ${candidateLabel(runnerUp)} ${formatScore(runnerUp.score)}`;
  } else if (runnerUp === undefined) {
    const probeNote = winner.probe === true ? " as a half-open breaker's probe" : '';
    reason = `${label} won with ${formatScore(winner.score)}${probeNote}, the only eligible candidate`;
  } else {
    const tied = Math.abs(winner.score - runnerUp.score) <= SCORE_TIE_TOLERANCE;
    const tieNote = tied ? ` (tie broken by ${tieBreakName(winner, runnerUp, claimant)})` : '';
    reason =
      `${label} won with ${formatScore(winner.score)} over ` +
      `${candidateLabel(runnerUp)} ${formatScore(runnerUp.score)}${tieNote}`;
  }
  // Only possible when no other runner is eligible; said because the user may wonder why it runs there again.
  if (winner.ranFailedPreviousAttempt) reason += ', although its runner ran the failed previous attempt';
  return { winner, reason, cards: [...ranked, ...ineligible] };
}

/**
 * A fixed-width text table of a decision's cards (candidate, score, factors, success record, eligibility)
 * followed by the decision's reason line. The winner is marked `*`. Used by `warren routing explain`.
 */
export function formatScorecardTable(decision: Decision): string {
  const header = ['', 'candidate', 'score', 'base', 'health', 'rate', 'boost', 'preferred', 'eligible'];
  const rows = decision.cards.map((card) => {
    const { factors } = card;
    let eligibility: string;
    if (!card.eligible) eligibility = `no: ${card.reason ?? 'unknown'}`;
    else if (card.probe === true) eligibility = 'yes (probe)';
    else eligibility = 'yes';
    if (card.eligible && card.ranFailedPreviousAttempt) eligibility += ', ran failed previous attempt';
    return [
      card === decision.winner ? '*' : '',
      candidateLabel(card),
      formatScore(card.score),
      factors.baseWeight.toFixed(2),
      String(factors.dependencyHealth),
      `${formatScore(factors.successRate)} (${card.outcomes.succeeded}/${card.outcomes.considered})`,
      factors.recoveryBoost.toFixed(2),
      factors.preferredBonus.toFixed(2),
      eligibility,
    ];
  });
  const table = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...table.map((row) => (row[column] ?? '').length)));
  const lines = table.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
  return [...lines, '', decision.reason].join('\n');
}
