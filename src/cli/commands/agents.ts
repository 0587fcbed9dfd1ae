/**
 * `warren agents list|show|validate`: the agent definitions the hub loaded (from its definitions directory
 * or Git repository), and an offline check of a definitions directory for CI.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { AgentDefinitionProblem } from '../../core/agent-definition.ts';
import type { AgentDefinitionEntry, AgentSourceInfo, AgentSourceStatus } from '../../core/api.ts';
import { validateAgentDefinitions } from '../../hub/agent-definitions/validate-agent-definitions.ts';
import { CliError } from '../cli-error.ts';
import type { GlobalOptions } from '../cli-context.ts';
import { connect, withHubOptions } from '../connect.ts';
import { formatAgo, formatTable, paint, printJson } from '../output.ts';

/** Registers the `agents` command group. */
export function registerAgentCommands(program: Command): void {
  const agents = program
    .command('agents')
    .description('agent definitions: list and show what the hub loaded, validate a definitions directory');

  withHubOptions(
    agents.command('list').description('list the agent definitions in use, their source and rejected files'),
  ).action(async (options: GlobalOptions) => {
    const answer = await connect(options).agents.list();
    if (options.json) return printJson(answer);
    if (answer.source === undefined) {
      process.stdout.write(
        'the hub has no agent definitions; set hub.agents in the config file to a directory or a Git repository (docs/agents.md)\n',
      );
      return;
    }
    const lines = [describeSource(answer.source)];
    if (answer.agents.length > 0) lines.push('', describeAgents(answer.agents));
    else lines.push('', 'no agent definitions loaded');
    if (answer.problems.length > 0) {
      lines.push(
        '',
        paint('yellow', `${answer.problems.length} problem${answer.problems.length === 1 ? '' : 's'}:`),
      );
      for (const problem of answer.problems) lines.push(`  ${formatProblem(problem)}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  });

  withHubOptions(
    agents
      .command('show')
      .argument('<name>', 'agent name')
      .description('show one agent definition, where it came from and whether its skills exist'),
  ).action(async (name: string, options: GlobalOptions) => {
    const detail = await connect(options).agents.get(name);
    if (detail === undefined) {
      throw new CliError(`no agent definition named ${name}`, {
        hint: 'see the names with `warren agents list`',
        exitCode: 1,
      });
    }
    if (options.json) return printJson(detail);
    const { agent, skills } = detail;
    const lines = [
      `${paint('bold', agent.definition.name)}  ${agent.file}${agent.revision ? ` (commit ${agent.revision.slice(0, 12)})` : ''}`,
      `loaded ${formatAgo(agent.loadedAt)}, ${describeExpiry(agent.expiresAt)}`,
    ];
    if (agent.replacementRejected) {
      lines.push(
        paint('yellow', 'a newer version of the file was rejected; this last good version stays in use'),
      );
    }
    lines.push('', stringify(agent.definition).trimEnd());
    if (skills.length > 0) {
      lines.push('', 'skills:');
      for (const skill of skills) {
        lines.push(`  ${skill.name}  ${skill.exists ? paint('green', 'found') : paint('red', 'missing')}`);
      }
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  });

  agents
    .command('validate')
    .argument('[dir]', 'the definitions directory, holding agents/ and skills/', '.')
    .option('--json', 'print JSON for scripts')
    .description('check every definition file and skill in a directory, offline (for CI); exit 1 on problems')
    .action(async (dir: string, options: { json?: boolean }) => {
      let validation;
      try {
        validation = await validateAgentDefinitions(resolve(dir));
      } catch (error) {
        throw new CliError((error as Error).message, {
          hint: 'pass the directory holding agents/<name>.yaml and skills/<name>/',
        });
      }
      if (options.json) printJson(validation);
      if (!validation.ok) {
        if (!options.json) {
          for (const problem of validation.problems) process.stdout.write(`${formatProblem(problem)}\n`);
        }
        const count = validation.problems.length;
        throw new CliError(
          `${count} problem${count === 1 ? '' : 's'} in the agent definitions in ${validation.directory}`,
          {
            hint: 'fix the files and fields named above (docs/agents.md describes every field)',
            exitCode: 1,
          },
        );
      }
      if (options.json) return;
      const names = validation.definitions.map((definition) => definition.name);
      process.stdout.write(
        `ok: ${names.length} agent definition${names.length === 1 ? '' : 's'} (${names.join(', ')}) and ` +
          `${validation.skills.length} skill${validation.skills.length === 1 ? '' : 's'} in ${validation.directory}\n`,
      );
    });
}

/** `file:line: field: reason`; the line and the field only when known. */
export function formatProblem(problem: AgentDefinitionProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}`;
  return problem.field === ''
    ? `${where}: ${problem.reason}`
    : `${where}: ${problem.field}: ${problem.reason}`;
}

function describeSource(status: AgentSourceStatus): string {
  const parts = [`source  ${labelOf(status.source)}`];
  if (status.revision) parts.push(`commit ${status.revision.slice(0, 12)}`);
  if (status.refreshedAt) parts.push(`read ${formatAgo(status.refreshedAt)}`);
  if (status.nextRefreshAt) parts.push(`next read ${formatAgo(status.nextRefreshAt)}`);
  const line = parts.join(', ');
  return status.lastError === undefined
    ? line
    : `${line}\n${paint('red', 'last read failed')} ${formatAgo(status.lastError.at)}: ${status.lastError.message}`;
}

function labelOf(source: AgentSourceInfo): string {
  if (source.kind === 'directory') return source.directory;
  return `${source.url}@${source.ref}${source.path === undefined ? '' : `:${source.path}`}`;
}

function describeExpiry(expiresAt: string): string {
  const ago = formatAgo(expiresAt);
  return ago.startsWith('in ')
    ? `cached for ${ago.slice(3)} more`
    : `expired ${ago} (read again on next use)`;
}

function describeAgents(entries: AgentDefinitionEntry[]): string {
  const rows = entries.map((entry) => [
    paint('bold', entry.definition.name),
    entry.definition.type,
    entry.definition.brain.model ?? '-',
    String(entry.definition.capabilities.skills.length),
    String(entry.definition.max_active),
    formatAgo(entry.loadedAt),
    entry.replacementRejected ? `${entry.file} ${paint('yellow', '(newer version rejected)')}` : entry.file,
  ]);
  return formatTable(['NAME', 'TYPE', 'MODEL', 'SKILLS', 'MAX ACTIVE', 'LOADED', 'FILE'], rows);
}
