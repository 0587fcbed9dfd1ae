import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Logger } from '../../../core/logger.ts';
import { silentLogger } from '../../../core/logger.ts';
import { defineBuiltinTool } from './define-builtin-tool.ts';

describe('defineBuiltinTool', () => {
  it('turns an exception inside a tool into a tool error and logs it', async () => {
    const warnings: Record<string, unknown>[] = [];
    const logger: Logger = { ...silentLogger, warn: (fields) => warnings.push(fields) };
    const tool = defineBuiltinTool({
      name: 'broken',
      description: 'always throws',
      kind: 'other',
      inputSchema: z.strictObject({}),
      execute: () => Promise.reject(new Error('disk on fire')),
    });
    const result = await tool.execute(
      {},
      { worktreePath: '/', env: {}, abortSignal: new AbortController().signal, heartbeat: () => {}, logger },
    );
    expect(result).toEqual({ isError: true, output: 'broken failed unexpectedly: disk on fire' });
    expect(warnings).toEqual([expect.objectContaining({ tool: 'broken' })]);
  });
});
