/**
 * `warren task add|list|show|logs|cancel|retry`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import { isTerminalTaskState } from '../../core/task-state.ts';
import { EXECUTOR_MODEL_PROVIDERS } from '../../core/executor-model-providers.ts';
import { resolveModelAssignment } from '../../core/model-assignment.ts';
import type { HubClient } from '../../client/hub-client.ts';
import type { UsageRecord, UsageTotals } from '../../core/usage.ts';
import {
  COMPLEXITIES,
  LANES,
  SENIORITIES,
  TASK_STATES,
  type Attempt,
  type Task,
  type TaskSpecInput,
  type TaskState,
  type WarrenEvent,
} from '../../core/types.ts';
import { CliError } from '../cli-error.ts';
import { collect, collectList } from '../option-parsers.ts';
import type { GlobalOptions } from '../cli-context.ts';
import { connect, withHubOptions } from '../connect.ts';
import { formatAgo, formatDuration, formatTable, paint, paintState, printJson } from '../output.ts';
import { followTasks } from '../follow-tasks.ts';

interface AddOptions extends GlobalOptions {
  repo?: string;
  base?: string;
  executor?: string;
  run: string[];
  verify: string[];
  criterion: string[];
  instructions?: string;
  capability: string[];
  complexity?: string;
  model?: string;
  seniority?: string;
  budgetTokens?: string;
  budgetUsd?: string;
  grant: string[];
  fixRounds?: string;
  lane?: string;
  priority?: string;
  dependsOn: string[];
  dedupKey?: string;
  maxAttempts?: string;
  timeout?: string;
  label: string[];
  file?: string;
  wait?: boolean;
}

/** Registers the `task` command group. */
export function registerTaskCommands(program: Command): void {
  const task = program.command('task').description('create, inspect and control tasks');

  withHubOptions(
    task
      .command('add')
      .argument('[title]', 'what the task does')
      .description('create a task')
      .option('--repo <path|url>', 'source git repository (local paths are made absolute)')
      .option('--base <branch>', 'branch to cut from (default: the repository default branch)')
      .option(
        '--executor <name>',
        'executor to run: shell, agent, claude-code, codex, opencode, gemini-cli, aider or goose (default: routing picks one by complexity)',
      )
      .option('--run <command>', 'shell command for the shell executor (repeatable)', collect, [])
      .option('--verify <command>', 'success criterion command (repeatable)', collect, [])
      .option('--criterion <text>', 'success criterion without a command (repeatable)', collect, [])
      .option('--instructions <text>', 'instructions for the executor')
      .option(
        '--capability <list>',
        'required runner capabilities, comma separated (repeatable)',
        collectList,
        [],
      )
      .option(
        '--complexity <level>',
        `one of ${COMPLEXITIES.join(', ')} (default: estimated from the title, instructions and criteria)`,
      )
      .option('--model <selector>', 'model tier (e.g. cheap, frontier) or pinned model endpoint/model-id')
      .option('--seniority <level>', `one of ${SENIORITIES.join(', ')}: picks the model tier by routing`)
      .option('--budget-tokens <n>', 'most input plus output tokens over all attempts')
      .option('--budget-usd <dollars>', 'most dollars of model calls over all attempts')
      .option(
        '--grant <list>',
        'capability grant such as github:read, comma separated (repeatable)',
        collectList,
        [],
      )
      .option('--fix-rounds <n>', 'verify-fix rounds after the first failed verification, 0..5 (default 2)')
      .option('--lane <lane>', `priority lane: ${LANES.join(', ')}`)
      .option('--priority <n>', 'priority within the lane, -1000..1000 (higher first)')
      .option('--depends-on <id>', 'task that must succeed first (repeatable)', collect, [])
      .option('--dedup-key <key>', 'at most one active task per key')
      .option('--max-attempts <n>', 'attempts before the task is dead')
      .option('--timeout <duration>', 'per-attempt time limit, e.g. 90s, 10m, 1h')
      .option('--label <label>', 'label (repeatable)', collect, [])
      .option('--file <spec.json>', 'read the task spec from a JSON file (flags override it)')
      .option('--wait', 'follow the task live until it finishes; exit 1 unless it succeeds'),
  ).action(async (title: string | undefined, options: AddOptions) => {
    const spec = buildSpec(title, options);
    const client = connect(options);
    const { task: created, created: isNew } = await client.tasks.create(spec);
    if (options.json && !options.wait) return printJson({ task: created, created: isNew });
    if (!options.json) {
      process.stdout.write(
        `${isNew ? 'created' : 'already exists (dedup key)'} ${paint('bold', created.id)} ${paintState(created.state)}  ${created.title}\n`,
      );
    }
    if (!options.json && created.state === 'queued') {
      for (const describeWait of [describeExecutorWait, describeModelWait]) {
        const waiting = await describeWait(client, created).catch(() => undefined);
        if (waiting) process.stdout.write(`${paint('yellow', 'waiting')}: ${waiting}\n`);
      }
    }
    if (options.wait) {
      const [final] = await followTasks(client, [created.id], { quiet: Boolean(options.json) });
      if (options.json) printJson({ task: final });
      else if (final) process.stdout.write(describeOutcome(final));
      if (final?.state !== 'succeeded') process.exitCode = 1;
    } else if (!options.json) {
      process.stdout.write(`follow it with: warren task logs ${created.id} --follow\n`);
    }
  });

  withHubOptions(
    task
      .command('list')
      .description('list tasks, newest first')
      .option('--state <states>', `filter by state(s), comma separated: ${TASK_STATES.join(', ')}`)
      .option('--lane <lane>', 'filter by lane')
      .option('--label <label>', 'filter by label')
      .option('--repo <repo>', 'filter by repository')
      .option('--limit <n>', 'page size (1..500)', '50')
      .option('--cursor <cursor>', 'page cursor from a previous listing'),
  ).action(
    async (
      options: GlobalOptions & {
        state?: string;
        lane?: string;
        label?: string;
        repo?: string;
        limit: string;
        cursor?: string;
      },
    ) => {
      const client = connect(options);
      const states = options.state?.split(',').filter(Boolean) as TaskState[] | undefined;
      const page = await client.tasks.list({
        states,
        lane: options.lane as Task['lane'] | undefined,
        label: options.label,
        repo: options.repo ? normalizeRepo(options.repo) : undefined,
        limit: parseInteger(options.limit, '--limit'),
        cursor: options.cursor,
      });
      if (options.json) return printJson(page);
      if (page.tasks.length === 0) {
        process.stdout.write('no tasks\n');
        return;
      }
      process.stdout.write(
        `${formatTable(
          ['ID', 'STATE', 'LANE', 'TRIES', 'EXECUTOR', 'UPDATED', 'TITLE'],
          page.tasks.map((item) => [
            item.id,
            paintState(item.state),
            item.lane,
            `${item.attemptCount}/${item.maxAttempts}`,
            item.executor,
            formatAgo(item.updatedAt),
            item.title,
          ]),
        )}\n`,
      );
      if (page.nextCursor) process.stdout.write(`more: warren task list --cursor ${page.nextCursor}\n`);
    },
  );

  withHubOptions(
    task.command('show').argument('<id>', 'task id').description('show a task and its attempts'),
  ).action(async (id: string, options: GlobalOptions) => {
    const client = connect(options);
    const detail = await client.tasks.get(id);
    if (!detail) throw new CliError(`task ${id} not found`, { hint: 'list tasks with `warren task list`' });
    if (options.json) return printJson(detail);
    process.stdout.write(describeTask(detail.task, detail.attempts, detail.usageRecords));
  });

  withHubOptions(
    task
      .command('logs')
      .argument('<id>', 'task id')
      .description("print a task's logs")
      .option('-f, --follow', 'keep following until the task finishes'),
  ).action(async (id: string, options: GlobalOptions & { follow?: boolean }) => {
    const client = connect(options);
    const detail = await client.tasks.get(id);
    if (!detail) throw new CliError(`task ${id} not found`, { hint: 'list tasks with `warren task list`' });
    const numbers = new Map(detail.attempts.map((attempt) => [attempt.id, attempt.number]));
    let after = 0;
    for (;;) {
      const events = await client.tasks.logs(id, { after, limit: 1000 });
      for (const event of events) printLogEvent(event, numbers, options.json);
      if (events.length < 1000) break;
      after = events[events.length - 1]!.id;
    }
    if (!options.follow || isTerminalTaskState(detail.task.state)) return;
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    const lastSeen = after;
    for await (const event of client.events({ taskId: id, after: lastSeen, signal: controller.signal })) {
      if (event.type === 'attempt.state' && typeof event.data.number === 'number' && event.attemptId) {
        numbers.set(event.attemptId, event.data.number);
      }
      if (event.type === 'attempt.log' || event.type === 'attempt.progress')
        printLogEvent(event, numbers, options.json);
      if (event.type === 'task.state') {
        const to = event.data.to as TaskState;
        if (!options.json) process.stdout.write(paint('gray', `— task ${String(event.data.from)} → ${to}\n`));
        if (isTerminalTaskState(to)) break;
      }
    }
  });

  withHubOptions(
    task
      .command('cancel')
      .argument('<id>', 'task id')
      .description('cancel a task (a running attempt is stopped)')
      .option('--reason <text>', 'why'),
  ).action(async (id: string, options: GlobalOptions & { reason?: string }) => {
    const updated = await connect(options).tasks.cancel(id, { reason: options.reason });
    if (options.json) return printJson({ task: updated });
    process.stdout.write(`cancelled ${updated.id} ${paintState(updated.state)}\n`);
  });

  withHubOptions(
    task
      .command('retry')
      .argument('<id>', 'task id')
      .description('queue a dead, failed or cancelled task again'),
  ).action(async (id: string, options: GlobalOptions) => {
    const updated = await connect(options).tasks.retry(id);
    if (options.json) return printJson({ task: updated });
    process.stdout.write(`retrying ${updated.id} ${paintState(updated.state)}\n`);
  });
}

