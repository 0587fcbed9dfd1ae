import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runProcess } from './run-process.ts';
import { isProcessAlive } from './testing/is-process-alive.ts';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), LANG: 'C.UTF-8' };

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return check();
}

describe('runProcess', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'warren-run-process-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('returns the exit code and the combined output', async () => {
    const streamed: string[] = [];
    const result = await runProcess({
      command: 'echo out; echo err >&2; exit 3',
      cwd: directory,
      env,
      timeoutMs: 10_000,
      maxOutputBytes: 1_000,
      onOutput: (stream, text) => streamed.push(`${stream}:${text}`),
    });
    expect(result).toMatchObject({ exitCode: 3, signal: null, timedOut: false, aborted: false });
    expect(result.error).toBeUndefined();
    expect(result.output).toContain('out\n');
    expect(result.output).toContain('err\n');
    expect(streamed).toContain('stdout:out\n');
    expect(streamed).toContain('stderr:err\n');
  });

  it('runs an argv command without a shell, in cwd', async () => {
    const result = await runProcess({
      command: ['pwd'],
      cwd: directory,
      env,
      timeoutMs: 10_000,
      maxOutputBytes: 1_000,
    });
    expect(result.exitCode).toBe(0);
    expect(result.output.trim().endsWith(path.basename(directory))).toBe(true);
  });

  it('gives the child exactly the env it was given', async () => {
    process.env.WARREN_TEST_SECRET = 'leaked';
    try {
      const result = await runProcess({
        command: 'echo "secret=${WARREN_TEST_SECRET:-unset} granted=$GRANTED"; env',
        cwd: directory,
        env: { ...env, GRANTED: 'yes' },
        timeoutMs: 10_000,
        maxOutputBytes: 10_000,
      });
      expect(result.output).toContain('secret=unset granted=yes');
      const names = result.output
        .split('\n')
        .slice(1)
        .map((line) => line.split('=')[0])
        .filter((name) => name);
      // sh itself may add PWD, SHLVL and _.
      expect(names.filter((name) => !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(name!)).sort()).toEqual([
        'GRANTED',
        'HOME',
        'LANG',
        'PATH',
      ]);
    } finally {
      delete process.env.WARREN_TEST_SECRET;
    }
  });

  it('kills the process group at the timeout, grandchildren included', async () => {
    const pidFile = path.join(directory, 'grandchild.pid');
    const result = await runProcess({
      command: `sleep 1000 & echo $! > ${pidFile}; wait`,
      cwd: directory,
      env,
      timeoutMs: 500,
      maxOutputBytes: 1_000,
    });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeNull();
    const grandchild = Number((await readFile(pidFile, 'utf8')).trim());
    expect(grandchild).toBeGreaterThan(0);
    expect(await waitUntil(() => !isProcessAlive(grandchild))).toBe(true);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const result = await runProcess({
      command: "trap '' TERM; while true; do sleep 0.1; done",
      cwd: directory,
      env,
      timeoutMs: 300,
      maxOutputBytes: 1_000,
    });
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe('SIGKILL');
  });

  it('caps the output of a flood, keeps the tail and is killed at the timeout', async () => {
    const streamed: string[] = [];
    const result = await runProcess({
      command: ['yes'],
      cwd: directory,
      env,
      timeoutMs: 500,
      maxOutputBytes: 4_096,
      maxStreamedBytes: 10_000,
      onOutput: (_stream, text) => streamed.push(text),
    });
    expect(result.timedOut).toBe(true);
    expect(result.output).toMatch(/^\[… \d+ bytes truncated …\]\n/);
    const tail = result.output.slice(result.output.indexOf('\n') + 1);
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(4_096);
    expect(tail).toMatch(/^(y\n)*y?\n?$/);
    const streamedText = streamed.join('');
    const notices = streamed.filter((text) => text.includes('output streaming stopped'));
    expect(notices).toHaveLength(1);
    expect(Buffer.byteLength(streamedText)).toBeLessThanOrEqual(10_000 + notices[0]!.length);
  });

  it('terminates the group when aborted', async () => {
    const controller = new AbortController();
    const pidFile = path.join(directory, 'grandchild.pid');
    const running = runProcess({
      command: `sleep 1000 & echo $! > ${pidFile}; wait`,
      cwd: directory,
      env,
      timeoutMs: 60_000,
      abortSignal: controller.signal,
      maxOutputBytes: 1_000,
    });
    await waitUntil(async () => (await readFile(pidFile, 'utf8').catch(() => '')).trim() !== '');
    controller.abort();
    const result = await running;
    expect(result).toMatchObject({ aborted: true, timedOut: false, exitCode: null });
    const grandchild = Number((await readFile(pidFile, 'utf8')).trim());
    expect(await waitUntil(() => !isProcessAlive(grandchild))).toBe(true);
  });

  it('does not start when already aborted', async () => {
    const result = await runProcess({
      command: `touch started`,
      cwd: directory,
      env,
      timeoutMs: 10_000,
      abortSignal: AbortSignal.abort(),
      maxOutputBytes: 1_000,
    });
    expect(result.aborted).toBe(true);
    await expect(readFile(path.join(directory, 'started'))).rejects.toThrow();
  });

  it('kills background processes the command leaves behind', async () => {
    const pidFile = path.join(directory, 'background.pid');
    const result = await runProcess({
      command: `sleep 1000 > /dev/null 2>&1 & echo $! > ${pidFile}`,
      cwd: directory,
      env,
      timeoutMs: 10_000,
      maxOutputBytes: 1_000,
    });
    expect(result.exitCode).toBe(0);
    const background = Number((await readFile(pidFile, 'utf8')).trim());
    expect(await waitUntil(() => !isProcessAlive(background))).toBe(true);
  });

  it('with sweepEscapedProcesses, also kills what left the group for a session of its own', async () => {
    const pidFile = path.join(directory, 'escaped.pid');
    const command = `setsid sh -c 'echo $$ > ${pidFile}; exec sleep 1000' > /dev/null 2>&1 & sleep 1000`;
    const swept = await runProcess({
      command,
      cwd: directory,
      env,
      timeoutMs: 700,
      maxOutputBytes: 1_000,
      sweepEscapedProcesses: true,
    });
    expect(swept.timedOut).toBe(true);
    const escaped = Number((await readFile(pidFile, 'utf8')).trim());
    expect(escaped).toBeGreaterThan(0);
    expect(await waitUntil(() => !isProcessAlive(escaped))).toBe(true);

    // Without the sweep, the new session survives the group's death: the reason the option exists.
    await rm(pidFile, { force: true });
    await runProcess({ command, cwd: directory, env, timeoutMs: 700, maxOutputBytes: 1_000 });
    const survivor = Number((await readFile(pidFile, 'utf8')).trim());
    try {
      expect(isProcessAlive(survivor)).toBe(true);
    } finally {
      process.kill(survivor, 'SIGKILL');
    }
  });

  it('returns a spawn failure as a result', async () => {
    const missingProgram = await runProcess({
      command: ['warren-no-such-program'],
      cwd: directory,
      env,
      timeoutMs: 10_000,
      maxOutputBytes: 1_000,
    });
    expect(missingProgram.exitCode).toBeNull();
    expect(missingProgram.error).toMatch(/could not start "warren-no-such-program"/);

    const missingDirectory = await runProcess({
      command: 'true',
      cwd: path.join(directory, 'missing'),
      env,
      timeoutMs: 10_000,
      maxOutputBytes: 1_000,
    });
    expect(missingDirectory.error).toMatch(/could not start/);
  });
});
