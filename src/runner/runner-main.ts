import { silentLogger } from '../core/logger.ts';
import { startRunner, type RunningRunner, type StartRunnerOptions } from './start-runner.ts';

/** Options of {@link runRunnerMain}: the runner's options plus how shutdown behaves. */
export interface RunnerMainOptions extends StartRunnerOptions {
  /** Drain time on SIGTERM/SIGINT before running attempts are aborted. Default 60 s. */
  drainTimeoutMs?: number;
  /** Ends the process; injectable for tests. Default `process.exit`. */
  exit?: (code: number) => void;
}

/**
 * Starts a runner for the `warren runner` command and wires SIGTERM and SIGINT to a graceful stop
 * (drain, then abort), after which the process exits 0. A second signal exits at once with 130.
 */
export async function runRunnerMain(options: RunnerMainOptions): Promise<RunningRunner> {
  const logger = options.logger ?? silentLogger;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const runner = await startRunner(options);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal while stopping; exiting now');
      exit(130);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'signal received; draining the runner');
    runner.stop({ drainTimeoutMs: options.drainTimeoutMs }).then(
      () => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'stopping the runner failed');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return runner;
}
