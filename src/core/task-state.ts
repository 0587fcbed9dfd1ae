/**
 * The task and attempt state machines: every allowed transition, and checks that refuse the rest.
 */
import { InvalidTransitionError } from './errors.ts';
import type { AttemptState, TaskState } from './types.ts';

/** Allowed task transitions. why: written out in full so that every change is checked against one table. */
export const TASK_TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  blocked: ['queued', 'dead', 'cancelled'],
  queued: ['leased', 'cancelled', 'dead'],
  leased: ['running', 'failed', 'dead', 'cancelled', 'succeeded'],
  running: ['verifying', 'failed', 'dead', 'cancelled', 'succeeded'],
  verifying: ['running', 'succeeded', 'failed', 'dead', 'cancelled'],
  failed: ['queued', 'dead', 'cancelled'],
  // Terminal states leave only through an explicit user retry.
  succeeded: [],
  dead: ['queued', 'blocked'],
  cancelled: ['queued', 'blocked'],
};

/** Allowed attempt transitions. */
export const ATTEMPT_TRANSITIONS: Readonly<Record<AttemptState, readonly AttemptState[]>> = {
  leased: ['running', 'verifying', 'succeeded', 'failed', 'lost', 'cancelled'],
  running: ['verifying', 'succeeded', 'failed', 'lost', 'cancelled'],
  verifying: ['running', 'succeeded', 'failed', 'lost', 'cancelled'],
  succeeded: [],
  failed: [],
  lost: [],
  cancelled: [],
};

/** Terminal task states: nothing happens to the task unless a user retries it. */
export const TERMINAL_TASK_STATES: readonly TaskState[] = ['succeeded', 'dead', 'cancelled'];
/** Task states in which an attempt holds a lease. */
export const LEASED_TASK_STATES: readonly TaskState[] = ['leased', 'running', 'verifying'];
/** Attempt states in which the attempt still holds its lease. */
export const ACTIVE_ATTEMPT_STATES: readonly AttemptState[] = ['leased', 'running', 'verifying'];

/** True when the task state machine allows `from` → `to`. */
export function canTransitionTask(from: TaskState, to: TaskState): boolean {
  return TASK_TRANSITIONS[from].includes(to);
}

/** Throws InvalidTransitionError unless the task may go from `from` to `to`. */
export function assertTaskTransition(taskId: string, from: TaskState, to: TaskState, hint?: string): void {
  if (!canTransitionTask(from, to)) throw new InvalidTransitionError('task', taskId, from, to, hint);
}

/** True when the attempt state machine allows `from` → `to`. */
export function canTransitionAttempt(from: AttemptState, to: AttemptState): boolean {
  return ATTEMPT_TRANSITIONS[from].includes(to);
}

/** Throws InvalidTransitionError unless the attempt may go from `from` to `to`. */
export function assertAttemptTransition(attemptId: string, from: AttemptState, to: AttemptState): void {
  if (!canTransitionAttempt(from, to)) throw new InvalidTransitionError('attempt', attemptId, from, to);
}

/** True for succeeded, dead and cancelled. */
export function isTerminalTaskState(state: TaskState): boolean {
  return TERMINAL_TASK_STATES.includes(state);
}

/** True while an attempt on the task holds a lease. */
export function isLeasedTaskState(state: TaskState): boolean {
  return LEASED_TASK_STATES.includes(state);
}

/** True while the attempt holds its lease. */
export function isActiveAttemptState(state: AttemptState): boolean {
  return ACTIVE_ATTEMPT_STATES.includes(state);
}
