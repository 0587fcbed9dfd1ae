/**
 * The SQLite store's model endpoints: upsert, delete and list.
 */
import type { ModelEndpoint } from '../../core/model-endpoints.ts';
import type { Store } from '../store.ts';
import type { ModelEndpointRow } from '../rows/database-schema.ts';
import { parseJsonColumn } from '../rows/parse-json-column.ts';
import { sqliteStatements } from './sqlite-statements.ts';
import type { SqliteStoreContext } from './sqlite-store-context.ts';

/** The endpoint methods of a SQLite store. */
export type SqliteEndpointOperations = Pick<Store, 'upsertEndpoint' | 'deleteEndpoint' | 'listEndpoints'>;

/** Creates the endpoint methods on `context`. An endpoint is stored whole, as JSON, under its name. */
export function createSqliteEndpointOperations(context: SqliteStoreContext): SqliteEndpointOperations {
  const { writer, statement } = context;

  return {
    async upsertEndpoint(endpoint) {
      const definition = JSON.stringify(endpoint);
      return writer.write((scope) => {
        const existing = statement(sqliteStatements.selectEndpointByName).get(endpoint.name) as
          ModelEndpointRow | undefined;
        if (existing === undefined) {
          statement(sqliteStatements.insertEndpoint).run(endpoint.name, definition, scope.now, scope.now);
        } else {
          statement(sqliteStatements.updateEndpoint).run(definition, scope.now, endpoint.name);
        }
        return { endpoint: parseJsonColumn<ModelEndpoint>(definition), created: existing === undefined };
      });
    },

    async deleteEndpoint(name) {
      return writer.write(() => statement(sqliteStatements.deleteEndpoint).run(name).changes > 0);
    },

    async listEndpoints() {
      const rows = statement(sqliteStatements.selectEndpoints).all() as ModelEndpointRow[];
      return rows.map((row) => parseJsonColumn<ModelEndpoint>(row.definition));
    },
  };
}
