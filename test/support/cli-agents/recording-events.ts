/**
 * Capturing the normalised events an executor emits, for tests that run it behind a runner.
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

/** The events of one type, narrowed to it. */
export function eventsOfType<T extends ExecutorEvent['type']>(
  events: ExecutorEvent[],
  type: T,
): Array<Extract<ExecutorEvent, { type: T }>> {
  return events.filter((event): event is Extract<ExecutorEvent, { type: T }> => event.type === type);
}

/** The text the model streamed, as the `text-delta` events carry it, joined. */
export function emittedText(events: ExecutorEvent[]): string {
  return eventsOfType(events, 'text-delta')
    .map((event) => event.text)
    .join('');
}
