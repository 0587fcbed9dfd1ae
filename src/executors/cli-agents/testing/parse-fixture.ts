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

/** One recorded run in a fixture folder's `recordings.json`. */
export interface Recording {
  /** The exit code the CLI ended with; null when it was killed. */
  exitCode: number | null;
  /** Other facts a folder keeps about its recordings. */
  [fact: string]: unknown;
}

/** The folder of one CLI's fixtures, `test/fixtures/cli-agents/<cli>`. */
export function fixtureDirectory(cli: string): string {
  return path.resolve(import.meta.dirname, '../../../../test/fixtures/cli-agents', cli);
}

/** The text of the fixture `name` in `fixtureDir`. */
export function readFixture(fixtureDir: string, name: string): string {
  return readFileSync(path.join(fixtureDir, name), 'utf8');
}

/** The recordings of a fixture folder, by name (its `recordings.json`). */
export function readRecordings(fixtureDir: string): Record<string, Recording> {
  return JSON.parse(readFixture(fixtureDir, 'recordings.json')) as Record<string, Recording>;
}

/** The exit code the recording `name` ended with; throws when there is no such recording. */
export function recordedExitCode(recordings: Record<string, Recording>, name: string): number | null {
  const recording = recordings[name];
  if (!recording) throw new Error(`no recording named ${name}`);
  return recording.exitCode;
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

/** `parseOutput` of the fixture `name` in `fixtureDir`. */
export function parseFixture(
  createParser: () => CliOutputParser,
  fixtureDir: string,
  name: string,
  exitCode: number | null,
): ParsedRun {
  return parseOutput(createParser, readFixture(fixtureDir, name), exitCode);
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
