/**
 * The memory of Codex threads' reported usage totals shared by one adapter's parsers.
 */
import { describe, expect, it } from 'vitest';
import { createThreadUsageMemory } from './codex-thread-usage.ts';

describe('createThreadUsageMemory', () => {
  it("remembers each thread's latest totals and reads an unknown thread as zero", () => {
    const memory = createThreadUsageMemory();
    expect(memory.get('thread-a')).toEqual({ inputTokens: 0, outputTokens: 0 });
    memory.set('thread-a', { inputTokens: 100, outputTokens: 10 });
    memory.set('thread-a', { inputTokens: 250, outputTokens: 30 });
    expect(memory.get('thread-a')).toEqual({ inputTokens: 250, outputTokens: 30 });
  });

  it('forgets the least recently reported thread past its limit', () => {
    const memory = createThreadUsageMemory(2);
    memory.set('thread-a', { inputTokens: 1, outputTokens: 1 });
    memory.set('thread-b', { inputTokens: 2, outputTokens: 2 });
    memory.set('thread-a', { inputTokens: 3, outputTokens: 3 });
    memory.set('thread-c', { inputTokens: 4, outputTokens: 4 });
    expect(memory.get('thread-b')).toEqual({ inputTokens: 0, outputTokens: 0 });
    expect(memory.get('thread-a')).toEqual({ inputTokens: 3, outputTokens: 3 });
    expect(memory.get('thread-c')).toEqual({ inputTokens: 4, outputTokens: 4 });
  });
});