function buildSpec(title: string | undefined, options: AddOptions): TaskSpecInput {
  let base: Record<string, unknown> = {};
  if (options.file) {
    try {
      base = JSON.parse(readFileSync(options.file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new CliError(`cannot read ${options.file}: ${(error as Error).message}`);
    }
  }
  const spec: Record<string, unknown> = { ...base };
  if (title) spec.title = title;
  if (!spec.title)
    throw new CliError('a task needs a title', { hint: 'warren task add "Fix the flaky test" --repo .' });
  const repo = options.repo ?? (typeof spec.repo === 'string' ? spec.repo : undefined);
  if (!repo)
    throw new CliError('a task needs --repo', { hint: 'pass --repo PATH_OR_URL of a git repository' });
  spec.repo = normalizeRepo(repo);
  if (options.base) spec.baseBranch = options.base;
  if (options.executor) spec.executor = options.executor;
  if (options.run.length > 0) spec.executorInput = { ...(spec.executorInput as object), run: options.run };
  const criteria = [
    ...((spec.successCriteria as unknown[] | undefined) ?? []),
    ...options.verify.map((command) => ({ description: `\`${command}\` passes`, command })),
    ...options.criterion.map((description) => ({ description })),
  ];
  if (criteria.length > 0) spec.successCriteria = criteria;
  if (options.instructions) spec.instructions = options.instructions;
  if (options.capability.length > 0) spec.capabilities = options.capability;
  if (options.complexity) spec.complexity = options.complexity;
  if (options.model) spec.model = options.model;
  if (options.seniority) spec.seniority = options.seniority;
  if (options.budgetTokens !== undefined || options.budgetUsd !== undefined) {
    const budget: Record<string, unknown> = { ...(spec.budget as object | undefined) };
    if (options.budgetTokens !== undefined)
      budget.maxTokens = parseInteger(options.budgetTokens, '--budget-tokens');
    if (options.budgetUsd !== undefined) budget.maxCostUsd = parseAmount(options.budgetUsd, '--budget-usd');
    spec.budget = budget;
  }
  if (options.grant.length > 0) spec.grants = options.grant;
  if (options.fixRounds !== undefined) spec.fixRounds = parseInteger(options.fixRounds, '--fix-rounds');
  if (options.lane) spec.lane = options.lane;
  if (options.priority !== undefined) spec.priority = parseInteger(options.priority, '--priority');
  if (options.dependsOn.length > 0) spec.dependsOn = options.dependsOn;
  if (options.dedupKey) spec.dedupKey = options.dedupKey;
  if (options.maxAttempts !== undefined)
    spec.maxAttempts = parseInteger(options.maxAttempts, '--max-attempts');
  if (options.timeout !== undefined) spec.timeoutMs = parseDuration(options.timeout, '--timeout');
  if (options.label.length > 0) spec.labels = options.label;
  return spec as TaskSpecInput;
}

/** Makes a local repository path absolute so any runner on this machine finds it; URLs stay as they are. */
export function normalizeRepo(repo: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/]+@[^:]+:/.test(repo)) return repo;
  const path = isAbsolute(repo) ? repo : resolve(repo);
  if (!existsSync(path))
    throw new CliError(`repository ${path} does not exist`, {
      hint: 'pass --repo a git repository path or URL',
    });
  return path;
}

