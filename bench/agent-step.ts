/**
 * Agent loop overhead: Warren's own time per step, excluding the model's, with the scripted model server
 * answering at once over loopback (Anthropic Messages, streamed).
 * - step overhead: from the moment a step's answer has been fully received (its usage event) to the
 *   moment the next model request arrives at the server. It covers running the tool (`read_file` on a
 *   small file: a plain step), building the next request and sending it.
 * - memory: peak RSS and heap growth of this process while 50 agent activations run at once, each in
 *   its own git worktree, against the same server.
 *
 * Run: `node --import tsx bench/agent-step.ts [--quick] [--steps 200] [--activations 50]`
 * (`--quick`: 60 steps, 10 activations). Prints a table and, as the last line, one JSON object.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ModelAssignment } from '../src/core/model-endpoints.ts';
import { createAgentExecutor } from '../src/executors/agent/create-agent-executor.ts';
import type { ExecutorContext } from '../src/executors/spec.ts';
import { createTestContext } from '../src/executors/testing/create-test-context.ts';
import { createTestTask } from '../src/executors/testing/create-test-task.ts';
import {
  startScriptedModelServer,
  type RecordedModelRequest,
  type ScriptedTurn,
} from '../test/support/scripted-model-server/index.ts';
import { printTable, round, summarizeLatencies, wallClockMs } from './support/figures.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    steps: { type: 'string' },
    activations: { type: 'string' },
  },
});
const stepCount = Number(values.steps ?? (values.quick ? 60 : 200));
const activationCount = Number(values.activations ?? (values.quick ? 10 : 50));
// why: 20 steps is a typical small fix; enough for conversations to grow to a realistic size.
const stepsPerActivation = 20;
// why: each step reads a different file, so the loop sees new information and never stops as stuck.
const fileCount = Math.max(stepCount, stepsPerActivation);
const apiKey = 'bench-key-0000000';

const stepsSoFar = (request: RecordedModelRequest): number =>
  request.messages.filter((message) => message.role === 'assistant').length;

/** Reads file N at step N, then answers once `limit` steps are done. */
function scriptFor(limit: number, arrivals?: number[]): (request: RecordedModelRequest) => ScriptedTurn {
  return (request) => {
    arrivals?.push(wallClockMs());
    const step = stepsSoFar(request);
    if (step >= limit) return { text: 'done', usage: { inputTokens: 100, outputTokens: 5 } };
    return {
      toolCalls: [{ name: 'read_file', input: { path: `files/file-${step}.txt` } }],
      usage: { inputTokens: 100 + step * 50, outputTokens: 20 },
    };
  };
}

async function createWorktree(root: string, name: string): Promise<string> {
  const directory = join(root, name);
  await mkdir(join(directory, 'files'), { recursive: true });
  for (let index = 0; index < fileCount; index += 1) {
    await writeFile(join(directory, 'files', `file-${index}.txt`), `file ${index}\n${'x'.repeat(200)}\n`);
  }
  execFileSync('git', ['init', '--quiet'], { cwd: directory });
  return directory;
}

function contextFor(worktree: string, model: ModelAssignment, onUsage?: () => void): ExecutorContext {
  return createTestContext(worktree, {
    task: createTestTask({ title: 'bench', instructions: 'Read the files.', executor: 'agent' }),
    timeoutMs: 600_000,
    emit: (event) => {
      if (event.type === 'usage') onUsage?.();
    },
    model,
  });
}

