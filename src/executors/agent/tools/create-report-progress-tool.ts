import { z } from 'zod';
import type { AgentTool } from '../agent-tool.ts';
import { defineBuiltinTool } from './define-builtin-tool.ts';

// why: progress is a status line shown in the dashboard, not a report; longer text is cut.
const maxMessageLength = 500;

const inputSchema = z.strictObject({
  message: z.string().min(1).describe('One short line on what you are doing or have done.'),
});

/** Creates the `report_progress` tool: passes a short progress message to the runner's heartbeat. */
export function createReportProgressTool(): AgentTool {
  return defineBuiltinTool({
    name: 'report_progress',
    description:
      'Tell the people watching this task what you are doing, in one short line ' +
      '(e.g. "tests pass; now updating the docs"). Use it at milestones, not after every step.',
    kind: 'other',
    inputSchema,
    async execute(input, context) {
      const message = input.message.replace(/\s+/g, ' ').trim();
      context.heartbeat(
        message.length > maxMessageLength ? `${message.slice(0, maxMessageLength)}…` : message,
      );
      return { output: 'ok' };
    },
  });
}
