/**
 * Starting the MCP servers of an agent definition for one activation (one agent run in one worktree),
 * offering their tools to the model, and stopping them afterwards.
 *
 * What a stdio server's process sees: its environment is exactly {@link environmentForServer} (the
 * runner's `baseEnv`, the server's plain `env`, the variables of the grants that both the server asks for
 * and the task holds); nothing from the runner's `process.env` is added, not even the HOME/PATH/USER/...
 * that the SDK's own stdio transport would copy (see `child-process-transport.ts`). Its working directory
 * is the worktree unless its configuration names an absolute `cwd`; its stdin and stdout carry MCP; its
 * stderr is kept as a capped tail for error messages; it leads its own process group, which is killed on
 * close.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../../core/logger.ts';
import type { AgentTool } from '../agent-tool.ts';
import { createChildProcessTransport, type ChildProcessTransport } from './child-process-transport.ts';
import { createMcpTool, mcpToolName } from './create-mcp-tool.ts';
import {
  environmentForServer,
  grantedSecretValues,
  headersForServer,
  type GrantSecrets,
} from './grant-environment.ts';
import { McpStartError, type McpServerStartFailure } from './mcp-start-error.ts';
import type { McpServerConfig } from './mcp-server-config.ts';
import { redactSecrets } from '../../redact-secrets.ts';

/**
 * What to do when a server does not start.
 * - `fail-activation`: close the servers that did start and throw {@link McpStartError}; an agent whose
 *   definition names a server should not silently run without its tools.
 * - `skip-server`: leave the server out; its status is `failed` with the reason.
 */
export type McpServerFailurePolicy = 'fail-activation' | 'skip-server';

/** Everything needed to start the MCP servers of one activation. */
export interface StartMcpServersOptions {
  /** Parsed configurations (`mcpServerConfigSchema`), with unique names. */
  servers: readonly McpServerConfig[];
  /** Grants the task holds. */
  taskGrants: readonly string[];
  /** The runner's secrets per grant; a server gets those of the grants it asks for and the task holds. */
  grantSecrets: GrantSecrets;
  /** The runner's minimal task environment (PATH, HOME, TMPDIR, LANG), never `process.env`. */
  baseEnv: Record<string, string>;
  /** Absolute path of the attempt's worktree: the working directory of stdio servers by default. */
  worktreePath: string;
  logger: Logger;
  /** Aborting stops the start (which then throws {@link McpStartError} with `aborted`) or closes the activation. */
  abortSignal: AbortSignal;
  /** Records the process group of each stdio server (see `ExecutorContext.trackProcessGroup`). */
  trackProcessGroup?: (processGroupId: number) => () => void;
  /** Default `fail-activation`. */
  onServerFailure?: McpServerFailurePolicy;
  /** A tool call not answered in this time is an error result. Default 5 minutes. */
  toolCallTimeoutMs?: number;
}

/**
 * The state of one server in an activation.
 * - `connected`: started, initialised, tools listed.
 * - `failed`: did not start (only kept with `onServerFailure: 'skip-server'`); `error` says why.
 */
export type McpServerStatus = 'connected' | 'failed';

/** One server of an activation. */
export interface McpActivationServer {
  name: string;
  /** How many tools it offers to the model. */
  toolCount: number;
  status: McpServerStatus;
  /** Why it did not start; secret values redacted. */
  error?: string;
}

/** The running MCP servers of one activation. */
export interface McpActivation {
  /** The tools of every connected server, named `server__tool`. */
  tools: AgentTool[];
  /** Every configured server, in configuration order. */
  servers: McpActivationServer[];
  /**
   * Closes every connection and kills every stdio server's process group. Idempotent; also run when the
   * abort signal fires. Tool calls after it return error results.
   */
  close(): Promise<void>;
}

// why: a healthy server answers `initialize` in well under a second; a Node server on a cold, slow
// machine takes a few. 30 s tells a stuck or misconfigured server from a slow one without holding an
// attempt for long.
const defaultStartupTimeoutMs = 30_000;
// why: an MCP tool may run a build or a search; five minutes bounds a hung server without cutting off real
// work, and the attempt's own timeout bounds the whole run through the abort signal.
const defaultToolCallTimeoutMs = 5 * 60_000;
// why: a server that pages forever must not hang the start; no real server has 100 pages of tools.
const maxToolPages = 100;
// why: enough of a server's stderr to show its error or usage message; the rest is in the logs it keeps.
const maxQuotedStderrCharacters = 2_000;
// why: servers only log this; bumped when what this client sends changes.
const clientInfo = { name: 'warren', version: '1.0.0' };

/** The client and transport of one server; `processTransport` is set for stdio servers. */
interface ServerConnection {
  config: McpServerConfig;
  client: Client;
  transport: Transport;
  processTransport?: ChildProcessTransport;
}

/** A server that connected and listed its tools. */
interface StartedServer extends ServerConnection {
  tools: Tool[];
}

