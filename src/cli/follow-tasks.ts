/**
 * Live progress for a set of tasks: prints each state change, progress message and verification line as it
 * happens (from the hub's event stream) and resolves with the final tasks once every one is terminal.
 */
import type { HubClient } from '../client/hub-client.ts';
import { shortId } from '../core/ids.ts';
import { sleep } from '../core/sleep.ts';
import { isTerminalTaskState } from '../core/task-state.ts';
import type { Task, TaskState, WarrenEvent } from '../core/types.ts';
import { paint, paintState } from './output.ts';

/** Options of {@link followTasks}. */
export interface FollowOptions {
  /** Print nothing (for `--json`). */
  quiet?: boolean;
  /** Also print every executor output line. */
  showOutput?: boolean;
  /** Labels shown instead of ids, by task id. */
  names?: Map<string, string>;
  /** Called for every event about a followed task (the demo cancels a task with it). */
  onEvent?: (event: WarrenEvent) => void;
  signal?: AbortSignal;
}

// why: the event stream drives the display; a slow poll only guards against a missed terminal event.
const pollIntervalMs = 2_000;

/** Follows the tasks until all are terminal; returns them in the order given. */
export async function followTasks(
  client: HubClient,
  taskIds: string[],
  options: FollowOptions = {},
): Promise<Task[]> {
  const wanted = new Set(taskIds);
  const finals = new Map<string, Task>();
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  options.signal?.addEventListener('abort', stop, { once: true });
  const started = Date.now();
  const write = (taskId: string, text: string): void => {
    if (options.quiet) return;
    const elapsed = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
    const name = options.names?.get(taskId) ?? shortId(taskId);
    process.stdout.write(`${paint('gray', `${elapsed}s`)} ${paint('bold', name.padEnd(10))} ${text}\n`);
  };

  const checkAll = async (): Promise<void> => {
    for (const id of wanted) {
      if (finals.has(id)) continue;
      const detail = await client.tasks.get(id, { signal: controller.signal });
      if (detail && isTerminalTaskState(detail.task.state)) finals.set(id, detail.task);
    }
    if (finals.size === wanted.size) controller.abort();
  };

  const poller = (async () => {
    while (!controller.signal.aborted) {
      await checkAll().catch(() => undefined);
      await sleep(pollIntervalMs, controller.signal);
    }
  })();

  try {
    for await (const event of client.events({ signal: controller.signal })) {
      if (!event.taskId || !wanted.has(event.taskId)) continue;
      options.onEvent?.(event);
      describeEvent(event, options, (text) => write(event.taskId!, text));
      if (event.type === 'task.state' && isTerminalTaskState(event.data.to as TaskState)) {
        await checkAll();
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    controller.abort();
    options.signal?.removeEventListener('abort', stop);
    await poller;
  }
  return taskIds.map((id) => finals.get(id)).filter((task): task is Task => task !== undefined);
}

function describeEvent(event: WarrenEvent, options: FollowOptions, write: (text: string) => void): void {
  switch (event.type) {
    case 'task.state': {
      const to = event.data.to as TaskState;
      const reason = typeof event.data.reason === 'string' ? paint('gray', ` (${event.data.reason})`) : '';
      write(`${paintState(event.data.from as TaskState)} → ${paintState(to)}${reason}`);
      return;
    }
    case 'attempt.log': {
      const text = String(event.data.text).replace(/\n$/, '');
      if (event.data.stream === 'system') {
        for (const line of text.split('\n')) write(paint('gray', `· ${line}`));
      } else if (options.showOutput) {
        for (const line of text.split('\n')) write(paint('dim', `| ${line}`));
      }
      return;
    }
    // why: the runner narrates phases on the system log stream; progress events repeat those lines.
    case 'attempt.progress':
    case 'task.created':
    case 'attempt.state':
    case 'runner.state':
      return;
  }
}
