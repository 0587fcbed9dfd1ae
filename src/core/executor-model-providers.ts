/**
 * Which model providers each CLI agent can talk to. The agent loop speaks every provider; a CLI agent
 * speaks only its vendor's protocol (Claude Code: Anthropic Messages; Codex: OpenAI Responses; Gemini CLI:
 * the Gemini API) or the ones its own provider configuration supports. Routing uses this to give a task
 * only a model its executor can call.
 */
import type { ModelProvider } from './model-endpoints.ts';

/** Providers by executor name; an executor not listed takes any provider. */
export const EXECUTOR_MODEL_PROVIDERS: Readonly<Record<string, readonly ModelProvider[]>> = {
  'claude-code': ['anthropic'],
  codex: ['openai'],
  'gemini-cli': ['google'],
  opencode: ['openai-compatible', 'openai', 'anthropic', 'google'],
  aider: ['openai', 'openai-compatible', 'anthropic'],
  goose: ['openai', 'openai-compatible', 'anthropic', 'google'],
};

/** The providers `executor` can call, or undefined when it can call any. */
export function modelProvidersOf(executor: string): readonly ModelProvider[] | undefined {
  return Object.hasOwn(EXECUTOR_MODEL_PROVIDERS, executor) ? EXECUTOR_MODEL_PROVIDERS[executor] : undefined;
}
