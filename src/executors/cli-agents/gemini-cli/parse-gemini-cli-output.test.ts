/**
 * The Gemini CLI output parser against stdout recorded from the real `gemini` 0.61.0 (see
 * test/fixtures/cli-agents/gemini-cli/README.md), plus malformed variants derived from those recordings.
 */
import { describe, expect, it } from 'vitest';
import { createParserFixtures, ofType, textOf } from '../testing/create-parser-fixtures.ts';
import { createGeminiCliOutputParser } from './parse-gemini-cli-output.ts';

const { parse, recordedExit } = createParserFixtures('gemini-cli', createGeminiCliOutputParser);
const sessionId = '6f87896f-3e0a-47fd-886b-b054a940eab2';

const editCalls = [
  {
    type: 'tool-call',
    toolCallId: 'replace__call_scripted_0_0',
    toolName: 'replace',
    input: {
      file_path: '/tmp/gcap-DW2M4X/work/greet.js',
      old_string: '"hello"',
      new_string: '"goodbye"',
      instruction: 'Change the greeting to goodbye.',
    },
  },
  {
    type: 'tool-call',
    toolCallId: 'run_shell_command__call_scripted_1_0',
    toolName: 'run_shell_command',
    input: { command: 'cat greet.js', description: 'Show the edited file.' },
  },
];
const editResults = [
  { type: 'tool-result', toolCallId: 'replace__call_scripted_0_0', toolName: 'replace', output: '' },
  {
    type: 'tool-result',
    toolCallId: 'run_shell_command__call_scripted_1_0',
    toolName: 'run_shell_command',
    output: 'export const greeting = "goodbye";',
  },
];

