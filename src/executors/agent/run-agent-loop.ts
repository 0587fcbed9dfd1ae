/**
 * Warren's agent loop: each step asks the model, runs the tools it called and feeds the results back,
 * until the model gives a final answer or a stop condition (`stop-conditions.ts`) ends it.
 *
 * The loop owns the conversation (`messages`), so a later verify-fix round continues it where it stopped.
 */
import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { Budget } from '../../core/types.ts';
import type { ExecutorError, ExecutorEvent } from '../spec.ts';
import type { AgentTool, AgentToolContext, AgentToolResult } from './agent-tool.ts';
import {
  callModel,
  type ConversationMessage,
  type ModelRetryOptions,
  type ModelTool,
  type ModelToolCall,
} from './call-model.ts';
import {
  addSpend,
  allowNextCall,
  checkMaxSteps,
  checkWallTime,
  createProgressTracker,
  type BudgetSpend,
  type ModelPricing,
  type ProgressLimits,
  type StopDecision,
} from './stop-conditions.ts';

/** Limits of one loop run. */
export interface AgentLoopLimits extends ProgressLimits {
  /** Most model calls in this run. */
  maxSteps: number;
  /** Epoch ms after which no new call starts. */
  deadline: number;
  /** The wall-time limit behind `deadline`, for messages. */
  wallTimeMs: number;
  /** Output limit of each call when no budget binds. */
  maxOutputTokens: number;
  /** Budgets, each with what was spent in its scope before this run (a task's earlier attempts, ...). */
  budgets: Array<{ label: string; budget: Budget; spentBefore: BudgetSpend }>;
}

/** Options of {@link runAgentLoop}. */
export interface AgentLoopOptions {
  model: LanguageModelV3;
  /** For usage events and the ledger. */
  modelInfo: { endpoint: string; model: string; pricing: ModelPricing };
  /** The conversation so far, system message first; the loop appends to it. */
  messages: ConversationMessage[];
  tools: AgentTool[];
  toolContext: AgentToolContext;
  limits: AgentLoopLimits;
  retry: ModelRetryOptions;
  /** Sampling temperature of every call (the agent's `brain.temperature`); the model's default without it. */
  temperature?: number;
  emit(event: ExecutorEvent): void;
  /** Removes secret values from text before it reaches the model, a log or an event. */
  redact(text: string): string;
  /** Step numbers continue from here (a fix round continues the count). */
  firstStep?: number;
  /** Clock; injectable for tests. */
  now?: () => number;
}

/** How a loop run ended. */
export type AgentLoopOutcome =
  /** The model answered without calling a tool. */
  | { status: 'final-answer'; text: string }
  | ({ status: 'stopped' } & StopDecision)
  | { status: 'aborted' }
  | { status: 'model-failed'; error: ExecutorError };

/** A loop run's outcome with what it spent. */
export interface AgentLoopResult {
  outcome: AgentLoopOutcome;
  /** Model calls made. */
  steps: number;
  usage: BudgetSpend;
}

// why: a tool result is read by the model in full on every later step; 30 000 characters (about 8k
// tokens) is enough for a test run's tail or a large file page, and keeps long loops affordable.
const maxToolOutputCharacters = 30_000;

