import { describe, expect, it } from 'vitest';
import { InvalidTransitionError } from './errors.ts';
import {
  assertAttemptTransition,
  assertTaskTransition,
  canTransitionTask,
  isActiveAttemptState,
  isTerminalTaskState,
  TASK_TRANSITIONS,
} from './task-state.ts';
import { ATTEMPT_STATES, TASK_STATES } from './types.ts';

describe('task state machine', () => {
  it('follows the documented path through a successful attempt', () => {
    const path = ['blocked', 'queued', 'leased', 'running', 'verifying', 'succeeded'] as const;
    for (let index = 1; index < path.length; index += 1) {
      expect(canTransitionTask(path[index - 1]!, path[index]!)).toBe(true);
    }
  });

  it('retries through failed and back to queued, and verifying may return to running for a fix round', () => {
    expect(canTransitionTask('verifying', 'failed')).toBe(true);
    expect(canTransitionTask('failed', 'queued')).toBe(true);
    expect(canTransitionTask('verifying', 'running')).toBe(true);
  });

  it('never leaves succeeded, and leaves dead or cancelled only through a user retry', () => {
    expect(TASK_TRANSITIONS.succeeded).toEqual([]);
    for (const state of ['dead', 'cancelled'] as const) {
      expect([...TASK_TRANSITIONS[state]].sort()).toEqual(['blocked', 'queued']);
    }
  });

  it('refuses skipping the lease (queued straight to running) with a typed error', () => {
    expect(() => assertTaskTransition('tsk_1', 'queued', 'running')).toThrow(InvalidTransitionError);
    expect(() => assertTaskTransition('tsk_1', 'queued', 'running')).toThrow(
      /tsk_1 cannot go from queued to running/,
    );
    expect(() => assertTaskTransition('tsk_1', 'succeeded', 'queued')).toThrow(InvalidTransitionError);
  });

  it('only lists known states as targets', () => {
    for (const state of TASK_STATES) {
      for (const target of TASK_TRANSITIONS[state]) expect(TASK_STATES).toContain(target);
    }
  });

  it('classifies terminal task states and active attempt states', () => {
    expect(TASK_STATES.filter(isTerminalTaskState)).toEqual(['succeeded', 'dead', 'cancelled']);
    expect(ATTEMPT_STATES.filter(isActiveAttemptState)).toEqual(['leased', 'running', 'verifying']);
    expect(() => assertAttemptTransition('att_1', 'lost', 'succeeded')).toThrow(InvalidTransitionError);
    expect(() => assertAttemptTransition('att_1', 'running', 'verifying')).not.toThrow();
  });
});