function parseInteger(value: string, flag: string): number {
  if (!/^-?\d+$/.test(value)) throw new CliError(`${flag} must be a whole number, got "${value}"`);
  return Number(value);
}

/** Parses a dollar amount such as `2`, `0.50` or `$1.25`. */
function parseAmount(value: string, flag: string): number {
  const match = /^\$?(\d+(?:\.\d+)?)$/.exec(value.trim());
  if (!match) throw new CliError(`${flag} must be an amount of dollars like 2.50, got "${value}"`);
  return Number(match[1]);
}

/** Parses `90s`, `10m`, `1h`, `1500ms` or plain milliseconds. */
export function parseDuration(value: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) throw new CliError(`${flag} must be a duration like 90s, 10m or 1h, got "${value}"`);
  const amount = Number(match[1]);
  const unit = match[2] ?? 'ms';
  const factor = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  return Math.round(amount * factor);
}

function printLogEvent(event: WarrenEvent, numbers: Map<string, number>, json?: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(event)}\n`);
    return;
  }
  const number = event.attemptId ? numbers.get(event.attemptId) : undefined;
  const prefix = paint(
    'gray',
    `[#${number ?? '?'} ${event.type === 'attempt.progress' ? 'progress' : String(event.data.stream)}]`,
  );
  const text = String(event.type === 'attempt.progress' ? event.data.message : event.data.text);
  const lines = text.replace(/\n$/, '').split('\n');
  for (const line of lines) process.stdout.write(`${prefix} ${line}\n`);
}

