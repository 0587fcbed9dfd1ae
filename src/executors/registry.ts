import { InvalidInputError } from '../core/errors.ts';
import type { Executor } from './spec.ts';

/** The executors a runner offers, by name. */
export interface ExecutorRegistry {
  /** The executor with this name, or undefined. */
  get(name: string): Executor | undefined;
  /** Every executor name, sorted. */
  names(): string[];
}

/** Creates a registry of executors. Throws InvalidInputError when two executors share a name. */
export function createExecutorRegistry(executors: Executor[]): ExecutorRegistry {
  const byName = new Map<string, Executor>();
  for (const executor of executors) {
    if (byName.has(executor.name)) {
      throw new InvalidInputError([
        { field: 'executors', reason: `two executors are named "${executor.name}"; names must be unique` },
      ]);
    }
    byName.set(executor.name, executor);
  }
  return {
    get: (name) => byName.get(name),
    names: () => [...byName.keys()].sort(),
  };
}
