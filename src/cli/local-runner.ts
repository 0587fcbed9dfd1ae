/**
 * The runner that `warren up` and `warren demo` start next to the hub: its record and token are kept in
 * the data dir (`local-runner-token`, mode 0600) so restarts reuse it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHubClient } from '../client/hub-client.ts';
import { UnauthorizedError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { startRunner, type RunningRunner, type StartRunnerOptions } from '../runner/start-runner.ts';

const tokenFile = 'local-runner-token';

/** Options of {@link startLocalRunner}. */
export interface LocalRunnerOptions {
  dataDir: string;
  hubUrl: string;
  adminToken: string;
  name?: string;
  slots: number;
  capabilities?: string[];
  logger?: Logger;
  runner?: Partial<StartRunnerOptions>;
}

/** Ensures the local runner record exists, then starts the runner in this process. */
export async function startLocalRunner(options: LocalRunnerOptions): Promise<RunningRunner> {
  const name = options.name ?? 'local';
  const admin = createHubClient({ baseUrl: options.hubUrl, token: options.adminToken });
  const path = join(options.dataDir, tokenFile);
  const start = (token: string): Promise<RunningRunner> =>
    startRunner({
      hubUrl: options.hubUrl,
      token,
      name,
      workDir: join(options.dataDir, 'runners', name),
      slots: options.slots,
      capabilities: options.capabilities,
      logger: options.logger,
      ...options.runner,
    });

  const existing = (await admin.runners.list()).find((runner) => runner.name === name);
  let token: string | undefined;
  try {
    token = readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    token = undefined;
  }
  if (existing && token) {
    try {
      return await start(token);
    } catch (error) {
      if (!(error instanceof UnauthorizedError)) throw error;
    }
  }
  if (existing) await admin.runners.delete(existing.id);
  const created = await admin.runners.create({
    name,
    capabilities: options.capabilities ?? [],
    slots: options.slots,
  });
  mkdirSync(options.dataDir, { recursive: true });
  writeFileSync(path, `${created.token}\n`, { mode: 0o600 });
  return start(created.token);
}
