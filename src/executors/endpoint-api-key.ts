/**
 * Reading a model endpoint's API key on the runner, for every executor that calls models (the agent loop,
 * CLI agents). The key never travels with the task: the endpoint names an environment variable of the
 * runner or a secret file, read here.
 */
import { readFile } from 'node:fs/promises';
import type { ModelAssignment } from '../core/model-endpoints.ts';

/** Where an endpoint's API key comes from: the runner's environment, or a secret file on the runner. */
export type ApiKeySource = Pick<
  ModelAssignment['endpoint'],
  'name' | 'apiKeyEnv' | 'apiKeyFile' | 'provider'
>;

/** Reads an API key on the runner. Returns undefined for endpoints configured without a key. */
export type ApiKeyResolver = (endpoint: ApiKeySource) => Promise<string | undefined>;

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
 * The endpoint's key, or a message saying why it is missing. Only `openai-compatible` endpoints (local
 * servers such as Ollama) may go without one.
 */
export async function readEndpointApiKey(
  endpoint: ApiKeySource,
  resolveApiKey: ApiKeyResolver = resolveApiKeyOnRunner,
): Promise<{ ok: true; apiKey?: string } | { ok: false; message: string }> {
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
  return apiKey ? { ok: true, apiKey } : { ok: true };
}
