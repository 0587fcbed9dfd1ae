/**
 * The PostgreSQL store's model endpoints: upsert, delete and list.
 */
import type { ModelEndpoint } from '../../core/model-endpoints.ts';
import type { ModelEndpointRow } from '../rows/database-schema.ts';
import { parseJsonColumn } from '../rows/parse-json-column.ts';
import type { Store } from '../store.ts';
import type { PostgresStoreContext } from './postgres-store-context.ts';

/** The endpoint methods of a PostgreSQL store. */
export type PostgresEndpointOperations = Pick<Store, 'upsertEndpoint' | 'deleteEndpoint' | 'listEndpoints'>;

/** Creates the endpoint methods on `context`. An endpoint is stored whole, as JSON, under its name. */
export function createPostgresEndpointOperations(context: PostgresStoreContext): PostgresEndpointOperations {
  const { pool, writer } = context;

  return {
    async upsertEndpoint(endpoint) {
      const definition = JSON.stringify(endpoint);
      return writer.write(async (scope) => {
        // xmax is 0 on a freshly inserted row version and not 0 on one written by the DO UPDATE branch.
        const [row] = await scope.client.query<{ created: boolean }>(
          `INSERT INTO model_endpoints (name, definition, created_at, updated_at) VALUES ($1, $2, $3, $3)
            ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at
            RETURNING (xmax = 0) AS created`,
          [endpoint.name, definition, scope.now],
        );
        return { endpoint: parseJsonColumn<ModelEndpoint>(definition), created: row?.created === true };
      });
    },

    async deleteEndpoint(name) {
      return writer.write(async (scope) => {
        const rows = await scope.client.query('DELETE FROM model_endpoints WHERE name = $1 RETURNING name', [
          name,
        ]);
        return rows.length > 0;
      });
    },

    async listEndpoints() {
      const rows = await pool.query<ModelEndpointRow>('SELECT * FROM model_endpoints ORDER BY name');
      return rows.map((row) => parseJsonColumn<ModelEndpoint>(row.definition));
    },
  };
}
