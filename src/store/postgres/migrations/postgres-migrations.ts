/**
 * Every PostgreSQL migration, in order. Append only: a released migration is never edited.
 */
import { postgresMigration0001Initial } from './0001-initial.ts';
import { postgresMigration0002FleetRouting } from './0002-fleet-routing.ts';
import type { PostgresMigration } from './postgres-migration.ts';

/** The PostgreSQL migrations, oldest first. */
export const postgresMigrations: readonly PostgresMigration[] = [
  postgresMigration0001Initial,
  postgresMigration0002FleetRouting,
];