/** One line on how a followed task ended, with its branch or the reason. */
function describeOutcome(task: Task): string {
  if (task.state === 'succeeded' && task.result) {
    const commit = task.result.commitSha ? ` at ${task.result.commitSha.slice(0, 12)}` : ' (no changes)';
    return `${paintState(task.state)}: branch ${paint('bold', task.result.branch)}${commit}\n`;
  }
  return `${paintState(task.state)}${task.stateReason ? `: ${task.stateReason}` : ''}\nsee: warren task show ${task.id}\n`;
}

/** Usage totals in one line: tokens in and out, calls and dollars (4 decimals). */
export function formatUsage(usage: UsageTotals): string {
  const tokens = (count: number) => count.toLocaleString('en-US');
  return `${tokens(usage.inputTokens)} in / ${tokens(usage.outputTokens)} out tokens, ${usage.calls} call${usage.calls === 1 ? '' : 's'}, $${usage.costUsd.toFixed(4)}`;
}

/** A task, its attempts and its model usage as readable text. */
export function describeTask(task: Task, attempts: Attempt[], usageRecords: UsageRecord[] = []): string {
  const lines: string[] = [];
  const field = (name: string, value: string | undefined): void => {
    if (value !== undefined && value !== '') lines.push(`${paint('gray', name.padEnd(13))} ${value}`);
  };
  lines.push(`${paint('bold', task.title)}`);
  field('id', task.id);
  field('state', `${paintState(task.state)}${task.stateReason ? ` — ${task.stateReason}` : ''}`);
  field('repo', `${task.repo}${task.baseBranch ? ` @ ${task.baseBranch}` : ''}`);
  field('executor', task.executor);
  field('complexity', `${task.complexity} — ${task.complexityReason}`);
  field('model', task.model);
  if (task.seniority) field('seniority', task.seniority);
  if (task.budget) {
    const limits = [
      task.budget.maxTokens === undefined
        ? undefined
        : `${task.budget.maxTokens.toLocaleString('en-US')} tokens`,
      task.budget.maxCostUsd === undefined ? undefined : `$${task.budget.maxCostUsd.toFixed(2)}`,
    ];
    field('budget', limits.filter(Boolean).join(', '));
  }
  if (task.grants.length > 0) field('grants', task.grants.join(', '));
  if (task.usage.calls > 0 || task.model) field('usage', formatUsage(task.usage));
  field('lane', `${task.lane} (priority ${task.priority})`);
  field('fix rounds', String(task.fixRounds));
  field('attempts', `${task.attemptCount} of ${task.maxAttempts}`);
  if (task.retryAt && task.state === 'failed') field('retry', formatAgo(task.retryAt));
  if (task.dependsOn.length > 0) field('depends on', task.dependsOn.join(', '));
  if (task.labels.length > 0) field('labels', task.labels.join(', '));
  field('created', `${task.createdAt} (${formatAgo(task.createdAt)})`);
  if (task.result) {
    field('branch', task.result.branch);
    field('commit', task.result.commitSha ? task.result.commitSha.slice(0, 12) : '(no changes)');
    field('files', task.result.changedFiles.join(', '));
  }
  if (task.successCriteria.length > 0) {
    lines.push('', paint('bold', 'success criteria'));
    for (const criterion of task.successCriteria) {
      lines.push(
        `  - ${criterion.description}${criterion.command ? paint('gray', `  $ ${criterion.command}`) : ''}`,
      );
    }
  }
  if (attempts.length > 0) {
    lines.push('', paint('bold', 'attempts'));
    for (const attempt of attempts) {
      const ended = attempt.finishedAt ? Date.parse(attempt.finishedAt) : Date.now();
      lines.push(
        `  #${attempt.number} ${attempt.state.padEnd(9)} ${formatDuration(ended - Date.parse(attempt.startedAt)).padStart(7)}  runner ${attempt.runnerId}${attempt.error ? `  ${paint('yellow', `${attempt.error.kind}: ${attempt.error.message}`)}` : ''}`,
      );
      if (attempt.usage.calls > 0) lines.push(paint('gray', `      usage ${formatUsage(attempt.usage)}`));
      for (const round of attempt.verification) {
        for (const criterion of round.criteria) {
          const mark = criterion.passed ? paint('green', 'pass') : paint('red', 'FAIL');
          lines.push(
            `      round ${round.round} ${mark} ${criterion.description}${criterion.exitCode !== null ? ` (exit ${criterion.exitCode})` : ''}`,
          );
          if (!criterion.passed && criterion.output) {
            for (const line of criterion.output.trimEnd().split('\n').slice(-5))
              lines.push(paint('gray', `        | ${line}`));
          }
        }
      }
    }
  }
  if (usageRecords.length > 0) {
    lines.push('', paint('bold', 'model calls by model'));
    const byModel = new Map<string, UsageTotals>();
    for (const record of usageRecords) {
      const key = `${record.endpoint}/${record.model}`;
      const totals = byModel.get(key) ?? { inputTokens: 0, outputTokens: 0, costUsd: 0, calls: 0 };
      totals.inputTokens += record.inputTokens;
      totals.outputTokens += record.outputTokens;
      totals.costUsd += record.costUsd;
      totals.calls += 1;
      byModel.set(key, totals);
    }
    for (const [model, totals] of byModel) lines.push(`  ${model}  ${formatUsage(totals)}`);
    if (usageRecords.length < task.usage.calls) {
      lines.push(paint('gray', `  (the newest ${usageRecords.length} of ${task.usage.calls} calls)`));
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Why a queued task cannot start yet because no registered runner offers its executor (a CLI agent no
 * runner has installed, say), or undefined when one does.
 */
async function describeExecutorWait(client: HubClient, task: Task): Promise<string | undefined> {
  const capability = `executor:${task.executor}`;
  const runners = await client.runners.list();
  if (runners.some((runner) => runner.capabilities.includes(capability))) return undefined;
  const hint = Object.hasOwn(EXECUTOR_MODEL_PROVIDERS, task.executor)
    ? `install the ${task.executor} CLI on a runner (or set runner.cliAgents.${task.executor}.path in its config file) and restart it`
    : 'start a runner that offers it';
  return `no runner offers the ${task.executor} executor (${capability}); ${hint}. The task starts when one does (see warren runners)`;
}

/**
 * Why a queued task with a model selector cannot start yet, or undefined when a model it may use is up:
 * without this line, a task waiting for a stopped model server looks like a hang.
 */
async function describeModelWait(client: HubClient, task: Task): Promise<string | undefined> {
  if (task.model === undefined) return undefined;
  const endpoints = await client.endpoints.list();
  const up = endpoints.filter((endpoint) => endpoint.status === 'up');
  if (resolveModelAssignment(task.model, up)) return undefined;
  const candidates = endpoints.filter((endpoint) => resolveModelAssignment(task.model!, [endpoint]));
  const states = candidates
    .map(
      (endpoint) =>
        `${endpoint.name} is ${endpoint.status}${endpoint.lastError ? ` (${endpoint.lastError})` : ''}`,
    )
    .join('; ');
  return `no model endpoint for "${task.model}" is up${states ? `: ${states}` : ''}; the task starts when one is (see warren endpoints list)`;
}
