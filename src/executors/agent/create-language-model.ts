/**
 * Builds the AI SDK language model for the endpoint and model the hub assigned to an attempt.
 */
import { readFile } from 'node:fs/promises';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { ModelAssignment } from '../../core/model-endpoints.ts';

/** Where an endpoint's API key comes from: the runner's environment, or a secret file on the runner. */
export type ApiKeySource = Pick<
  ModelAssignment['endpoint'],
  'name' | 'apiKeyEnv' | 'apiKeyFile' | 'provider'
>;

/** Reads an API key on the runner. Returns undefined for endpoints configured without a key. */
export type ApiKeyResolver = (endpoint: ApiKeySource) => Promise<string | undefined>;

/** The result of {@link createLanguageModel}: the model, or why it cannot be built. */
export type LanguageModelResult =
  { ok: true; model: LanguageModelV3; apiKey?: string } | { ok: false; message: string };

/**
 * The default resolver: `apiKeyEnv` is read from the runner's own environment (never from the task's),
 * `apiKeyFile` from disk, trimmed.
 */
export const resolveApiKeyOnRunner: ApiKeyResolver = async (endpoint) => {
  if (endpoint.apiKeyEnv) return process.env[endpoint.apiKeyEnv] || undefined;
  if (endpoint.apiKeyFile) return (await readFile(endpoint.apiKeyFile, 'utf8')).trim() || undefined;
  return undefined;
};

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
  let apiKey: string | undefined;
  try {
    apiKey = await resolveApiKey(endpoint);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return {
      ok: false,
      message: `endpoint "${endpoint.name}": its API key file could not be read (${reason})`,
    };
  }
  const source = endpoint.apiKeyEnv
    ? `environment variable ${endpoint.apiKeyEnv}`
    : endpoint.apiKeyFile
      ? `file ${endpoint.apiKeyFile}`
      : undefined;
  if (!apiKey && endpoint.provider !== 'openai-compatible') {
    return {
      ok: false,
      message: source
        ? `endpoint "${endpoint.name}": the API key is missing on this runner (${source} is empty or unset)`
        : `endpoint "${endpoint.name}" (${endpoint.provider}) has no apiKeyEnv or apiKeyFile`,
    };
  }
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
