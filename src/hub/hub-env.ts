/**
 * The Hono environment of the hub's routes: what middleware puts on the request context.
 */
import type { Principal } from './auth.ts';

/** Context variables set by the hub's middleware. */
export interface HubEnv {
  Variables: {
    /**
     * Set on first use by `requestIdOf` (`request-id.ts`); echoed in `X-Request-Id` on error answers and in
     * 5xx messages. Undefined until then.
     */
    requestId?: string;
    /** Set by the auth middleware on `/v1/*` routes. */
    principal: Principal;
    /** The largest body the route accepts, in bytes; set by the body-limit check on `/v1/*` routes. */
    bodyLimitBytes: number;
  };
}
