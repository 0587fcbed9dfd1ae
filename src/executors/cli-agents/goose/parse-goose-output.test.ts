/**
 * The Goose output parser against `goose run --output-format stream-json`. The fixtures are reconstructed
 * from Goose's source (see test/fixtures/cli-agents/goose/README.md), not recorded here: Goose cannot be
 * installed on this machine.
 */
import { describe, expect, it } from 'vitest';
import { createParserFixtures, ofType, textOf, type ParsedRun } from '../testing/create-parser-fixtures.ts';
import { createGooseOutputParser, gooseNamedSession } from './parse-goose-output.ts';

const fixtures = createParserFixtures('goose', createGooseOutputParser);

/** A fixture run through a fresh parser; Goose exits 0 unless a test says otherwise. */
function parse(name: string, exitCode: number | null = 0): ParsedRun {
  return fixtures.parse(name, exitCode);
}

describe('parseGooseOutput', () => {
  it('reads a run that views, edits and tests a file: streamed text, tool calls and results, one usage', () => {
    const { events, outcome } = parse('edit-success.jsonl');
    expect(textOf(events)).toBe(
      "I'll look at `src/math.js` first.`add` subtracts; fixing it.Fixed `add` in src/math.js: it now returns `a + b`, and the tests pass.",
    );
    expect(ofType(events, 'tool-call')).toEqual([
      {
        type: 'tool-call',
        toolCallId: 'toolu_01',
        toolName: 'developer__text_editor',
        input: { command: 'view', path: '/work/repo/src/math.js' },
      },
      {
        type: 'tool-call',
        toolCallId: 'toolu_02',
        toolName: 'developer__text_editor',
        input: {
          command: 'str_replace',
          path: '/work/repo/src/math.js',
          old_str: 'return a - b;',
          new_str: 'return a + b;',
        },
      },
      {
        type: 'tool-call',
        toolCallId: 'toolu_03',
        toolName: 'developer__shell',
        input: { command: 'node --test' },
      },
    ]);
    expect(ofType(events, 'tool-result')).toEqual([
      {
        type: 'tool-result',
        toolCallId: 'toolu_01',
        toolName: 'developer__text_editor',
        output: 'export function add(a, b) {\n  return a - b;\n}\n',
      },
      {
        type: 'tool-result',
        toolCallId: 'toolu_02',
        toolName: 'developer__text_editor',
        output: 'The file /work/repo/src/math.js has been edited.',
      },
      {
        type: 'tool-result',
        toolCallId: 'toolu_03',
        toolName: 'developer__shell',
        output: '# tests 1\n# pass 1\n',
      },
    ]);
    expect(ofType(events, 'output').map((event) => event.text)).toEqual([
      '[developer] # tests 1\n# pass 1\n',
    ]);
    expect(ofType(events, 'usage')).toEqual([{ type: 'usage', inputTokens: 9105, outputTokens: 207 }]);
    expect(outcome).toEqual({
      succeeded: true,
      summary: 'Fixed `add` in src/math.js: it now returns `a + b`, and the tests pass.',
      sessionId: gooseNamedSession,
    });
  });

  it('counts an older Goose total (no input/output split) as input', () => {
    const { events, outcome } = parse('total-tokens-only.jsonl');
    expect(ofType(events, 'usage')).toEqual([{ type: 'usage', inputTokens: 1500, outputTokens: 0 }]);
    expect(ofType(events, 'output').map((event) => event.text)).toEqual(['model: scripted-model (auto)\n']);
    expect(outcome.summary).toBe('The README title now reads "Project".');
  });

  it("leaves Goose's own cost out (Warren prices with the endpoint's prices) and skips thinking", () => {
    const { events, outcome } = parse('cache-and-cost.jsonl');
    expect(ofType(events, 'usage')).toEqual([{ type: 'usage', inputTokens: 14_000, outputTokens: 300 }]);
    expect(textOf(events)).toBe('Fixed the typo.');
    expect(outcome.succeeded).toBe(true);
  });

  it('fails a run whose agent loop reported an authentication error, though Goose then completed with 0', () => {
    const { events, outcome } = parse('auth-error.jsonl', 0);
    expect(outcome).toMatchObject({ succeeded: false, retryable: false });
    expect(outcome.errorMessage).toMatch(/^Authentication error: Incorrect API key provided/);
    expect(ofType(events, 'error')).toEqual([
      { type: 'error', error: { kind: 'agent_error', message: outcome.errorMessage, retryable: false } },
    ]);
    // The stray text Goose renders after an error is kept as output; a null total is no usage.
    expect(ofType(events, 'output').map((event) => event.text)).toEqual([
      'Yes — what would you like me to do?\n',
    ]);
    expect(ofType(events, 'usage')).toEqual([]);
  });

  it('fails a run that errored and exited without completing (newer Goose), as retryable for a server error', () => {
    const { events, outcome } = parse('server-error-no-complete.jsonl', 1);
    expect(outcome).toMatchObject({
      succeeded: false,
      errorMessage: 'Server error: 500 Internal Server Error: scripted failure',
      retryable: true,
    });
    expect(ofType(events, 'tool-call')).toHaveLength(1);
  });

  it('marks failed tools and unreadable tool calls as errors', () => {
    const { events, outcome } = parse('tool-errors.jsonl');
    expect(ofType(events, 'tool-result')).toEqual([
      {
        type: 'tool-result',
        toolCallId: 'toolu_t1',
        toolName: 'developer__text_editor',
        output: "File '/work/repo/src/missing.js' does not exist",
        isError: true,
      },
      {
        type: 'tool-result',
        toolCallId: 'toolu_t2',
        toolName: 'developer__shell',
        output: 'command exited with code 1',
        isError: true,
      },
      {
        type: 'tool-result',
        toolCallId: 'toolu_t3',
        toolName: 'invalid_tool_call',
        output: 'Could not interpret tool use parameters',
        isError: true,
      },
    ]);
    expect(ofType(events, 'tool-call')[2]).toEqual({
      type: 'tool-call',
      toolCallId: 'toolu_t3',
      toolName: 'invalid_tool_call',
      input: {
        error: 'Could not interpret tool use parameters for id toolu_t3: EOF while parsing an object',
      },
    });
    expect(outcome).toMatchObject({
      succeeded: true,
      summary: 'I could not find src/missing.js; nothing to change.',
    });
  });

  it('reads a resumed run like a first one', () => {
    const { events, outcome } = parse('resumed.jsonl');
    expect(ofType(events, 'usage')).toEqual([{ type: 'usage', inputTokens: 14_810, outputTokens: 210 }]);
    expect(outcome).toEqual({
      succeeded: true,
      summary: '`add` now converts its arguments with Number() first.',
      sessionId: gooseNamedSession,
    });
  });

  it('keeps garbage as output, ignores repeated tool events and never throws', () => {
    const { events, outcome } = parse('garbage-interleaved.jsonl');
    const outputs = ofType(events, 'output').map((event) => event.text);
    expect(outputs).toContain('not json at all ✗\n');
    expect(outputs).toContain('{"type":"message","message":\n');
    expect(outputs).toContain('[1,2,3]\n');
    expect(outputs).toContain('{"type": "mystery", "payload": 1}\n');
    expect(ofType(events, 'tool-call').map((event) => event.toolCallId)).toEqual(['toolu_01']);
    expect(ofType(events, 'tool-result').map((event) => event.toolCallId)).toEqual(['toolu_01']);
    expect(ofType(events, 'usage')).toEqual([{ type: 'usage', inputTokens: 9105, outputTokens: 207 }]);
    expect(outcome.succeeded).toBe(true);
  });

  it('fails a run cut off mid-event: killed, or ended without its complete event', () => {
    const killed = parse('truncated.jsonl', null);
    expect(killed.outcome).toEqual({ succeeded: false });
    expect(ofType(killed.events, 'output').at(-1)?.text).toMatch(/^\{"type":"message"/);
    expect(parse('truncated.jsonl', 0).outcome).toEqual({
      succeeded: false,
      errorMessage: 'goose ended without its "complete" event',
    });
  });

  it('leaves an early non-zero exit with no output to the executor, which reports the code and stderr', () => {
    const { events, outcome } = parse('early-exit.jsonl', 1);
    expect(events).toEqual([]);
    expect(outcome).toEqual({ succeeded: false });
  });
});
