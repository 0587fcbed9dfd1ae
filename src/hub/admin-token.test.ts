import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_FILE, loadAdminToken } from './admin-token.ts';

describe('loadAdminToken', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = join(await mkdtemp(join(tmpdir(), 'warren-admin-token-')), 'data');
  });
  afterEach(async () => {
    await rm(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('creates the token on first start with mode 0600 and reads it back later', async () => {
    const first = await loadAdminToken(dataDir);
    expect(first.created).toBe(true);
    expect(first.token).toMatch(/^wrn_admin_/);
    const path = join(dataDir, ADMIN_TOKEN_FILE);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readFile(path, 'utf8')).trim()).toBe(first.token);

    const second = await loadAdminToken(dataDir);
    expect(second).toEqual({ token: first.token, created: false });
  });

  it('tightens a token file others can read', async () => {
    await loadAdminToken(dataDir);
    const path = join(dataDir, ADMIN_TOKEN_FILE);
    await writeFile(path, 'wrn_admin_chosen\n', { mode: 0o644 });
    await chmod(path, 0o644);
    await expect(loadAdminToken(dataDir)).resolves.toEqual({ token: 'wrn_admin_chosen', created: false });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('refuses an empty token file', async () => {
    await loadAdminToken(dataDir);
    await writeFile(join(dataDir, ADMIN_TOKEN_FILE), '\n');
    await expect(loadAdminToken(dataDir)).rejects.toMatchObject({ code: 'invalid_input' });
  });
});