const root = await mkdtemp(join(tmpdir(), 'warren-bench-agent-'));
process.env.WARREN_BENCH_MODEL_KEY = apiKey;
const executor = createAgentExecutor({
  agents: [{ name: 'bench', maxSteps: 1_000, maxStepsWithoutProgress: 100, maxRepeatedCalls: 100 }],
});
try {
  // 1. Step overhead.
  const arrivals: number[] = [];
  const answered: number[] = [];
  const server = await startScriptedModelServer({ script: scriptFor(stepCount, arrivals), apiKey });
  const model: ModelAssignment = {
    endpoint: {
      name: 'scripted',
      provider: 'anthropic',
      baseUrl: `${server.url}/v1`,
      apiKeyEnv: 'WARREN_BENCH_MODEL_KEY',
    },
    model: 'claude-bench',
    pricing: { inputPerMillionUsd: 3, outputPerMillionUsd: 15 },
  };
  const worktree = await createWorktree(root, 'overhead');
  const benchTask = (path: string) => {
    const context = contextFor(path, model, () => answered.push(wallClockMs()));
    context.task.executorInput = { agent: 'bench' };
    return context;
  };
  // Warm-up: the first activation loads the providers and JIT-compiles the loop.
  await executor.run(benchTask(worktree));
  arrivals.length = 0;
  answered.length = 0;
  const startedAt = wallClockMs();
  const result = await executor.run(benchTask(worktree));
  const overheadWallMs = wallClockMs() - startedAt;
  if (result.status !== 'succeeded') throw new Error(`the overhead run failed: ${JSON.stringify(result)}`);
  // Overhead of step N: answer N received → request N+1 arrived.
  const overheads = answered.slice(0, -1).map((at, index) => arrivals[index + 1]! - at);
  const overhead = summarizeLatencies(overheads);
  await server.close();

  // 2. Memory with concurrent activations.
  const memoryServer = await startScriptedModelServer({ script: scriptFor(stepsPerActivation), apiKey });
  const memoryModel: ModelAssignment = {
    ...model,
    endpoint: { ...model.endpoint, baseUrl: `${memoryServer.url}/v1` },
  };
  const worktrees = await Promise.all(
    Array.from({ length: activationCount }, (_, index) => createWorktree(root, `activation-${index}`)),
  );
  global.gc?.();
  const baseline = process.memoryUsage();
  let peakRss = baseline.rss;
  let peakHeap = baseline.heapUsed;
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  }, 20);
  const concurrentStartedAt = wallClockMs();
  const results = await Promise.all(
    worktrees.map((path) => {
      const context = contextFor(path, memoryModel);
      context.task.executorInput = { agent: 'bench' };
      return executor.run(context);
    }),
  );
  const concurrentWallMs = wallClockMs() - concurrentStartedAt;
  clearInterval(sampler);
  await memoryServer.close();
  const succeeded = results.filter((outcome) => outcome.status === 'succeeded').length;
  const megabytes = (bytes: number) => bytes / (1024 * 1024);
  const rssGrowthMb = megabytes(peakRss - baseline.rss);
  const heapGrowthMb = megabytes(peakHeap - baseline.heapUsed);

  printTable(
    ['figure', 'value'],
    [
      ['steps measured', overheads.length],
      ['step overhead p50 (ms)', round(overhead.p50, 3)],
      ['step overhead p90 (ms)', round(overhead.p90, 3)],
      ['step overhead p99 (ms)', round(overhead.p99, 3)],
      ['step overhead max (ms)', round(overhead.max, 3)],
      ['overhead run wall (ms)', round(overheadWallMs, 1)],
      [`concurrent activations (${stepsPerActivation} steps each)`, activationCount],
      ['activations succeeded', succeeded],
      ['concurrent wall (ms)', round(concurrentWallMs, 1)],
      ['baseline RSS (MB)', round(megabytes(baseline.rss), 1)],
      ['peak RSS (MB)', round(megabytes(peakRss), 1)],
      ['RSS growth (MB)', round(rssGrowthMb, 1)],
      ['heap growth (MB)', round(heapGrowthMb, 1)],
      ['RSS growth per activation (MB)', round(rssGrowthMb / activationCount, 2)],
    ],
  );
  console.log(
    JSON.stringify({
      bench: 'agent-step',
      steps: overheads.length,
      stepOverheadP50Ms: round(overhead.p50, 3),
      stepOverheadP99Ms: round(overhead.p99, 3),
      activations: activationCount,
      activationsSucceeded: succeeded,
      peakRssMb: round(megabytes(peakRss), 1),
      rssGrowthMb: round(rssGrowthMb, 1),
      rssGrowthPerActivationMb: round(rssGrowthMb / activationCount, 2),
      heapGrowthMb: round(heapGrowthMb, 1),
    }),
  );
} finally {
  await rm(root, { recursive: true, force: true });
}
