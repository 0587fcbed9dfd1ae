/**
 * Which protocol and endpoint a request to the scripted model server is for.
 *
 * Every route is served with and without its version prefix (`/v1/messages` and `/messages`), for
 * clients whose base URL already ends in `/v1`. `GET /v1/models` is shared by Anthropic and OpenAI:
 * Anthropic clients send `anthropic-version` or `x-api-key`, OpenAI clients a bearer token.
 */
import type { ModelProtocol } from './recorded-model-request.ts';
import type { RouteFacts } from './wire-protocol.ts';

/** The endpoint a request is for. */
export type Route =
  /** A generation request, played against the script and recorded. */
  | { kind: 'generate'; protocol: ModelProtocol; facts: RouteFacts }
  /** Anthropic `count_tokens` or Gemini `countTokens`: answered with an estimate, not recorded. */
  | { kind: 'count-tokens'; protocol: 'anthropic' | 'gemini'; facts: RouteFacts }
  /** The vendor's model listing. */
  | { kind: 'list-models'; protocol: ModelProtocol }
  /** One model of the listing (any id is served). */
  | { kind: 'get-model'; protocol: ModelProtocol; model: string }
  /** Nothing here; answered 404 in the shape of the protocol the headers suggest. */
  | { kind: 'not-found'; protocol: ModelProtocol };

const VERSION_PREFIX = /^\/(v1beta|v1alpha|v1)(\/.*)$/;
const GEMINI_ACTION =
  /^\/((?:models|tunedModels)\/[^:/]+):(generateContent|streamGenerateContent|countTokens)$/;

/** Routes a request by method, URL and (lower-cased) headers. */
export function routeRequest(method: string, url: URL, headers: Record<string, string>): Route {
  const pathname = url.pathname.replace(/\/+$/, '') || '/';
  const versioned = VERSION_PREFIX.exec(pathname);
  const version = versioned?.[1];
  const rest = versioned?.[2] ?? pathname;
  const flavour = guessProtocol(version, url, headers);

  const geminiAction = GEMINI_ACTION.exec(rest);
  if (method === 'POST' && geminiAction) {
    const model = geminiAction[1]!.replace(/^models\//, '');
    const action = geminiAction[2];
    if (action === 'countTokens') return { kind: 'count-tokens', protocol: 'gemini', facts: { model } };
    return {
      kind: 'generate',
      protocol: 'gemini',
      facts: { model, stream: action === 'streamGenerateContent' },
    };
  }
  if (method === 'POST') {
    switch (rest) {
      case '/messages':
        return { kind: 'generate', protocol: 'anthropic', facts: {} };
      case '/messages/count_tokens':
        return { kind: 'count-tokens', protocol: 'anthropic', facts: {} };
      case '/chat/completions':
        return { kind: 'generate', protocol: 'openai-chat', facts: {} };
      case '/responses':
        return { kind: 'generate', protocol: 'openai-responses', facts: {} };
    }
  }
  if (method === 'GET' && rest === '/models') return { kind: 'list-models', protocol: flavour };
  const modelPath = /^\/models\/(.+)$/.exec(rest);
  if (method === 'GET' && modelPath) {
    return { kind: 'get-model', protocol: flavour, model: decodeURIComponent(modelPath[1]!) };
  }
  return { kind: 'not-found', protocol: flavour };
}

/** The protocol a request without a protocol-specific path most likely speaks. */
function guessProtocol(
  version: string | undefined,
  url: URL,
  headers: Record<string, string>,
): ModelProtocol {
  if (version === 'v1beta' || version === 'v1alpha') return 'gemini';
  if (headers['x-goog-api-key'] !== undefined || url.searchParams.has('key')) return 'gemini';
  if (headers['anthropic-version'] !== undefined || headers['x-api-key'] !== undefined) return 'anthropic';
  return 'openai-chat';
}
