/**
 * How Gemini CLI reaches a routed model endpoint. Gemini CLI talks to the Gemini API through
 * `@google/genai`, which joins `GOOGLE_GEMINI_BASE_URL` + `/<api version>/models/<model>:<action>`; the
 * API version is `v1beta` unless `GOOGLE_GENAI_API_VERSION` says otherwise. Warren's endpoint base URL is
 * SDK style (`https://generativelanguage.googleapis.com/v1beta`), so the version is split off it. The key
 * goes in `GEMINI_API_KEY` (sent as `x-goog-api-key`) and the endpoint's extra headers in
 * `GEMINI_CLI_CUSTOM_HEADERS` (`Name: value, Name: value`). Source: `createContentGenerator` in
 * `@google/gemini-cli-core` and `docs/reference/configuration.md` of @google/gemini-cli 0.61.
 */
import type { ModelAssignment } from '../../../core/model-endpoints.ts';

// why: the version segments the Gemini API serves; anything else in the path is a proxy's own prefix.
const apiVersionSuffix = /\/(v1|v1beta|v1alpha)$/;
// why: Gemini CLI refuses to start in gemini-api-key mode without a key; an endpoint that needs none
// (a local proxy) gets this stand-in, which it ignores.
const placeholderKey = 'warren-endpoint-without-key';

/** The variables that point Gemini CLI at `model`'s endpoint (`baseUrl` is its SDK-style base URL). */
export function geminiCliEndpointEnv(
  model: ModelAssignment,
  baseUrl: string,
  apiKey: string | undefined,
): Record<string, string> {
  const url = new URL(baseUrl);
  const pathname = url.pathname.replace(/\/+$/, '');
  const version = apiVersionSuffix.exec(pathname)?.[1];
  const env: Record<string, string> = {
    GOOGLE_GEMINI_BASE_URL: `${url.origin}${version ? pathname.slice(0, -version.length - 1) : pathname}`,
    GEMINI_API_KEY: apiKey ?? placeholderKey,
  };
  // v1beta is the SDK's default; any other version must be asked for.
  if (version !== undefined && version !== 'v1beta') env.GOOGLE_GENAI_API_VERSION = version;
  const headers = Object.entries(model.endpoint.headers ?? {});
  if (headers.length > 0) {
    env.GEMINI_CLI_CUSTOM_HEADERS = headers.map(([name, value]) => `${name}: ${value}`).join(', ');
  }
  return env;
}