/** How the start of one server ended; `cancelled` when it was stopped because of abort or another failure. */
type StartOutcome =
  | { config: McpServerConfig; started: StartedServer; failure?: undefined; cancelled?: undefined }
  | { config: McpServerConfig; started?: undefined; failure: McpServerStartFailure; cancelled: boolean };

/**
 * Starts all `servers` in parallel, each within its startup timeout (default 30 s), and returns their
 * tools. With the default `fail-activation` policy the first failure stops the other starts, the servers
 * that did start are closed, and {@link McpStartError} names each failed server with its stderr tail.
 * Every text given back (tool output, errors, stderr) has the granted secret values redacted. The tool
 * list is taken once at start; `tools/list_changed` notifications are not followed within an activation.
 */
export async function startMcpServers(options: StartMcpServersOptions): Promise<McpActivation> {
  const policy = options.onServerFailure ?? 'fail-activation';
  const secretValues = grantedSecretValues(options);
  const redact = (text: string) => redactSecrets(text, secretValues);
  if (options.abortSignal.aborted) throw new McpStartError([], { aborted: true });

  // Stops the starts still running: on abort, or on the first failure under `fail-activation`.
  const startController = new AbortController();
  const onAbortWhileStarting = () => startController.abort();
  options.abortSignal.addEventListener('abort', onAbortWhileStarting, { once: true });

  const outcomes = await Promise.all(
    options.servers.map(async (config): Promise<StartOutcome> => {
      let connection: ServerConnection | undefined;
      try {
        connection = createConnection(config, options);
        return { config, started: await startServer(connection, options, startController.signal, redact) };
      } catch (error) {
        if (policy === 'fail-activation') startController.abort();
        return {
          config,
          failure: toStartFailure(config, error, connection?.processTransport, redact),
          cancelled: error instanceof StartCancelledError,
        };
      }
    }),
  );
  options.abortSignal.removeEventListener('abort', onAbortWhileStarting);

  const started = outcomes.flatMap((outcome) => (outcome.started ? [outcome.started] : []));
  // Servers stopped only because another one failed are not failures of their own.
  const failures = outcomes.flatMap((outcome) =>
    outcome.failure && !outcome.cancelled ? [outcome.failure] : [],
  );
  if (options.abortSignal.aborted || (policy === 'fail-activation' && failures.length > 0)) {
    await Promise.all(started.map((server) => closeQuietly(server.client)));
    throw new McpStartError(failures, { aborted: options.abortSignal.aborted });
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      options.abortSignal.removeEventListener('abort', onAbort);
      await Promise.all(started.map((server) => closeQuietly(server.client)));
    })();
    return closing;
  };
  const onAbort = () => void close();
  options.abortSignal.addEventListener('abort', onAbort, { once: true });

  const taken = new Set<string>();
  const tools: AgentTool[] = [];
  for (const server of started) {
    const serverName = server.config.name;
    const logger = options.logger.child({ mcpServer: serverName });
    server.client.onclose = () => {
      if (closing) return;
      logger.warn(
        {
          stderrTail: redact(server.processTransport?.stderrTail() ?? ''),
          exit: server.processTransport?.exit,
        },
        'MCP server closed the connection',
      );
    };
    const unavailableReason = () => {
      if (closing) return 'the MCP servers of this run are closed';
      const exit = server.processTransport?.exit;
      if (exit) return `the MCP server's process has exited (${describeExit(exit)})`;
      return undefined;
    };
    for (const tool of server.tools) {
      const name = mcpToolName(serverName, tool.name, taken);
      taken.add(name);
      tools.push(
        createMcpTool({
          serverName,
          tool,
          name,
          client: server.client,
          secretValues,
          callTimeoutMs: options.toolCallTimeoutMs ?? defaultToolCallTimeoutMs,
          unavailableReason,
        }),
      );
    }
  }

  return {
    tools,
    servers: outcomes.map((outcome) =>
      outcome.started
        ? { name: outcome.config.name, toolCount: outcome.started.tools.length, status: 'connected' as const }
        : {
            name: outcome.config.name,
            toolCount: 0,
            status: 'failed' as const,
            error: describeFailure(outcome.failure),
          },
    ),
    close,
  };
}

/** Thrown inside a start that was stopped from outside (abort, or another server failed). */
class StartCancelledError extends Error {}

/** Thrown inside a start that ran past its startup timeout. */
class StartTimeoutError extends Error {}

