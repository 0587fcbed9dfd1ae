/**
 * Starting a runner that has no token of its own but the hub's enrollment token: it enrolls under its name
 * (`POST /v1/runners/enroll`) and keeps the runner token it gets in its work dir (`enrollment.json`, mode
 * 0600), so that a restart in the same work dir (a container restarted in its pod) reuses it instead of
 * colliding with its own record, which the hub still shows online for a while.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHubClient } from '../client/hub-client.ts';
import type { RunnerCreated } from '../core/api.ts';
import { WarrenError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { CliError } from './cli-error.ts';

const enrollmentFile = 'enrollment.json';

/** What an enrollment leaves in the work dir. */
interface SavedEnrollment {
  hubUrl: string;
  name: string;
  runnerId: string;
  token: string;
}

/** Options of {@link startEnrolledRunner}. */
export interface EnrolledRunnerOptions<Running> {
  hubUrl: string;
  /** The hub's enrollment token; never logged. */
  enrollmentToken: string;
  /** The runner's name on the hub (lowercase letters, digits and . _ -). */
  name: string;
  capabilities: string[];
  slots: number;
  /** The runner's work dir, where the token is kept. */
  workDir: string;
  logger?: Logger;
  /** Starts the runner with a runner token; rejects with the hub's UnauthorizedError for a refused token. */
  start(token: string): Promise<Running>;
}

/**
 * Starts the runner with the token saved by an earlier enrollment of this name with this hub, or enrolls
 * (again, when the hub refuses the saved token) and starts it with the new token.
 */
export async function startEnrolledRunner<Running>(
  options: EnrolledRunnerOptions<Running>,
): Promise<Running> {
  const logger = options.logger ?? silentLogger;
  const path = join(options.workDir, enrollmentFile);
  const saved = await readSavedEnrollment(path);
  if (saved && saved.hubUrl === options.hubUrl && saved.name === options.name) {
    try {
      return await options.start(saved.token);
    } catch (error) {
      if (!(WarrenError.isInstance(error) && error.code === 'unauthorized')) throw error;
      logger.info(
        { runnerId: saved.runnerId, name: saved.name },
        'the hub refused the token of the earlier enrollment; enrolling again',
      );
    }
  }

  const created = await enroll(options);
  await mkdir(options.workDir, { recursive: true });
  const record: SavedEnrollment = {
    hubUrl: options.hubUrl,
    name: options.name,
    runnerId: created.runner.id,
    token: created.token,
  };
  await writeFile(path, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  logger.info({ runnerId: created.runner.id, name: options.name }, 'enrolled with the hub');
  return options.start(created.token);
}

async function enroll(options: EnrolledRunnerOptions<unknown>): Promise<RunnerCreated> {
  const client = createHubClient({
    baseUrl: options.hubUrl,
    token: options.enrollmentToken,
    logger: options.logger,
  });
  try {
    return await client.enrollRunner({
      name: options.name,
      capabilities: options.capabilities,
      slots: options.slots,
    });
  } catch (error) {
    if (!WarrenError.isInstance(error)) throw error;
    if (error.code === 'unauthorized') {
      throw new CliError('the hub refused the enrollment token', {
        hint: "pass the hub's WARREN_ENROLLMENT_TOKEN with --enroll-token or the WARREN_ENROLLMENT_TOKEN variable",
      });
    }
    if (error.code === 'forbidden') {
      throw new CliError(error.message, {
        hint: 'or create a runner with `warren runner add NAME` and pass its token with --token',
      });
    }
    if (error.code === 'conflict') {
      throw new CliError(error.message, {
        hint: 'a restarted runner can enroll again once the hub marks its old record offline; retry in a minute',
        exitCode: 1,
      });
    }
    throw error;
  }
}

async function readSavedEnrollment(path: string): Promise<SavedEnrollment | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<SavedEnrollment>;
    if (
      typeof parsed.hubUrl === 'string' &&
      typeof parsed.name === 'string' &&
      typeof parsed.runnerId === 'string' &&
      typeof parsed.token === 'string'
    ) {
      return parsed as SavedEnrollment;
    }
  } catch {
    // Unreadable: enrolling again replaces it.
  }
  await rm(path, { force: true });
  return undefined;
}
