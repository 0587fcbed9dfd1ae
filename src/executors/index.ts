/** Public surface of Warren's executors: the spec, the registry, the built-in executors and process runner. */
export * from './spec.ts';
export * from './registry.ts';
export * from './run-process.ts';
export * from './shell/create-shell-executor.ts';
