/**
 * PostgreSQL for tests: the server from `WARREN_TEST_POSTGRES_URL` (set by `.ci/run`), one fresh schema per
 * test, dropped when the test passes and kept (and named on the console) when it fails, for inspection.
 * Without the variable, suites are skipped with a visible line saying so.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe } from 'vitest';

/** The test server's URL, or undefined when tests on PostgreSQL are off. */
export const postgresTestUrl: string | undefined = process.env.WARREN_TEST_POSTGRES_URL || undefined;

/** What a suite on PostgreSQL gets. */
export interface PostgresTestDatabase {
  /** The server's URL. */
  url: string;
  /**
   * A new schema name for this test (created by the store's `migrate()`); dropped after the test if it
   * passes, kept if it fails.
   */
  newSchema(): string;
}

/**
 * `describe` for suites that need PostgreSQL. Without `WARREN_TEST_POSTGRES_URL` the suite is skipped and
 * a line says so (CI sets the variable, so there they run).
 */
export function describeWithPostgres(title: string, body: (database: PostgresTestDatabase) => void): void {
  const url = postgresTestUrl;
  if (url === undefined) {
    console.warn(
      `SKIPPED ${title}: WARREN_TEST_POSTGRES_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)`,
    );
    describe.skip(title, () => body({ url: '', newSchema: () => '' }));
    return;
  }
  describe(title, () => {
    const schemas: string[] = [];
    afterEach(async (context) => {
      const created = schemas.splice(0);
      if (created.length === 0) return;
      if (context.task.result?.state === 'fail') {
        console.warn(
          `kept PostgreSQL schema(s) ${created.join(', ')} of the failed test "${context.task.name}"`,
        );
        return;
      }
      await dropSchemas(url, created);
    });
    body({
      url,
      newSchema() {
        const schema = `warren_test_${randomBytes(6).toString('hex')}`;
        schemas.push(schema);
        return schema;
      },
    });
  });
}

/** Drops the schemas and everything in them. */
export async function dropSchemas(url: string, schemas: readonly string[]): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
