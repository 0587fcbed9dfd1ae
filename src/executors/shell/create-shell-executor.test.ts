import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Task } from '../../core/types.ts';
import { createTestContext } from '../testing/create-test-context.ts';
import { createTestTask } from '../testing/create-test-task.ts';
import type { ExecutorContext, ExecutorEvent } from '../spec.ts';
import { createShellExecutor } from './create-shell-executor.ts';

function taskWith(executorInput: Record<string, unknown>): Task {
  return createTestTask({ title: 'shell test', executorInput });
}

describe('createShellExecutor', () => {
  let worktree: string;
  let events: ExecutorEvent[];

  beforeEach(async () => {
    worktree = await mkdtemp(path.join(tmpdir(), 'warren-shell-'));
    events = [];
  });
  afterEach(async () => {
    await rm(worktree, { recursive: true, force: true });
  });

  function contextFor(
    executorInput: Record<string, unknown>,
    overrides: Partial<ExecutorContext> = {},
  ): ExecutorContext {
    return createTestContext(worktree, {
      task: taskWith(executorInput),
      timeoutMs: 30_000,
      emit: (event) => events.push(event),
      ...overrides,
    });
  }

  it('validates its input, naming the field', () => {
    const executor = createShellExecutor();
    expect(executor.validateInput({ run: 'echo ok' })).toEqual([]);
    expect(executor.validateInput({ run: ['a', 'b'], env: { NAME: 'x' } })).toEqual([]);
    expect(executor.validateInput({})).toEqual([{ field: 'executorInput.run', reason: 'required' }]);
    expect(executor.validateInput({ run: [] })).toEqual([{ field: 'executorInput.run', reason: 'required' }]);
    expect(executor.validateInput({ run: 7 })[0]?.field).toBe('executorInput.run');
    expect(executor.validateInput({ run: 'x', env: { 'not a name': 'x' } })[0]?.field).toBe(
      'executorInput.env.not a name',
    );
    expect(executor.validateInput({ run: 'x', extra: true })).toEqual([
      { field: 'executorInput', reason: 'unknown field(s): extra' },
    ]);
  });

  it('runs the commands in order in the worktree and emits output, step-end and run-end', async () => {
    const result = await createShellExecutor().run(
      contextFor({ run: ['echo one > file.txt', 'echo two >> file.txt', 'cat file.txt'] }),
    );
    expect(result).toEqual({ status: 'succeeded', summary: 'ran 3 commands' });
    expect(await readFile(path.join(worktree, 'file.txt'), 'utf8')).toBe('one\ntwo\n');
    const output = events.filter((event) => event.type === 'output').map((event) => event.text);
    expect(output.join('')).toBe('one\ntwo\n');
    expect(events.filter((event) => event.type === 'step-end').map((event) => event.step)).toEqual([1, 2, 3]);
    expect(events.at(-1)).toEqual({ type: 'run-end', result });
  });

  it('fails with exit_code at the first failing command and runs nothing after it', async () => {
    const result = await createShellExecutor().run(
      contextFor({ run: ['echo first', 'echo boom >&2; exit 3', 'touch never'] }),
    );
    expect(result.status).toBe('failed');
    if (result.status !== 'failed') return;
    expect(result.error.kind).toBe('exit_code');
    expect(result.error.retryable).toBe(true);
    expect(result.error.message).toMatch(/^command 2 "echo boom >&2; exit 3" exited with 3\nboom$/);
    await expect(readFile(path.join(worktree, 'never'))).rejects.toThrow();
  });

  it('builds the child environment from the context env and the input env only', async () => {
    process.env.WARREN_SHELL_TEST_LEAK = 'leaked';
    try {
      const context = contextFor({
        run: 'echo "$GRANTED $EXTRA ${WARREN_SHELL_TEST_LEAK:-clean}"',
        env: { EXTRA: 'extra' },
      });
      context.env.GRANTED = 'granted';
      await createShellExecutor().run(context);
      const output = events.filter((event) => event.type === 'output').map((event) => event.text);
      expect(output.join('')).toBe('granted extra clean\n');
    } finally {
      delete process.env.WARREN_SHELL_TEST_LEAK;
    }
  });

  it('stops when the abort signal fires', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const result = await createShellExecutor().run(
      contextFor({ run: ['sleep 30', 'touch never'] }, { abortSignal: controller.signal }),
    );
    expect(result.status === 'failed' && result.error.kind).toBe('cancelled');
    await expect(readFile(path.join(worktree, 'never'))).rejects.toThrow();
  });

  it('fails with timeout when the commands run past the remaining time', async () => {
    const result = await createShellExecutor().run(contextFor({ run: ['sleep 30'] }, { timeoutMs: 300 }));
    expect(result.status === 'failed' && result.error).toMatchObject({ kind: 'timeout', retryable: true });
  });

  it('fails without running anything when the input is invalid', async () => {
    const result = await createShellExecutor().run(contextFor({ nothing: true }));
    expect(result.status === 'failed' && result.error).toMatchObject({
      kind: 'invalid_input',
      retryable: false,
    });
  });
});
