/**
 * The Claude Code output parser against stdout recorded from the real `claude` 2.1.329 (see
 * test/fixtures/cli-agents/claude-code/README.md), plus malformed variants derived from those recordings.
 */
import { describe, expect, it } from 'vitest';
import {
  createParserFixtures,
  ofType,
  textOf,
  usageTokens,
  type ParsedRun,
} from '../testing/create-parser-fixtures.ts';
import { createClaudeCodeOutputParser } from './parse-claude-code-output.ts';

const {
  read: fixture,
  recordedExit,
  parseText,
} = createParserFixtures('claude-code', createClaudeCodeOutputParser);
const editSessionId = '11f26cbd-943e-4036-8972-d7f23c6674ec';
const work = '/tmp/cc-fixture/work';

/** The recording `name` (without `.jsonl`) through a fresh parser, by default with its own exit code. */
function parse(name: string, exitCode: number | null = recordedExit(name)): ParsedRun {
  return parseText(fixture(`${name}.jsonl`), exitCode);
}

/** The API message ids of `assistant` lines, in order, repeats included. */
function assistantMessageIds(raw: string): string[] {
  return raw
    .split('\n')
    .filter((line) => line.startsWith('{"type":"assistant"'))
    .map((line) => (JSON.parse(line) as { message: { id: string } }).message.id);
}

const editToolCalls = [
  { toolCallId: 'toolu_scripted_0_0', toolName: 'Read', input: { file_path: `${work}/greet.js` } },
  { toolCallId: 'toolu_scripted_0_1', toolName: 'Bash', input: { command: 'ls', description: 'List files' } },
  {
    toolCallId: 'toolu_scripted_1_0',
    toolName: 'Edit',
    input: {
      replace_all: false,
      file_path: `${work}/greet.js`,
      old_string: '"hello"',
      new_string: '"goodbye"',
    },
  },
  {
    toolCallId: 'toolu_scripted_2_0',
    toolName: 'Write',
    input: { file_path: `${work}/NOTES.md`, content: '# Notes\nThe greeting is goodbye.\n' },
  },
  {
    toolCallId: 'toolu_scripted_2_1',
    toolName: 'Bash',
    input: {
      command: `node -e "import('./greet.js').then(m => console.log(m.greeting))"`,
      description: 'Check the greeting',
    },
  },
].map((call) => ({ type: 'tool-call', ...call }));

const editToolResults = [
  { toolCallId: 'toolu_scripted_0_0', toolName: 'Read', output: '1\texport const greeting = "hello";\n2\t' },
  { toolCallId: 'toolu_scripted_0_1', toolName: 'Bash', output: 'greet.js' },
  {
    toolCallId: 'toolu_scripted_1_0',
    toolName: 'Edit',
    output: `The file ${work}/greet.js has been updated successfully. (file state is current in your context — no need to Read it back)`,
  },
  {
    toolCallId: 'toolu_scripted_2_0',
    toolName: 'Write',
    output: `File created successfully at: ${work}/NOTES.md (file state is current in your context — no need to Read it back)`,
  },
  { toolCallId: 'toolu_scripted_2_1', toolName: 'Bash', output: 'goodbye' },
].map((result) => ({ type: 'tool-result', ...result }));

// The scripted usage of the four calls (input, output), as the model server reported it.
const editTokens: Array<[number, number]> = [
  [8_000, 60],
  [8_200, 45],
  [8_400, 70],
  [8_600, 20],
];
const editSummary = 'The greeting in greet.js is now "goodbye"; NOTES.md says so.';

