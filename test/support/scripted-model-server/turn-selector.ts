/**
 * Picks the scripted turn that answers a request, and says clearly why when none does.
 */
import type { RecordedModelRequest } from './recorded-model-request.ts';
import type { ModelScript, ScriptedTurn } from './scripted-turn.ts';

// why: long enough to recognise the message in a failure, short enough to keep the error one line.
const DESCRIPTION_LIMIT = 200;

/** The outcome of a selection: the turn and its label, or the message of a 500 answer. */
export type TurnSelection = { turn: ScriptedTurn; label: string } | { error: string };

/** Plays a script: the first unconsumed turn whose `when` matches, consumed unless it repeats. */
export interface TurnSelector {
  select(request: RecordedModelRequest): TurnSelection;
  /** Turns not yet played (repeating turns stay); none for a function script. */
  remaining(): ScriptedTurn[];
  /** Starts over with another script. */
  replace(script: ModelScript): void;
}

interface ScriptEntry {
  turn: ScriptedTurn;
  label: string;
  consumed: boolean;
}

/** Creates a selector over `script`. */
export function createTurnSelector(script: ModelScript): TurnSelector {
  let answer: ((request: RecordedModelRequest) => ScriptedTurn) | undefined;
  let entries: ScriptEntry[] = [];
  const replace = (next: ModelScript): void => {
    answer = typeof next === 'function' ? next : undefined;
    entries =
      typeof next === 'function'
        ? []
        : next.map((turn, position) => ({ turn, label: turn.name ?? `turn #${position}`, consumed: false }));
  };
  replace(script);

  return {
    replace,
    remaining: () => entries.filter((entry) => !entry.consumed).map((entry) => entry.turn),
    select(request) {
      if (answer) {
        try {
          const turn = answer(request);
          return { turn, label: turn.name ?? 'scripted turn' };
        } catch (error) {
          return {
            error: `scripted model server: the script threw on request #${request.index}: ${messageOf(error)}`,
          };
        }
      }
      for (const entry of entries) {
        if (entry.consumed) continue;
        let matches = true;
        try {
          matches = entry.turn.when?.(request) ?? true;
        } catch (error) {
          return {
            error: `scripted model server: when() of ${entry.label} threw on request #${request.index}: ${messageOf(error)}`,
          };
        }
        if (!matches) continue;
        if (entry.turn.repeat !== true) entry.consumed = true;
        return { turn: entry.turn, label: entry.label };
      }
      const unplayed = entries.filter((entry) => !entry.consumed).map((entry) => entry.label);
      return {
        error:
          `scripted model server: no scripted turn matches request #${request.index} ` +
          `(last message: ${describeLastMessage(request)}); ` +
          (unplayed.length > 0 ? `unplayed turns: ${unplayed.join(', ')}` : 'every turn has been played'),
      };
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The newest message as `role: "text"`, tool calls and results summarised, cut to a readable length. */
function describeLastMessage(request: RecordedModelRequest): string {
  const last = request.messages[request.messages.length - 1];
  if (!last) return 'none';
  const content = [
    last.text,
    ...last.toolCalls.map((call) => `tool call ${call.name}(${JSON.stringify(call.input)})`),
    ...last.toolResults.map((result) => `tool result ${result.toolCallId}: ${result.output}`),
  ]
    .filter((part) => part !== '')
    .join(' | ');
  const shown = content.length > DESCRIPTION_LIMIT ? `${content.slice(0, DESCRIPTION_LIMIT)}…` : content;
  return `${last.role}: ${JSON.stringify(shown)}`;
}