/** Runs the loop until a final answer or a stop condition. Never throws for expected failures. */
export async function runAgentLoop(options: AgentLoopOptions): Promise<AgentLoopResult> {
  const now = options.now ?? Date.now;
  const { limits, messages } = options;
  const toolsByName = new Map(options.tools.map((agentTool) => [agentTool.name, agentTool]));
  const modelTools = toModelTools(options.tools);
  const tracker = createProgressTracker(limits);
  const usage: BudgetSpend = { inputTokens: 0, outputTokens: 0, costUsd: 0 };
  const firstStep = options.firstStep ?? 1;
  let steps = 0;
  // Estimating the next call's input: the last call's reported input tokens plus what was added since.
  let lastInputTokens: number | undefined;
  let charactersSinceLastCall = charactersOf(messages) + charactersOf(modelTools);
  const result = (outcome: AgentLoopOutcome): AgentLoopResult => ({
    outcome,
    steps,
    usage,
  });

  for (;;) {
    if (options.toolContext.abortSignal.aborted) return result({ status: 'aborted' });
    const limitReached =
      checkMaxSteps(steps, limits.maxSteps) ?? checkWallTime(now(), limits.deadline, limits.wallTimeMs);
    if (limitReached) return result({ status: 'stopped', ...limitReached });
    const estimatedInputTokens = (lastInputTokens ?? 0) + Math.ceil(charactersSinceLastCall / 4);
    const allowance = allowNextCall({
      budgets: limits.budgets.map(({ label, budget, spentBefore }) => ({
        label,
        budget,
        spent: addSpend(spentBefore, usage),
      })),
      estimatedInputTokens,
      pricing: options.modelInfo.pricing,
      maxOutputTokens: limits.maxOutputTokens,
    });
    if (!allowance.allowed) return result({ status: 'stopped', ...allowance.decision });

    const step = firstStep + steps;
    options.toolContext.heartbeat(`step ${step}: asking ${options.modelInfo.model}`);
    const call = await callModel({
      model: options.model,
      messages,
      tools: modelTools,
      maxOutputTokens: allowance.maxOutputTokens,
      abortSignal: options.toolContext.abortSignal,
      retry: options.retry,
      ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
      onTextDelta: (text) => options.emit({ type: 'text-delta', text: options.redact(text) }),
      onRetry: ({ retry, delayMs, reason }) => {
        const message = `model call retry ${retry} in ${delayMs} ms: ${reason}`;
        options.toolContext.heartbeat(message);
        options.emit({
          type: 'error',
          error: { kind: 'model_retry', retryable: true, message: options.redact(message) },
        });
      },
    });
    if (call.status === 'aborted') return result({ status: 'aborted' });
    if (call.status === 'failed') return result({ status: 'model-failed', error: call.error });
    steps += 1;
    const answer = call.result;
    const costUsd =
      (answer.usage.inputTokens * options.modelInfo.pricing.inputPerMillionUsd +
        answer.usage.outputTokens * options.modelInfo.pricing.outputPerMillionUsd) /
      1e6;
    usage.inputTokens += answer.usage.inputTokens;
    usage.outputTokens += answer.usage.outputTokens;
    usage.costUsd += costUsd;
    options.emit({
      type: 'usage',
      inputTokens: answer.usage.inputTokens,
      outputTokens: answer.usage.outputTokens,
      costUsd,
      model: options.modelInfo.model,
      endpoint: options.modelInfo.endpoint,
    });
    // why: vendors refuse an assistant message without content (an empty answer).
    if (answer.assistantMessage.content.length > 0) messages.push(answer.assistantMessage);
    lastInputTokens = answer.usage.inputTokens > 0 ? answer.usage.inputTokens : undefined;
    charactersSinceLastCall =
      lastInputTokens === undefined
        ? charactersOf(messages) + charactersOf(modelTools)
        : charactersOf(answer.assistantMessage);

    if (answer.toolCalls.length === 0) {
      if (answer.finishReason === 'length') {
        // The answer hit the output limit mid-sentence: ask for the rest rather than take half an answer.
        const nudge: ConversationMessage = {
          role: 'user',
          content: [
            {
              type: 'text',
              text: 'Your answer was cut off at the output limit. Continue where you stopped.',
            },
          ],
        };
        messages.push(nudge);
        charactersSinceLastCall += charactersOf(nudge);
        options.emit({ type: 'step-end', step, description: 'answer cut off at the output limit' });
        continue;
      }
      options.emit({ type: 'step-end', step, description: 'final answer' });
      return result({ status: 'final-answer', text: answer.text });
    }

    const activity: Array<{ toolName: string; input: unknown; output: string }> = [];
    let filesChanged = 0;
    const toolResults: Array<{ call: ModelToolCall; result: AgentToolResult }> = [];
    for (const toolCall of answer.toolCalls) {
      options.emit({
        type: 'tool-call',
        toolCallId: toolCall.toolCallId,
        toolName: toolCall.toolName,
        input: toolCall.input,
      });
      const toolResult = await runToolCall(toolCall, toolsByName, options);
      const output = options.redact(capOutput(toolResult.output));
      options.emit({
        type: 'tool-result',
        toolCallId: toolCall.toolCallId,
        toolName: toolCall.toolName,
        output,
        ...(toolResult.isError ? { isError: true } : {}),
      });
      for (const change of toolResult.fileChanges ?? []) {
        filesChanged += 1;
        options.emit({ type: 'file-change', path: change.path, change: change.change });
      }
      activity.push({ toolName: toolCall.toolName, input: toolCall.input, output });
      toolResults.push({ call: toolCall, result: { ...toolResult, output } });
      if (options.toolContext.abortSignal.aborted) break;
    }
    const toolMessage: ConversationMessage = {
      role: 'tool',
      content: toolResults.map(({ call: toolCall, result: toolResult }) => ({
        type: 'tool-result',
        toolCallId: toolCall.toolCallId,
        toolName: toolCall.toolName,
        output: toolResult.isError
          ? { type: 'error-text', value: toolResult.output }
          : { type: 'text', value: toolResult.output },
      })),
    };
    messages.push(toolMessage);
    charactersSinceLastCall += charactersOf(toolMessage);
    options.emit({
      type: 'step-end',
      step,
      description: answer.toolCalls.map((toolCall) => toolCall.toolName).join(', '),
    });
    const stuck = tracker.record({ toolCalls: activity, filesChanged });
    if (stuck) return result({ status: 'stopped', ...stuck });
  }
}