describe('createClaudeCodeOutputParser', () => {
  it('reads a run that edits, writes and runs commands: text, tool calls and results, usage, the session', () => {
    const { events, outcome } = parse('edit-success');
    expect(textOf(events)).toBe(`Let me look at the file first.${editSummary}`);
    expect(ofType(events, 'tool-call')).toEqual(editToolCalls);
    expect(ofType(events, 'tool-result')).toEqual(editToolResults);
    expect(usageTokens(events)).toEqual(editTokens);
    expect(ofType(events, 'usage').every((event) => event.model === 'claude-opus-5-5')).toBe(true);
    expect(ofType(events, 'usage').some((event) => event.costUsd !== undefined)).toBe(false);
    expect(ofType(events, 'step-end').map((event) => event.step)).toEqual([1, 2, 3, 4]);
    expect(ofType(events, 'output')).toEqual([]);
    expect(ofType(events, 'file-change')).toEqual([]);
    expect(outcome).toEqual({ succeeded: true, summary: editSummary, sessionId: editSessionId });
  });

  it('counts each model call once although assistant lines repeat its id and usage', () => {
    const raw = fixture('edit-success.jsonl');
    const ids = assistantMessageIds(raw);
    // The recording has one assistant line per content block: the first and third calls repeat.
    expect(ids).toEqual(
      ['msg_scripted_0', 'msg_scripted_0', 'msg_scripted_0', 'msg_scripted_1'].concat([
        'msg_scripted_2',
        'msg_scripted_2',
        'msg_scripted_3',
      ]),
    );
    expect(ofType(parse('edit-success').events, 'usage')).toHaveLength(new Set(ids).size);
  });

  it('takes the final output count from message_delta, not the assistant snapshot (which says 1)', () => {
    const raw = fixture('edit-success.jsonl');
    const snapshot = raw.split('\n').find((line) => line.startsWith('{"type":"assistant"'))!;
    expect(
      (JSON.parse(snapshot) as { message: { usage: { output_tokens: number } } }).message.usage,
    ).toMatchObject({ output_tokens: 1 });
    expect(usageTokens(parse('edit-success').events)[0]).toEqual([8_000, 60]);
  });

  it('without partial messages, reads text and usage from the assistant lines, once per call', () => {
    const withoutStream = fixture('edit-success.jsonl')
      .split('\n')
      .filter((line) => !line.startsWith('{"type":"stream_event"'))
      .join('\n');
    const { events, outcome } = parseText(withoutStream, 0);
    expect(textOf(events)).toBe(`Let me look at the file first.${editSummary}`);
    expect(ofType(events, 'tool-call')).toEqual(editToolCalls);
    // The snapshot's output count is all there is then.
    expect(usageTokens(events)).toEqual(editTokens.map(([input]) => [input, 1]));
    expect(outcome.succeeded).toBe(true);
  });

  it('reads a resumed session: the same session id and only the new calls', () => {
    const { events, outcome } = parse('resumed');
    expect(ofType(events, 'tool-call')).toEqual([
      {
        type: 'tool-call',
        toolCallId: 'toolu_scripted_0_0',
        toolName: 'Edit',
        input: {
          replace_all: false,
          file_path: `${work}/greet.js`,
          old_string: '"goodbye"',
          new_string: '"farewell"',
        },
      },
    ]);
    expect(usageTokens(events)).toEqual([
      [9_000, 40],
      [9_100, 10],
    ]);
    expect(outcome).toEqual({
      succeeded: true,
      summary: 'It says "farewell" now.',
      sessionId: editSessionId,
    });
  });

  it('marks refused and failed tool calls as errors; the run itself still succeeds', () => {
    const { events, outcome } = parse('tool-error');
    expect(ofType(events, 'tool-result')).toEqual([
      {
        type: 'tool-result',
        toolCallId: 'toolu_scripted_0_0',
        toolName: 'Write',
        output:
          "Claude requested permissions to write to /tmp/cc-fixture/outside.txt, but you haven't granted it yet.",
        isError: true,
      },
      {
        type: 'tool-result',
        toolCallId: 'toolu_scripted_0_1',
        toolName: 'Read',
        output: `File does not exist. Note: your current working directory is ${work}.`,
        isError: true,
      },
    ]);
    expect(outcome).toMatchObject({ succeeded: true, summary: 'I could not write outside the worktree.' });
  });

  it('reports a rejected key as a failure a retry cannot fix, with each of the CLI retries as an error event', () => {
    const { events, outcome } = parse('api-error-401');
    expect(recordedExit('api-error-401')).toBe(1);
    expect(ofType(events, 'error').map((event) => event.error.message)).toEqual([
      expect.stringMatching(
        /^a model call failed \(HTTP 401, authentication_failed\); Claude Code retries \(1 of 3\) in \d+ ms$/,
      ),
      expect.stringMatching(/\(2 of 3\)/),
      expect.stringMatching(/\(3 of 3\)/),
    ]);
    expect(ofType(events, 'usage')).toEqual([]);
    // The CLI's own "API Error" message is not model text.
    expect(textOf(events)).toBe('');
    expect(outcome).toEqual({
      succeeded: false,
      errorMessage: 'Failed to authenticate. API Error: 401 scripted model server: invalid API key',
      retryable: false,
      sessionId: 'c75e584b-ef23-443a-9b8e-3afae27a5f11',
    });
  });

  it('reports a server error as retryable', () => {
    const { outcome } = parse('api-error-500');
    expect(outcome.succeeded).toBe(false);
    expect(outcome.errorMessage).toMatch(/^API Error: 500 scripted model server: scripted HTTP 500 \(boom\)/);
    expect(outcome.retryable).toBe(true);
  });

  it('counts a call whose stream was cut (message_stop without message_delta) and fails retryable', () => {
    const { events, outcome } = parse('stream-cut');
    expect(textOf(events)).toBe('Half an answ');
    expect(usageTokens(events)).toEqual([[4_533, 1]]);
    expect(outcome).toMatchObject({
      succeeded: false,
      errorMessage: expect.stringContaining('Connection to the API was lost') as unknown,
      retryable: true,
    });
  });

  it('counts a background subagent call, keeps its text out, and takes the outcome from the last result', () => {
    const raw = fixture('subagent.jsonl');
    expect(raw.split('\n').filter((line) => line.includes('"type":"result"'))).toHaveLength(2);
    const { events, outcome } = parse('subagent');
    expect(ofType(events, 'tool-call').map((event) => event.toolName)).toEqual(['Agent']);
    expect(textOf(events)).toBe('Waiting for the search.greet.js is the only one.');
    // The subagent's call (3 000 in) is not streamed: its output count is the snapshot's 1.
    expect(usageTokens(events)).toEqual([
      [8_000, 50],
      [8_100, 6],
      [3_000, 1],
      [8_300, 9],
    ]);
    expect(outcome).toEqual({
      succeeded: true,
      summary: 'greet.js is the only one.',
      sessionId: 'b4eb20a6-1af0-455f-81de-10a62b0189fd',
    });
  });

  it('fails clearly when the CLI was stopped before its result', () => {
    const { events, outcome } = parse('killed');
    expect(recordedExit('killed')).toBe(143);
    expect(ofType(events, 'tool-result')).toEqual([
      {
        type: 'tool-result',
        toolCallId: 'toolu_scripted_0_0',
        toolName: 'Bash',
        output: 'Exit code 137',
        isError: true,
      },
    ]);
    expect(usageTokens(events)).toEqual([[8_000, 30]]);
    expect(outcome).toMatchObject({
      succeeded: false,
      errorMessage: 'Claude Code exited with code 143 before printing its result',
    });
  });

  it('turns garbage lines into output and reads everything else as before', () => {
    const { events, outcome } = parse('garbage-interleaved', 0);
    expect(ofType(events, 'output').map((event) => event.text)).toEqual([
      'Claude Code is starting…\n',
      '{"type":"assistant","message":{"id":"msg_broken"\n',
      '[1,2,3]\n',
      'null\n',
      '\u001b[31mstray red text\u001b[0m\n',
    ]);
    expect(textOf(events)).toBe(`Let me look at the file first.${editSummary}`);
    expect(ofType(events, 'tool-call')).toEqual(editToolCalls);
    expect(ofType(events, 'tool-result')).toEqual(editToolResults);
    expect(usageTokens(events)).toEqual(editTokens);
    expect(outcome).toEqual({ succeeded: true, summary: editSummary, sessionId: editSessionId });
  });

  it('keeps a result line cut in half as output and fails: the run did not say how it ended', () => {
    const raw = fixture('truncated.jsonl');
    expect(raw.endsWith('\n')).toBe(false);
    const { events, outcome } = parse('truncated', null);
    expect(ofType(events, 'output')).toHaveLength(1);
    expect(ofType(events, 'output')[0]!.text).toMatch(/^\{"duration_api_ms"/);
    expect(usageTokens(events)).toEqual(editTokens);
    expect(outcome).toEqual({
      succeeded: false,
      errorMessage: 'Claude Code was killed before printing its result',
      sessionId: editSessionId,
    });
  });

  it('fails an early exit without a result line, keeping the usage of the calls made', () => {
    const { events, outcome } = parse('early-exit', 1);
    expect(usageTokens(events)).toEqual(editTokens.slice(0, 2));
    expect(outcome).toMatchObject({
      succeeded: false,
      errorMessage: 'Claude Code exited with code 1 before printing its result',
    });
  });

  it('counts a call cut off mid-stream at the end of the output', () => {
    const lines = fixture('edit-success.jsonl').split('\n');
    // Up to the last call's text, before its message_delta.
    const cut = lines.findIndex(
      (line) => line.includes('"type":"message_delta"') && line.includes('msg_scripted_3'),
    );
    const { events, outcome } = parseText(lines.slice(0, cut).join('\n'), null);
    expect(usageTokens(events)).toEqual([...editTokens.slice(0, 3), [8_600, 1]]);
    expect(outcome.succeeded).toBe(false);
  });

  it('never throws on odd input', () => {
    const parser = createClaudeCodeOutputParser();
    const odd = [
      '',
      '   ',
      '{}',
      '"a string"',
      '42',
      '{"type":"assistant"}',
      '{"type":"assistant","message":{"content":"text, not blocks"}}',
      '{"type":"assistant","message":{"id":"m","content":[{"type":"tool_use"}],"usage":"lots"}}',
      '{"type":"user","message":{"content":[{"type":"tool_result"}]}}',
      '{"type":"stream_event","event":{"type":"message_delta","usage":{"output_tokens":"ten"}}}',
      '{"type":"stream_event","event":{"type":"content_block_delta","delta":{"type":"text_delta"}}}',
      '{"type":"system","subtype":"api_retry"}',
      '{"type":"result"}',
    ];
    const events = odd.flatMap((line) => parser.line(line));
    expect(ofType(events, 'output').map((event) => event.text)).toEqual(['"a string"\n', '42\n']);
    const { outcome } = parser.finish(0);
    expect(outcome).toMatchObject({ succeeded: false, errorMessage: 'it reported an error' });
  });
});
