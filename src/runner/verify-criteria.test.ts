import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyCriteria } from './verify-criteria.ts';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), LANG: 'C.UTF-8' };

describe('verifyCriteria', () => {
  let worktree: string;
  beforeEach(async () => {
    worktree = await mkdtemp(path.join(tmpdir(), 'warren-verify-'));
  });
  afterEach(async () => {
    await rm(worktree, { recursive: true, force: true });
  });

  it('runs every criterion in the worktree and records the evidence', async () => {
    const round = await verifyCriteria({
      worktreePath: worktree,
      env,
      round: 2,
      criteria: [
        { description: 'in the worktree', command: `test "$(pwd)" = "${worktree}"` },
        { description: 'fails', command: 'echo nope; exit 4' },
        { description: 'reviewed by a human' },
      ],
    });
    expect(round.round).toBe(2);
    expect(round.passed).toBe(false);
    expect(round.criteria.map((result) => result.passed)).toEqual([true, false, true]);
    expect(round.criteria[1]).toMatchObject({
      exitCode: 4,
      timedOut: false,
      output: 'nope\n',
      command: 'echo nope; exit 4',
    });
    expect(round.criteria[2]).toMatchObject({ exitCode: null, passed: true });
    expect(round.criteria[2]!.output).toMatch(/agent or a human/);
  });

  it('passes when every command passes', async () => {
    const round = await verifyCriteria({
      worktreePath: worktree,
      env,
      criteria: [{ description: 'ok', command: 'true' }],
    });
    expect(round).toMatchObject({ round: 1, passed: true });
  });

  it('fails a criterion that runs past its timeout', async () => {
    const round = await verifyCriteria({
      worktreePath: worktree,
      env,
      criteria: [{ description: 'hangs', command: 'sleep 30', timeoutMs: 1_000 }],
    });
    expect(round.criteria[0]).toMatchObject({ passed: false, timedOut: true, exitCode: null });
  });

  it('caps the output it keeps', async () => {
    const round = await verifyCriteria({
      worktreePath: worktree,
      env,
      maxOutputBytes: 1_000,
      criteria: [{ description: 'noisy', command: 'seq 1 100000; exit 1' }],
    });
    const output = round.criteria[0]!.output;
    expect(output).toMatch(/^\[… \d+ bytes truncated …\]/);
    expect(output.endsWith('100000\n')).toBe(true);
    expect(output.length).toBeLessThan(1_100);
  });

  it('stops and skips the rest when aborted', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const round = await verifyCriteria({
      worktreePath: worktree,
      env,
      abortSignal: controller.signal,
      criteria: [
        { description: 'slow', command: 'sleep 30' },
        { description: 'never runs', command: 'true' },
      ],
    });
    expect(round.passed).toBe(false);
    expect(round.criteria.map((result) => result.passed)).toEqual([false, false]);
    expect(round.criteria[1]!.output).toMatch(/not run/);
  });
});
