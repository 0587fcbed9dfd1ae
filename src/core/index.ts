/** Public surface of Warren's domain layer. */
export * from './api.ts';
export * from './backoff.ts';
export * from './branch-name.ts';
export * from './errors.ts';
export * from './ids.ts';
export * from './logger.ts';
export * from './parse-input.ts';
export * from './task-state.ts';
export * from './types.ts';
