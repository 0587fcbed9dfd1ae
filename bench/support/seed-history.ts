/**
 * Seeds a hub's database with finished tasks before the hub starts, so that a bench can show how the
 * figures change as the tasks table grows (a long-lived hub keeps every task it ever ran).
 *
 * Uses only the Store API: one task is created and cancelled, then `count` tasks that depend on it are
 * enqueued in batches; the store creates them `dead` at once (their dependency is cancelled), which is as
 * cheap as an enqueue. They are never claimable, but every query that scans the tasks table sees them.
 */
import { join } from 'node:path';
import { routedTaskSpec } from '../../src/store/testing/routed-task-spec.ts';
import { createSqliteStore } from '../../src/store/index.ts';

// why: the largest batch the hub's API accepts; one transaction per 1,000 tasks.
const seedBatchSize = 1_000;

/** The file the hub opens in `dataDir` (see `startHub`). */
export function hubDatabaseFile(dataDir: string): string {
  return join(dataDir, 'warren.db');
}

/** Adds `count` finished (dead) tasks to the SQLite database the hub in `dataDir` will open. */
export async function seedHistory(dataDir: string, count: number): Promise<void> {
  if (count <= 0) return;
  const store = await createSqliteStore({ filename: hubDatabaseFile(dataDir) });
  try {
    await store.migrate();
    const parent = await store.enqueueTask(
      routedTaskSpec({ title: 'history parent', repo: '/srv/warren-bench/history' }),
    );
    await store.cancelTask(parent.task.id, 'bench history');
    const spec = routedTaskSpec({
      title: 'history',
      repo: '/srv/warren-bench/history',
      executorInput: { run: 'true' },
      dependsOn: [parent.task.id],
    });
    for (let done = 0; done < count; done += seedBatchSize) {
      await store.enqueueTasks(new Array<typeof spec>(Math.min(seedBatchSize, count - done)).fill(spec));
    }
  } finally {
    await store.close();
  }
}
