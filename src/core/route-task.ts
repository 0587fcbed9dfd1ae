/**
 * Routing: settling a new task's complexity, executor and model selector from its spec and the routing
 * config. Pure; the hub applies it when a task is created.
 */
import { InvalidInputError } from './errors.ts';
import { estimateComplexity, hasShellCommand } from './estimate-complexity.ts';
import { modelProvidersOf } from './executor-model-providers.ts';
import type { ModelProvider } from './model-endpoints.ts';
import { parseModelSelector } from './model-selector.ts';
import type { RoutingConfig } from './routing-config.ts';
import type { RoutedTaskSpec, TaskRoute, TaskSpec } from './types.ts';

/** The executor that runs commands and calls no model. */
const shellExecutor = 'shell';

/**
 * Routes a task:
 * 1. complexity: the task's own ("given by the task"), else {@link estimateComplexity}'s, with its reason;
 * 2. executor: the task's pin, else its complexity's route; a route to `shell` needs `executorInput.run`,
 *    so a task without a command takes the `standard` route instead, and the reason says so;
 * 3. model, for every executor but `shell`: the task's pin, else its seniority's selector, else the route's
 *    model (the `standard` route's when the route used has none).
 *
 * Throws InvalidInputError when the chosen selector is not in `availableSelectors` (what the configured
 * endpoints offer, see `offeredModelSelectors`), naming the field it came from: `model`, `seniority` or
 * `complexity`. An endpoint that is configured but down is fine: the task waits for it.
 *
 * A CLI agent executor speaks only some providers (see `EXECUTOR_MODEL_PROVIDERS`); for it the selector
 * must be offered by an endpoint of those providers (`selectorsFor`). When its selector was not pinned by
 * the task and no such endpoint offers it, the task runs without a model assignment: the CLI then uses its
 * own default model and whatever credentials the task's grants give it.
 */
export function routeTask(
  spec: TaskSpec,
  routing: RoutingConfig,
  availableSelectors: ReadonlySet<string>,
  selectorsFor?: (providers: readonly ModelProvider[]) => ReadonlySet<string>,
): TaskRoute {
  const estimate =
    spec.complexity === undefined
      ? estimateComplexity(spec)
      : { complexity: spec.complexity, reason: 'given by the task' };
  const { complexity } = estimate;
  let reason = estimate.reason;
  let route = routing.complexity[complexity];
  let executor = spec.executor;
  if (executor === undefined) {
    if (
      route.executor === shellExecutor &&
      !hasShellCommand(spec.executorInput) &&
      complexity !== 'standard'
    ) {
      route = routing.complexity.standard;
      reason += `; the ${complexity} route's shell executor needs executorInput.run, so it takes the standard route (${route.executor})`;
    }
    executor = route.executor;
  }

  const routed: TaskRoute = { executor, complexity, complexityReason: reason };
  if (executor === shellExecutor) return routed;
  let field: 'model' | 'seniority' | 'complexity';
  let selector: string | undefined;
  if (spec.model !== undefined) {
    field = 'model';
    selector = spec.model;
  } else if (spec.seniority !== undefined) {
    field = 'seniority';
    selector = routing.seniority[spec.seniority];
  } else {
    field = 'complexity';
    selector = route.model ?? routing.complexity.standard.model;
  }
  if (selector === undefined) return routed;
  const providers = modelProvidersOf(executor);
  const offered = providers && selectorsFor ? selectorsFor(providers) : availableSelectors;
  if (!offered.has(selector)) {
    if (providers && field !== 'model') return routed;
    throw new InvalidInputError([
      { field, reason: unavailableReason(selector, field, complexity, executor, providers) },
    ]);
  }
  routed.model = selector;
  return routed;
}

/** `spec` with its route applied: the routed fields replace the spec's own. */
export function applyRoute(spec: TaskSpec, route: TaskRoute): RoutedTaskSpec {
  const { executor: _executor, complexity: _complexity, model: _model, ...rest } = spec;
  return { ...rest, ...route };
}

/** Why a selector cannot be served, and what to do about it. */
function unavailableReason(
  selector: string,
  field: 'model' | 'seniority' | 'complexity',
  complexity: string,
  executor: string,
  providers: readonly ModelProvider[] | undefined,
): string {
  const parsed = parseModelSelector(selector);
  const speaks = providers ? ` (${executor} speaks ${providers.join(', ')})` : '';
  const missing =
    parsed.kind === 'pin'
      ? `no endpoint${speaks} offers model "${parsed.model}" as "${selector}"; configure it with PUT /v1/endpoints/${parsed.endpoint}`
      : `no endpoint${speaks} offers tier "${selector}"; configure one with PUT /v1/endpoints/<name> (a model with "tier": "${selector}")`;
  const source =
    field === 'model'
      ? ''
      : field === 'seniority'
        ? `the task's seniority asks for "${selector}": `
        : `a ${complexity} task goes to the ${executor} executor on "${selector}": `;
  return `${source}${missing}, or pin an executor (e.g. "executor": "shell")`;
}
