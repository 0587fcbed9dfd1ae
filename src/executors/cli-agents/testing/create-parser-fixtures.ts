/**
 * Test helpers for the CLI agents' output parsers: a CLI's stdout fixtures (test/fixtures/cli-agents/<cli>/,
 * with the exit codes of recorded runs in its `recordings.json`) fed to a fresh parser as the executor
 * feeds it, and the events picked out of what it made.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ExecutorEvent } from '../../spec.ts';
import type { CliOutcome, CliOutputParser } from '../cli-agent-adapter.ts';

/** What a parser made of a whole run: the events of its lines then of `finish`, and the outcome. */
export interface ParsedRun {
  events: ExecutorEvent[];
  outcome: CliOutcome;
}

/**
 * One CLI's fixtures and a parser to feed them to. Members are plain functions (no `this`), so tests can
 * destructure the ones they use.
 */
export interface ParserFixtures {
  /** The fixture folder, `test/fixtures/cli-agents/<cli>`. */
  readonly directory: string;
  /** The text of the fixture file `name`. */
  read: (name: string) => string;
  /** The names of the recorded runs in `recordings.json`. */
  recordingNames: () => string[];
  /** The exit code the recorded run `name` ended with; throws when there is no such recording. */
  recordedExit: (name: string) => number | null;
  /** Feeds `text` to a fresh parser, then finishes it with `exitCode` (see `parseOutput`). */
  parseText: (text: string, exitCode: number | null) => ParsedRun;
  /** `parseText` of the fixture file `name`. */
  parse: (name: string, exitCode: number | null) => ParsedRun;
}

/** The recorded runs of a fixture folder by name, as its `recordings.json` lists them. */
type Recordings = Record<string, { exitCode: number | null }>;

/** The folder of one CLI's fixtures, `test/fixtures/cli-agents/<cli>`. */
export function fixtureDirectory(cli: string): string {
  return path.resolve(import.meta.dirname, '../../../../test/fixtures/cli-agents', cli);
}

/** The fixtures of `cli` (the folder name, e.g. `gemini-cli`), parsed by parsers from `createParser`. */
export function createParserFixtures(cli: string, createParser: () => CliOutputParser): ParserFixtures {
  const directory = fixtureDirectory(cli);
  const read = (name: string): string => readFileSync(path.join(directory, name), 'utf8');
  // Read when first asked for: fixture folders of CLIs that could not be recorded here have none.
  let recordings: Recordings | undefined;
  const recorded = (): Recordings => (recordings ??= JSON.parse(read('recordings.json')) as Recordings);
  const parseText = (text: string, exitCode: number | null): ParsedRun =>
    parseOutput(createParser, text, exitCode);
  return {
    directory,
    read,
    recordingNames: () => Object.keys(recorded()),
    recordedExit: (name) => {
      const recording = recorded()[name];
      if (!recording) throw new Error(`no recording named ${name}`);
      return recording.exitCode;
    },
    parseText,
    parse: (name, exitCode) => parseText(read(name), exitCode),
  };
}

/**
 * Feeds `text` to a fresh parser line by line, as the executor does (an unterminated last line too, and
 * nothing for the empty remainder after a final line break), then finishes it with `exitCode`.
 */
export function parseOutput(
  createParser: () => CliOutputParser,
  text: string,
  exitCode: number | null,
): ParsedRun {
  const parser = createParser();
  const lines = text.split('\n');
  const rest = lines.pop()!;
  const events = lines.flatMap((line) => parser.line(line));
  if (rest !== '') events.push(...parser.line(rest));
  const finished = parser.finish(exitCode);
  return { events: [...events, ...finished.events], outcome: finished.outcome };
}

/** The events of one type, typed as such. */
export function ofType<T extends ExecutorEvent['type']>(
  events: ExecutorEvent[],
  type: T,
): Array<Extract<ExecutorEvent, { type: T }>> {
  return events.filter((event): event is Extract<ExecutorEvent, { type: T }> => event.type === type);
}

/** The model's text: every `text-delta`, joined. */
export function textOf(events: ExecutorEvent[]): string {
  return ofType(events, 'text-delta')
    .map((event) => event.text)
    .join('');
}

/** The `[input, output]` tokens of each `usage` event, in order. */
export function usageTokens(events: ExecutorEvent[]): Array<[number, number]> {
  return ofType(events, 'usage').map((event) => [event.inputTokens, event.outputTokens]);
}
