/**
 * Every SQLite migration, in order. Append a new file's export at the end; never reorder or remove.
 */
import { migration0001Initial } from './0001-initial.ts';
import { migration0002ClaimByCapabilitySet } from './0002-claim-by-capability-set.ts';
import { migration0003ModelRoutingAndCostLedger } from './0003-model-routing-and-cost-ledger.ts';
import { migration0004Leaderships } from './0004-leaderships.ts';
import { migration0005FleetRouting } from './0005-fleet-routing.ts';
import type { SqliteMigration } from './sqlite-migration.ts';

/** All migrations, ids 1..n without gaps. */
export const sqliteMigrations: readonly SqliteMigration[] = [
  migration0001Initial,
  migration0002ClaimByCapabilitySet,
  migration0003ModelRoutingAndCostLedger,
  migration0004Leaderships,
  migration0005FleetRouting,
];
