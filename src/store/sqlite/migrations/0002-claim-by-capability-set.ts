/**
 * Migration 2: the claim index leads with the requirement set.
 */
import type { SqliteMigration } from './sqlite-migration.ts';

/**
 * Rebuilds tasks_claim_order as `(required_capabilities, lane_rank, priority DESC, seq)` over queued tasks.
 * why: in migration 1 the index was in claim order with the requirement set last, so a claim tested tasks
 * one by one and a runner that could run none of the tasks at the head of the queue read past all of them
 * (a quarter of a second per claim behind a million queued GPU tasks). Led by the requirement set, a claim
 * reads the head of each set the runner can run and merges them (see claim-tasks.sql.ts). The name stays,
 * so the claim's `INDEXED BY` keeps pinning the plan.
 */
export const migration0002ClaimByCapabilitySet: SqliteMigration = {
  id: 2,
  name: 'claim-by-capability-set',
  statements: [
    `DROP INDEX tasks_claim_order`,
    `CREATE INDEX tasks_claim_order ON tasks (required_capabilities, lane_rank, priority DESC, seq)
      WHERE state = 'queued'`,
  ],
};
