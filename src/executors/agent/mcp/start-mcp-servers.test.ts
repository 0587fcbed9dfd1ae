import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../core/logger.ts';
import { isProcessAlive } from '../../testing/is-process-alive.ts';
import { waitFor } from '../../../../test/support/wait-for.ts';
import type { AgentTool, AgentToolContext } from '../agent-tool.ts';
import type { GrantSecrets } from './grant-environment.ts';
import { mcpServerConfigSchema, type McpServerConfig } from './mcp-server-config.ts';
import { McpStartError } from './mcp-start-error.ts';
import { startMcpServers, type McpActivation, type StartMcpServersOptions } from './start-mcp-servers.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../../..');
const filesystemServer = path.join(
  repoRoot,
  'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js',
);
const envReportServer = path.join(repoRoot, 'test/support/env-report-mcp-server.ts');
// `--import tsx` as a file URL, so the server starts from any working directory (the worktree by default).
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const onePixelPng = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const githubToken = `ghp_${randomUUID().replaceAll('-', '')}`;
const npmToken = `npm_${randomUUID().replaceAll('-', '')}`;
const runnerSecret = `runner-${randomUUID()}`;
const grantSecrets: GrantSecrets = {
  'github:read': { GITHUB_TOKEN: githubToken },
  'npm:publish': { NPM_TOKEN: npmToken },
  'api:call': { API_TOKEN: 'api-token-value-123' },
};

function config(fields: Record<string, unknown>): McpServerConfig {
  return mcpServerConfigSchema.parse(fields);
}
function envReport(name: string, fields: Record<string, unknown> = {}): McpServerConfig {
  return config({
    name,
    command: process.execPath,
    args: ['--import', tsxLoader, envReportServer],
    ...fields,
  });
}

interface EnvReport {
  pid: number;
  cwd: string;
  names: string[];
  values: Record<string, string | null>;
}

