/** Public surface of the hub's HTTP client. */
export * from './error-from-response.ts';
export * from './hub-client.ts';
export * from './parse-event-stream.ts';
