/**
 * The agent loop's stop conditions, checked before every model call: step and wall-time limits, the token
 * and dollar budget, and loop / no-progress detection. Each is a small function of the loop's state, so
 * the reasons the loop stops are explicit and testable on their own (compare the AI SDK's `stepCountIs`).
 */

import type { ModelAssignment } from '../../core/model-endpoints.ts';
import type { Budget } from '../../core/types.ts';

/** Prices of the model in use, in dollars per million tokens. */
export type ModelPricing = ModelAssignment['pricing'];

/** Why the loop stopped (besides the model giving its final answer). */
export type AgentStopReason =
  /** The step limit of the activation was reached. */
  | 'max-steps'
  /** The activation's wall-clock limit was reached. */
  | 'wall-time'
  /** The next call could exceed the token or dollar budget. */
  | 'budget-exceeded'
  /** The agent repeats itself or learns nothing new. */
  | 'no-progress';

/** A decision to stop, with the reason in words. */
export interface StopDecision {
  reason: AgentStopReason;
  message: string;
}

/** Tokens and dollars spent so far, within the scope a budget applies to. */
export interface BudgetSpend {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** The sum of two spends. */
export function addSpend(left: BudgetSpend, right: BudgetSpend): BudgetSpend {
  return {
    inputTokens: left.inputTokens + right.inputTokens,
    outputTokens: left.outputTokens + right.outputTokens,
    costUsd: left.costUsd + right.costUsd,
  };
}

/** What the budget allows for the next model call. */
export type CallAllowance =
  { allowed: true; maxOutputTokens: number } | { allowed: false; decision: StopDecision };

// why: a call that may not even answer with a few hundred tokens cannot finish a tool call or a summary;
// stopping before it saves the input tokens it would burn for nothing.
export const minUsefulOutputTokens = 256;

/**
 * Plans the next call against the budgets: the output limit is lowered so that the call cannot spend past
 * any budget, given its estimated input. When not even {@link minUsefulOutputTokens} fit, the loop stops
 * with `budget-exceeded` before calling.
 */
export function allowNextCall(options: {
  budgets: Array<{ label: string; budget: Budget; spent: BudgetSpend }>;
  estimatedInputTokens: number;
  pricing: ModelPricing;
  /** The call's output limit when no budget binds. */
  maxOutputTokens: number;
}): CallAllowance {
  let maxOutputTokens = options.maxOutputTokens;
  for (const { label, budget, spent } of options.budgets) {
    if (budget.maxTokens !== undefined) {
      const left = budget.maxTokens - spent.inputTokens - spent.outputTokens - options.estimatedInputTokens;
      if (left < minUsefulOutputTokens) {
        return {
          allowed: false,
          decision: {
            reason: 'budget-exceeded',
            message: `the ${label} token budget of ${budget.maxTokens} would be exceeded: ${spent.inputTokens + spent.outputTokens} spent, the next call needs about ${options.estimatedInputTokens} input tokens plus at least ${minUsefulOutputTokens} for the answer`,
          },
        };
      }
      maxOutputTokens = Math.min(maxOutputTokens, left);
    }
    if (budget.maxCostUsd !== undefined) {
      const inputCost = (options.estimatedInputTokens * options.pricing.inputPerMillionUsd) / 1e6;
      const dollarsLeft = budget.maxCostUsd - spent.costUsd - inputCost;
      const outputPrice = options.pricing.outputPerMillionUsd / 1e6;
      const affordable = outputPrice > 0 ? Math.floor(dollarsLeft / outputPrice) : Number.POSITIVE_INFINITY;
      if (dollarsLeft <= 0 || affordable < minUsefulOutputTokens) {
        return {
          allowed: false,
          decision: {
            reason: 'budget-exceeded',
            message: `the ${label} budget of $${budget.maxCostUsd.toFixed(4)} would be exceeded: $${spent.costUsd.toFixed(4)} spent, the next call costs about $${inputCost.toFixed(4)} for its input plus its answer`,
          },
        };
      }
      maxOutputTokens = Math.min(maxOutputTokens, affordable);
    }
  }
  return { allowed: true, maxOutputTokens: Math.max(minUsefulOutputTokens, Math.floor(maxOutputTokens)) };
}

/** Stops when `steps` reached `maxSteps`. */
export function checkMaxSteps(steps: number, maxSteps: number): StopDecision | undefined {
  if (steps < maxSteps) return undefined;
  return {
    reason: 'max-steps',
    message: `the agent used all of its ${maxSteps} steps without a final answer`,
  };
}

/** Stops when the wall-clock deadline has passed. */
export function checkWallTime(now: number, deadline: number, limitMs: number): StopDecision | undefined {
  if (now < deadline) return undefined;
  return { reason: 'wall-time', message: `the agent ran past its wall-time limit of ${limitMs} ms` };
}

/** Limits of {@link createProgressTracker}. */
export interface ProgressLimits {
  /** The same tool call (name and arguments) this many times with no file change in between stops the loop. */
  maxRepeatedCalls: number;
  /** This many steps in a row with no file change and no new tool output stop the loop. */
  maxStepsWithoutProgress: number;
}

/** What one step did, as the progress tracker sees it. */
export interface StepActivity {
  toolCalls: Array<{ toolName: string; input: unknown; output: string }>;
  filesChanged: number;
}

/** Loop and no-progress detection over the steps of one activation. */
export interface ProgressTracker {
  /** Records a step; returns a decision to stop when the agent is going round in circles. */
  record(step: StepActivity): StopDecision | undefined;
}

/**
 * Tracks repeated tool calls and steps that changed nothing and learned nothing.
 *
 * A step makes progress when it changed a file or a tool answered something not seen before in this
 * activation. Identical calls are counted since the last file change: re-reading a file after editing it
 * is progress, reading it a third time with nothing changed is not.
 */
export function createProgressTracker(limits: ProgressLimits): ProgressTracker {
  const callCounts = new Map<string, number>();
  const seenOutputs = new Set<string>();
  let stepsWithoutProgress = 0;
  return {
    record(step) {
      if (step.filesChanged > 0) callCounts.clear();
      let learned = false;
      for (const call of step.toolCalls) {
        if (!seenOutputs.has(call.output)) {
          seenOutputs.add(call.output);
          learned = true;
        }
        const key = `${call.toolName} ${stableStringify(call.input)}`;
        const count = (callCounts.get(key) ?? 0) + 1;
        callCounts.set(key, count);
        if (count >= limits.maxRepeatedCalls) {
          return {
            reason: 'no-progress',
            message: `the agent made the same call ${count} times with no file change in between: ${truncate(key, 300)}`,
          };
        }
      }
      stepsWithoutProgress = step.filesChanged > 0 || learned ? 0 : stepsWithoutProgress + 1;
      if (stepsWithoutProgress >= limits.maxStepsWithoutProgress) {
        return {
          reason: 'no-progress',
          message: `${stepsWithoutProgress} steps in a row changed no file and learned nothing new`,
        };
      }
      return undefined;
    },
  };
}

/** JSON with object keys sorted, so equal arguments in any key order compare equal. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, entry]) => entry !== undefined)
      .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${stableStringify(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length)}…`;
}
