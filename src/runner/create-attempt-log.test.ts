import { describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import type { LogEntry } from '../core/types.ts';
import { createAttemptLog } from './create-attempt-log.ts';

describe('createAttemptLog', () => {
  it('batches writes, merges a stream and keeps the order', async () => {
    const batches: LogEntry[][] = [];
    const log = createAttemptLog({
      logger: silentLogger,
      send: async (entries) => void batches.push(entries),
    });
    log.system('fetching');
    log.write('stdout', 'a');
    log.write('stdout', 'b');
    log.write('stderr', 'c');
    expect(batches).toHaveLength(0);
    await log.flush();
    expect(batches).toEqual([
      [
        { stream: 'system', text: 'fetching\n' },
        { stream: 'stdout', text: 'ab' },
        { stream: 'stderr', text: 'c' },
      ],
    ]);
  });

  it('flushes on its own after the interval', async () => {
    const batches: LogEntry[][] = [];
    const log = createAttemptLog({
      logger: silentLogger,
      flushIntervalMs: 20,
      send: async (entries) => void batches.push(entries),
    });
    log.write('stdout', 'x');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(batches).toEqual([[{ stream: 'stdout', text: 'x' }]]);
    log.discard();
  });

  it('caps the output bytes and says so once, but keeps system lines', async () => {
    const batches: LogEntry[][] = [];
    const log = createAttemptLog({
      logger: silentLogger,
      maxBytes: 10,
      send: async (entries) => void batches.push(entries),
    });
    log.write('stdout', '12345');
    log.write('stdout', '67890');
    log.write('stdout', 'over');
    log.write('stdout', 'more');
    log.system('pushed');
    await log.close();
    const text = batches.flat().map((entry) => `${entry.stream}:${entry.text}`);
    expect(text[0]).toBe('stdout:1234567890');
    expect(text.filter((line) => line.includes('log truncated'))).toHaveLength(1);
    expect(text.at(-1)).toContain('pushed');
    expect(text.join('')).not.toContain('over');
  });

  it('keeps going when sending fails', async () => {
    let calls = 0;
    const log = createAttemptLog({
      logger: silentLogger,
      send: async () => {
        calls += 1;
        throw new Error('hub down');
      },
    });
    log.write('stdout', 'x');
    await log.flush();
    log.write('stdout', 'y');
    await log.flush();
    expect(calls).toBe(2);
  });
});
