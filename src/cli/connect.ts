/**
 * Builds a hub client for a CLI command from its global options.
 */
import type { Command } from 'commander';
import { createHubClient, type HubClient } from '../client/hub-client.ts';
import { resolveHubTarget, type GlobalOptions } from './cli-context.ts';

/** Adds `--hub`, `--token` and `--json` to a command. */
export function withHubOptions(command: Command): Command {
  return command
    .option('--hub <url>', 'hub URL (default: WARREN_HUB_URL, else the local hub of the data dir)')
    .option('--token <token>', 'admin token (default: WARREN_TOKEN, else <data dir>/admin-token)')
    .option('--json', 'print JSON for scripts');
}

/** A client for the hub named by the options. why: CLI calls retry briefly so a restarting hub is ridden out. */
export function connect(options: GlobalOptions): HubClient {
  const target = resolveHubTarget(options);
  return createHubClient({
    baseUrl: target.url,
    token: target.token,
    retry: { attempts: 3, baseDelayMs: 300, maxDelayMs: 2_000 },
  });
}
