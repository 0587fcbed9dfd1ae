/**
 * A runner offers the CLI agents it finds: a real hub, a real runner whose config points codex at the
 * cached binary, claude-code at a path that does not exist and turns opencode off. The runner advertises
 * codex with its detected version and leaves out the others.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createHubClient, type HubClient } from '../src/client/hub-client.ts';
import { silentLogger } from '../src/core/logger.ts';
import { startHub, type RunningHub } from '../src/hub/start-hub.ts';
import { startRunner, type RunningRunner } from '../src/runner/start-runner.ts';
import { createGitSandbox, type GitSandbox } from '../src/vcs/testing/create-git-sandbox.ts';
import { describeWithCliAgent } from './support/cli-agents/describe-with-cli-agent.ts';
import { PINNED_CLI_AGENTS } from './support/cli-agents/pinned-cli-agents.ts';

describeWithCliAgent('codex', 'a runner with CLI agents configured', (codexPath) => {
  let sandbox: GitSandbox;
  let hub: RunningHub;
  let admin: HubClient;
  let runner: RunningRunner | undefined;

  beforeEach(async () => {
    sandbox = await createGitSandbox();
    hub = await startHub({ dataDir: sandbox.path('hub'), port: 0, logger: silentLogger });
    admin = createHubClient({ baseUrl: hub.url, token: hub.adminToken });
  });
  afterEach(async () => {
    await runner?.stop({ drainTimeoutMs: 0 });
    await hub.close();
    await sandbox.cleanup();
  });

  it('advertises the CLIs it finds with their versions, and only those', async () => {
    const { token } = await admin.runners.create({ name: 'cli-runner' });
    runner = await startRunner({
      hubUrl: hub.url,
      token,
      workDir: sandbox.path('runner'),
      pollWaitMs: 1_000,
      logger: silentLogger,
      cliAgents: {
        codex: { binaryPath: codexPath },
        'claude-code': { binaryPath: sandbox.path('no-such-claude') },
        opencode: { enabled: false },
      },
    });
    const version = PINNED_CLI_AGENTS.find((agent) => agent.executor === 'codex')!.version;
    const registered = (await admin.runners.list()).find((item) => item.name === 'cli-runner')!;
    expect(registered.capabilities).toEqual(
      expect.arrayContaining([
        'executor:shell',
        'executor:agent',
        'executor:codex',
        `executor:codex:${version}`,
      ]),
    );
    expect(
      registered.capabilities.filter((capability) => capability.startsWith('executor:claude-code')),
    ).toEqual([]);
    expect(
      registered.capabilities.filter((capability) => capability.startsWith('executor:opencode')),
    ).toEqual([]);
  });
});
