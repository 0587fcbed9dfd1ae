import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../core/logger.ts';
import { createReportProgressTool } from './create-report-progress-tool.ts';
import { callTool } from './testing/call-tool.ts';

const tool = createReportProgressTool();

describe('report_progress', () => {
  const heartbeats: (string | undefined)[] = [];
  const context = {
    worktreePath: '/nonexistent',
    env: {},
    abortSignal: new AbortController().signal,
    heartbeat: (progress?: string) => heartbeats.push(progress),
    logger: silentLogger,
  };

  it('passes the message to heartbeat and answers ok', async () => {
    await expect(callTool(tool, { message: 'tests pass;\n now the docs' }, context)).resolves.toEqual({
      output: 'ok',
    });
    expect(heartbeats.at(-1)).toBe('tests pass; now the docs');
  });

  it('cuts a long message', async () => {
    await callTool(tool, { message: 'x'.repeat(2_000) }, context);
    expect(heartbeats.at(-1)).toBe(`${'x'.repeat(500)}…`);
  });

  it('rejects malformed input naming the field', () => {
    expect(tool.parseInput({})).toEqual({ success: false, error: expect.stringContaining('message') });
    expect(tool.parseInput({ message: 42 })).toEqual({
      success: false,
      error: expect.stringContaining('message'),
    });
  });
});
