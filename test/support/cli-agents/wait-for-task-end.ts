/**
 * Waiting on the hub for a task to stop running, for end-to-end tests.
 */
import type { HubClient } from '../../../src/client/hub-client.ts';
import type { Task } from '../../../src/core/types.ts';
import { waitFor } from '../wait-for.ts';

/**
 * Polls the hub until the task is `succeeded`, `failed` or `dead`, and returns it. `failed` counts as an
 * end: the tests that use this give their tasks one attempt, or expect success.
 */
export function waitForTaskEnd(admin: HubClient, taskId: string): Promise<Task> {
  return waitFor<Task>(
    'the task to finish',
    async () => {
      const current = (await admin.tasks.get(taskId))!.task;
      return ['succeeded', 'failed', 'dead'].includes(current.state) ? current : undefined;
    },
    // why: room for the longest task timeout these tests set (45 s); a bound on a hang, not a measurement.
    { timeoutMs: 60_000 },
  );
}
