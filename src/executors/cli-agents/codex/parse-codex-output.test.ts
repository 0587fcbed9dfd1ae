/**
 * The Codex output parser against stdout recorded from the real `codex` 0.169.0 (see
 * test/fixtures/cli-agents/codex/README.md), plus malformed variants derived from those recordings.
 */
import { describe, expect, it } from 'vitest';
import type { ExecutorEvent } from '../../spec.ts';
import {
  createParserFixtures,
  ofType,
  parseOutput,
  textOf,
  type ParsedRun,
} from '../testing/create-parser-fixtures.ts';
import type { ResumedSession } from '../cli-agent-adapter.ts';
import { createCodexOutputParser, isRetryableCodexError } from './parse-codex-output.ts';

const fixtures = createParserFixtures('codex', createCodexOutputParser);
const editThread = '01a1fc7d-1f99-7322-9c87-4f943fce00f4';

/** The recording `name` through a fresh parser (of a resumed thread, given one), with its recorded exit code. */
function parse(name: string, resumed?: ResumedSession): ParsedRun {
  const text = fixtures.read(`${name}.jsonl`);
  return parseOutput(() => createCodexOutputParser(resumed), text, fixtures.recordedExit(name));
}

const editToolEvents: ExecutorEvent[] = [
  {
    type: 'tool-call',
    toolCallId: 'item_1',
    toolName: 'command_execution',
    input: { command: "/bin/bash -lc 'cat hello.txt'" },
  },
  { type: 'tool-result', toolCallId: 'item_1', toolName: 'command_execution', output: 'hello\n' },
  {
    type: 'tool-call',
    toolCallId: 'item_2',
    toolName: 'file_change',
    input: { changes: [{ path: '/tmp/warren-codex-fixture/edit/work/hello.txt', kind: 'update' }] },
  },
  {
    type: 'tool-result',
    toolCallId: 'item_2',
    toolName: 'file_change',
    output: 'update /tmp/warren-codex-fixture/edit/work/hello.txt',
  },
];

