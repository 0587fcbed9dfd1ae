/**
 * Choosing the model a claimed task runs on: the hub resolves a task's selector against the endpoints that
 * are up when the task is claimed, and hands the runner everything it needs to call that model.
 */
import type { ModelAssignment, ModelEndpoint } from './model-endpoints.ts';
import { modelCapabilityOf, parseModelSelector } from './model-selector.ts';

/**
 * Resolves `selector` against `endpoints` (those that are up), or undefined when none fits.
 * - A pin (`endpoint/model-id`) gets that exact model; failing that, a model whose capability is the same
 *   (the selector differs only in case or in characters a capability replaces), so that whatever the claim
 *   matched by capability also resolves.
 * - A tier gets its cheapest model: the lowest input plus output price per million tokens, ties broken by
 *   endpoint name, then model id.
 */
export function resolveModelAssignment(
  selector: string,
  endpoints: readonly ModelEndpoint[],
): ModelAssignment | undefined {
  const parsed = parseModelSelector(selector);
  if (parsed.kind === 'pin') {
    for (const endpoint of endpoints) {
      if (endpoint.name !== parsed.endpoint) continue;
      const model = endpoint.models.find((candidate) => candidate.id === parsed.model);
      if (model) return assignmentOf(endpoint, model);
    }
    const capability = modelCapabilityOf(selector);
    for (const endpoint of endpoints) {
      for (const model of endpoint.models) {
        if (modelCapabilityOf(`${endpoint.name}/${model.id}`) === capability)
          return assignmentOf(endpoint, model);
      }
    }
    return undefined;
  }
  let best: { endpoint: ModelEndpoint; model: ModelEndpoint['models'][number]; price: number } | undefined;
  for (const endpoint of endpoints) {
    for (const model of endpoint.models) {
      if (model.tier !== parsed.tier) continue;
      const price = model.inputPricePerMillionUsd + model.outputPricePerMillionUsd;
      if (
        best === undefined ||
        price < best.price ||
        (price === best.price && compareNames(endpoint.name, model.id, best.endpoint.name, best.model.id) < 0)
      ) {
        best = { endpoint, model, price };
      }
    }
  }
  return best && assignmentOf(best.endpoint, best.model);
}

/** Every selector `endpoints` can serve: each model pinned (`endpoint/model-id`) and each tier named. */
export function offeredModelSelectors(endpoints: readonly ModelEndpoint[]): Set<string> {
  const selectors = new Set<string>();
  for (const endpoint of endpoints) {
    for (const model of endpoint.models) {
      selectors.add(`${endpoint.name}/${model.id}`);
      if (model.tier !== undefined) selectors.add(model.tier);
    }
  }
  return selectors;
}

/** Orders by endpoint name, then model id. */
function compareNames(
  leftEndpoint: string,
  leftModel: string,
  rightEndpoint: string,
  rightModel: string,
): number {
  if (leftEndpoint !== rightEndpoint) return leftEndpoint < rightEndpoint ? -1 : 1;
  if (leftModel === rightModel) return 0;
  return leftModel < rightModel ? -1 : 1;
}

function assignmentOf(endpoint: ModelEndpoint, model: ModelEndpoint['models'][number]): ModelAssignment {
  const assigned: ModelAssignment['endpoint'] = {
    name: endpoint.name,
    provider: endpoint.provider,
    baseUrl: endpoint.baseUrl,
  };
  if (endpoint.apiKeyEnv !== undefined) assigned.apiKeyEnv = endpoint.apiKeyEnv;
  if (endpoint.apiKeyFile !== undefined) assigned.apiKeyFile = endpoint.apiKeyFile;
  if (endpoint.headers !== undefined) assigned.headers = { ...endpoint.headers };
  const assignment: ModelAssignment = {
    endpoint: assigned,
    model: model.id,
    pricing: {
      inputPerMillionUsd: model.inputPricePerMillionUsd,
      outputPerMillionUsd: model.outputPricePerMillionUsd,
    },
  };
  if (model.contextWindow !== undefined) assignment.contextWindow = model.contextWindow;
  return assignment;
}
