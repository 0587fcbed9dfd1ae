import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.ts';
import { createExecutorRegistry } from './registry.ts';
import { createShellExecutor } from './shell/create-shell-executor.ts';

describe('createExecutorRegistry', () => {
  it('finds executors by name', () => {
    const shell = createShellExecutor();
    const registry = createExecutorRegistry([shell]);
    expect(registry.get('shell')).toBe(shell);
    expect(registry.get('codex')).toBeUndefined();
    expect(registry.names()).toEqual(['shell']);
  });

  it('refuses two executors with one name', () => {
    expect(() => createExecutorRegistry([createShellExecutor(), createShellExecutor()])).toThrow(
      InvalidInputError,
    );
  });
});
