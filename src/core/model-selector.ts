/**
 * Model selectors: how a task (or the routing config) names the model it wants, and the runner
 * capability that stands for a selector.
 *
 * A selector is either a **pin**, `endpoint/model-id`, naming one exact model of one endpoint, or a
 * **tier**, such as `cheap` or `frontier`, naming any model that an endpoint's configuration puts in that
 * tier. A task with a selector requires the capability `model:<selector>`; at claim time the hub offers
 * runners the capabilities of every model of every endpoint that is up, so such a task is claimed only
 * while a model it may use is reachable.
 */
import { z } from 'zod';
import { sha256 } from './sha256.ts';

/** An endpoint name or a tier: lowercase letters, digits, `_` and `-`. */
export const modelSlugSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(
    /^[a-z0-9][a-z0-9_-]*$/,
    'must be lowercase letters, digits, _ and - (starting with a letter or digit)',
  );

/** A model id at an endpoint, e.g. `claude-sonnet-4-5`, `llama3.1:8b`, `models/gemini-2.5-pro`. */
export const modelIdSchema = z.string().min(1).max(200).regex(/^\S+$/, 'must not contain spaces');

/** A model selector: a tier (`cheap`) or a pin (`endpoint/model-id`). */
export const modelSelectorSchema = z
  .string()
  .min(1)
  .max(265)
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,63}(?:\/\S{1,200})?$/,
    'must be a tier such as "cheap" or a pinned model "endpoint/model-id"',
  );

/** A model selector, e.g. `frontier` or `anthropic/claude-sonnet-4-5`. */
export type ModelSelector = z.infer<typeof modelSelectorSchema>;

/** A selector split into its parts: a pin names an endpoint and a model, a tier only itself. */
export type ParsedModelSelector =
  { kind: 'pin'; endpoint: string; model: string } | { kind: 'tier'; tier: string };

/** Splits a selector at its first `/`: before it the endpoint, after it the model id (which may hold `/`). */
export function parseModelSelector(selector: string): ParsedModelSelector {
  const slash = selector.indexOf('/');
  if (slash < 0) return { kind: 'tier', tier: selector };
  return { kind: 'pin', endpoint: selector.slice(0, slash), model: selector.slice(slash + 1) };
}

// why: capabilities are at most 100 characters (see `capabilityName` in types.ts).
const maxCapabilityLength = 100;
// why: 16 hex digits (64 bits) of a hash keep two long selectors apart in practice.
const hashSuffixLength = 16;

/**
 * The capability a task with this selector requires, and that the hub offers for a model that is up:
 * `model:` and the selector in lower case, with characters a capability may not hold replaced by `-`. A
 * result longer than a capability may be is cut and ended with a hash of the whole selector. Deterministic,
 * and the same for selectors that differ only in case.
 */
export function modelCapabilityOf(selector: string): string {
  const lower = selector.toLowerCase();
  const capability = `model:${lower.replace(/[^a-z0-9._:/-]/g, '-')}`;
  if (capability.length <= maxCapabilityLength) return capability;
  const hash = sha256(lower).toString('hex').slice(0, hashSuffixLength);
  return `${capability.slice(0, maxCapabilityLength - hashSuffixLength - 1)}-${hash}`;
}
