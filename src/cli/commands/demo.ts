/**
 * `warren demo`: builds a sample repository and a small real backlog, runs it through a hub and a runner
 * on the embedded store with live progress, and ends with the branches produced. Offline, about 20 s.
 *
 * The backlog shows the core behaviours:
 * - "Bump the version": a plain shell task with a verification command.
 * - "Update the changelog": depends on the bump and is cut from its branch (stacked work).
 * - "Fix the greeting": its verification fails on the first attempt (a gate that is flaky on a cold
 *   start) and passes on the automatic retry.
 * - "Rewrite the build": a long task the demo cancels while it runs; its process is stopped.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createHubClient } from '../../client/hub-client.ts';
import { branchNameFor } from '../../core/branch-name.ts';
import type { Task, TaskSpecInput } from '../../core/types.ts';
import { createLogger } from '../../hub/create-logger.ts';
import { startHub } from '../../hub/start-hub.ts';
import { createSqliteStore } from '../../store/index.ts';
import { runGit } from '../../vcs/run-git.ts';
import { followTasks } from '../follow-tasks.ts';
import { startLocalRunner } from '../local-runner.ts';
import { formatTable, paint, paintState, printJson } from '../output.ts';

interface DemoOptions {
  dir?: string;
  port: string;
  output?: boolean;
  json?: boolean;
  keep?: boolean;
}

/** Registers `warren demo`. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run a small real backlog end to end on a sample repository (offline)')
    .option('--dir <dir>', 'where to put the sample repository and the demo data (default: a new temp dir)')
    .option('--port <port>', 'hub port (0 picks a free one)', '0')
    .option('--output', 'also show every command output line')
    .option('--json', 'print the final tasks as JSON')
    .action(async (options: DemoOptions) => {
      const summary = await runDemo(options);
      if (options.json) printJson(summary);
      if (summary.tasks.some((task) => task.state !== summary.expected[task.id])) process.exitCode = 1;
    });
}

/** What the demo ended with. */
export interface DemoSummary {
  root: string;
  repo: string;
  tasks: Task[];
  /** The state each task is meant to end in. */
  expected: Record<string, Task['state']>;
  branches: string[];
}

