/**
 * The OpenCode output parser against stdout recorded from the real `opencode` 1.18.33 (see
 * test/fixtures/cli-agents/opencode/README.md), plus malformed variants derived from those recordings.
 */
import { describe, expect, it } from 'vitest';
import type { ExecutorEvent } from '../../spec.ts';
import { createParserFixtures, ofType, textOf } from '../testing/create-parser-fixtures.ts';
import { createOpencodeOutputParser } from './parse-opencode-output.ts';

const { parse, recordedExit } = createParserFixtures('opencode', createOpencodeOutputParser);
const sessionId = 'ses_e0382e8beffeh7cKPAaY7t7OYU';

/** The normalised events of edit-success, in order (output and step-end aside). */
const editSuccessEvents: ExecutorEvent[] = [
  { type: 'text-delta', text: 'I will change the greeting.' },
  {
    type: 'tool-call',
    toolCallId: 'call_scripted_0_0',
    toolName: 'edit',
    input: { filePath: '/tmp/oc/rec-root/work/greet.js', oldString: "'hello'", newString: "'goodbye'" },
  },
  {
    type: 'tool-result',
    toolCallId: 'call_scripted_0_0',
    toolName: 'edit',
    output: 'Edit applied successfully.',
  },
  { type: 'usage', inputTokens: 9_000, outputTokens: 70 },
  {
    type: 'tool-call',
    toolCallId: 'call_scripted_1_0',
    toolName: 'bash',
    input: { command: 'cat greet.js', description: 'Show greet.js' },
  },
  {
    type: 'tool-result',
    toolCallId: 'call_scripted_1_0',
    toolName: 'bash',
    output: "export const greeting = 'goodbye';\n",
  },
  { type: 'usage', inputTokens: 9_300, outputTokens: 40 },
  { type: 'text-delta', text: 'greet.js now exports "goodbye".' },
  { type: 'usage', inputTokens: 9_600, outputTokens: 20 },
];

const withoutStepsAndOutput = (events: ExecutorEvent[]) =>
  events.filter((event) => event.type !== 'step-end' && event.type !== 'output');

