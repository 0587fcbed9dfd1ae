/**
 * Model endpoints: the places Warren's agents call models, with the models each offers, their tiers and
 * prices. An endpoint's API key is never part of it: only the name of the environment variable or the path
 * of the file holding the key, which whoever calls the model (the hub's health check, a runner) reads
 * locally.
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { modelIdSchema, modelSlugSchema } from './model-selector.ts';

/**
 * Wire protocols an endpoint speaks.
 * - `anthropic`: the Anthropic Messages API (`x-api-key`).
 * - `openai`: the OpenAI API (`Authorization: Bearer`).
 * - `openai-compatible`: any server speaking OpenAI's chat API (Ollama, vLLM, LiteLLM, OpenRouter, ...).
 * - `google`: the Gemini API (`x-goog-api-key`).
 */
export const MODEL_PROVIDERS = ['anthropic', 'openai', 'openai-compatible', 'google'] as const;
/** A wire protocol; see {@link MODEL_PROVIDERS}. */
export type ModelProvider = (typeof MODEL_PROVIDERS)[number];

/** Upper bounds of an endpoint's configuration. */
export const ENDPOINT_LIMITS = {
  /** why: a hundred models is more than any provider's useful catalogue for coding. */
  models: 100,
  /** why: a few custom headers (organisation, project, routing hints) is all any provider asks for. */
  headers: 32,
  /** why: far above any real price per million tokens; catches a price typed per token by mistake. */
  pricePerMillionUsd: 10_000,
  /** why: above every context window offered today (a few million tokens) with room to grow. */
  contextWindow: 100_000_000,
} as const;

/** Header names that carry credentials; they belong in `apiKeyEnv` / `apiKeyFile`, never in `headers`. */
const credentialHeaderNames = new Set(['authorization', 'x-api-key', 'x-goog-api-key', 'api-key', 'cookie']);

/** One model an endpoint offers, with its tier and prices. */
export const endpointModelSchema = z.strictObject({
  /** The model id as the endpoint knows it. */
  id: modelIdSchema,
  /** The tier this model serves, such as `cheap`, `frontier` or `local`; tasks may ask for a tier. */
  tier: modelSlugSchema.optional(),
  /** Dollars per million input tokens, for the cost ledger. */
  inputPricePerMillionUsd: z.number().min(0).max(ENDPOINT_LIMITS.pricePerMillionUsd),
  /** Dollars per million output tokens. */
  outputPricePerMillionUsd: z.number().min(0).max(ENDPOINT_LIMITS.pricePerMillionUsd),
  /** Largest prompt plus answer, in tokens. */
  contextWindow: z.number().int().min(1).max(ENDPOINT_LIMITS.contextWindow).optional(),
});
/** One model of an endpoint. */
export type EndpointModel = z.infer<typeof endpointModelSchema>;

/** A model endpoint as configured (config file or `PUT /v1/endpoints/:name`). */
export const modelEndpointSchema = z
  .strictObject({
    /** Unique name; pinned selectors are `<name>/<model-id>`. */
    name: modelSlugSchema,
    provider: z.enum(MODEL_PROVIDERS),
    /** The SDK-style base URL, e.g. `https://api.anthropic.com/v1`; a trailing `/` is dropped. */
    baseUrl: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .max(2_000)
      .transform((url) => url.replace(/\/+$/, '')),
    /** Name of the environment variable holding the API key (never the key itself). */
    apiKeyEnv: z
      .string()
      .max(128)
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name such as ANTHROPIC_API_KEY')
      .optional(),
    /** Absolute path of a file holding the API key. */
    apiKeyFile: z
      .string()
      .max(4_000)
      .refine((path) => isAbsolute(path), 'must be an absolute path')
      .optional(),
    /** Extra request headers; never credentials (they are stored and shown). */
    headers: z
      .record(
        z
          .string()
          .min(1)
          .max(100)
          .regex(/^[A-Za-z0-9-]+$/, 'must be a header name (letters, digits and -)')
          .refine(
            (name) => !credentialHeaderNames.has(name.toLowerCase()),
            'must not carry credentials: put the key in apiKeyEnv or apiKeyFile',
          ),
        z.string().max(1_000),
      )
      .refine((headers) => Object.keys(headers).length <= ENDPOINT_LIMITS.headers, {
        message: `must have at most ${ENDPOINT_LIMITS.headers} headers`,
      })
      .optional(),
    models: z.array(endpointModelSchema).min(1).max(ENDPOINT_LIMITS.models),
  })
  .superRefine((endpoint, context) => {
    if (endpoint.apiKeyEnv !== undefined && endpoint.apiKeyFile !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['apiKeyFile'],
        message: 'give apiKeyEnv or apiKeyFile, not both',
      });
    }
    const seen = new Set<string>();
    for (const [index, model] of endpoint.models.entries()) {
      if (seen.has(model.id)) {
        context.addIssue({
          code: 'custom',
          path: ['models', index, 'id'],
          message: `model "${model.id}" is listed twice`,
        });
      }
      seen.add(model.id);
    }
  });
/** A model endpoint, validated (base URL without a trailing `/`). */
export type ModelEndpoint = z.output<typeof modelEndpointSchema>;
/** A model endpoint as a client or config file may write it. */
export type ModelEndpointInput = z.input<typeof modelEndpointSchema>;

/**
 * What the hub knows of an endpoint's reachability.
 * - `unknown`: not checked yet.
 * - `up`: the last check got a 2xx answer to its models listing.
 * - `down`: the last check failed (`lastError` says how); tasks wait for another endpoint or its return.
 */
export const ENDPOINT_STATUSES = ['unknown', 'up', 'down'] as const;
/** An endpoint's reachability; see {@link ENDPOINT_STATUSES}. */
export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];

/**
 * Attempt error kinds that say a model endpoint could not serve (no connection, or a retryable error status
 * such as 503 or 429). When an attempt of a task with a model selector fails with one, the hub checks the
 * endpoints behind the selector at once instead of waiting for their next scheduled check, so that the
 * task's retry waits for a healthy endpoint. The agent executor reports these kinds
 * (`src/executors/agent/call-model.ts`).
 */
export const ENDPOINT_OUTAGE_ERROR_KINDS: readonly string[] = ['model_unreachable', 'model_unavailable'];

/** An endpoint's health as the hub's checker last saw it. */
export interface EndpointHealth {
  status: EndpointStatus;
  /** When the last check ended (ISO time). */
  lastCheckedAt?: string;
  /** Why the last check failed: a status code or a network error, never a key. */
  lastError?: string;
  /** When the next check is due (ISO time). */
  nextCheckAt?: string;
}

/**
 * The model a claimed task runs on: where to call it, how to find the key (never the key itself) and its
 * prices for the cost ledger.
 */
export interface ModelAssignment {
  endpoint: {
    name: string;
    provider: ModelProvider;
    baseUrl: string;
    apiKeyEnv?: string;
    apiKeyFile?: string;
    headers?: Record<string, string>;
  };
  /** The model id at the endpoint. */
  model: string;
  pricing: { inputPerMillionUsd: number; outputPerMillionUsd: number };
  /** The model's context window in tokens, when configured. */
  contextWindow?: number;
}
