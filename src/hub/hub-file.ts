/**
 * `<dataDir>/hub.json`: how the CLI finds a running hub. Written when the hub listens, removed on close.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Name of the discovery file inside the data directory. */
export const HUB_FILE = 'hub.json';

/** Contents of `hub.json`. */
export interface HubFile {
  /** Base URL the hub answers on, e.g. `http://127.0.0.1:7420`. */
  url: string;
  /** Process id of the hub. */
  pid: number;
  /** When the hub started (ISO time). */
  startedAt: string;
}

/** Writes `hub.json` atomically (a reader never sees half a file). */
export async function writeHubFile(dataDir: string, hub: HubFile): Promise<void> {
  const path = join(dataDir, HUB_FILE);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(hub, null, 2)}\n`, { mode: 0o644 });
  await rename(temporary, path);
}

/** Reads `hub.json`, or undefined when it is absent or unreadable. */
export async function readHubFile(dataDir: string): Promise<HubFile | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(dataDir, HUB_FILE), 'utf8')) as Partial<HubFile>;
    if (
      typeof parsed.url !== 'string' ||
      typeof parsed.pid !== 'number' ||
      typeof parsed.startedAt !== 'string'
    ) {
      return undefined;
    }
    return { url: parsed.url, pid: parsed.pid, startedAt: parsed.startedAt };
  } catch {
    return undefined;
  }
}

/** Removes `hub.json` when it still describes `hub` (a newer hub may have replaced it). */
export async function removeHubFile(dataDir: string, hub: HubFile): Promise<void> {
  const current = await readHubFile(dataDir);
  if (current && current.pid === hub.pid && current.url === hub.url && current.startedAt === hub.startedAt) {
    await rm(join(dataDir, HUB_FILE), { force: true });
  }
}
