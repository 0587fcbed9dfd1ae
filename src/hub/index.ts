/** Public surface of the hub: start one, or build its HTTP app from parts. */
export { loadAdminToken, ADMIN_TOKEN_FILE } from './admin-token.ts';
export { createHubAuth, hashToken, type HubAuth, type HubAuthOptions, type Principal } from './auth.ts';
export { createHubApp, type HubAppOptions } from './create-hub-app.ts';
export { createLogger, REDACTED_PATHS, type CreateLoggerOptions, type LogLevel } from './create-logger.ts';
export {
  createEndpointHealthChecker,
  type AvailableModels,
  type EndpointHealthChecker,
  type EndpointHealthCheckerOptions,
  type EndpointStatusChange,
} from './endpoint-health.ts';
export {
  DEFAULT_HUB_CONFIG,
  resolveHubConfig,
  type HubConfig,
  type HubConfigOverrides,
} from './hub-config.ts';
export { HUB_FILE, readHubFile, type HubFile } from './hub-file.ts';
export { HTTP_STATUS_BY_CODE, httpStatusOf } from './http-status.ts';
export { startMaintenance, type Maintenance, type MaintenanceOptions } from './maintenance.ts';
export { createHubMetrics, type HubMetrics, type HubMetricsOptions } from './metrics.ts';
export { RATE_LIMIT_ACTIONS, rateLimitActionOf, type RateLimitAction } from './rate-limit-action.ts';
export {
  DEFAULT_RATE_LIMIT_CONFIG,
  rateLimitConfigSchema,
  type RateLimitConfig,
  type RateLimitConfigInput,
} from './rate-limit-config.ts';
export {
  createRateLimiter,
  DEFAULT_MAX_BUCKETS,
  type RateLimiter,
  type RateLimiterOptions,
} from './rate-limits.ts';
export { DEFAULT_HUB_PORT, startHub, type RunningHub, type StartHubOptions } from './start-hub.ts';
