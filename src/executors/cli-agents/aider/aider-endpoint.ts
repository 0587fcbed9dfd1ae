/**
 * How Aider reaches a routed model endpoint. Aider calls models through LiteLLM, so the endpoint becomes a
 * LiteLLM model name (`openai/<id>`, `anthropic/<id>`) plus the environment variables LiteLLM reads for
 * the base URL and key. Sources (read in the projects' code, not run here):
 * - aider `aider/args.py`: `--model`, `--openai-api-base` (sets `OPENAI_API_BASE`), `--openai-api-key`;
 * - LiteLLM `litellm/main.py`, OpenAI branch: `api_base or OPENAI_BASE_URL or OPENAI_API_BASE`, key from
 *   `OPENAI_API_KEY`; the OpenAI SDK appends `/chat/completions` to an SDK-style base (`…/v1`);
 * - LiteLLM `litellm/main.py`, Anthropic branch: `ANTHROPIC_API_BASE or ANTHROPIC_BASE_URL`, and it appends
 *   `/v1/messages` to a base that does not end so; key from `ANTHROPIC_API_KEY`.
 * The key travels only in the environment and the private env file, never in argv: Aider writes its
 * whole command line into the chat history file.
 */
import type { ModelAssignment } from '../../../core/model-endpoints.ts';

/** The LiteLLM model name, the variables that point LiteLLM at the endpoint, and Aider's model metadata. */
export interface AiderEndpoint {
  /** The value of `--model`. */
  model: string;
  /** Endpoint variables (base URL, key). */
  env: Record<string, string>;
  /**
   * Aider's model metadata for this model (LiteLLM's format): context window and the endpoint's prices, so
   * Aider neither warns about an unknown model nor fetches LiteLLM's price list from the internet.
   */
  metadata: Record<string, Record<string, string | number>>;
  /** Aider's model settings (extra request headers), when the endpoint has headers. */
  settings?: Array<Record<string, unknown>>;
}

// why: LiteLLM's OpenAI client refuses to start without a key; keyless local servers (Ollama, vLLM) ignore
// the header, so a placeholder lets them work.
const keylessPlaceholder = 'warren-no-key';

/** The LiteLLM settings for `model` at `baseUrl` (the endpoint's SDK-style base URL). */
export function aiderEndpoint(
  model: ModelAssignment,
  baseUrl: string,
  apiKey: string | undefined,
): AiderEndpoint {
  const { provider } = model.endpoint;
  const litellmProvider = provider === 'anthropic' ? 'anthropic' : 'openai';
  const name = `${litellmProvider}/${model.model}`;
  const env: Record<string, string> =
    provider === 'anthropic'
      ? {
          // LiteLLM appends /v1/messages itself: give it the root, without the SDK-style /v1.
          ANTHROPIC_API_BASE: baseUrl.replace(/\/v1\/?$/, ''),
          ...(apiKey ? { ANTHROPIC_API_KEY: apiKey } : {}),
        }
      : {
          // Both names: LiteLLM reads OPENAI_BASE_URL first, Aider's own flag sets OPENAI_API_BASE.
          OPENAI_BASE_URL: baseUrl,
          OPENAI_API_BASE: baseUrl,
          OPENAI_API_KEY: apiKey ?? keylessPlaceholder,
        };
  const info: Record<string, string | number> = {
    litellm_provider: litellmProvider,
    mode: 'chat',
    input_cost_per_token: model.pricing.inputPerMillionUsd / 1_000_000,
    output_cost_per_token: model.pricing.outputPerMillionUsd / 1_000_000,
    ...(model.contextWindow ? { max_input_tokens: model.contextWindow } : {}),
  };
  const headers = model.endpoint.headers;
  return {
    model: name,
    env,
    metadata: { [name]: info },
    ...(headers && Object.keys(headers).length > 0
      ? { settings: [{ name, extra_params: { extra_headers: headers } }] }
      : {}),
  };
}
