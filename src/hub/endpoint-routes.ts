/**
 * The model endpoint routes (admin): list with health, create or replace, delete. Endpoints are kept in
 * the store; the health checker is told of every change and checks a new or changed endpoint at once.
 */
import type { Hono } from 'hono';
import type { EndpointList, EndpointPut } from '../core/api.ts';
import { InvalidInputError, NotFoundError } from '../core/errors.ts';
import { modelEndpointSchema } from '../core/model-endpoints.ts';
import { modelSlugSchema } from '../core/model-selector.ts';
import { parseInput } from '../core/parse-input.ts';
import type { HubDependencies } from './hub-dependencies.ts';
import type { HubEnv } from './hub-env.ts';
import { readJsonBody } from './read-json-body.ts';

/** Registers `/v1/endpoints` routes. */
export function registerEndpointRoutes(app: Hono<HubEnv>, { store, endpointHealth }: HubDependencies): void {
  app.get('/v1/endpoints', (c) => {
    const answer: EndpointList = { endpoints: endpointHealth.list() };
    return c.json(answer);
  });

  app.put('/v1/endpoints/:name', async (c) => {
    const name = parseInput(modelSlugSchema, c.req.param('name'), 'name');
    const body = await readJsonBody(c);
    if (typeof body === 'object' && body !== null && !Array.isArray(body) && 'name' in body) {
      if (body.name !== name) {
        throw new InvalidInputError([
          { field: 'name', reason: `must be "${name}" as in the URL, or left out` },
        ]);
      }
    }
    const input =
      typeof body === 'object' && body !== null && !Array.isArray(body) ? { ...body, name } : body;
    const endpoint = parseInput(modelEndpointSchema, input);
    const { created } = await store.upsertEndpoint(endpoint);
    endpointHealth.set(endpoint);
    const answer: EndpointPut = {
      endpoint: endpointHealth.get(name) ?? { ...endpoint, status: 'unknown' },
      created,
    };
    return c.json(answer, created ? 201 : 200);
  });

  app.delete('/v1/endpoints/:name', async (c) => {
    const name = c.req.param('name');
    const deleted = await store.deleteEndpoint(name);
    endpointHealth.remove(name);
    if (!deleted) throw new NotFoundError('endpoint', name);
    return c.body(null, 204);
  });
}
