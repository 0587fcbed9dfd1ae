/**
 * The hub's admin token: created on first start in `<dataDir>/admin-token` (mode 0600) and read back on
 * later starts, so the operator and the CLI can find it.
 */
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidInputError } from '../core/errors.ts';
import { createSecretToken } from '../core/ids.ts';

/** Name of the admin token file inside the data directory. */
export const ADMIN_TOKEN_FILE = 'admin-token';

/** Reads the admin token from `dataDir`, creating it (and the directory) when absent. */
export async function loadAdminToken(dataDir: string): Promise<{ token: string; created: boolean }> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  const token = createSecretToken('wrn_admin');
  try {
    // why: 'wx' creates the file only if it is absent, so two hubs starting at once agree on one token.
    await writeFile(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
    return { token, created: true };
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
  }
  const existing = (await readFile(path, 'utf8')).trim();
  if (!existing) {
    throw new InvalidInputError([
      { field: path, reason: 'admin token file is empty; delete it to make a new one' },
    ]);
  }
  // why: the token grants everything; a file others can read is tightened rather than trusted as is.
  if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
  return { token: existing, created: false };
}

function isAlreadyExists(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'EEXIST';
}
