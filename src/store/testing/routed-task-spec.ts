/**
 * Routed task specs for tests and benches that enqueue straight into a store, without the hub's routing.
 */
import { taskSpecSchema, type RoutedTaskSpec, type TaskSpecInput } from '../../core/types.ts';

/**
 * Parses `input` (defaults applied) and settles its route as given, without routing: the executor defaults
 * to `shell`, the complexity to `standard`, and the reason says the route was set by hand. A model selector
 * is kept as given. The store stores whatever route it is handed; routing is the hub's job.
 */
export function routedTaskSpec(input: TaskSpecInput): RoutedTaskSpec {
  const { executor, complexity, model, ...rest } = taskSpecSchema.parse(input);
  const routed: RoutedTaskSpec = {
    ...rest,
    executor: executor ?? 'shell',
    complexity: complexity ?? 'standard',
    complexityReason: 'set by hand',
  };
  if (model !== undefined) routed.model = model;
  return routed;
}
