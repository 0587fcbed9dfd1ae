/**
 * `warren endpoints list|add|remove`: the hub's model endpoints and their health.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { EndpointWithHealth } from '../../core/api.ts';
import type { EndpointStatus } from '../../core/model-endpoints.ts';
import { CliError } from '../cli-error.ts';
import type { GlobalOptions } from '../cli-context.ts';
import { connect, withHubOptions } from '../connect.ts';
import { formatAgo, formatTable, paint, printJson } from '../output.ts';

const statusStyles = { up: 'green', down: 'red', unknown: 'gray' } as const satisfies Record<
  EndpointStatus,
  string
>;

/** Registers the `endpoints` command group. */
export function registerEndpointCommands(program: Command): void {
  const endpoints = program
    .command('endpoints')
    .description('model endpoints the agents call: list with health, add or replace, remove');

  withHubOptions(
    endpoints.command('list').description('list model endpoints with their health and models'),
  ).action(async (options: GlobalOptions) => {
    const list = await connect(options).endpoints.list();
    if (options.json) return printJson({ endpoints: list });
    if (list.length === 0) {
      process.stdout.write(
        'no model endpoints; add one with `warren endpoints add --file endpoint.json` or in the config file\n',
      );
      return;
    }
    process.stdout.write(`${describeEndpoints(list)}\n`);
  });

  withHubOptions(
    endpoints
      .command('add')
      .description(
        'add or replace a model endpoint from a JSON file (the key stays where apiKeyEnv/apiKeyFile say)',
      )
      .requiredOption('--file <endpoint.json>', 'the endpoint as JSON: name, provider, baseUrl, models, ...'),
  ).action(async (options: GlobalOptions & { file: string }) => {
    let endpoint: Record<string, unknown>;
    try {
      const parsed = JSON.parse(readFileSync(options.file, 'utf8')) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not a JSON object');
      endpoint = parsed as Record<string, unknown>;
    } catch (error) {
      throw new CliError(`cannot read ${options.file}: ${(error as Error).message}`, {
        hint: 'the file holds one endpoint: {"name": "...", "provider": "...", "baseUrl": "...", "models": [...]}',
      });
    }
    if (typeof endpoint.name !== 'string' || endpoint.name === '') {
      throw new CliError(`${options.file} has no "name"`, {
        hint: 'give the endpoint a name such as "anthropic"',
      });
    }
    const answer = await connect(options).endpoints.put(endpoint.name, endpoint as never);
    if (options.json) return printJson(answer);
    process.stdout.write(
      `${answer.created ? 'added' : 'replaced'} endpoint ${paint('bold', answer.endpoint.name)} (${answer.endpoint.models.length} model${answer.endpoint.models.length === 1 ? '' : 's'}); see its health with \`warren endpoints list\`\n`,
    );
  });

  withHubOptions(
    endpoints.command('remove').argument('<name>', 'endpoint name').description('remove a model endpoint'),
  ).action(async (name: string, options: GlobalOptions) => {
    await connect(options).endpoints.delete(name);
    if (options.json) return printJson({ deleted: name });
    process.stdout.write(`removed endpoint ${name}\n`);
  });
}

/** Endpoints as a table, each followed by its models with tiers and prices. */
export function describeEndpoints(list: EndpointWithHealth[]): string {
  const rows: string[][] = [];
  for (const endpoint of list) {
    rows.push([
      paint('bold', endpoint.name),
      endpoint.provider,
      paint(statusStyles[endpoint.status], endpoint.status),
      formatAgo(endpoint.lastCheckedAt),
      endpoint.lastError ?? '',
    ]);
    for (const model of endpoint.models) {
      rows.push([
        `  ${model.id}`,
        model.tier ?? '-',
        '',
        '',
        paint(
          'gray',
          `$${model.inputPricePerMillionUsd} in / $${model.outputPricePerMillionUsd} out per 1M tokens${model.contextWindow ? `, ${model.contextWindow.toLocaleString('en-US')} context` : ''}`,
        ),
      ]);
    }
  }
  return formatTable(['NAME / MODEL', 'PROVIDER / TIER', 'STATUS', 'CHECKED', 'LAST ERROR / PRICE'], rows);
}
