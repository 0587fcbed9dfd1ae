/**
 * `warren runner add|start|remove` and `warren runners`.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Runner } from '../../core/types.ts';
import { createLogger } from '../../hub/create-logger.ts';
import { parseRunnerConfig } from '../../runner/runner-config.ts';
import { runRunnerMain } from '../../runner/runner-main.ts';
import { findConfigFile, readConfigFile, withConfigErrors } from '../config-file.ts';
import { CliError } from '../cli-error.ts';
import { startEnrolledRunner } from '../enrolled-runner.ts';
import { collectList } from '../option-parsers.ts';
import { resolveDataDir, type GlobalOptions } from '../cli-context.ts';
import { connect, withHubOptions } from '../connect.ts';
import { formatAgo, formatTable, paint, printJson } from '../output.ts';
import { parseDuration } from './task.ts';

/** Registers the `runner` command group and `runners`. */
export function registerRunnerCommands(program: Command): void {
  const runner = program.command('runner').description('manage runners (the machines that execute tasks)');

  withHubOptions(
    runner
      .command('add')
      .argument('<name>', 'runner name (lowercase letters, digits, . _ -)')
      .description('create a runner and print its token (shown only once)')
      .option('--capability <list>', 'capabilities, comma separated (repeatable)', collectList, [])
      .option('--slots <n>', 'attempts it runs at once', '1'),
  ).action(async (name: string, options: GlobalOptions & { capability: string[]; slots: string }) => {
    const client = connect(options);
    const created = await client.runners.create({
      name,
      capabilities: options.capability,
      slots: Number(options.slots),
    });
    if (options.json) return printJson(created);
    process.stdout.write(
      [
        `created runner ${paint('bold', created.runner.name)} (${created.runner.id})`,
        `token (shown only once, keep it secret): ${created.token}`,
        '',
        'start it on the machine that will run tasks:',
        `  warren runner start --hub ${client.baseUrl} --token <token> --name ${name}${options.capability.length ? ` --capability ${options.capability.join(',')}` : ''}`,
        '',
      ].join('\n'),
    );
  });

  runner
    .command('start')
    .description('run a runner daemon in the foreground (SIGTERM drains it)')
    .option('--hub <url>', 'hub URL (default: WARREN_HUB_URL)')
    .option('--token <token>', "the runner's token (default: WARREN_RUNNER_TOKEN)")
    .option(
      '--enroll-token <token>',
      "without a runner token, enroll as --name with the hub's enrollment token (default: WARREN_ENROLLMENT_TOKEN; prefer the variable, arguments show in ps)",
    )
    .option(
      '--name <name>',
      'name for local logs and the default work dir, and the name to enroll as (default: the host name, a pod name in Kubernetes)',
      hostname(),
    )
    .option('--capability <list>', 'extra capabilities to advertise, comma separated', collectList, [])
    .option('--slots <n>', 'attempts to run at once', '1')
    .option('--work-dir <dir>', 'mirrors, worktrees and state (default: <data dir>/runners/<name>)')
    .option('--keep-failed <duration>', 'how long failed worktrees are kept', '24h')
    .option('--drain-timeout <duration>', 'on SIGTERM, how long running work may finish', '60s')
    .option('--log-level <level>', 'debug, info, warn or error', process.env.WARREN_LOG_LEVEL ?? 'info')
    .option(
      '--config <file>',
      'config file whose `runner` section sets CLI agents, agent definitions and grants (default: $WARREN_HOME/config.json when it exists)',
    )
    .action(
      async (options: {
        config?: string;
        hub?: string;
        token?: string;
        enrollToken?: string;
        name: string;
        capability: string[];
        slots: string;
        workDir?: string;
        keepFailed: string;
        drainTimeout: string;
        logLevel: string;
      }) => {
        const hubUrl = options.hub ?? process.env.WARREN_HUB_URL;
        const token = options.token ?? process.env.WARREN_RUNNER_TOKEN;
        const enrollmentToken = options.enrollToken ?? process.env.WARREN_ENROLLMENT_TOKEN;
        if (!hubUrl)
          throw new CliError('no hub URL', { hint: 'pass --hub http://HOST:7420 or set WARREN_HUB_URL' });
        const configPath = findConfigFile(options.config, resolveDataDir());
        const configFile = configPath ? readConfigFile(configPath) : undefined;
        const runnerConfig = configFile
          ? withConfigErrors(configFile.path, () => parseRunnerConfig(configFile.runner))
          : {};
        const logger = createLogger({ level: options.logLevel as 'info' });
        const workDir = options.workDir ?? join(resolveDataDir(), 'runners', options.name);
        const keepFailedWorktreesMs = parseDuration(options.keepFailed, '--keep-failed');
        const drainTimeoutMs = parseDuration(options.drainTimeout, '--drain-timeout');
        const start = (runnerToken: string) =>
          runRunnerMain({
            hubUrl,
            token: runnerToken,
            name: options.name,
            workDir,
            capabilities: options.capability,
            slots: Number(options.slots),
            keepFailedWorktreesMs,
            drainTimeoutMs,
            logger,
            ...runnerConfig,
          });
        // A runner token, when given, wins: enrollment is for machines that have none.
        let running;
        if (token) running = await start(token);
        else if (enrollmentToken) {
          running = await startEnrolledRunner({
            hubUrl,
            enrollmentToken,
            name: options.name,
            capabilities: options.capability,
            slots: Number(options.slots),
            workDir,
            logger,
            start,
          });
        } else throw noRunnerToken();
        logger.info({ runnerId: running.runnerId, workDir, hub: hubUrl }, 'runner started; waiting for work');
        await new Promise<never>(() => undefined);
      },
    );

  withHubOptions(
    runner
      .command('remove')
      .argument('<name>', 'runner name or id')
      .description('delete a runner; its token stops working'),
  ).action(async (name: string, options: GlobalOptions) => {
    const client = connect(options);
    const found = (await client.runners.list()).find((item) => item.name === name || item.id === name);
    if (!found)
      throw new CliError(`runner ${name} not found`, { hint: 'list runners with `warren runners`' });
    await client.runners.delete(found.id);
    if (options.json) return printJson({ deleted: found.id });
    process.stdout.write(`removed runner ${found.name}\n`);
  });

  withHubOptions(
    program.command('runners').description('list runners: who is online and what each is doing'),
  ).action(async (options: GlobalOptions) => {
    const runners = await connect(options).runners.list();
    if (options.json) return printJson({ runners });
    if (runners.length === 0) {
      process.stdout.write('no runners; add one with `warren runner add NAME`\n');
      return;
    }
    const statusColor = { online: 'green', degraded: 'yellow', draining: 'yellow', offline: 'gray' } as const;
    const withPairings = runners.some((item) => item.agents.length > 0 || item.dependencyHealth.length > 0);
    process.stdout.write(
      `${formatTable(
        [
          'NAME',
          'STATUS',
          'BUSY',
          'HEARTBEAT',
          'HOST',
          'CAPABILITIES',
          ...(withPairings ? ['AGENTS', 'CHECKS'] : []),
        ],
        runners.map((item) => [
          item.name,
          paint(statusColor[item.status], item.status),
          `${item.activeAttempts}/${item.slots}`,
          formatAgo(item.lastHeartbeatAt),
          item.hostname ?? '-',
          item.capabilities.join(','),
          ...(withPairings ? [describePairings(item), describeChecks(item)] : []),
        ]),
      )}\n`,
    );
  });
}

/** `gitops: deploy-service 0.9*` per pairing (`*` preferred), `;`-separated; `-` for none. */
function describePairings(runner: Runner): string {
  if (runner.agents.length === 0) return '-';
  return runner.agents
    .map(
      (pairing) =>
        `${pairing.agent}: ${pairing.offers.map((offer) => `${offer.name} ${offer.weight}${offer.preferred ? '*' : ''}`).join(', ')}`,
    )
    .join('; ');
}

/** `argo ok, dns FAILING` from the runner's last dependency health; `-` for none. */
function describeChecks(runner: Runner): string {
  if (runner.dependencyHealth.length === 0) return '-';
  return runner.dependencyHealth
    .map((check) => `${check.name} ${check.healthy ? paint('green', 'ok') : paint('red', 'FAILING')}`)
    .join(', ');
}

function noRunnerToken(): CliError {
  return new CliError('no runner token', {
    hint: "create one with `warren runner add NAME` on the hub, then pass --token or set WARREN_RUNNER_TOKEN; or enroll with the hub's enrollment token (WARREN_ENROLLMENT_TOKEN)",
  });
}
