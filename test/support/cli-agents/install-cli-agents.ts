/**
 * Installs the pinned CLI agents into the cache (see `pinned-cli-agents.ts`). Each agent goes into its own
 * prefix with `npm install`; an agent whose binary already answers `--version` with the pinned version is
 * left alone, so a warm cache costs a few process starts. Run by `.ci/run` and by the test run's global
 * setup.
 *
 *   node --import tsx test/support/cli-agents/install-cli-agents.ts
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import {
  PINNED_CLI_AGENTS,
  cliAgentBinaryPath,
  cliAgentCacheDir,
  cliAgentInstallDir,
  type PinnedCliAgent,
} from './pinned-cli-agents.ts';

const run = promisify(execFile);

/** What happened to one agent. */
export interface InstallOutcome {
  agent: PinnedCliAgent;
  status: 'cached' | 'installed' | 'failed';
  detail?: string;
}

/** Installs every pinned agent that is missing; never throws, reports each agent's outcome. */
export async function installCliAgents(log: (line: string) => void = () => {}): Promise<InstallOutcome[]> {
  const outcomes: InstallOutcome[] = [];
  for (const agent of PINNED_CLI_AGENTS) {
    if (await hasPinnedVersion(agent)) {
      outcomes.push({ agent, status: 'cached' });
      continue;
    }
    const prefix = cliAgentInstallDir(agent);
    log(`installing ${agent.packageName}@${agent.version} into ${prefix}`);
    try {
      await mkdir(prefix, { recursive: true });
      await writeFile(
        `${prefix}/package.json`,
        `${JSON.stringify({ name: 'warren-cli-agent-cache', private: true }, null, 2)}\n`,
      );
      await run(
        'npm',
        ['install', '--no-audit', '--no-fund', '--no-save', `${agent.packageName}@${agent.version}`],
        { cwd: prefix, timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
      );
      if (!(await hasPinnedVersion(agent)))
        throw new Error(`${agent.binary} --version does not report ${agent.version}`);
      outcomes.push({ agent, status: 'installed' });
    } catch (error) {
      const detail = error instanceof Error ? error.message.split('\n').slice(0, 3).join(' ') : String(error);
      log(`could not install ${agent.packageName}@${agent.version}: ${detail}`);
      outcomes.push({ agent, status: 'failed', detail });
    }
  }
  return outcomes;
}

async function hasPinnedVersion(agent: PinnedCliAgent): Promise<boolean> {
  try {
    const { stdout } = await run(cliAgentBinaryPath(agent), ['--version'], { timeout: 60_000 });
    return stdout.includes(agent.version);
  } catch {
    return false;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outcomes = await installCliAgents((line) => console.log(`cli agents: ${line}`));
  for (const outcome of outcomes) {
    console.log(
      `cli agents: ${outcome.agent.packageName}@${outcome.agent.version} ${outcome.status}${outcome.detail ? ` (${outcome.detail})` : ''}`,
    );
  }
  console.log(`cli agents: cache ${cliAgentCacheDir()}`);
  if (outcomes.some((outcome) => outcome.status === 'failed')) process.exitCode = 1;
}
