/**
 * CLI agents: wall time and peak memory per activation of each real CLI (from the test cache, see
 * test/support/cli-agents/) against the scripted model server, and Warren's own overhead around it.
 *
 * Each activation is one real run through Warren's CLI-agent executor in a fresh clone: the scripted model
 * asks the CLI to edit a file with its own edit tool, then answers with a summary (two model calls).
 * - wall: `executor.run()` from call to result.
 * - process: the CLI process's lifetime (spawn to exit); the CLI's own time.
 * - Warren overhead: wall − process: finding the binary, reading the key, writing the CLI's config,
 *   snapshotting the worktree before and after (file changes), parsing and pricing.
 * - spawn → first event: mostly the CLI's own start-up, shown for reference.
 * - last event → exit: how long the CLI takes to exit after its last output.
 * - peak RSS: the CLI's process group, sampled every 20 ms from /proc.
 *
 * Run: `node --import tsx bench/cli-agents.ts [--quick] [--runs 5] [--only claude-code,codex]`. Prints a
 * table and, as the last line, one JSON object. A CLI missing from the cache is skipped with a line.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ModelAssignment, ModelProvider } from '../src/core/model-endpoints.ts';
import { claudeCodeAdapter } from '../src/executors/cli-agents/claude-code/claude-code-adapter.ts';
import type { CliAgentAdapter } from '../src/executors/cli-agents/cli-agent-adapter.ts';
import { codexAdapter } from '../src/executors/cli-agents/codex/codex-adapter.ts';
import { createCliAgentExecutor } from '../src/executors/cli-agents/create-cli-agent-executor.ts';
import { geminiCliAdapter } from '../src/executors/cli-agents/gemini-cli/gemini-cli-adapter.ts';
import { opencodeAdapter } from '../src/executors/cli-agents/opencode/opencode-adapter.ts';
import { createTestContext } from '../src/executors/testing/create-test-context.ts';
import { createTestTask } from '../src/executors/testing/create-test-task.ts';
import { cachedCliAgent, type PinnedCliAgent } from '../test/support/cli-agents/pinned-cli-agents.ts';
import {
  hasToolResult,
  startScriptedModelServer,
  type RecordedModelRequest,
  type ScriptedTurn,
} from '../test/support/scripted-model-server/index.ts';
import { printTable, round, summarizeLatencies } from './support/figures.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    only: { type: 'string' },
  },
});
const runs = Number(values.runs ?? (values.quick ? 2 : 5));
const only = values.only?.split(',').filter(Boolean);
const apiKey = 'bench-cli-agent-key-000000';

/** How to drive one CLI: its adapter, the endpoint it speaks and the edit call in its own tool vocabulary. */
interface Scenario {
  executor: PinnedCliAgent['executor'];
  adapter: CliAgentAdapter;
  provider: ModelProvider;
  /** The endpoint's base URL below the server's root, as the SDKs write it. */
  basePath: string;
  model: string;
  edit: NonNullable<ScriptedTurn['toolCalls']>[number];
}

const scenarios: Scenario[] = [
  {
    executor: 'claude-code',
    adapter: claudeCodeAdapter,
    provider: 'anthropic',
    basePath: '/v1',
    model: 'claude-bench',
    edit: { name: 'Edit', input: { file_path: 'greet.js', old_string: "'hello'", new_string: "'goodbye'" } },
  },
  {
    executor: 'codex',
    adapter: codexAdapter,
    provider: 'openai',
    basePath: '/v1',
    model: 'gpt-bench',
    edit: {
      name: 'apply_patch',
      input:
        "*** Begin Patch\n*** Update File: greet.js\n@@\n-export const greeting = 'hello';\n+export const greeting = 'goodbye';\n*** End Patch\n",
    },
  },
  {
    executor: 'opencode',
    adapter: opencodeAdapter,
    provider: 'openai-compatible',
    basePath: '/v1',
    model: 'qwen-bench',
    edit: { name: 'edit', input: { filePath: 'greet.js', oldString: "'hello'", newString: "'goodbye'" } },
  },
  {
    executor: 'gemini-cli',
    adapter: geminiCliAdapter,
    provider: 'google',
    basePath: '/v1beta',
    model: 'gemini-bench',
    edit: {
      name: 'replace',
      input: {
        file_path: 'greet.js',
        old_string: "'hello'",
        new_string: "'goodbye'",
        instruction: 'Make the greeting goodbye.',
      },
    },
  },
];

