/**
 * The Hono environment of the hub's routes: what middleware puts on the request context.
 */
import type { Principal } from './auth.ts';

/** Context variables set by the hub's middleware. */
export interface HubEnv {
  Variables: {
    /** Set by the request-id middleware; echoed in `X-Request-Id` and in 5xx messages. */
    requestId: string;
    /** Set by the auth middleware on `/v1/*` routes. */
    principal: Principal;
  };
}