/** Runs the demo; exported for the end-to-end test. */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const quiet = Boolean(options.json);
  const say = (text = ''): void => {
    if (!quiet) process.stdout.write(`${text}\n`);
  };
  const root = options.dir ? resolve(options.dir) : mkdtempSync(join(tmpdir(), 'warren-demo-'));
  mkdirSync(root, { recursive: true });
  const repo = await createSampleRepository(join(root, 'sample-app'));
  const flakyGate = join(root, 'flaky-gate.sh');
  writeFileSync(
    flakyGate,
    [
      '#!/bin/sh',
      '# Fails the first time it runs (a cold cache), passes afterwards.',
      `marker="${join(root, '.gate-warm')}"`,
      'if [ -f "$marker" ]; then echo "integration gate: ok"; exit 0; fi',
      'touch "$marker"',
      'echo "integration gate: cache cold, failing this run" >&2',
      'exit 1',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );

  say(paint('bold', 'Warren demo'));
  say(`  sample repository  ${repo}`);
  const dataDir = join(root, '.warren');
  // why: a short retry backoff keeps the demo brisk; production defaults start at 2 s.
  mkdirSync(dataDir, { recursive: true });
  const store = await createSqliteStore({
    filename: join(dataDir, 'warren.db'),
    retryPolicy: { baseDelayMs: 500, maxDelayMs: 2_000, factor: 2, jitter: 0.2 },
  });
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  const hub = await startHub({ dataDir, port: Number(options.port), store, logger });
  say(`  hub                ${hub.url} (SQLite at ${join(dataDir, 'warren.db')})`);
  const runner = await startLocalRunner({
    dataDir,
    hubUrl: hub.url,
    adminToken: hub.adminToken,
    slots: 2,
    logger,
    runner: { keepFailedWorktreesMs: 0 },
  });
  say(`  runner             local, 2 slots`);
  say();

  const client = createHubClient({ baseUrl: hub.url, token: hub.adminToken });
  try {
    const bump = await client.tasks.create(
      spec(repo, {
        title: 'Bump the version',
        executorInput: { run: "sed -i 's/0.1.0/0.2.0/' VERSION" },
        successCriteria: [{ description: 'VERSION says 0.2.0', command: 'grep -qx 0.2.0 VERSION' }],
        lane: 'high',
      }),
    );
    const changelog = await client.tasks.create(
      spec(repo, {
        title: 'Update the changelog',
        baseBranch: branchNameFor(bump.task.id, bump.task.title),
        dependsOn: [bump.task.id],
        executorInput: { run: ['printf "## $(cat VERSION)\\n\\n- Version bump\\n" > CHANGELOG.md'] },
        successCriteria: [
          { description: 'CHANGELOG.md has the new version', command: 'grep -q "## 0.2.0" CHANGELOG.md' },
        ],
      }),
    );
    const greeting = await client.tasks.create(
      spec(repo, {
        title: 'Fix the greeting',
        executorInput: { run: "sed -i 's/Helo/Hello/' greet.sh" },
        successCriteria: [
          { description: 'greeting test passes', command: 'sh test.sh' },
          { description: 'integration gate passes', command: `sh ${flakyGate}` },
        ],
      }),
    );
    const rewrite = await client.tasks.create(
      spec(repo, {
        title: 'Rewrite the build',
        lane: 'low',
        executorInput: { run: ['echo "rewriting everything, this takes a while"', 'sleep 120'] },
      }),
    );
    const tasks = [bump.task, changelog.task, greeting.task, rewrite.task];
    const names = new Map(tasks.map((task) => [task.id, task.title.split(' ').slice(-1)[0]!]));
    say(paint('bold', 'backlog'));
    for (const task of tasks) {
      say(
        `  ${task.id}  ${paintState(task.state).padEnd(7)}  ${task.title}${task.dependsOn.length ? paint('gray', `  (after "${bump.task.title}")`) : ''}`,
      );
    }
    say();
    say(paint('bold', 'live progress'));
    let cancelRequested = false;
    const finals = await followTasks(
      client,
      tasks.map((task) => task.id),
      {
        quiet,
        names,
        showOutput: options.output,
        onEvent: (event) => {
          if (cancelRequested || event.taskId !== rewrite.task.id || event.type !== 'task.state') return;
          if (event.data.to !== 'running') return;
          cancelRequested = true;
          // why: give the command a moment to start so the cancel visibly stops a live process.
          setTimeout(() => {
            void client.tasks
              .cancel(rewrite.task.id, { reason: 'cancelled by the demo' })
              .catch(() => undefined);
          }, 1_500).unref();
        },
      },
    );
    const branches = (
      await git(repo, [
        'for-each-ref',
        '--format=%(refname:short) %(objectname:short) %(subject)',
        'refs/heads/warren/',
      ])
    )
      .split('\n')
      .filter(Boolean);
    const expected: Record<string, Task['state']> = {
      [bump.task.id]: 'succeeded',
      [changelog.task.id]: 'succeeded',
      [greeting.task.id]: 'succeeded',
      [rewrite.task.id]: 'cancelled',
    };
    say();
    say(paint('bold', 'summary'));
    say(
      formatTable(
        ['TASK', 'STATE', 'TRIES', 'BRANCH', 'COMMIT', 'FILES'],
        finals.map((task) => [
          task.title,
          paintState(task.state),
          String(task.attemptCount),
          task.result?.branch ?? '-',
          task.result?.commitSha?.slice(0, 8) ?? '-',
          task.result?.changedFiles.join(',') ?? task.stateReason ?? '-',
        ]),
      ),
    );
    say();
    say(paint('bold', `branches in ${repo}`));
    for (const line of branches) say(`  ${line}`);
    say();
    say(`inspect: git -C ${repo} log --oneline --graph --all`);
    return { root, repo, tasks: finals, expected, branches };
  } finally {
    await runner.stop({ drainTimeoutMs: 5_000 });
    await hub.close();
  }
}

function spec(repo: string, fields: Omit<TaskSpecInput, 'repo'>): TaskSpecInput {
  return { repo, executor: 'shell', maxAttempts: 3, timeoutMs: 5 * 60_000, labels: ['demo'], ...fields };
}

async function git(cwd: string, args: string[]): Promise<string> {
  return (await runGit(args, { cwd })).stdout;
}

async function createSampleRepository(path: string): Promise<string> {
  mkdirSync(path, { recursive: true });
  await git(path, ['init', '--quiet', '--initial-branch=main']);
  writeFileSync(join(path, 'VERSION'), '0.1.0\n');
  writeFileSync(join(path, 'README.md'), '# sample-app\n\nA tiny app for the Warren demo.\n');
  writeFileSync(join(path, 'greet.sh'), '#!/bin/sh\necho "Helo, $1!"\n', { mode: 0o755 });
  writeFileSync(
    join(path, 'test.sh'),
    '#!/bin/sh\nout=$(sh greet.sh world)\n[ "$out" = "Hello, world!" ] || { echo "expected Hello, world! got $out"; exit 1; }\necho "greeting ok"\n',
    { mode: 0o755 },
  );
  await git(path, ['add', '-A']);
  await git(path, ['commit', '--quiet', '-m', 'Initial commit']);
  return path;
}
