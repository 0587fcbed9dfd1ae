import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../testing/is-process-alive.ts';
import { createRunShellTool } from './create-run-shell-tool.ts';
import { callTool } from './testing/call-tool.ts';
import { createTestWorktree } from './testing/create-test-worktree.ts';
import type { TestWorktree } from './testing/create-test-worktree.ts';

const tool = createRunShellTool();

async function waitUntil(check: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return check();
}

describe('run_shell', () => {
  let worktree: TestWorktree;
  beforeEach(async () => {
    worktree = await createTestWorktree();
  });
  afterEach(async () => {
    await worktree.remove();
  });

  const run = (input: unknown, context = worktree.context()) => callTool(tool, input, context);

  it('runs in the worktree and returns the output and exit code', async () => {
    const result = await run({ command: 'pwd; echo to-stderr >&2' });
    expect(result.isError).toBeUndefined();
    expect(result.output).toContain(`${worktree.path}\n`);
    expect(result.output).toContain('to-stderr\n');
    expect(result.output).toMatch(/\[exit code 0, \d+\.\d s\]$/);
    expect(result.fileChanges).toBeUndefined();
  });

  it('reports a non-zero exit as information, not as a tool error', async () => {
    const result = await run({ command: 'echo "1 test failed"; exit 3' });
    expect(result.isError).toBeUndefined();
    expect(result.output).toMatch(/^1 test failed\n\[exit code 3, /);
  });

  it('says when there is no output', async () => {
    expect((await run({ command: 'true' })).output).toMatch(/^\(no output\)\n\[exit code 0/);
  });

  it('runs bash when it is there', async () => {
    const result = await run({ command: '[[ 1 == 1 ]] && echo bash-ok' });
    expect(result.output).toContain('bash-ok');
  });

  it('gives the command the context env only, never the runner process env', async () => {
    process.env.WARREN_TOOLS_TEST_SECRET = 'leaked';
    try {
      const result = await run(
        { command: 'echo "secret=${WARREN_TOOLS_TEST_SECRET:-unset} granted=$GRANTED"' },
        worktree.context({ env: { ...worktree.env, GRANTED: 'yes' } }),
      );
      expect(result.output).toContain('secret=unset granted=yes');
    } finally {
      delete process.env.WARREN_TOOLS_TEST_SECRET;
    }
  });

  it('times out as a tool error and kills the command and what it started', async () => {
    const pidDirectory = await mkdtemp(path.join(tmpdir(), 'warren-run-shell-pid-'));
    try {
      const pidFile = path.join(pidDirectory, 'pid');
      const result = await run({
        command: `echo started; sleep 30 & echo $! > ${pidFile}; wait`,
        timeout_ms: 500,
      });
      expect(result.isError).toBe(true);
      expect(result.output).toContain('started');
      expect(result.output).toContain(
        '[timed out after 0.5 s; the command and everything it started were killed',
      );
      const pid = Number((await readFile(pidFile, 'utf8')).trim());
      expect(pid).toBeGreaterThan(0);
      expect(await waitUntil(() => !isProcessAlive(pid))).toBe(true);
    } finally {
      await rm(pidDirectory, { recursive: true, force: true });
    }
  });

  it('stops on the abort signal with a tool error', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const result = await run({ command: 'sleep 30' }, worktree.context({ abortSignal: controller.signal }));
    expect(result).toMatchObject({ isError: true, output: expect.stringContaining('[aborted after') });
  });

  it('passes its process group to trackProcessGroup and untracks it afterwards', async () => {
    const tracked: number[] = [];
    const untracked: number[] = [];
    const context = worktree.context({
      trackProcessGroup: (processGroupId) => {
        tracked.push(processGroupId);
        return () => untracked.push(processGroupId);
      },
    });
    const result = await run({ command: 'echo $$' }, context);
    const shellPid = Number(result.output.split('\n')[0]);
    expect(tracked).toContain(shellPid);
    expect(untracked).toContain(shellPid);
  });

  it('reports the files the command added, modified and deleted', async () => {
    await mkdir(path.join(worktree.path, 'src'));
    await writeFile(path.join(worktree.path, 'src', 'tracked.ts'), 'one\n');
    await writeFile(path.join(worktree.path, 'src', 'gone.ts'), 'bye\n');
    await writeFile(path.join(worktree.path, 'src', 'untouched.ts'), 'same\n');
    worktree.git('add', '.');
    worktree.git('commit', '--quiet', '-m', 'files');
    // Already dirty before the command: a second change to it must still be seen.
    await writeFile(path.join(worktree.path, 'README.md'), '# Dirty\n');
    await writeFile(path.join(worktree.path, 'notes.txt'), 'untracked before\n');

    const result = await run({
      command: [
        'mkdir -p src/new',
        'echo new > src/new/file.ts',
        'echo two >> src/tracked.ts',
        'rm src/gone.ts',
        'echo more >> README.md',
        'rm notes.txt',
      ].join(' && '),
    });
    expect(result.isError).toBeUndefined();
    expect(result.fileChanges).toEqual([
      { path: 'README.md', change: 'modified' },
      { path: 'notes.txt', change: 'deleted' },
      { path: 'src/gone.ts', change: 'deleted' },
      { path: 'src/new/file.ts', change: 'added' },
      { path: 'src/tracked.ts', change: 'modified' },
    ]);
  });

  it('reports no changes for commands that only stage or read', async () => {
    await writeFile(path.join(worktree.path, 'README.md'), '# Dirty\n');
    const result = await run({ command: 'GIT_CONFIG_GLOBAL=/dev/null git add README.md && cat README.md' });
    expect(result.output).toContain('# Dirty');
    expect(result.fileChanges).toBeUndefined();
  });

  it('still runs commands where the worktree is not a git repository', async () => {
    const plain = await mkdtemp(path.join(tmpdir(), 'warren-run-shell-plain-'));
    try {
      const result = await run(
        { command: 'echo hi > a.txt && cat a.txt' },
        worktree.context({ worktreePath: plain }),
      );
      expect(result.output).toMatch(/^hi\n\[exit code 0/);
      expect(result.fileChanges).toBeUndefined();
    } finally {
      await rm(plain, { recursive: true, force: true });
    }
  });

  it('keeps the tail of long output', async () => {
    const result = await run({ command: 'seq 1 20000; echo THE-END' });
    expect(result.output).toContain('bytes truncated');
    expect(result.output).toContain('THE-END\n[exit code 0');
    expect(Buffer.byteLength(result.output)).toBeLessThan(31 * 1024);
  });

  it('honours the configured default and maximum time limits', async () => {
    const quick = createRunShellTool({ defaultTimeoutMs: 300, maxTimeoutMs: 1_000 });
    const result = await callTool(quick, { command: 'sleep 5' }, worktree.context());
    expect(result).toMatchObject({ isError: true, output: expect.stringContaining('timed out after 0.3 s') });
    expect(quick.parseInput({ command: 'x', timeout_ms: 2_000 })).toEqual({
      success: false,
      error: expect.stringContaining('timeout_ms'),
    });
  });

  it('rejects malformed input naming the field', () => {
    expect(tool.parseInput({})).toEqual({ success: false, error: expect.stringContaining('command') });
    expect(tool.parseInput({ command: 'ls', timeout_ms: '10' })).toEqual({
      success: false,
      error: expect.stringContaining('timeout_ms'),
    });
    expect(tool.parseInput({ command: 'ls', timeout_ms: 700_000 })).toMatchObject({ success: false });
  });
});
