/**
 * `warren up`: a hub on the embedded SQLite store plus one local runner, in the foreground, configured by
 * the config file (`--config`, default `$WARREN_HOME/config.json` when it exists).
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { createLogger, type LogLevel } from '../../hub/create-logger.ts';
import { readHubFile } from '../../hub/hub-file.ts';
import { DEFAULT_HUB_PORT, startHub } from '../../hub/start-hub.ts';
import { WarrenError } from '../../core/errors.ts';
import { parseRunnerConfig, type RunnerFileConfig } from '../../runner/runner-config.ts';
import { CliError } from '../cli-error.ts';
import { resolveDataDir } from '../cli-context.ts';
import { locateDatabase } from '../database-location.ts';
import { describeDatabaseLocation } from '../../store/open-store.ts';
import { findConfigFile, readConfigFile, withConfigErrors, type WarrenConfigFile } from '../config-file.ts';
import { startLocalRunner } from '../local-runner.ts';
import { paint } from '../output.ts';
import { parseDuration } from './task.ts';

interface UpOptions {
  port: string;
  host: string;
  runner: boolean;
  slots: string;
  capability?: string;
  lease?: string;
  config?: string;
  logLevel: string;
}

/** Registers `warren up`. */
export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description(
      'start a hub and a local runner (store: WARREN_DATABASE_URL or the config file, else embedded SQLite in the data dir)',
    )
    .option('--port <port>', 'port to listen on', String(DEFAULT_HUB_PORT))
    .option('--host <host>', 'interface to bind (default loopback only)', '127.0.0.1')
    .option('--no-runner', 'start only the hub')
    .option('--slots <n>', 'attempts the local runner runs at once', '2')
    .option('--capability <list>', 'extra capabilities of the local runner, comma separated')
    .option('--lease <duration>', 'lease length of attempts, e.g. 30s')
    .option(
      '--config <file>',
      'config file: model endpoints, routing, runner agents and grants (default: $WARREN_HOME/config.json when it exists)',
    )
    .option(
      '--log-level <level>',
      'JSON log level on stderr: debug, info, warn, error, silent',
      process.env.WARREN_LOG_LEVEL ?? 'warn',
    )
    .action(async (options: UpOptions) => {
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535)
        throw new CliError(`--port must be 0..65535, got "${options.port}"`);
      const dataDir = resolveDataDir();
      const configPath = findConfigFile(options.config, dataDir);
      const configFile: WarrenConfigFile | undefined = configPath ? readConfigFile(configPath) : undefined;
      // Checked before anything starts, so that a bad runner section does not leave a hub running.
      const runnerConfig: RunnerFileConfig =
        configFile && options.runner
          ? withConfigErrors(configFile.path, () => parseRunnerConfig(configFile.runner))
          : {};
      const database = locateDatabase({ configFile, dataDir });
      const running = await readHubFile(dataDir).catch(() => undefined);
      // why the own pid is skipped: a container restarted in its pod keeps the data dir (an emptyDir) and
      // its new process often gets the pid the crashed one wrote into hub.json.
      if (running && running.pid !== process.pid && isProcessRunning(running.pid)) {
        throw new CliError(`a hub already runs on ${dataDir} (pid ${running.pid}, ${running.url})`, {
          hint: 'use that hub, stop it first, or pick another data dir with WARREN_HOME',
        });
      }
      const logger = createLogger({
        level: options.logLevel as LogLevel,
        destination: process.stderr,
      });
      let hub;
      try {
        hub = await startHub({
          dataDir,
          port,
          host: options.host,
          logger,
          database,
          // Hubs sharing a database share this token (each has its own data dir); unset: the data dir's.
          adminToken: process.env.WARREN_ADMIN_TOKEN || undefined,
          // An empty value counts as unset, so that an optional Secret key left blank turns enrollment off.
          enrollmentToken: process.env.WARREN_ENROLLMENT_TOKEN || undefined,
          config: {
            ...(options.lease ? { leaseMs: parseDuration(options.lease, '--lease') } : {}),
            ...configFile?.hub,
          },
        });
      } catch (error) {
        if (WarrenError.isInstance(error) && error.code === 'unavailable') {
          throw new CliError(error.message, {
            hint:
              database.dialect === 'sqlite'
                ? 'stop the other hub, or pick another data dir with WARREN_HOME'
                : `check that PostgreSQL at ${describeDatabaseLocation(database)} is up and reachable`,
          });
        }
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new CliError(`port ${port} is already in use`, {
            hint: 'is another hub running? pick another with --port',
          });
        }
        throw error;
      }
      const lines = [
        `${paint('green', 'warren hub')} listening on ${paint('bold', hub.url)}`,
        database.dialect === 'sqlite'
          ? `  data dir     ${dataDir} (SQLite: ${database.filename})`
          : `  database     ${describeDatabaseLocation(database)} (data dir ${dataDir})`,
        `  admin token  ${process.env.WARREN_ADMIN_TOKEN ? 'from WARREN_ADMIN_TOKEN' : join(dataDir, 'admin-token')}`,
      ];
      if (process.env.WARREN_ENROLLMENT_TOKEN) {
        lines.push('  enrollment   on: runners may enroll with WARREN_ENROLLMENT_TOKEN');
      }
      if (configFile) {
        const endpoints = configFile.hub.endpoints?.length ?? 0;
        lines.push(
          `  config       ${configFile.path} (${endpoints} model endpoint${endpoints === 1 ? '' : 's'})`,
        );
      }
      if (hub.agentDefinitions) {
        const definitions = (await hub.agentDefinitions.list()).length;
        const problems = hub.agentDefinitions.problems().length;
        const source = hub.agentDefinitions.source;
        lines.push(
          `  agents       ${source.kind === 'directory' ? source.directory : `${source.url}@${source.ref}`} ` +
            `(${definitions} definition${definitions === 1 ? '' : 's'}` +
            `${problems > 0 ? `, ${problems} problem${problems === 1 ? '' : 's'}: see \`warren agents list\`` : ''})`,
        );
      }
      const runner = options.runner
        ? await startLocalRunner({
            dataDir,
            hubUrl: hub.url,
            adminToken: hub.adminToken,
            slots: Number(options.slots),
            capabilities: options.capability?.split(',').filter(Boolean),
            logger,
            runner: { ...runnerConfig },
          })
        : undefined;
      if (runner) lines.push(`  runner       local (${options.slots} slots, id ${runner.runnerId})`);
      lines.push(
        '',
        `add work:  warren task add "Title" --repo PATH --run "COMMAND" --verify "TEST COMMAND"`,
        'stop:      Ctrl-C (drains the runner first)',
        '',
      );
      process.stdout.write(lines.join('\n'));

      await new Promise<void>((resolve) => {
        let stopping = false;
        const onSignal = (): void => {
          if (stopping) process.exit(130);
          stopping = true;
          process.stdout.write('\nstopping: draining the runner…\n');
          void (async () => {
            await runner?.stop({ drainTimeoutMs: 30_000 });
            await hub.close();
            resolve();
          })();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
      process.stdout.write('stopped\n');
    });
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
