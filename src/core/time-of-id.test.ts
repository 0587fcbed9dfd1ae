import { describe, expect, it } from 'vitest';
import { createId } from './ids.ts';
import { timeOfId } from './ids.ts';

describe('timeOfId', () => {
  it('reads back the time an id was made with', () => {
    const now = Date.parse('2026-03-01T12:34:56.789Z');
    expect(timeOfId(createId('att', now))).toBe(now);
  });

  it('says undefined for an id in another format', () => {
    expect(timeOfId('att_short')).toBeUndefined();
    expect(timeOfId('no-prefix-0123456789')).toBeUndefined();
    expect(timeOfId('att_01234!6789')).toBeUndefined();
    expect(timeOfId('att_01234567IL')).toBeUndefined();
  });
});