describe('startMcpServers', () => {
  let worktree: string;
  let baseEnv: Record<string, string>;
  let activations: McpActivation[];
  let trackedGroups: Map<number, 'tracked' | 'untracked'>;

  beforeAll(() => {
    process.env.WARREN_TEST_RUNNER_SECRET = runnerSecret;
  });
  afterAll(() => {
    delete process.env.WARREN_TEST_RUNNER_SECRET;
  });
  beforeEach(async () => {
    worktree = await realpath(await mkdtemp(path.join(tmpdir(), 'warren-mcp-')));
    baseEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: worktree,
      TMPDIR: tmpdir(),
      LANG: 'C.UTF-8',
    };
    activations = [];
    trackedGroups = new Map();
  });
  afterEach(async () => {
    await Promise.all(activations.map((activation) => activation.close()));
    await rm(worktree, { recursive: true, force: true });
  });

  async function start(overrides: Partial<StartMcpServersOptions>): Promise<McpActivation> {
    const activation = await startMcpServers({
      servers: [],
      taskGrants: [],
      grantSecrets,
      baseEnv,
      worktreePath: worktree,
      logger: silentLogger,
      abortSignal: new AbortController().signal,
      trackProcessGroup: (processGroupId) => {
        trackedGroups.set(processGroupId, 'tracked');
        return () => trackedGroups.set(processGroupId, 'untracked');
      },
      ...overrides,
    });
    activations.push(activation);
    return activation;
  }

  function toolContext(overrides: Partial<AgentToolContext> = {}): AgentToolContext {
    return {
      worktreePath: worktree,
      env: baseEnv,
      abortSignal: new AbortController().signal,
      heartbeat: () => undefined,
      logger: silentLogger,
      ...overrides,
    };
  }

  function toolNamed(activation: McpActivation, name: string): AgentTool {
    const tool = activation.tools.find((candidate) => candidate.name === name);
    if (!tool) throw new Error(`no tool ${name} in ${activation.tools.map((each) => each.name).join(', ')}`);
    return tool;
  }

  async function call(activation: McpActivation, name: string, input: unknown, context = toolContext()) {
    const tool = toolNamed(activation, name);
    const parsed = tool.parseInput(input);
    if (!parsed.success) throw new Error(parsed.error);
    return tool.execute(parsed.value, context);
  }

  async function reportEnv(
    activation: McpActivation,
    server: string,
    names: string[] = [],
  ): Promise<EnvReport> {
    const result = await call(activation, `${server}__report_env`, { names });
    expect(result.isError).toBe(false);
    return JSON.parse(result.output) as EnvReport;
  }

  async function expectStartError(promise: Promise<unknown>): Promise<McpStartError> {
    const error = await promise.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(McpStartError);
    return error as McpStartError;
  }

  describe('with the filesystem server from npm', () => {
    it('offers its tools with the filesystem__ prefix and reads and lists the worktree', async () => {
      await writeFile(path.join(worktree, 'notes.txt'), 'hello from the worktree\n');
      await mkdir(path.join(worktree, 'src'));
      const activation = await start({
        servers: [
          config({ name: 'filesystem', command: process.execPath, args: [filesystemServer, worktree] }),
        ],
      });

      expect(activation.servers).toEqual([
        { name: 'filesystem', toolCount: activation.tools.length, status: 'connected' },
      ]);
      const names = activation.tools.map((tool) => tool.name);
      expect(names).toEqual(
        expect.arrayContaining(['filesystem__read_text_file', 'filesystem__list_directory']),
      );
      for (const name of names) expect(name).toMatch(/^filesystem__[a-zA-Z0-9_-]+$/);
      const readTool = toolNamed(activation, 'filesystem__read_text_file');
      expect(readTool.kind).toBe('other');
      expect(readTool.description).not.toBe('');
      expect(readTool.inputJsonSchema).toMatchObject({
        type: 'object',
        properties: { path: expect.anything() },
      });

      const read = await call(activation, 'filesystem__read_text_file', {
        path: path.join(worktree, 'notes.txt'),
      });
      expect(read).toEqual({ output: 'hello from the worktree\n', isError: false });

      // Images come back as one line, not as base64 in the model's context.
      await writeFile(path.join(worktree, 'pixel.png'), onePixelPng);
      expect(
        await call(activation, 'filesystem__read_media_file', { path: path.join(worktree, 'pixel.png') }),
      ).toEqual({ output: `[image: image/png, ${onePixelPng.length} bytes]`, isError: false });

      const listing = await call(activation, 'filesystem__list_directory', { path: worktree });
      expect(listing.isError).toBe(false);
      expect(listing.output).toContain('[FILE] notes.txt');
      expect(listing.output).toContain('[DIR] src');
    });

    it('passes the server’s own refusals back as error results', async () => {
      const activation = await start({
        servers: [
          config({ name: 'filesystem', command: process.execPath, args: [filesystemServer, worktree] }),
        ],
      });
      const outside = await call(activation, 'filesystem__read_text_file', { path: '/etc/hostname' });
      expect(outside.isError).toBe(true);
      expect(outside.output).toMatch(/outside allowed directories/i);
      // Input that is not an object never reaches the server.
      expect(toolNamed(activation, 'filesystem__list_directory').parseInput('ls')).toEqual({
        success: false,
        error: 'input: must be an object',
      });
    });
  });

  describe('credential grants (env-report server)', () => {
    it('gives a granted variable only to a server that asks for a grant the task holds', async () => {
      const activation = await start({
        servers: [
          envReport('asks', { grants: ['github:read'] }),
          envReport('silent'),
          envReport('other', { grants: ['npm:publish'] }),
        ],
        taskGrants: ['github:read'],
      });
      const asks = await reportEnv(activation, 'asks');
      const silent = await reportEnv(activation, 'silent');
      const other = await reportEnv(activation, 'other');

      expect(asks.names).toEqual(['GITHUB_TOKEN', 'HOME', 'LANG', 'PATH', 'TMPDIR']);
      expect(silent.names).toEqual(['HOME', 'LANG', 'PATH', 'TMPDIR']);
      // The server asks for npm:publish but the task does not hold it.
      expect(other.names).toEqual(['HOME', 'LANG', 'PATH', 'TMPDIR']);
    });

    it('gives a task without the grant nothing, and never the runner’s own environment', async () => {
      const activation = await start({
        servers: [envReport('asks', { grants: ['github:read'], env: { LOG_LEVEL: 'debug' } })],
        taskGrants: [],
      });
      const report = await reportEnv(activation, 'asks', [
        'WARREN_TEST_RUNNER_SECRET',
        'HOME',
        'LOG_LEVEL',
        'USER',
      ]);
      // Exactly the base environment plus the plain env: none of the runner's USER, SHELL, LOGNAME, TERM.
      expect(report.names).toEqual(['HOME', 'LANG', 'LOG_LEVEL', 'PATH', 'TMPDIR']);
      expect(report.values).toEqual({
        WARREN_TEST_RUNNER_SECRET: null,
        HOME: worktree,
        LOG_LEVEL: 'debug',
        USER: null,
      });
      expect(report.cwd).toBe(worktree);
    });

    it('redacts granted values from tool output', async () => {
      const activation = await start({
        servers: [envReport('asks', { grants: ['github:read'] })],
        taskGrants: ['github:read'],
      });
      const report = await reportEnv(activation, 'asks', ['GITHUB_TOKEN']);
      expect(report.values).toEqual({ GITHUB_TOKEN: '[REDACTED]' });

      const echoed = await call(activation, 'asks__echo', { text: `the token is ${githubToken}!` });
      expect(echoed).toEqual({ output: 'the token is [REDACTED]!', isError: false });
      expect(JSON.stringify(activation.tools)).not.toContain(githubToken);
    });

    it('runs a server in an absolute cwd when configured', async () => {
      const elsewhere = await realpath(await mkdtemp(path.join(tmpdir(), 'warren-mcp-cwd-')));
      try {
        const activation = await start({ servers: [envReport('env', { cwd: elsewhere })] });
        expect((await reportEnv(activation, 'env')).cwd).toBe(elsewhere);
      } finally {
        await rm(elsewhere, { recursive: true, force: true });
      }
    });
  });

  describe('failing starts', () => {
    it('throws McpStartError naming a server whose command does not exist, and leaves nothing running', async () => {
      const error = await expectStartError(
        start({
          servers: [
            envReport('fine'),
            config({ name: 'missing', command: '/nonexistent/mcp-server-binary' }),
          ],
        }),
      );
      expect(error.code).toBe('executor_failed');
      expect(error.failures).toEqual([
        { server: 'missing', message: expect.stringContaining('/nonexistent/mcp-server-binary') },
      ]);
      expect(error.message).toContain('MCP server "missing" did not start');
      // The server that did start was stopped and killed.
      expect(trackedGroups.size).toBe(1);
      await expectAllGroupsGone();
    });

    it('quotes the stderr tail and exit code of a server that exits at once, redacting secrets', async () => {
      const script = `console.error('fatal: bad configuration, token ' + process.env.GITHUB_TOKEN); process.exit(3)`;
      const error = await expectStartError(
        start({
          servers: [
            config({
              name: 'broken',
              command: process.execPath,
              args: ['-e', script],
              grants: ['github:read'],
            }),
          ],
          taskGrants: ['github:read'],
        }),
      );
      expect(error.failures).toEqual([
        {
          server: 'broken',
          message: expect.stringContaining('exit code 3'),
          stderrTail: 'fatal: bad configuration, token [REDACTED]',
        },
      ]);
      expect(error.message).not.toContain(githubToken);
      await expectAllGroupsGone();
    });

    it('times out a server that never answers and kills it', async () => {
      const error = await expectStartError(
        start({
          servers: [
            config({
              name: 'mute',
              command: process.execPath,
              args: ['-e', 'setInterval(() => {}, 1000)'],
              startupTimeoutMs: 1_000,
            }),
          ],
        }),
      );
      expect(error.failures).toEqual([
        { server: 'mute', message: 'no answer to initialize and tools/list within 1000 ms' },
      ]);
      await expectAllGroupsGone();
    });

    it('keeps the other servers with onServerFailure "skip-server"', async () => {
      const activation = await start({
        servers: [envReport('fine'), config({ name: 'missing', command: '/nonexistent/mcp-server-binary' })],
        onServerFailure: 'skip-server',
      });
      expect(activation.servers).toEqual([
        { name: 'fine', toolCount: 4, status: 'connected' },
        {
          name: 'missing',
          toolCount: 0,
          status: 'failed',
          error: expect.stringContaining('could not start'),
        },
      ]);
      expect(activation.tools.map((tool) => tool.name)).toEqual([
        'fine__report_env',
        'fine__echo',
        'fine__start_background_process',
        'fine__wait',
      ]);
    });

    it('refuses an http server whose header references a variable it is not granted', async () => {
      const error = await expectStartError(
        start({
          servers: [
            config({
              name: 'remote',
              url: 'http://127.0.0.1:9/mcp',
              headers: { Authorization: 'Bearer ${API_TOKEN}' },
              grants: ['api:call'],
            }),
          ],
          taskGrants: [],
        }),
      );
      expect(error.failures).toEqual([
        { server: 'remote', message: expect.stringContaining('${API_TOKEN}') },
      ]);
    });

    it('throws McpStartError with aborted when aborted while starting, and leaves nothing running', async () => {
      const controller = new AbortController();
      const starting = start({ servers: [envReport('slow')], abortSignal: controller.signal });
      await waitFor('the server process to start', () => trackedGroups.size > 0);
      controller.abort();
      const error = await expectStartError(starting);
      expect(error.aborted).toBe(true);
      await expectAllGroupsGone();
    });
  });

  describe('closing', () => {
    it('kills each server and what it started; is idempotent; later calls are error results', async () => {
      const activation = await start({ servers: [envReport('one'), envReport('two')] });
      const one = await reportEnv(activation, 'one');
      const two = await reportEnv(activation, 'two');
      const background = JSON.parse((await call(activation, 'one__start_background_process', {})).output) as {
        pid: number;
      };
      for (const pid of [one.pid, two.pid, background.pid]) expect(isProcessAlive(pid)).toBe(true);
      expect([...trackedGroups.keys()].sort()).toEqual([one.pid, two.pid].sort());

      await Promise.all([activation.close(), activation.close()]);
      await activation.close();

      for (const pid of [one.pid, two.pid, background.pid]) {
        await waitFor(`process ${pid} to be gone`, () => !isProcessAlive(pid));
      }
      expect([...trackedGroups.values()]).toEqual(['untracked', 'untracked']);
      const after = await call(activation, 'one__echo', { text: 'hi' });
      expect(after.isError).toBe(true);
      expect(after.output).toContain('closed');
    });

    it('closes when the abort signal fires', async () => {
      const controller = new AbortController();
      const activation = await start({ servers: [envReport('env')], abortSignal: controller.signal });
      const { pid } = await reportEnv(activation, 'env');
      controller.abort();
      await waitFor(`process ${pid} to be gone`, () => !isProcessAlive(pid));
      expect(await call(activation, 'env__echo', { text: 'hi' })).toMatchObject({ isError: true });
    });

    it('answers with an error result when the server process died', async () => {
      const activation = await start({ servers: [envReport('env')] });
      const { pid } = await reportEnv(activation, 'env');
      process.kill(pid, 'SIGKILL');
      await waitFor(`process ${pid} to be gone`, () => !isProcessAlive(pid));
      const result = await waitFor('the exit to be seen', async () => {
        const answer = await call(activation, 'env__echo', { text: 'hi' });
        return answer.output.includes('exited') ? answer : undefined;
      });
      expect(result).toEqual({ output: expect.stringContaining('killed by SIGKILL'), isError: true });
    });
  });

  describe('tool calls', () => {
    it('turns a call past its timeout, or an aborted call, into an error result', async () => {
      const activation = await start({ servers: [envReport('env')], toolCallTimeoutMs: 300 });
      expect(await call(activation, 'env__wait', { ms: 10_000 })).toEqual({
        output: 'MCP tool env/wait failed: no answer within 300 ms',
        isError: true,
      });

      const controller = new AbortController();
      const pending = call(
        activation,
        'env__wait',
        { ms: 10_000 },
        toolContext({ abortSignal: controller.signal }),
      );
      controller.abort();
      expect(await pending).toEqual({
        output: 'MCP tool env/wait failed: the call was aborted',
        isError: true,
      });
      // The server is still usable afterwards.
      expect(await call(activation, 'env__echo', { text: 'still here' })).toEqual({
        output: 'still here',
        isError: false,
      });
    });

    it('returns a server’s validation error for bad arguments as an error result', async () => {
      const activation = await start({ servers: [envReport('env')] });
      const result = await call(activation, 'env__echo', { text: 42 });
      expect(result.isError).toBe(true);
      expect(result.output).toContain('text');
    });
  });

  describe('http servers', () => {
    let httpServer: Server;
    let url: string;

    beforeEach(async () => {
      // A real Streamable HTTP MCP server on loopback whose one tool reports the Authorization header.
      const mcpServer = new McpServer({ name: 'whoami', version: '1.0.0' });
      mcpServer.registerTool('whoami', { description: 'Reports the Authorization header.' }, (extra) => ({
        content: [
          { type: 'text', text: `authorization: ${String(extra.requestInfo?.headers.authorization)}` },
        ],
      }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID() });
      await mcpServer.connect(transport);
      httpServer = createServer((request, response) => void transport.handleRequest(request, response));
      await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/mcp`;
    });
    afterEach(async () => {
      httpServer.closeAllConnections();
      await new Promise((resolve) => httpServer.close(resolve));
    });

    it('sends headers resolved from granted variables and redacts them from output', async () => {
      const activation = await start({
        servers: [
          config({
            name: 'remote',
            url,
            headers: { Authorization: 'Bearer ${API_TOKEN}' },
            grants: ['api:call'],
          }),
        ],
        taskGrants: ['api:call'],
      });
      expect(activation.servers).toEqual([{ name: 'remote', toolCount: 1, status: 'connected' }]);
      expect(await call(activation, 'remote__whoami', {})).toEqual({
        output: 'authorization: Bearer [REDACTED]',
        isError: false,
      });
    });
  });

  it('throws McpStartError naming an http server that cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const url = `http://127.0.0.1:${port}/mcp`;
    const error = await expectStartError(start({ servers: [config({ name: 'remote', url })] }));
    expect(error.failures).toEqual([
      { server: 'remote', message: expect.stringContaining(`no MCP answer from ${url}: fetch failed`) },
    ]);
  });

  /** Every process group the activation tracked is untracked and has no live leader. */
  async function expectAllGroupsGone(): Promise<void> {
    for (const [processGroupId, state] of trackedGroups) {
      expect(state).toBe('untracked');
      await waitFor(`process ${processGroupId} to be gone`, () => !isProcessAlive(processGroupId));
    }
  }
});
