/**
 * A real stdio MCP server for tests, built with the MCP SDK. Run it with
 * `node --import tsx test/support/env-report-mcp-server.ts`.
 *
 * Tools:
 * - `report_env` `{ names?: string[] }`: JSON `{ pid, cwd, names, values }` with the names of every
 *   environment variable the process received and the values of those listed in `names`.
 * - `echo` `{ text }`: returns `text`.
 * - `start_background_process`: starts a long sleeping child process in the server's process group and
 *   returns its pid, so tests can check that closing kills what a server started.
 * - `wait` `{ ms }`: answers after `ms` milliseconds, for timeouts and aborts.
 */
import { spawn } from 'node:child_process';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

// why: long enough to outlive any test; the point is that closing kills it, not that it ends.
const backgroundSleepMs = 10 * 60_000;

const server = new McpServer({ name: 'env-report', version: '1.0.0' });

server.registerTool(
  'report_env',
  {
    description: 'Reports the names of the environment variables this server received, and chosen values.',
    inputSchema: { names: z.array(z.string()).optional() },
  },
  ({ names }) => {
    const values: Record<string, string | null> = {};
    for (const name of names ?? []) values[name] = process.env[name] ?? null;
    const report = { pid: process.pid, cwd: process.cwd(), names: Object.keys(process.env).sort(), values };
    return { content: [{ type: 'text', text: JSON.stringify(report) }] };
  },
);

server.registerTool(
  'echo',
  { description: 'Returns the text it is given.', inputSchema: { text: z.string() } },
  ({ text }) => ({ content: [{ type: 'text', text }] }),
);

server.registerTool(
  'start_background_process',
  { description: 'Starts a sleeping child process and returns its pid.' },
  () => {
    const child = spawn(process.execPath, ['-e', `setTimeout(() => {}, ${backgroundSleepMs})`], {
      stdio: 'ignore',
    });
    child.unref();
    return { content: [{ type: 'text', text: JSON.stringify({ pid: child.pid }) }] };
  },
);

server.registerTool(
  'wait',
  { description: 'Answers after the given milliseconds.', inputSchema: { ms: z.number().int().min(0) } },
  async ({ ms }) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { content: [{ type: 'text', text: `waited ${ms} ms` }] };
  },
);

await server.connect(new StdioServerTransport());
