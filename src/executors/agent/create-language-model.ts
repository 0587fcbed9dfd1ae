/**
 * Builds the AI SDK language model for the endpoint and model the hub assigned to an attempt.
 */
import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { ModelAssignment } from '../../core/model-endpoints.ts';
import { readEndpointApiKey, resolveApiKeyOnRunner, type ApiKeyResolver } from '../endpoint-api-key.ts';

/** The result of {@link createLanguageModel}: the model, or why it cannot be built. */
export type LanguageModelResult =
  { ok: true; model: LanguageModelV3; apiKey?: string } | { ok: false; message: string };

/**
 * Builds the model. The key is always passed explicitly: the providers would otherwise fall back to
 * `ANTHROPIC_API_KEY` / `OPENAI_API_KEY` in the runner's environment, and an endpoint must use only the key
 * it was configured with.
 */
export async function createLanguageModel(
  assignment: ModelAssignment,
  resolveApiKey: ApiKeyResolver = resolveApiKeyOnRunner,
): Promise<LanguageModelResult> {
  const { endpoint } = assignment;
  const key = await readEndpointApiKey(endpoint, resolveApiKey);
  if (!key.ok) return key;
  const { apiKey } = key;
  const common = { baseURL: endpoint.baseUrl, headers: endpoint.headers };
  switch (endpoint.provider) {
    case 'anthropic':
      return { ok: true, apiKey, model: createAnthropic({ ...common, apiKey })(assignment.model) };
    case 'openai':
      return { ok: true, apiKey, model: createOpenAI({ ...common, apiKey })(assignment.model) };
    case 'google':
      return { ok: true, apiKey, model: createGoogleGenerativeAI({ ...common, apiKey })(assignment.model) };
    case 'openai-compatible':
      return {
        ok: true,
        apiKey,
        model: createOpenAICompatible({
          ...common,
          name: endpoint.name,
          ...(apiKey ? { apiKey } : {}),
          // why: without it, streamed chat completions carry no token usage and the ledger would read zero.
          includeUsage: true,
        })(assignment.model),
      };
  }
}
