/**
 * The error of an MCP activation that could not start: a server of the agent definition failed to start,
 * connect or list its tools, or the activation was aborted while starting.
 */
import { WarrenError } from '../../../core/errors.ts';

/** Why one MCP server did not start. Secret values are already redacted from every field. */
export interface McpServerStartFailure {
  /** The server's name from its configuration. */
  server: string;
  /** What went wrong, in words. */
  message: string;
  /** The last lines the server's process wrote to stderr, when it is a stdio server that wrote any. */
  stderrTail?: string;
}

/**
 * One or more MCP servers of an activation did not start. The servers that did start are closed before
 * this is thrown. The code is `executor_failed`: the agent executor cannot run as its definition says.
 */
export class McpStartError extends WarrenError {
  readonly failures: McpServerStartFailure[];
  /** True when the activation's abort signal fired while the servers were starting. */
  readonly aborted: boolean;

  constructor(failures: McpServerStartFailure[], options: { aborted?: boolean; cause?: unknown } = {}) {
    super('executor_failed', describeFailures(failures, options.aborted ?? false), { cause: options.cause });
    this.name = 'McpStartError';
    this.failures = failures;
    this.aborted = options.aborted ?? false;
  }
}

function describeFailures(failures: McpServerStartFailure[], aborted: boolean): string {
  if (failures.length === 0) return aborted ? 'MCP servers not started: aborted' : 'MCP servers not started';
  return failures
    .map((failure) => {
      const stderr = failure.stderrTail ? `; stderr: ${failure.stderrTail}` : '';
      return `MCP server "${failure.server}" did not start: ${failure.message}${stderr}`;
    })
    .join('\n');
}
