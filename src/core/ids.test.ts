import { describe, expect, it } from 'vitest';
import { createId, createSecretToken } from './ids.ts';
import { taskIdSchema } from './types.ts';

describe('ids', () => {
  it('sort in creation order, also within one millisecond', () => {
    const ids = Array.from({ length: 1_000 }, () => createId('tsk', 1_700_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    const later = createId('tsk', 1_700_000_000_001);
    expect(later > ids[ids.length - 1]!).toBe(true);
  });

  it('match the task id schema', () => {
    expect(taskIdSchema.safeParse(createId('tsk')).success).toBe(true);
    expect(taskIdSchema.safeParse('tsk_../../etc').success).toBe(false);
  });

  it('makes unguessable secret tokens', () => {
    const tokens = new Set(Array.from({ length: 100 }, () => createSecretToken('lease')));
    expect(tokens.size).toBe(100);
    for (const token of tokens) expect(token).toMatch(/^lease_[A-Za-z0-9_-]{32}$/);
  });
});
