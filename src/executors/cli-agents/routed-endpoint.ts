/**
 * How an adapter reads the activation's routed model endpoint: every CLI is given the same three facts
 * (the assignment, the base URL to use and the key) and turns them into its own settings.
 */
import type { ModelAssignment } from '../../core/model-endpoints.ts';
import type { CliActivation } from './cli-agent-adapter.ts';

/** Turns a routed endpoint into a CLI's settings; `baseUrl` is SDK style (usually ending in `/v1`). */
export type EndpointSettings<T> = (model: ModelAssignment, baseUrl: string, apiKey: string | undefined) => T;

/**
 * What `settings` makes of the activation's model endpoint, with the activation's base URL (the endpoint's
 * own when it has none); undefined when no model is assigned.
 */
export function routedEndpoint<T>(activation: CliActivation, settings: EndpointSettings<T>): T | undefined {
  const model = activation.model;
  return model ? settings(model, activation.baseUrl ?? model.endpoint.baseUrl, activation.apiKey) : undefined;
}
