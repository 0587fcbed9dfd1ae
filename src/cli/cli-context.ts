/**
 * Where the CLI finds its data dir and its hub: `--hub`/`WARREN_HUB_URL` and `--token`/`WARREN_TOKEN`,
 * else the local hub recorded in the data dir (`hub.json` and `admin-token`, written by `warren up`).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError } from './cli-error.ts';

/** Options every command accepts. */
export interface GlobalOptions {
  hub?: string;
  token?: string;
  json?: boolean;
}

/** The data dir: `WARREN_HOME`, else `.warren/` under the current directory. */
export function resolveDataDir(): string {
  return resolve(process.env.WARREN_HOME ?? join(process.cwd(), '.warren'));
}

/** How to reach a hub. */
export interface HubTarget {
  url: string;
  token: string;
}

/** Finds the hub URL and admin token for a command, or explains how to provide them. */
export function resolveHubTarget(options: GlobalOptions): HubTarget {
  const dataDir = resolveDataDir();
  let url = options.hub ?? process.env.WARREN_HUB_URL;
  if (!url) {
    try {
      const record = JSON.parse(readFileSync(join(dataDir, 'hub.json'), 'utf8')) as { url?: unknown };
      if (typeof record.url === 'string') url = record.url;
    } catch {
      // No local hub record; handled below.
    }
  }
  if (!url) {
    throw new CliError(`no hub found: ${join(dataDir, 'hub.json')} does not exist`, {
      hint: 'start one with `warren up`, or pass --hub URL (or set WARREN_HUB_URL)',
    });
  }
  let token = options.token ?? process.env.WARREN_TOKEN;
  if (!token) {
    try {
      token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    } catch {
      throw new CliError(`no token: ${join(dataDir, 'admin-token')} is not readable`, {
        hint: 'pass --token TOKEN (or set WARREN_TOKEN) with the admin token of the hub',
      });
    }
  }
  return { url: url.replace(/\/+$/, ''), token };
}