describe('createCodexOutputParser', () => {
  it('parses every fixture without throwing, into events and an outcome', () => {
    for (const name of fixtures.recordingNames()) {
      const { outcome } = parse(name);
      expect(typeof outcome.succeeded, name).toBe('boolean');
    }
  });

  it('reads an edit run: text, the shell and patch tools with their results, one usage, the thread id', () => {
    const { events, outcome } = parse('edit-with-tools');
    expect(textOf(events)).toBe('Let me look.\n\nChanged hello.txt to say hello world.');
    expect(events.filter((event) => event.type === 'tool-call' || event.type === 'tool-result')).toEqual(
      editToolEvents,
    );
    // One turn of three model calls: Codex reports their sum once.
    expect(ofType(events, 'usage')).toEqual([{ type: 'usage', inputTokens: 3_300, outputTokens: 55 }]);
    expect(ofType(events, 'step-end')).toEqual([{ type: 'step-end', step: 1 }]);
    expect(ofType(events, 'error')).toEqual([]);
    expect(ofType(events, 'file-change')).toEqual([]);
    expect(outcome).toEqual({
      succeeded: true,
      summary: 'Changed hello.txt to say hello world.',
      sessionId: editThread,
    });
  });

  it('counts only what a resumed run added to the thread totals Codex reports', () => {
    const first = ofType(parse('edit-with-tools').events, 'usage');
    const usageSoFar = {
      inputTokens: first.reduce((sum, event) => sum + event.inputTokens, 0),
      outputTokens: first.reduce((sum, event) => sum + event.outputTokens, 0),
    };
    const { events, outcome } = parse('resumed-fix-round', { sessionId: editThread, usageSoFar });
    // The recording says 7,200 / 77: the first run's 3,300 / 55 plus this run's 1,900 + 2,000 / 15 + 7.
    expect(ofType(events, 'usage')).toEqual([{ type: 'usage', inputTokens: 3_900, outputTokens: 22 }]);
    expect(ofType(events, 'tool-call').map((event) => event.toolName)).toEqual(['file_change']);
    expect(outcome).toEqual({
      succeeded: true,
      summary: 'Fixed: hello.txt now says hello again.',
      sessionId: editThread,
    });
  });

  it('counts a resumed thread whole when its earlier totals are unknown', () => {
    const { events } = parse('resumed-fix-round');
    expect(ofType(events, 'usage')).toEqual([{ type: 'usage', inputTokens: 7_200, outputTokens: 77 }]);
  });

  it('reports a failed command as an erroring tool result, and the run still succeeds', () => {
    const { events, outcome } = parse('failed-command');
    expect(ofType(events, 'tool-result')).toEqual([
      {
        type: 'tool-result',
        toolCallId: 'item_0',
        toolName: 'command_execution',
        output: "ls: cannot access 'missing-file': No such file or directory\n",
        isError: true,
      },
    ]);
    expect(ofType(events, 'usage')).toEqual([{ type: 'usage', inputTokens: 1_800, outputTokens: 32 }]);
    expect(outcome.succeeded).toBe(true);
    expect(outcome.summary).toBe('Both failed; giving up.');
  });

  it('turns the unknown-model warning into a non-fatal error event, not text', () => {
    const { events, outcome } = parse('answer-unknown-model');
    expect(ofType(events, 'error')).toEqual([
      {
        type: 'error',
        error: {
          kind: 'agent_warning',
          message:
            'Model metadata for `scripted-model` not found. Defaulting to fallback metadata; this can degrade performance and cause issues.',
          retryable: false,
        },
      },
    ]);
    expect(textOf(events)).toBe('Hello from the scripted model.');
    expect(ofType(events, 'usage')).toEqual([{ type: 'usage', inputTokens: 100, outputTokens: 10 }]);
    expect(outcome.succeeded).toBe(true);
  });

  it('fails a rejected key, not retryable, after reporting the retries Codex made', () => {
    const { events, outcome } = parse('http-401');
    const errors = ofType(events, 'error').map((event) => event.error);
    expect(errors.map((error) => error.kind)).toEqual([
      'model_retry',
      'model_retry',
      'model_retry',
      'agent_error',
    ]);
    expect(errors.at(-1)!.retryable).toBe(false);
    expect(outcome.succeeded).toBe(false);
    expect(outcome.retryable).toBe(false);
    expect(outcome.errorMessage).toMatch(
      /^unexpected status 401 Unauthorized: scripted model server: invalid API key/,
    );
    expect(outcome.sessionId).toBe('01a1fc7d-275a-74e1-8f6d-67eb3bc29b74');
    expect(ofType(events, 'usage')).toEqual([]);
  });

  it('reads the error body Codex passes through for a 400: its message and type, not retryable', () => {
    const { outcome } = parse('http-400');
    expect(outcome).toMatchObject({
      succeeded: false,
      errorMessage: 'scripted model server: scripted HTTP 400 (scripted turn) (invalid_request_error)',
      retryable: false,
    });
  });

  it('fails server errors and an unreachable endpoint as retryable', () => {
    expect(parse('http-500').outcome).toMatchObject({
      succeeded: false,
      errorMessage: 'We’re currently experiencing high demand, which may cause temporary errors.',
      retryable: true,
    });
    expect(parse('endpoint-down').outcome).toMatchObject({
      succeeded: false,
      errorMessage: 'Connection failed: error sending request',
      retryable: true,
    });
  });

  it('keeps garbage lines as output and reads the real lines around them as if they were alone', () => {
    const { events, outcome } = parse('garbage-interleaved');
    expect(ofType(events, 'output').map((event) => event.text)).toEqual([
      'this line is not JSON\n',
      '[1, 2, 3]\n',
      '"a JSON string"\n',
      "thread 'tokio-runtime-worker' panicked at core/src/codex.rs:1:1\n",
    ]);
    const clean = parse('edit-with-tools');
    expect(events.filter((event) => event.type !== 'output')).toEqual(clean.events);
    expect(outcome).toEqual(clean.outcome);
  });

  it('fails a run whose last line was cut off, keeping the cut line as output and the thread id', () => {
    const { events, outcome } = parse('truncated-last-line');
    expect(ofType(events, 'output')).toHaveLength(1);
    expect(ofType(events, 'output')[0]!.text).toMatch(/^\{"type":"turn\.completed"/);
    expect(ofType(events, 'usage')).toEqual([]);
    expect(textOf(events)).toBe('Let me look.\n\nChanged hello.txt to say hello world.');
    expect(outcome).toEqual({
      succeeded: false,
      errorMessage: 'codex was killed before its turn ended (no turn.completed or turn.failed line)',
      sessionId: editThread,
    });
  });

  it('fails an early exit with a message saying the turn never ended', () => {
    const { events, outcome } = parse('early-exit');
    expect(ofType(events, 'tool-call')).toHaveLength(1);
    expect(ofType(events, 'tool-result')).toEqual([]);
    expect(outcome.succeeded).toBe(false);
    expect(outcome.errorMessage).toBe(
      'codex exited with code 1 before its turn ended (no turn.completed or turn.failed line)',
    );
  });

  it('fails an empty output', () => {
    const parser = createCodexOutputParser();
    expect(parser.finish(0).outcome).toEqual({
      succeeded: false,
      errorMessage: 'codex exited with code 0 before its turn ended (no turn.completed or turn.failed line)',
    });
  });

  it('emits a tool call once when Codex prints only the completed item', () => {
    const parser = createCodexOutputParser();
    const events = parser.line(
      JSON.stringify({
        type: 'item.completed',
        item: {
          id: 'item_5',
          type: 'mcp_tool_call',
          server: 'docs',
          tool: 'search',
          arguments: { q: 'x' },
          result: { content: [{ type: 'text', text: 'found' }], structured_content: null },
          error: null,
          status: 'completed',
        },
      }),
    );
    expect(events).toEqual([
      { type: 'tool-call', toolCallId: 'item_5', toolName: 'mcp__docs__search', input: { q: 'x' } },
      {
        type: 'tool-result',
        toolCallId: 'item_5',
        toolName: 'mcp__docs__search',
        output: [{ type: 'text', text: 'found' }],
      },
    ]);
  });
});

describe('isRetryableCodexError', () => {
  it('says which errors a retry may help with', () => {
    expect(isRetryableCodexError('unexpected status 429 Too Many Requests: slow down')).toBe(true);
    expect(isRetryableCodexError('unexpected status 503 Service Unavailable: busy')).toBe(true);
    expect(isRetryableCodexError('unexpected status 403 Forbidden: no')).toBe(false);
    expect(isRetryableCodexError('stream disconnected before completion: eof')).toBe(true);
    expect(isRetryableCodexError('the model said something odd')).toBeUndefined();
  });
});
