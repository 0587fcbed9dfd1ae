import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../store/index.ts';
import type { Store } from '../store/store.ts';
import { createHubAuth, hashToken } from './auth.ts';

describe('createHubAuth', () => {
  let directory: string;
  let store: Store;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'warren-auth-'));
    store = await createSqliteStore({ filename: join(directory, 'warren.db') });
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('recognises the admin token and refuses others', async () => {
    const auth = createHubAuth({ store, adminToken: 'wrn_admin_right' });
    await expect(auth.authenticate('Bearer wrn_admin_right')).resolves.toEqual({ kind: 'admin' });
    await expect(auth.authenticate('bearer   wrn_admin_right ')).resolves.toEqual({ kind: 'admin' });
    await expect(auth.authenticate('Bearer wrn_admin_wrong')).resolves.toBeUndefined();
    await expect(auth.authenticate('Basic d3JuOg==')).resolves.toBeUndefined();
    await expect(auth.authenticate(undefined)).resolves.toBeUndefined();
  });

  it('finds a runner by the hash of its token, caching the lookup until told to forget', async () => {
    let now = 0;
    const auth = createHubAuth({ store, adminToken: 'wrn_admin_right', clock: () => now, cacheTtlMs: 1_000 });
    const runner = await store.createRunner({
      name: 'builder',
      capabilities: [],
      slots: 1,
      tokenHash: hashToken('wrn_runner_one'),
    });
    await expect(auth.authenticate('Bearer wrn_runner_one')).resolves.toMatchObject({
      kind: 'runner',
      runner: { id: runner.id },
    });

    // Deleted behind the cache's back: the cached lookup still answers until it expires.
    await store.deleteRunner(runner.id);
    await expect(auth.authenticate('Bearer wrn_runner_one')).resolves.toMatchObject({ kind: 'runner' });
    now += 1_000;
    await expect(auth.authenticate('Bearer wrn_runner_one')).resolves.toBeUndefined();

    const second = await store.createRunner({
      name: 'second',
      capabilities: [],
      slots: 1,
      tokenHash: hashToken('wrn_runner_two'),
    });
    await expect(auth.authenticate('Bearer wrn_runner_two')).resolves.toMatchObject({ kind: 'runner' });
    await store.deleteRunner(second.id);
    auth.forgetRunner(second.id);
    await expect(auth.authenticate('Bearer wrn_runner_two')).resolves.toBeUndefined();
  });

  it('hashes tokens with sha256', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