describe('parseOpencodeOutput', () => {
  it('reads a successful edit run: text, tool calls with their results, one usage per model call', () => {
    const { events, outcome } = parse('edit-success.jsonl', recordedExit('edit-success'));
    expect(withoutStepsAndOutput(events)).toEqual(editSuccessEvents);
    expect(ofType(events, 'output')).toEqual([]);
    expect(ofType(events, 'step-end')).toEqual([
      { type: 'step-end', step: 1, description: 'tool-calls' },
      { type: 'step-end', step: 2, description: 'tool-calls' },
      { type: 'step-end', step: 3, description: 'stop' },
    ]);
    expect(outcome).toEqual({ succeeded: true, summary: 'greet.js now exports "goodbye".', sessionId });
  });

  it('reads a resumed run with the same session id', () => {
    const { events, outcome } = parse('resumed.jsonl', recordedExit('resumed'));
    expect(textOf(events)).toBe('Fixed: the greeting is goodbye.');
    expect(ofType(events, 'usage')).toEqual([{ type: 'usage', inputTokens: 9_900, outputTokens: 15 }]);
    expect(outcome).toEqual({ succeeded: true, summary: 'Fixed: the greeting is goodbye.', sessionId });
  });

  it('marks failed tools as error results and keeps going', () => {
    const { events, outcome } = parse('tool-error.jsonl', recordedExit('tool-error'));
    const results = ofType(events, 'tool-result');
    expect(results.map((result) => [result.toolCallId, result.toolName, result.isError])).toEqual([
      ['call_scripted_0_1', 'write', true],
      ['call_scripted_0_0', 'edit', true],
    ]);
    expect(results[0]!.output).toContain('The user has specified a rule which prevents you');
    expect(results[1]!.output).toBe('File /tmp/ocrec-hqEHkj/work/missing.js not found');
    expect(ofType(events, 'tool-call').map((call) => call.input)).toEqual([
      { filePath: '/etc/warren-opencode-outside.txt', content: 'outside\n' },
      { filePath: '/tmp/ocrec-hqEHkj/work/missing.js', oldString: 'a', newString: 'b' },
    ]);
    expect(outcome).toMatchObject({ succeeded: true, summary: 'Both tools failed.' });
  });

  it('reports a rejected key as a failure a retry cannot fix', () => {
    const { events, outcome } = parse('api-error-401.jsonl', recordedExit('api-error-401'));
    const message = 'APIError (HTTP 401): scripted model server: invalid API key';
    expect(events).toEqual([{ type: 'error', error: { kind: 'agent_error', message, retryable: false } }]);
    expect(outcome).toEqual({
      succeeded: false,
      errorMessage: message,
      retryable: false,
      sessionId: 'ses_e0382a671ffeiV97NHBDdGQVNF',
    });
  });

  it('reports a server error that outlasted the CLI’s own retries as retryable', () => {
    const { outcome } = parse('api-error-500.jsonl', recordedExit('api-error-500'));
    expect(outcome).toMatchObject({
      succeeded: false,
      errorMessage: 'APIError (HTTP 500): scripted model server: scripted HTTP 500 (boom)',
      retryable: true,
    });
    const limited = parse('rate-limited.jsonl', recordedExit('rate-limited')).outcome;
    expect(limited).toMatchObject({ succeeded: false, retryable: true });
    expect(limited.errorMessage).toContain('HTTP 429');
  });

  it('counts only the retry of a cut stream, whose step was never printed', () => {
    const { events, outcome } = parse('stream-cut-retried.jsonl', recordedExit('stream-cut-retried'));
    expect(textOf(events)).toBe('Answered on the second try.');
    expect(ofType(events, 'usage')).toEqual([{ type: 'usage', inputTokens: 8_000, outputTokens: 8 }]);
    expect(outcome).toMatchObject({ succeeded: true, summary: 'Answered on the second try.' });
  });

  it('fails a killed run that ended mid tool call, keeping what it printed', () => {
    const { events, outcome } = parse('killed.jsonl', recordedExit('killed'));
    expect(recordedExit('killed')).toBeNull();
    expect(textOf(events)).toBe('Waiting.');
    expect(ofType(events, 'usage')).toEqual([]);
    expect(outcome).toEqual({ succeeded: false, sessionId: 'ses_e03829a8fffemkPJDM8thd5ICb' });
  });

  it('turns garbage lines into output and still reads every event', () => {
    const { events, outcome } = parse('garbage-interleaved.jsonl', 0);
    expect(withoutStepsAndOutput(events)).toEqual(editSuccessEvents);
    expect(ofType(events, 'output').map((event) => event.text)).toEqual([
      'opencode banner: starting up\n',
      '{"type":"text","part":\n',
      '[1,2,3]\n',
      'null\n',
      '{"type":"session.idle","sessionID":"x"}\n',
      '{"no_type":true}\n',
      'stray text \u001b[31mred\u001b[0m\n',
    ]);
    expect(outcome).toEqual({ succeeded: true, summary: 'greet.js now exports "goodbye".', sessionId });
  });

  it('keeps a truncated last line as output: the last model call’s usage is lost, not invented', () => {
    const killed = parse('truncated.jsonl', null);
    expect(ofType(killed.events, 'usage')).toHaveLength(2);
    expect(ofType(killed.events, 'output')).toHaveLength(1);
    expect(killed.outcome).toEqual({
      succeeded: false,
      errorMessage: 'opencode stopped after 2 model calls',
      sessionId,
    });
    // Had the process exited 0 anyway, the run counts, but the unfinished step gives no summary.
    const exited = parse('truncated.jsonl', 0).outcome;
    expect(exited).toEqual({ succeeded: true, sessionId });
  });

  it('fails an early exit with no finished model call, whatever the exit code', () => {
    expect(parse('early-exit.jsonl', 0).outcome).toEqual({
      succeeded: false,
      errorMessage: 'opencode exited without finishing a model call',
      sessionId,
    });
    expect(parse('early-exit.jsonl', 1).outcome).toEqual({ succeeded: false, sessionId });
    const nothing = createOpencodeOutputParser().finish(0);
    expect(nothing).toEqual({
      events: [],
      outcome: { succeeded: false, errorMessage: 'opencode exited without finishing a model call' },
    });
  });

  it('counts a part printed twice once', () => {
    const { events } = parse('duplicate-parts.jsonl', 0);
    expect(withoutStepsAndOutput(events)).toEqual(editSuccessEvents);
  });

  it('adds cache reads and writes to the prompt and reasoning to the answer, and keeps a reported cost', () => {
    const { events } = parse('cache-and-reasoning.jsonl', 0);
    expect(ofType(events, 'usage')).toEqual([
      { type: 'usage', inputTokens: 9_000, outputTokens: 100, costUsd: 0.0125 },
      { type: 'usage', inputTokens: 9_300, outputTokens: 70, costUsd: 0.0125 },
      { type: 'usage', inputTokens: 9_600, outputTokens: 50, costUsd: 0.0125 },
    ]);
  });

  it('never throws on odd values', () => {
    const parser = createOpencodeOutputParser();
    const odd = [
      '{"type":"tool_use","part":{"state":null}}',
      '{"type":"tool_use","part":{"id":"prt_1"}}',
      '{"type":"step_finish","part":{"tokens":{"input":"many","cache":[]}}}',
      '{"type":"error","error":"boom"}',
      '{"type":"text","part":null}',
      '{"type":"reasoning","part":{"text":"hmm"}}',
      '{"type":42}',
    ];
    const events = odd.flatMap((line) => parser.line(line));
    expect(events).toEqual([
      { type: 'output', stream: 'stdout', text: '{"type":"tool_use","part":{"state":null}}\n' },
      { type: 'tool-call', toolCallId: 'prt_1', toolName: 'unknown', input: {} },
      { type: 'tool-result', toolCallId: 'prt_1', toolName: 'unknown', output: '' },
      { type: 'step-end', step: 1 },
      {
        type: 'error',
        error: {
          kind: 'agent_error',
          message: 'opencode reported an error without details',
          retryable: true,
        },
      },
      { type: 'output', stream: 'stdout', text: '{"type":"text","part":null}\n' },
      { type: 'output', stream: 'stdout', text: '{"type":42}\n' },
    ]);
    expect(parser.finish(1).outcome).toEqual({
      succeeded: false,
      errorMessage: 'opencode reported an error without details',
    });
  });
});