interface Sample {
  wallMs: number;
  processMs: number;
  overheadMs: number;
  beforeSpawnMs: number;
  afterExitMs: number;
  spawnToFirstEventMs?: number;
  lastEventToExitMs?: number;
  peakRssMb: number;
  succeeded: boolean;
}

const root = await mkdtemp(join(tmpdir(), 'warren-bench-cli-agents-'));
const source = join(root, 'source');
await mkdir(source);
await writeFile(join(source, 'greet.js'), "export const greeting = 'hello';\n");
await writeFile(join(source, 'package.json'), '{ "type": "module" }\n');
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Bench', '-c', 'user.email=bench@warren.invalid', ...args], {
    cwd,
    stdio: 'ignore',
  });
git(source, 'init', '-q', '-b', 'main');
git(source, 'add', '--all');
git(source, 'commit', '-qm', 'initial');

const headers = [
  'CLI',
  'ok',
  'wall p50 ms',
  'CLI process p50 ms',
  'Warren overhead p50 / max ms',
  'spawn→first event p50 ms',
  'last event→exit p50 ms',
  'peak RSS MB',
];
const rows: Array<Array<string | number | null>> = [];
const figures: Record<string, unknown> = {};
try {
  for (const scenario of scenarios) {
    if (only && !only.includes(scenario.executor)) continue;
    const binaryPath = cachedCliAgent(scenario.executor);
    if (!binaryPath) {
      console.log(
        `skipped ${scenario.executor}: not in the CLI agent cache (run test/support/cli-agents/install-cli-agents.ts)`,
      );
      continue;
    }
    const samples = await benchScenario(scenario, binaryPath);
    const summary = summarize(samples);
    figures[scenario.executor] = summary;
    rows.push([scenario.executor, ...row(summary)]);
  }
  printTable(headers, rows);
  console.log(JSON.stringify({ bench: 'cli-agents', runs, figures }));
} finally {
  await rm(root, { recursive: true, force: true });
}

async function benchScenario(scenario: Scenario, binaryPath: string): Promise<Sample[]> {
  const script = (request: RecordedModelRequest): ScriptedTurn =>
    hasToolResult(request)
      ? {
          name: 'summary',
          text: 'The greeting is goodbye now.',
          usage: { inputTokens: 2_000, outputTokens: 20 },
        }
      : { name: 'edit', toolCalls: [scenario.edit], usage: { inputTokens: 1_800, outputTokens: 60 } };
  const server = await startScriptedModelServer({ script, apiKey });
  process.env.WARREN_BENCH_CLI_AGENT_KEY = apiKey;
  const model: ModelAssignment = {
    endpoint: {
      name: 'bench',
      provider: scenario.provider,
      baseUrl: `${server.url}${scenario.basePath}`,
      apiKeyEnv: 'WARREN_BENCH_CLI_AGENT_KEY',
    },
    model: scenario.model,
    pricing: { inputPerMillionUsd: 1, outputPerMillionUsd: 5 },
  };
  const executor = createCliAgentExecutor(scenario.adapter, { binaryPath });
  const samples: Sample[] = [];
  try {
    // One unmeasured warm-up: the first start of a CLI reads its files from disk.
    for (let index = 0; index <= runs; index += 1) {
      const sample = await activate(executor, model, `${scenario.executor}-${index}`);
      if (index > 0) samples.push(sample);
    }
  } finally {
    await server.close();
  }
  return samples;
}