/** Connects to one server and lists its tools; closes what it opened when it fails. */
async function startServer(
  connection: ServerConnection,
  options: StartMcpServersOptions,
  startSignal: AbortSignal,
  redact: (text: string) => string,
): Promise<StartedServer> {
  const { config, client, transport } = connection;
  const logger = options.logger.child({ mcpServer: config.name });
  const timeoutMs = config.startupTimeoutMs ?? defaultStartupTimeoutMs;
  client.onerror = (error) => logger.debug({ error: redact(error.message) }, 'MCP transport error');

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new StartTimeoutError()), timeoutMs);
  const onStartAbort = () => controller.abort(new StartCancelledError());
  if (startSignal.aborted) onStartAbort();
  else startSignal.addEventListener('abort', onStartAbort, { once: true });
  const stopped = new Promise<never>((_resolve, reject) => {
    const rejectWithReason = () => reject(controller.signal.reason as Error);
    if (controller.signal.aborted) rejectWithReason();
    else controller.signal.addEventListener('abort', rejectWithReason, { once: true });
  });
  // why: the race below may leave `stopped` unobserved when the start wins.
  stopped.catch(() => undefined);
  const requestOptions = { signal: controller.signal, timeout: timeoutMs };

  try {
    await Promise.race([client.connect(transport, requestOptions), stopped]);
    const tools: Tool[] = [];
    if (client.getServerCapabilities()?.tools) {
      let cursor: string | undefined;
      for (let page = 0; page < maxToolPages; page += 1) {
        const listed = await Promise.race([
          client.listTools(cursor === undefined ? undefined : { cursor }, requestOptions),
          stopped,
        ]);
        tools.push(...listed.tools);
        cursor = listed.nextCursor;
        if (cursor === undefined) break;
      }
    }
    logger.info({ toolCount: tools.length, transport: config.transport }, 'MCP server connected');
    return { ...connection, tools };
  } catch (error) {
    await closeQuietly(client);
    await transport.close().catch(() => undefined);
    if (controller.signal.aborted) throw controller.signal.reason as Error;
    throw error;
  } finally {
    clearTimeout(timer);
    startSignal.removeEventListener('abort', onStartAbort);
  }
}

/** Makes the client and transport of a server; throws {@link StartConfigurationError} for bad headers. */
function createConnection(config: McpServerConfig, options: StartMcpServersOptions): ServerConnection {
  const client = new Client(clientInfo, { capabilities: {} });
  switch (config.transport) {
    case 'stdio': {
      const processTransport = createChildProcessTransport({
        command: config.command,
        args: config.args ?? [],
        cwd: config.cwd === undefined || config.cwd === 'worktree' ? options.worktreePath : config.cwd,
        env: environmentForServer({ ...options, server: config }),
        ...(options.trackProcessGroup ? { trackProcessGroup: options.trackProcessGroup } : {}),
      });
      return { config, client, transport: processTransport, processTransport };
    }
    case 'http': {
      const headers = headersForServer({ ...options, server: config });
      if (!headers.success) throw new StartConfigurationError(headers.error);
      const transport = new StreamableHTTPClientTransport(new URL(config.url), {
        requestInit: { headers: headers.headers },
      });
      return { config, client, transport };
    }
  }
}

/** A server configuration that cannot be used with this task's grants. */
class StartConfigurationError extends Error {}

function toStartFailure(
  config: McpServerConfig,
  error: unknown,
  processTransport: ChildProcessTransport | undefined,
  redact: (text: string) => string,
): McpServerStartFailure {
  const timeoutMs = config.startupTimeoutMs ?? defaultStartupTimeoutMs;
  let message: string;
  if (error instanceof StartTimeoutError) {
    message = `no answer to initialize and tools/list within ${timeoutMs} ms`;
  } else if (error instanceof StartCancelledError) {
    message = 'start stopped (aborted, or another server failed)';
  } else if (error instanceof StartConfigurationError) {
    // The message names the server already.
    message = error.message.replace(`MCP server "${config.name}": `, '');
  } else if (processTransport?.exit && processTransport.pid !== undefined) {
    message = `the process ended before the server was ready (${describeExit(processTransport.exit)})`;
  } else if (config.transport === 'http') {
    message = `no MCP answer from ${config.url}: ${describeError(error)}`;
  } else {
    message = describeError(error);
  }
  const stderrTail = redact(processTransport?.stderrTail() ?? '').slice(-maxQuotedStderrCharacters);
  return { server: config.name, message: redact(message), ...(stderrTail ? { stderrTail } : {}) };
}

/** The message of an error and of its causes (`fetch failed: connect ECONNREFUSED 127.0.0.1:9`). */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return typeof error === 'string' ? error : 'unknown error';
  const messages: string[] = [];
  // why: three levels reach the system error under fetch's and undici's wrappers; deeper is noise.
  for (
    let current: unknown = error;
    current instanceof Error && messages.length < 3;
    current = current.cause
  ) {
    messages.push(current.message);
  }
  return [...new Set(messages)].join(': ');
}

function describeFailure(failure: McpServerStartFailure): string {
  return failure.stderrTail ? `${failure.message}; stderr: ${failure.stderrTail}` : failure.message;
}

function describeExit(exit: NonNullable<ChildProcessTransport['exit']>): string {
  if (exit.signal) return `killed by ${exit.signal}`;
  return exit.code === null ? 'no exit code' : `exit code ${exit.code}`;
}

async function closeQuietly(client: Client): Promise<void> {
  try {
    await client.close();
  } catch {
    // Closing is best effort; the process group is killed by the transport regardless.
  }
}
