/** Public surface of Warren's domain layer. */
export * from './api.ts';
export * from './backoff.ts';
export * from './branch-name.ts';
export * from './errors.ts';
export * from './estimate-complexity.ts';
export * from './ids.ts';
export * from './logger.ts';
export * from './model-assignment.ts';
export * from './model-endpoints.ts';
export * from './model-selector.ts';
export * from './parse-input.ts';
export * from './route-task.ts';
export * from './routing-config.ts';
export * from './task-state.ts';
export * from './token-bucket.ts';
export * from './types.ts';
export * from './usage.ts';
