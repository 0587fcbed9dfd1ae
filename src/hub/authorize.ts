/**
 * Route-level authorization: which principal may call which route.
 */
import type { Context } from 'hono';
import { ForbiddenError } from '../core/errors.ts';
import type { Runner } from '../core/types.ts';
import type { Principal } from './auth.ts';
import type { HubEnv } from './hub-env.ts';

/** Path prefixes a runner token may call; everything else needs the admin token. */
const runnerPathPrefixes = ['/v1/runner/', '/v1/attempts/'];

/** True when `principal` may call a route under `path` (admin: all; runner: runner and attempt routes). */
export function isAllowed(principal: Principal, path: string): boolean {
  if (principal.kind === 'admin') return true;
  return runnerPathPrefixes.some((prefix) => path.startsWith(prefix));
}

/** The calling runner; throws ForbiddenError when the caller is not a runner (these routes act as it). */
export function requireRunner(c: Context<HubEnv>): Runner {
  const principal = c.get('principal');
  if (principal.kind !== 'runner') {
    throw new ForbiddenError('this route acts as the calling runner: use a runner token');
  }
  return principal.runner;
}
