import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitError } from './git-error.ts';
import { ensureMirror, fetchMirror, resolveBaseRef } from './mirror.ts';
import { createKeyedLock } from './repo-lock.ts';
import type { KeyedLock } from './repo-lock.ts';
import { createGitSandbox } from './testing/create-git-sandbox.ts';
import type { GitSandbox } from './testing/create-git-sandbox.ts';

describe('mirror', () => {
  let sandbox: GitSandbox;
  let lock: KeyedLock;
  let cacheDir: string;
  beforeEach(async () => {
    sandbox = await createGitSandbox();
    lock = createKeyedLock();
    cacheDir = sandbox.path('cache');
  });
  afterEach(async () => {
    await sandbox.cleanup();
  });

  it('keeps one bare clone per source, named after it', async () => {
    const source = await sandbox.createSourceRepo({ name: 'My Project' });
    const mirror = await ensureMirror({ sourceRepo: source, cacheDir, lock });
    expect(mirror.sourceRepo).toBe(source);
    expect(path.dirname(mirror.path)).toBe(cacheDir);
    expect(path.basename(mirror.path)).toMatch(/^My-Project-[0-9a-f]{12}\.git$/);
    expect(await sandbox.git(mirror.path, ['rev-parse', '--is-bare-repository'])).toBe('true');
    expect(await sandbox.git(mirror.path, ['config', 'remote.origin.fetch'])).toBe(
      '+refs/heads/*:refs/remotes/origin/*',
    );

    const relative = path.relative(process.cwd(), source);
    const again = await ensureMirror({ sourceRepo: relative, cacheDir, lock });
    expect(again).toEqual(mirror);
  });

  it('gives different sources different mirrors, and accepts file URLs', async () => {
    const first = await sandbox.createSourceRepo({ name: 'a/repo' });
    const second = await sandbox.createSourceRepo({ name: 'b/repo' });
    const firstMirror = await ensureMirror({ sourceRepo: first, cacheDir, lock });
    const secondMirror = await ensureMirror({ sourceRepo: pathToFileURL(second).href, cacheDir, lock });
    expect(firstMirror.path).not.toBe(secondMirror.path);
    await fetchMirror(secondMirror, { lock });
    const base = await resolveBaseRef(secondMirror);
    expect(base.sha).toBe(await sandbox.git(second, ['rev-parse', 'HEAD']));
  });

  it('picks up commits pushed to the source after the first clone', async () => {
    const source = await sandbox.createSourceRepo();
    const mirror = await ensureMirror({ sourceRepo: source, cacheDir, lock });
    await fetchMirror(mirror, { lock });
    const before = await resolveBaseRef(mirror, 'main');

    const newSha = await sandbox.commitFiles(source, { 'new.txt': 'new\n' });
    await sandbox.git(source, ['branch', 'feature']);
    expect((await resolveBaseRef(mirror, 'main')).sha).toBe(before.sha);

    await fetchMirror(mirror, { lock });
    expect(await resolveBaseRef(mirror, 'main')).toEqual({
      branch: 'main',
      ref: 'refs/remotes/origin/main',
      sha: newSha,
    });
    expect((await resolveBaseRef(mirror, 'refs/heads/feature')).sha).toBe(newSha);
  });

  it('prunes deleted source branches but keeps the mirror’s own branches', async () => {
    const source = await sandbox.createSourceRepo();
    await sandbox.git(source, ['branch', 'doomed']);
    const mirror = await ensureMirror({ sourceRepo: source, cacheDir, lock });
    await fetchMirror(mirror, { lock });
    await sandbox.git(mirror.path, ['branch', 'warren/task-1', 'refs/remotes/origin/main']);

    await sandbox.git(source, ['branch', '-D', 'doomed']);
    await fetchMirror(mirror, { lock });

    const refs = await sandbox.git(mirror.path, ['for-each-ref', '--format=%(refname)']);
    expect(refs).toContain('refs/heads/warren/task-1');
    expect(refs).toContain('refs/remotes/origin/main');
    expect(refs).not.toContain('refs/remotes/origin/doomed');
  });

  it('detects a default branch called trunk', async () => {
    const source = await sandbox.createSourceRepo({ defaultBranch: 'trunk' });
    await sandbox.git(source, ['branch', 'main']);
    const mirror = await ensureMirror({ sourceRepo: source, cacheDir, lock });
    await fetchMirror(mirror, { lock });
    const base = await resolveBaseRef(mirror);
    expect(base).toEqual({
      branch: 'trunk',
      ref: 'refs/remotes/origin/trunk',
      sha: await sandbox.git(source, ['rev-parse', 'trunk']),
    });
  });

  it('falls back to master when the source does not advertise HEAD', async () => {
    const source = await sandbox.createSourceRepo({ defaultBranch: 'master' });
    const mirror = await ensureMirror({ sourceRepo: source, cacheDir, lock });
    await fetchMirror(mirror, { lock });
    // A dangling HEAD is not advertised by ls-remote.
    await sandbox.git(source, ['symbolic-ref', 'HEAD', 'refs/heads/gone']);
    expect((await resolveBaseRef(mirror)).branch).toBe('master');
  });

  it('names the available branches when the base branch does not exist', async () => {
    const source = await sandbox.createSourceRepo();
    await sandbox.git(source, ['branch', 'develop']);
    const mirror = await ensureMirror({ sourceRepo: source, cacheDir, lock });
    await fetchMirror(mirror, { lock });
    const error = (await resolveBaseRef(mirror, 'release').catch((caught: unknown) => caught)) as GitError;
    expect(error).toBeInstanceOf(GitError);
    expect(error.message).toContain('Base branch "release" does not exist');
    expect(error.message).toContain('branches: develop, main');
  });

  it('explains a source path that does not exist', async () => {
    const missing = sandbox.path('no-such-repo');
    const error = (await ensureMirror({ sourceRepo: missing, cacheDir, lock }).catch(
      (caught: unknown) => caught,
    )) as GitError;
    expect(error).toBeInstanceOf(GitError);
    expect(error.message).toContain(
      `Could not clone source repository ${missing}: ${missing} does not exist`,
    );
    expect(error.message).toContain('Check that the path or URL points to an existing git repository');
    expect(error.stderr).not.toBe('');
  });

  it('explains a source directory that is not a git repository, and leaves no partial clone', async () => {
    const plain = sandbox.path('plain-directory');
    await mkdir(plain);
    await expect(ensureMirror({ sourceRepo: plain, cacheDir, lock })).rejects.toThrow(
      `Could not clone source repository ${plain}: ${plain} is not a git repository`,
    );
    expect(await readdir(cacheDir)).toEqual([]);
  });

  it('re-clones a damaged mirror directory', async () => {
    const source = await sandbox.createSourceRepo();
    const mirror = await ensureMirror({ sourceRepo: source, cacheDir, lock });
    await rm(mirror.path, { recursive: true });
    await mkdir(mirror.path);
    await writeFile(path.join(mirror.path, 'junk'), 'left by a crash');
    const repaired = await ensureMirror({ sourceRepo: source, cacheDir, lock });
    expect(repaired.path).toBe(mirror.path);
    expect(await sandbox.git(repaired.path, ['rev-parse', '--is-bare-repository'])).toBe('true');
  });

  it('clones once when called concurrently', async () => {
    const source = await sandbox.createSourceRepo();
    const mirrors = await Promise.all(
      Array.from({ length: 4 }, () => ensureMirror({ sourceRepo: source, cacheDir, lock })),
    );
    expect(new Set(mirrors.map((mirror) => mirror.path)).size).toBe(1);
  });
});
