/**
 * The `warren` command: builds the command tree and turns errors into one readable line plus a hint.
 */
import { Command, CommanderError } from 'commander';
import { WarrenError, InvalidInputError } from '../core/errors.ts';
import { CliError } from './cli-error.ts';
import { registerAgentCommands } from './commands/agents.ts';
import { registerDataCommands } from './commands/data.ts';
import { registerDbCommands } from './commands/db.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerEndpointCommands } from './commands/endpoints.ts';
import { registerRoutingCommands } from './commands/routing.ts';
import { registerRunnerCommands } from './commands/runner.ts';
import { registerTaskCommands } from './commands/task.ts';
import { registerUpCommand } from './commands/up.ts';
import { paint } from './output.ts';

/** The CLI's version, shown by `warren --version`. */
export const CLI_VERSION = '0.1.0';

/** Builds the command tree (exported for tests). */
export function createProgram(): Command {
  const program = new Command('warren')
    .description('Warren: a control plane for autonomous AI coding agents')
    .version(CLI_VERSION)
    .showSuggestionAfterError()
    .exitOverride();
  registerDemoCommand(program);
  registerUpCommand(program);
  registerTaskCommands(program);
  registerRunnerCommands(program);
  registerEndpointCommands(program);
  registerAgentCommands(program);
  registerRoutingCommands(program);
  registerDataCommands(program);
  registerDbCommands(program);
  return program;
}

/** Runs the CLI with `argv` (as in process.argv) and sets the exit code. */
export async function main(argv: string[]): Promise<void> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = reportError(error);
  }
}

/** Prints an error for a person and returns the exit code. */
export function reportError(error: unknown): number {
  const write = (line: string): boolean => process.stderr.write(`${line}\n`);
  if (error instanceof CommanderError) {
    // Commander already printed its message (or the help/version output).
    return error.exitCode;
  }
  if (error instanceof CliError) {
    write(`${paint('red', 'error:')} ${error.message}`);
    if (error.hint) write(`${paint('gray', 'hint:')} ${error.hint}`);
    return error.exitCode;
  }
  if (error instanceof InvalidInputError) {
    write(`${paint('red', 'error:')} the hub refused the input`);
    for (const issue of error.issues) write(`  - ${issue.field || '(input)'}: ${issue.reason}`);
    return 2;
  }
  if (WarrenError.isInstance(error)) {
    write(`${paint('red', 'error:')} ${error.message} (${error.code})`);
    if (error.code === 'unavailable')
      write(`${paint('gray', 'hint:')} is the hub running? start one with \`warren up\``);
    if (error.code === 'unauthorized') write(`${paint('gray', 'hint:')} check --token / WARREN_TOKEN`);
    return 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  write(`${paint('red', 'error:')} ${message}`);
  if (process.env.WARREN_DEBUG && error instanceof Error && error.stack) write(error.stack);
  return 1;
}
