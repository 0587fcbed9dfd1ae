/**
 * Capturing the normalised events an executor emits, for tests that run it behind a runner. To pick
 * events by type or join their text, use `ofType` / `textOf` of src/executors/cli-agents/testing.
 */
import type { Executor, ExecutorContext, ExecutorEvent } from '../../../src/executors/spec.ts';

/** Wraps an executor so the test sees every normalised event it emits (in `run` and `resume`), as the runner does. */
export function recordingEvents(executor: Executor, events: ExecutorEvent[]): Executor {
  const recorded = (context: ExecutorContext): ExecutorContext => ({
    ...context,
    emit: (event) => {
      events.push(event);
      context.emit(event);
    },
  });
  return {
    ...executor,
    run: (context) => executor.run(recorded(context)),
    ...(executor.resume
      ? { resume: (context, session) => executor.resume!(recorded(context), session) }
      : {}),
  };
}