async function activate(
  executor: ReturnType<typeof createCliAgentExecutor>,
  model: ModelAssignment,
  name: string,
): Promise<Sample> {
  const worktree = join(root, name);
  git(root, 'clone', '-q', source, worktree);
  const scratch = join(root, `${name}-scratch`);
  await mkdir(join(scratch, 'home'), { recursive: true });
  let peakRssKb = 0;
  let sampler: NodeJS.Timeout | undefined;
  const context = createTestContext(worktree, {
    task: createTestTask({
      title: 'Make the greeting goodbye',
      instructions: 'Change greet.js to export goodbye.',
    }),
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: join(scratch, 'home'),
      TMPDIR: scratch,
      LANG: 'C.UTF-8',
    },
    model,
    timeoutMs: 120_000,
    trackProcessGroup: (processGroupId) => {
      sampler = setInterval(() => {
        peakRssKb = Math.max(peakRssKb, groupRssKb(processGroupId));
      }, 20);
      return () => clearInterval(sampler);
    },
  });
  const startedAt = performance.now();
  const result = await executor.run(context);
  const wallMs = performance.now() - startedAt;
  clearInterval(sampler);
  const timings = executor.lastTimings!;
  if (result.status !== 'succeeded') console.log(`${name} failed: ${result.error.message.slice(0, 300)}`);
  return {
    wallMs,
    processMs: timings.processMs,
    overheadMs: wallMs - timings.processMs,
    beforeSpawnMs: timings.beforeSpawnMs,
    afterExitMs: timings.afterExitMs,
    ...(timings.spawnToFirstEventMs !== undefined
      ? { spawnToFirstEventMs: timings.spawnToFirstEventMs }
      : {}),
    ...(timings.lastEventToExitMs !== undefined ? { lastEventToExitMs: timings.lastEventToExitMs } : {}),
    peakRssMb: peakRssKb / 1024,
    succeeded: result.status === 'succeeded',
  };
}

/** The resident memory of every process in the group, in KiB. */
function groupRssKb(processGroupId: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Field 5 of stat (index 2 after the command name) is the process group; 24 (index 21) is RSS in pages.
      if (Number(fields[2]) !== processGroupId) continue;
      total += (Number(fields[21]) * 4096) / 1024;
    } catch {
      // Gone meanwhile.
    }
  }
  return total;
}

function summarize(samples: Sample[]) {
  const pick = (key: keyof Sample) => {
    const summary = summarizeLatencies(
      samples.flatMap((sample) => (typeof sample[key] === 'number' ? [sample[key]] : [])),
    );
    return { p50: round(summary.p50, 1) ?? Number.NaN, max: round(summary.max, 1) ?? Number.NaN };
  };
  return {
    succeeded: `${samples.filter((sample) => sample.succeeded).length}/${samples.length}`,
    wallMs: pick('wallMs'),
    processMs: pick('processMs'),
    overheadMs: pick('overheadMs'),
    beforeSpawnMs: pick('beforeSpawnMs'),
    afterExitMs: pick('afterExitMs'),
    spawnToFirstEventMs: pick('spawnToFirstEventMs'),
    lastEventToExitMs: pick('lastEventToExitMs'),
    peakRssMb: round(Math.max(...samples.map((sample) => sample.peakRssMb)), 0),
  };
}

function row(summary: ReturnType<typeof summarize>): Array<string | number | null> {
  const p50 = (value: { p50: number }) => round(value.p50, 1);
  return [
    summary.succeeded,
    p50(summary.wallMs),
    p50(summary.processMs),
    `${p50(summary.overheadMs) ?? '–'} / ${round(summary.overheadMs.max, 1) ?? '–'}`,
    p50(summary.spawnToFirstEventMs),
    p50(summary.lastEventToExitMs),
    summary.peakRssMb,
  ];
}
