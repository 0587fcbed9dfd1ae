/**
 * The Aider output parser against Aider's plain-text output. The fixtures are reconstructed from Aider
 * 0.86's source and from transcripts of real runs (see test/fixtures/cli-agents/aider/README.md), not
 * recorded here: Aider cannot be installed on this machine.
 */
import { describe, expect, it } from 'vitest';
import type { ExecutorEvent } from '../../spec.ts';
import {
  createParserFixtures,
  ofType,
  textOf,
  usageTokens,
  type ParsedRun,
} from '../testing/create-parser-fixtures.ts';
import { aiderChatHistorySession, createAiderOutputParser } from './parse-aider-output.ts';

const fixtures = createParserFixtures('aider', createAiderOutputParser);

/** A fixture run through a fresh parser; Aider exits 0 unless a test says otherwise. */
function parse(name: string, exitCode: number | null = 0): ParsedRun {
  return fixtures.parse(name, exitCode);
}

/** What Aider printed that is not the model's text, joined. */
function outputText(events: ExecutorEvent[]): string {
  return ofType(events, 'output')
    .map((event) => event.text)
    .join('');
}

describe('parseAiderOutput', () => {
  it('reads a run that asks for a file, gets it and edits it: two model calls, one edit', () => {
    const { events, outcome } = parse('edit-success.stdout.txt');
    expect(usageTokens(events)).toEqual([
      [1200, 18],
      [1400, 52],
    ]);
    expect(events.filter((event) => event.type === 'usage').every((event) => !('costUsd' in event))).toBe(
      true,
    );
    const calls = events.filter((event) => event.type === 'tool-call');
    expect(calls).toEqual([
      { type: 'tool-call', toolCallId: 'aider-edit-1', toolName: 'edit', input: { path: 'src/math.js' } },
    ]);
    expect(events).toContainEqual({
      type: 'tool-result',
      toolCallId: 'aider-edit-1',
      toolName: 'edit',
      output: 'Applied edit to src/math.js',
    });
    expect(textOf(events)).toContain('The bug is that `add` subtracts.');
    expect(textOf(events)).not.toContain('Aider v0.86.2');
    expect(outputText(events)).toContain('Aider v0.86.2\n');
    expect(outputText(events)).toContain('Cost: $0.0050');
    expect(outcome).toEqual({
      succeeded: true,
      summary: 'The bug is that `add` subtracts. I changed it to add its arguments.',
      sessionId: aiderChatHistorySession,
    });
  });

  it('counts cache writes as sent and adds cache hits to the input; a cost on its own line is output', () => {
    const { events, outcome } = parse('anthropic-cache.stdout.txt');
    expect(usageTokens(events)).toEqual([[2300 + 10_000, 300]]);
    expect(outputText(events)).toContain('Cost: $0.01 message, $0.01 session.\n');
    expect(outcome).toMatchObject({ succeeded: true, summary: 'Fixed the typo in the README title.' });
  });

  it('fails a run whose model call was refused with a 401, though Aider exits 0, and says a retry will not help', () => {
    const { events, outcome } = parse('auth-error.stdout.txt', 0);
    expect(usageTokens(events)).toEqual([]);
    expect(outcome.succeeded).toBe(false);
    expect(outcome.retryable).toBe(false);
    expect(outcome.errorMessage).toMatch(/^litellm\.AuthenticationError: .*Incorrect API key provided/);
    expect(outcome.errorMessage).toContain(
      '(The API provider is not able to authenticate you. Check your API key.)',
    );
    expect(events).toContainEqual({
      type: 'error',
      error: { kind: 'agent_error', message: outcome.errorMessage, retryable: false },
    });
  });

  it('fails a run whose retries ran out, as retryable (the server was down)', () => {
    const { events, outcome } = parse('server-error-exhausted.stdout.txt', 0);
    expect(usageTokens(events)).toEqual([]);
    expect(outcome).toMatchObject({ succeeded: false, retryable: true });
    expect(outcome.errorMessage).toMatch(
      /^litellm\.InternalServerError: .*scripted failure.*down or overloaded/,
    );
    expect(outputText(events).match(/Retrying in/g)).toHaveLength(8);
  });

  it('passes a run whose first call was rate limited and retried', () => {
    const { events, outcome } = parse('retry-then-success.stdout.txt');
    expect(usageTokens(events)).toEqual([[1500, 40]]);
    // The reply is only an edit block: the summary names the edited file.
    expect(outcome).toEqual({
      succeeded: true,
      summary: 'Edited src/math.js',
      sessionId: aiderChatHistorySession,
    });
  });

  it('reads a resumed run (restored chat history) like a first one', () => {
    const { events, outcome } = parse('restored-history.stdout.txt');
    expect(outputText(events)).toContain('Restored previous conversation history.');
    expect(usageTokens(events)).toEqual([[2900, 61]]);
    expect(outcome.summary).toBe(
      'The test expects `add` to handle strings too; it now converts its arguments to numbers first.',
    );
  });

  it('does not count the usage report Aider repeats after a failed call, and fails the run', () => {
    const { events, outcome } = parse('error-after-reply.stdout.txt', 0);
    expect(usageTokens(events)).toEqual([[1200, 18]]);
    expect(outcome).toMatchObject({ succeeded: false, retryable: false });
    expect(outcome.errorMessage).toMatch(/^litellm\.BadRequestError:/);
  });

  it('treats the edit-format reflection as Aider notices and keeps the summary to the fixed edit', () => {
    const { events, outcome } = parse('edit-format-error.stdout.txt');
    expect(usageTokens(events)).toEqual([
      [1300, 35],
      [1600, 36],
    ]);
    expect(outputText(events)).toContain('The LLM did not conform to the edit format.');
    expect(outputText(events)).toContain('# 1 SEARCH/REPLACE block failed to match!');
    expect(events.filter((event) => event.type === 'tool-call')).toHaveLength(1);
    expect(outcome).toEqual({
      succeeded: true,
      summary: 'Edited src/math.js',
      sessionId: aiderChatHistorySession,
    });
  });

  it('survives binary noise, colour codes and lookalike lines without throwing', () => {
    const { events, outcome } = parse('garbage-interleaved.stdout.txt');
    expect(usageTokens(events)).toEqual([
      [1200, 18],
      [1400, 52],
    ]);
    expect(textOf(events)).toContain('Tokens: lots sent, some received.');
    expect(textOf(events)).toContain('binary noise');
    // The coloured line is not an edit report; the plain one is.
    expect(events.filter((event) => event.type === 'tool-call')).toHaveLength(1);
    expect(outcome.succeeded).toBe(true);
  });

  it('fails a run cut off mid-reply: killed, or ended without a model call', () => {
    expect(parse('truncated.stdout.txt', null).outcome).toEqual({ succeeded: false });
    const ended = parse('truncated.stdout.txt', 0).outcome;
    expect(ended.succeeded).toBe(false);
    expect(ended.errorMessage).toMatch(
      /^aider finished without completing a model call; its last output: .*Here is the corr$/,
    );
  });

  it('leaves an early non-zero exit to the executor, which reports the code and stderr', () => {
    const { events, outcome } = parse('early-exit.stdout.txt', 1);
    expect(outcome).toEqual({ succeeded: false });
    expect(events.filter((event) => event.type === 'error')).toEqual([]);
  });

  it('fails a run that crashed with an uncaught exception, naming the exception', () => {
    const { outcome } = parse('uncaught-exception.stdout.txt', 1);
    expect(outcome).toMatchObject({
      succeeded: false,
      errorMessage: "aider crashed: KeyError: 'choices'",
      retryable: false,
    });
  });

  it('reads rounded token counts the way Aider prints them', () => {
    const parser = createAiderOutputParser();
    const counts = [
      'Tokens: 845 sent, 12 received.',
      'Tokens: 9.9k sent, 1.0k received.',
      'Tokens: 12k sent, 2k received. Cost: $0.04 message, $0.08 session.',
      'Tokens: 1,234 sent, 5 received.',
    ].flatMap((line) => parser.line(line));
    expect(usageTokens(counts)).toEqual([
      [845, 12],
      [9900, 1000],
      [12_000, 2000],
      [1234, 5],
    ]);
  });
});