/** Answers one tool call: unknown tools and malformed input get an error the model can act on. */
async function runToolCall(
  toolCall: ModelToolCall,
  toolsByName: Map<string, AgentTool>,
  options: AgentLoopOptions,
): Promise<AgentToolResult> {
  const agentTool = toolsByName.get(toolCall.toolName);
  if (!agentTool) {
    return {
      isError: true,
      output: `Unknown tool "${toolCall.toolName}". The tools you can call are: ${[...toolsByName.keys()].join(', ')}.`,
    };
  }
  if (toolCall.invalid) {
    return {
      isError: true,
      output: `The arguments of ${toolCall.toolName} could not be read (${toolCall.error ?? 'not valid JSON'}). Call it again with one JSON object that matches its input schema.`,
    };
  }
  const parsed = agentTool.parseInput(toolCall.input);
  if (!parsed.success) {
    return {
      isError: true,
      output: `Invalid arguments for ${toolCall.toolName}: ${parsed.error}. Call it again with corrected arguments.`,
    };
  }
  try {
    return await agentTool.execute(parsed.value, options.toolContext);
  } catch (error) {
    // why: tools return expected failures as results; a throw is a bug in a tool, and the model should
    // still get an answer (and the loop go on) rather than the attempt crash.
    options.toolContext.logger.warn({ err: error, tool: toolCall.toolName }, 'a tool threw');
    return {
      isError: true,
      output: `${toolCall.toolName} failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/** The tools as offered to the model. The loop runs them itself and checks their input itself. */
function toModelTools(tools: AgentTool[]): ModelTool[] {
  return tools.map((agentTool) => ({
    type: 'function',
    name: agentTool.name,
    description: agentTool.description,
    inputSchema: agentTool.inputJsonSchema,
  }));
}

function capOutput(output: string): string {
  if (output.length <= maxToolOutputCharacters) return output;
  const omitted = output.length - maxToolOutputCharacters;
  return `${output.slice(0, maxToolOutputCharacters / 2)}\n… [${omitted} characters omitted] …\n${output.slice(-maxToolOutputCharacters / 2)}`;
}

function charactersOf(value: unknown): number {
  if (typeof value === 'string') return value.length;
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return 0;
  }
}
