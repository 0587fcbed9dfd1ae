/**
 * How Goose reaches a routed model endpoint: the provider name and the variables its providers read. Goose
 * reads every setting from the environment before its config file (`Config::get_param` / `get_secret`).
 * Sources (aaif-goose/goose, formerly block/goose, read in its code, not run here):
 * - `crates/goose/src/providers/openai.rs`: `OPENAI_HOST` (env first, default https://api.openai.com),
 *   `OPENAI_BASE_PATH` (default `v1/chat/completions`), `OPENAI_API_KEY` (optional: no key, no auth header),
 *   `OPENAI_CUSTOM_HEADERS` (`name=value,name=value`);
 * - `crates/goose/src/providers/anthropic.rs`: `ANTHROPIC_HOST` (it posts to `v1/messages`), `ANTHROPIC_API_KEY`;
 * - `crates/goose/src/providers/google_def.rs`: `GOOGLE_HOST`, `GOOGLE_API_KEY`;
 * - `GOOSE_PROVIDER`, `GOOSE_MODEL`; `GOOSE_FAST_MODEL` (the model of Goose's side calls: session naming,
 *   compaction; by default a provider's small model, which a Warren endpoint may not serve);
 *   `GOOSE_CONTEXT_LIMIT` (when Goose compacts the conversation).
 */
import type { ModelAssignment } from '../../../core/model-endpoints.ts';

/** The variables that point Goose at `model`'s endpoint (`baseUrl` is its SDK-style base URL). */
export function gooseEndpointEnv(
  model: ModelAssignment,
  baseUrl: string,
  apiKey: string | undefined,
): Record<string, string> {
  const common: Record<string, string> = {
    GOOSE_MODEL: model.model,
    GOOSE_FAST_MODEL: model.model,
    ...(model.contextWindow ? { GOOSE_CONTEXT_LIMIT: String(model.contextWindow) } : {}),
  };
  const url = new URL(baseUrl);
  const pathname = url.pathname.replace(/\/+$/, '');
  switch (model.endpoint.provider) {
    case 'anthropic':
      return {
        ...common,
        GOOSE_PROVIDER: 'anthropic',
        // Goose appends v1/messages itself.
        ANTHROPIC_HOST: `${url.origin}${pathname.replace(/\/v1$/, '')}`,
        ...(apiKey ? { ANTHROPIC_API_KEY: apiKey } : {}),
      };
    case 'google':
      return {
        ...common,
        GOOSE_PROVIDER: 'google',
        // Goose appends v1beta/models/… itself.
        GOOGLE_HOST: `${url.origin}${pathname.replace(/\/v1(?:beta)?$/, '')}`,
        ...(apiKey ? { GOOGLE_API_KEY: apiKey } : {}),
      };
    case 'openai':
    case 'openai-compatible': {
      const headers = Object.entries(model.endpoint.headers ?? {});
      return {
        ...common,
        GOOSE_PROVIDER: 'openai',
        // The host is the origin only and the whole path goes in the base path, so a prefix before /v1
        // (a proxy's /api/v1) survives however Goose joins the two.
        OPENAI_HOST: url.origin,
        OPENAI_BASE_PATH: `${pathname.replace(/^\//, '')}${pathname === '' ? '' : '/'}chat/completions`,
        ...(apiKey ? { OPENAI_API_KEY: apiKey } : {}),
        ...(headers.length > 0
          ? { OPENAI_CUSTOM_HEADERS: headers.map(([name, value]) => `${name}=${value}`).join(',') }
          : {}),
      };
    }
  }
}
