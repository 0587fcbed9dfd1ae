/**
 * Test helper: a real git repository in a temp directory with one commit, and a tool context confined
 * to it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../../../core/logger.ts';
import type { AgentToolContext } from '../../agent-tool.ts';

/** A temp git repository for one test. */
export interface TestWorktree {
  /** Real path of the repository's work tree. */
  path: string;
  /** A temp directory beside the worktree (outside it), for escape targets. */
  outsidePath: string;
  /** The environment given to tools: PATH, HOME and LANG only. */
  env: Record<string, string>;
  /** Progress messages passed to `heartbeat`. */
  heartbeats: (string | undefined)[];
  /** A context for tool calls; fields can be overridden. */
  context(overrides?: Partial<AgentToolContext>): AgentToolContext;
  /** Runs git in the worktree (identity and config isolated) and returns its stdout. */
  git(...args: string[]): string;
  /** Removes both temp directories. */
  remove(): Promise<void>;
}

/** Creates a git repository with `README.md` committed, plus a directory outside it. */
export async function createTestWorktree(): Promise<TestWorktree> {
  const root = await realpath(await mkdtemp(path.join(tmpdir(), 'warren-agent-tools-')));
  const worktreePath = path.join(root, 'worktree');
  const outsidePath = path.join(root, 'outside');
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root, LANG: 'C.UTF-8' };
  const gitEnv = {
    ...env,
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@localhost',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@localhost',
  };
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: worktreePath, env: gitEnv, encoding: 'utf8', stdio: 'pipe' });
  execFileSync('mkdir', ['-p', worktreePath, outsidePath]);
  git('init', '--quiet', '--initial-branch=main');
  execFileSync('sh', ['-c', 'printf "# Test\\n" > README.md'], { cwd: worktreePath });
  git('add', 'README.md');
  git('commit', '--quiet', '-m', 'initial');
  const heartbeats: (string | undefined)[] = [];
  return {
    path: worktreePath,
    outsidePath,
    env,
    heartbeats,
    context: (overrides = {}) => ({
      worktreePath,
      env,
      abortSignal: new AbortController().signal,
      heartbeat: (progress) => heartbeats.push(progress),
      logger: silentLogger,
      ...overrides,
    }),
    git,
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