describe('parseGeminiCliOutput', () => {
  it('reads a run that edits and checks a file: text, tool calls and results, one usage, the session', () => {
    const { events, outcome } = parse('edit-success.jsonl', recordedExit('edit-success'));
    expect(textOf(events)).toBe('The greeting in greet.js is now "goodbye".');
    expect(ofType(events, 'tool-call')).toEqual(editCalls);
    expect(ofType(events, 'tool-result')).toEqual(editResults);
    // Three scripted calls (8000 + 8200 + 8400 in, 60 + 30 + 12 out), reported once as the session's total.
    expect(ofType(events, 'usage')).toEqual([
      { type: 'usage', inputTokens: 24_600, outputTokens: 102, model: 'gemini-2.5-pro' },
    ]);
    expect(ofType(events, 'output')).toEqual([]);
    expect(ofType(events, 'error')).toEqual([]);
    expect(outcome).toEqual({
      succeeded: true,
      summary: 'The greeting in greet.js is now "goodbye".',
      sessionId,
    });
  });

  it('keeps the session id of a resumed run, which is the one it continued', () => {
    const { events, outcome } = parse('resumed.jsonl', recordedExit('resumed'));
    expect(textOf(events)).toBe('Nothing else needs changing; the greeting already says goodbye.');
    expect(ofType(events, 'usage')).toEqual([
      { type: 'usage', inputTokens: 9_000, outputTokens: 15, model: 'gemini-2.5-pro' },
    ]);
    expect(outcome).toMatchObject({ succeeded: true, sessionId });
  });

  it('reports failed tools as errored results named after their calls, and the run still succeeds', () => {
    const { events, outcome } = parse('tool-error.jsonl', recordedExit('tool-error'));
    expect(ofType(events, 'tool-call').map((event) => [event.toolCallId, event.toolName])).toEqual([
      ['write_file__call_scripted_0_0', 'write_file'],
      ['read_file__call_scripted_0_1', 'read_file'],
    ]);
    const results = ofType(events, 'tool-result');
    expect(results.map((event) => [event.toolName, event.isError])).toEqual([
      ['write_file', true],
      ['read_file', true],
    ]);
    expect(results[0]!.output).toContain('Path not in workspace');
    expect(results[1]!.output).toBe('File not found: /tmp/gcap-2v0ATA/work/missing.txt');
    expect(outcome).toMatchObject({ succeeded: true, summary: 'I cannot write outside the workspace.' });
  });

  it('fails a rejected key with the API error, not retryable', () => {
    const { events, outcome } = parse('api-error-401.jsonl', recordedExit('api-error-401'));
    expect(recordedExit('api-error-401')).toBe(145);
    expect(outcome.succeeded).toBe(false);
    expect(outcome.errorMessage).toContain('"code":401');
    expect(outcome.errorMessage).toContain('invalid API key');
    expect(outcome.retryable).toBe(false);
    expect(ofType(events, 'error')).toEqual([
      { type: 'error', error: { kind: 'agent_error', message: outcome.errorMessage, retryable: false } },
    ]);
    // A failed call reports zero tokens: no usage event.
    expect(ofType(events, 'usage')).toEqual([]);
  });

  it('fails a server error and a cut stream as retryable', () => {
    const serverError = parse('api-error-500.jsonl', recordedExit('api-error-500'));
    expect(serverError.outcome).toMatchObject({ succeeded: false, retryable: true });
    expect(serverError.outcome.errorMessage).toContain('"status":"INTERNAL"');

    const cut = parse('stream-cut.jsonl', recordedExit('stream-cut'));
    expect(textOf(cut.events)).toBe('Let me loo');
    expect(cut.outcome).toEqual({
      succeeded: false,
      errorMessage: '[API Error: terminated]',
      retryable: true,
      sessionId: '67b7ecd7-d4a7-4de9-9bc4-f408630af51a',
    });
  });

  it('fails a run killed before its result, keeping the events it printed', () => {
    const { events, outcome } = parse('killed.jsonl', recordedExit('killed'));
    expect(ofType(events, 'tool-call').map((event) => event.toolName)).toEqual(['run_shell_command']);
    // The executor explains a kill (timeout, cancel) itself and shows stderr's tail.
    expect(outcome).toEqual({ succeeded: false });

    // On SIGTERM the real CLI may also exit with code 0 and no result: that is no success either.
    expect(parse('killed.jsonl', 0).outcome).toEqual({
      succeeded: false,
      errorMessage: 'gemini-cli ended without its "result" line',
    });
  });

  it('reports one usage per model when the CLI routed the prompt through a classifier model', () => {
    const { events, outcome } = parse('auto-routing.jsonl', recordedExit('auto-routing'));
    expect(ofType(events, 'usage')).toEqual([
      { type: 'usage', inputTokens: 700, outputTokens: 20, model: 'gemini-3.5-flash-lite' },
      { type: 'usage', inputTokens: 24_600, outputTokens: 102, model: 'gemini-3.8-flash' },
    ]);
    expect(outcome).toMatchObject({ succeeded: true, sessionId: 'aa5bd8eb-f003-4574-9f9c-9a7f6252f055' });
  });

  it('counts thinking tokens, which only show in the total, as output', () => {
    const { events } = parse('thinking-tokens.jsonl', 0);
    expect(ofType(events, 'usage')).toEqual([
      { type: 'usage', inputTokens: 24_600, outputTokens: 402, model: 'gemini-2.5-pro' },
    ]);
  });

  it('turns garbage lines into output and reads the real events around them', () => {
    const { events, outcome } = parse('garbage-interleaved.jsonl', 0);
    expect(ofType(events, 'tool-call')).toEqual(editCalls);
    expect(ofType(events, 'tool-result')).toEqual(editResults);
    expect(ofType(events, 'output').map((event) => event.text)).toEqual([
      'Loaded cached credentials.\n',
      '{"type":"tool_use","tool_na\n',
      '[1,2,3]\n',
      'null\n',
      '{"type":"telemetry","event":"flush"}\n',
      'plain text from a stray console.log\n',
    ]);
    expect(outcome).toMatchObject({ succeeded: true, sessionId });
  });

  it('fails a run whose output stops in the middle of the result line', () => {
    const killed = parse('truncated.jsonl', null);
    expect(textOf(killed.events)).toBe('The greeting in greet.js is now "goodbye".');
    expect(ofType(killed.events, 'usage')).toEqual([]);
    expect(killed.outcome).toEqual({ succeeded: false });
    expect(ofType(killed.events, 'output')).toHaveLength(1);

    expect(parse('truncated.jsonl', 0).outcome.succeeded).toBe(false);
  });

  it('says nothing went wrong on stdout when the CLI failed before its session, and whether to retry', () => {
    // Exit 41: authentication not configured; 42: an unknown session to resume. The reason is on stderr.
    for (const exitCode of [41, 42]) {
      const parser = createGeminiCliOutputParser();
      expect(parser.finish(exitCode)).toEqual({
        events: [],
        outcome: { succeeded: false, retryable: false },
      });
    }
    expect(createGeminiCliOutputParser().finish(1)).toEqual({ events: [], outcome: { succeeded: false } });
  });

  it('reports non-fatal warnings as output', () => {
    const parser = createGeminiCliOutputParser();
    const events = parser.line(
      '{"type":"error","timestamp":"2026-11-21T04:53:40.431Z","severity":"warning","message":"Loop detected, stopping execution"}',
    );
    expect(events).toEqual([
      { type: 'output', stream: 'stdout', text: 'gemini-cli warning: Loop detected, stopping execution\n' },
    ]);
  });
});
