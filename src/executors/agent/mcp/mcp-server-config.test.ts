import { describe, expect, it } from 'vitest';
import { toFieldIssues } from '../../../core/parse-input.ts';
import { mcpServerConfigSchema, mcpServerConfigsSchema } from './mcp-server-config.ts';

function issuesOf(schema: typeof mcpServerConfigSchema | typeof mcpServerConfigsSchema, value: unknown) {
  const parsed = schema.safeParse(value);
  if (parsed.success) throw new Error(`expected ${JSON.stringify(value)} to be refused`);
  return toFieldIssues(parsed.error);
}

describe('mcpServerConfigSchema', () => {
  it('parses a stdio server and infers its transport from "command"', () => {
    expect(
      mcpServerConfigSchema.parse({
        name: 'filesystem',
        command: 'node',
        args: ['server.js', '.'],
        env: { LOG_LEVEL: 'debug' },
        grants: ['github:read'],
        startupTimeoutMs: 5_000,
      }),
    ).toEqual({
      transport: 'stdio',
      name: 'filesystem',
      command: 'node',
      args: ['server.js', '.'],
      env: { LOG_LEVEL: 'debug' },
      grants: ['github:read'],
      startupTimeoutMs: 5_000,
    });
    expect(mcpServerConfigSchema.parse({ name: 'a', command: 'x', cwd: '/srv/data' })).toMatchObject({
      cwd: '/srv/data',
    });
    expect(mcpServerConfigSchema.parse({ name: 'a', command: 'x', cwd: 'worktree' })).toMatchObject({
      cwd: 'worktree',
    });
  });

  it('parses an http server and infers its transport from "url"', () => {
    expect(
      mcpServerConfigSchema.parse({
        name: 'github',
        url: 'https://mcp.example.test/mcp',
        headers: { Authorization: 'Bearer ${GITHUB_TOKEN}' },
        grants: ['github:read'],
      }),
    ).toEqual({
      transport: 'http',
      name: 'github',
      url: 'https://mcp.example.test/mcp',
      headers: { Authorization: 'Bearer ${GITHUB_TOKEN}' },
      grants: ['github:read'],
    });
    expect(
      mcpServerConfigSchema.parse({ transport: 'http', name: 'local', url: 'http://127.0.0.1:9/mcp' }),
    ).toMatchObject({ transport: 'http' });
  });

  it('refuses malformed configurations, naming each field', () => {
    expect(issuesOf(mcpServerConfigSchema, { name: 'Bad Name', command: '', extra: true })).toEqual([
      { field: 'name', reason: expect.stringContaining('lowercase') },
      { field: 'command', reason: 'required' },
      { field: '', reason: 'unknown field(s): extra' },
    ]);
    expect(
      issuesOf(mcpServerConfigSchema, {
        name: 'a',
        command: 'x',
        cwd: 'relative/dir',
        env: { 'not a name': 'x' },
        grants: ['GitHub Read'],
        startupTimeoutMs: 10,
      }).map((issue) => issue.field),
    ).toEqual(['env.not a name', 'cwd', 'grants.0', 'startupTimeoutMs']);
    expect(issuesOf(mcpServerConfigSchema, { name: 'a', url: 'ftp://example.test/' })).toEqual([
      { field: 'url', reason: 'must be an http or https URL' },
    ]);
    expect(
      issuesOf(mcpServerConfigSchema, { name: 'a', url: 'https://x.test', headers: { 'a b': 'x' } }),
    ).toEqual([{ field: 'headers.a b', reason: 'must be an HTTP header name' }]);
    // An http server takes no command, a stdio server no url.
    expect(
      issuesOf(mcpServerConfigSchema, { transport: 'http', name: 'a', url: 'https://x.test', command: 'x' }),
    ).toEqual([{ field: '', reason: 'unknown field(s): command' }]);
  });

  it('refuses a server that is neither stdio nor http', () => {
    for (const value of [
      { name: 'a' },
      { name: 'a', command: 'x', url: 'https://x.test' },
      { transport: 'ws' },
    ]) {
      expect(issuesOf(mcpServerConfigSchema, value)).toEqual([
        { field: 'transport', reason: 'must be "stdio" (with "command") or "http" (with "url")' },
      ]);
    }
  });

  it('refuses a name longer than 32 characters or not starting with a letter', () => {
    expect(mcpServerConfigSchema.safeParse({ name: 'a'.repeat(32), command: 'x' }).success).toBe(true);
    expect(mcpServerConfigSchema.safeParse({ name: 'a'.repeat(33), command: 'x' }).success).toBe(false);
    expect(mcpServerConfigSchema.safeParse({ name: '1abc', command: 'x' }).success).toBe(false);
    expect(mcpServerConfigSchema.safeParse({ name: 'a__b', command: 'x' }).success).toBe(true);
  });
});

describe('mcpServerConfigsSchema', () => {
  it('refuses duplicate server names, naming the second', () => {
    expect(
      issuesOf(mcpServerConfigsSchema, [
        { name: 'tools', command: 'x' },
        { name: 'tools', url: 'https://x.test' },
      ]),
    ).toEqual([{ field: '1.name', reason: 'duplicate server name "tools"' }]);
  });
});
