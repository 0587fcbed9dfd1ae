/**
 * Migration 3: routing fields and usage totals on tasks, usage totals on attempts, the cost ledger and
 * model endpoints.
 */
import type { SqliteMigration } from './sqlite-migration.ts';

/** The usage total columns, added to both tasks and attempts. */
const usageColumns = [
  'usage_input_tokens INTEGER NOT NULL DEFAULT 0 CHECK (usage_input_tokens >= 0)',
  'usage_output_tokens INTEGER NOT NULL DEFAULT 0 CHECK (usage_output_tokens >= 0)',
  'usage_cost_usd REAL NOT NULL DEFAULT 0 CHECK (usage_cost_usd >= 0)',
  'usage_calls INTEGER NOT NULL DEFAULT 0 CHECK (usage_calls >= 0)',
];

/**
 * Adds the task fields routing settles (`complexity_reason`, `model`) and the new spec fields (`seniority`,
 * `budget`, `grants`, `fix_rounds`), usage totals on tasks and attempts, the `usage_records` ledger and the
 * `model_endpoints` table. Tasks made before this migration read back with the defaults written here (a
 * reason saying the route predates routing, no grants, two fix rounds, zero usage).
 */
export const migration0003ModelRoutingAndCostLedger: SqliteMigration = {
  id: 3,
  name: 'model-routing-and-cost-ledger',
  statements: [
    `ALTER TABLE tasks ADD COLUMN complexity_reason TEXT NOT NULL DEFAULT 'set before routing was recorded'`,
    `ALTER TABLE tasks ADD COLUMN model TEXT`,
    `ALTER TABLE tasks ADD COLUMN seniority TEXT
      CHECK (seniority IS NULL OR seniority IN ('junior','senior','principal'))`,
    `ALTER TABLE tasks ADD COLUMN budget TEXT CHECK (budget IS NULL OR json_type(budget) = 'object')`,
    `ALTER TABLE tasks ADD COLUMN grants TEXT NOT NULL DEFAULT '[]' CHECK (json_type(grants) = 'array')`,
    `ALTER TABLE tasks ADD COLUMN fix_rounds INTEGER NOT NULL DEFAULT 2 CHECK (fix_rounds >= 0)`,
    ...usageColumns.map((column) => `ALTER TABLE tasks ADD COLUMN ${column}`),
    ...usageColumns.map((column) => `ALTER TABLE attempts ADD COLUMN ${column}`),
    // The ledger: one row per model call, never updated or deleted. id is the rowid, so rows read back in
    // the order they were written. No foreign keys: like events, the ledger is history.
    `CREATE TABLE usage_records (
      id INTEGER PRIMARY KEY,
      attempt_id TEXT NOT NULL,
      task_id TEXT NOT NULL,
      runner_id TEXT NOT NULL,
      endpoint TEXT NOT NULL,
      model TEXT NOT NULL,
      input_tokens INTEGER NOT NULL CHECK (input_tokens >= 0),
      output_tokens INTEGER NOT NULL CHECK (output_tokens >= 0),
      cost_usd REAL NOT NULL CHECK (cost_usd >= 0),
      at INTEGER NOT NULL
    ) STRICT`,
    // A task's rows, newest first; an attempt's rows are found through its task (attempt ids are unique, so
    // one index serves both). why not a second index on attempt_id: every row written would cost one more
    // index page for a lookup the task index answers.
    `CREATE INDEX usage_records_task ON usage_records (task_id, id)`,
    `CREATE TABLE model_endpoints (
      name TEXT NOT NULL PRIMARY KEY,
      definition TEXT NOT NULL CHECK (json_type(definition) = 'object'),
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT`,
  ],
};
