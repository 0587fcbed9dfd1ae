/**
 * The hub's pino logger: JSON lines with every token redacted.
 */
import { pino, type DestinationStream, type Level } from 'pino';
import type { Logger } from '../core/logger.ts';

/** Log levels the hub accepts; `silent` drops everything (tests). */
export type LogLevel = Level | 'silent';

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Lowest level written; default `info`. */
  level?: LogLevel;
  /** Where lines go; default standard output. */
  destination?: DestinationStream;
}

/**
 * Paths whose values are replaced by `[redacted]`. why: tokens grant access; they must never reach a log,
 * even when a whole request, header set or error object is logged.
 */
export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'token',
  '*.token',
  'leaseToken',
  '*.leaseToken',
  'adminToken',
  '*.adminToken',
];

/** Creates a pino logger with the hub's redaction rules. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const settings = {
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
