/**
 * The `agent` executor: Warren's own agent loop on the model the hub assigned to the attempt, with the
 * built-in tools and the agent definition's MCP servers. Supports verify-fix rounds through `resume`.
 */
import type { RetryPolicy } from '../../core/backoff.ts';
import { InvalidInputError } from '../../core/errors.ts';
import { runProcess } from '../run-process.ts';
import {
  EXECUTOR_SPEC_VERSION,
  type Executor,
  type ExecutorContext,
  type ExecutorResult,
  type ExecutorSession,
} from '../spec.ts';
import {
  agentDefinitionSchema,
  agentExecutorInputSchema,
  DEFAULT_AGENT_NAME,
  type AgentDefinition,
  type AgentDefinitionInput,
} from './agent-definition.ts';
import type { AgentTool, AgentToolContext } from './agent-tool.ts';
import { buildFeedbackPrompt, buildTaskPrompt } from '../task-prompt.ts';
import { buildSystemPrompt } from './build-agent-prompt.ts';
import type { ConversationMessage } from './call-model.ts';
import { resolveApiKeyOnRunner, type ApiKeyResolver } from '../endpoint-api-key.ts';
import { createLanguageModel } from './create-language-model.ts';
import { startMcpServers } from './mcp/start-mcp-servers.ts';
import { createSecretRedactor } from '../redact-secrets.ts';
import { runAgentLoop, type AgentLoopResult } from './run-agent-loop.ts';
import { addSpend, type BudgetSpend } from './stop-conditions.ts';
import { createBuiltinTools } from './tools/create-builtin-tools.ts';

/** Options of {@link createAgentExecutor}. */
export interface AgentExecutorOptions {
  /** Agent definitions offered besides the built-in `default`. */
  agents?: AgentDefinitionInput[];
  /** Reads endpoint API keys on the runner. Default: the runner's environment or key file. */
  resolveApiKey?: ApiKeyResolver;
  /** Retries of a model call that failed with 429 or 5xx before any output. */
  modelRetry?: { maxRetries?: number; policy?: RetryPolicy; maxRetryAfterMs?: number };
}

/** What the agent executor keeps between a run and its fix rounds. */
interface AgentSession {
  definitionName: string;
  messages: ConversationMessage[];
  steps: number;
  usage: BudgetSpend;
}

// why: three retries at 1 s, 2 s, 4 s (or the endpoint's retry-after) ride out a short overload; a longer
// outage is better handled by failing the attempt and letting the queue retry it later.
const defaultModelRetry = {
  maxRetries: 3,
  policy: { baseDelayMs: 1_000, maxDelayMs: 30_000, factor: 2, jitter: 0.2 },
  // why: waiting a minute inside an attempt is acceptable; a longer retry-after is passed to the queue.
  maxRetryAfterMs: 60_000,
} as const;
// why: the layout listing needs only paths; 10 s is ample for `git ls-files` on any repository.
const listFilesTimeoutMs = 10_000;
// why: a summary is shown in the CLI and stored on the result; the model's final answer may be longer.
const maxSummaryLength = 2_000;

/** Creates the `agent` executor. Throws InvalidInputError (naming the field) for a bad definition. */
export function createAgentExecutor(options: AgentExecutorOptions = {}): Executor {
  const definitions = new Map<string, AgentDefinition>();
  definitions.set(DEFAULT_AGENT_NAME, agentDefinitionSchema.parse({ name: DEFAULT_AGENT_NAME }));
  for (const [index, input] of (options.agents ?? []).entries()) {
    const parsed = agentDefinitionSchema.safeParse(input);
    if (!parsed.success) {
      throw new InvalidInputError(
        parsed.error.issues.map((issue) => ({
          field: ['agents', index, ...issue.path].map(String).join('.'),
          reason: issue.message,
        })),
      );
    }
    definitions.set(parsed.data.name, parsed.data);
  }
  const resolveApiKey = options.resolveApiKey ?? resolveApiKeyOnRunner;
  // why: the built-in tools hold no state; their JSON schemas are computed once, not per activation.
  const builtinTools = createBuiltinTools();
  const retry = { ...defaultModelRetry, ...options.modelRetry };

  async function activate(
    context: ExecutorContext,
    session: AgentSession | undefined,
  ): Promise<ExecutorResult> {
    const input = agentExecutorInputSchema.parse(context.task.executorInput);
    const definition = definitions.get(session?.definitionName ?? input.agent);
    if (!definition) return invalidInput(`executorInput.agent: no agent definition named "${input.agent}"`);
    const assignment = context.model;
    if (!assignment) {
      return {
        status: 'failed',
        error: {
          kind: 'model_unassigned',
          retryable: true,
          message: 'the hub assigned no model to this attempt (no model endpoint for the task is up)',
        },
      };
    }
    const built = await createLanguageModel(assignment, resolveApiKey);
    if (!built.ok)
      return {
        status: 'failed',
        error: { kind: 'model_unavailable', retryable: true, message: built.message },
      };

    const grantSecrets = context.grantSecrets ?? {};
    const secretValues = Object.values(grantSecrets).flatMap((variables) => Object.values(variables));
    const redact = createSecretRedactor([...secretValues, ...(built.apiKey ? [built.apiKey] : [])]);
    const grantedNames = new Set(Object.values(grantSecrets).flatMap((variables) => Object.keys(variables)));
    const baseEnv = Object.fromEntries(
      Object.entries(context.env).filter(([name]) => !grantedNames.has(name)),
    );

    const trackProcessGroup = context.trackProcessGroup
      ? { trackProcessGroup: (id: number) => context.trackProcessGroup!(id) }
      : {};
    const toolContext: AgentToolContext = {
      worktreePath: context.worktreePath,
      env: context.env,
      abortSignal: context.abortSignal,
      heartbeat: (progress) => context.heartbeat(progress === undefined ? undefined : redact(progress)),
      ...trackProcessGroup,
      logger: context.logger,
    };
    const builtin = builtinTools.filter(
      (agentTool) => !definition.tools || definition.tools.includes(agentTool.name),
    );
    let mcp: Awaited<ReturnType<typeof startMcpServers>> | undefined;
    if (definition.mcpServers.length > 0) {
      try {
        mcp = await startMcpServers({
          servers: definition.mcpServers,
          taskGrants: context.task.grants,
          grantSecrets,
          baseEnv,
          worktreePath: context.worktreePath,
          logger: context.logger,
          abortSignal: context.abortSignal,
          ...trackProcessGroup,
        });
      } catch (error) {
        return {
          status: 'failed',
          error: {
            kind: 'mcp_failed',
            retryable: true,
            message: redact(error instanceof Error ? error.message : String(error)),
          },
        };
      }
    }
    const tools: AgentTool[] = [...builtin, ...(mcp?.tools ?? [])];

    try {
      const messages = session ? [...session.messages] : [];
      if (session) {
        if (!context.feedback) return invalidInput('resume needs the failed verification round as feedback');
        messages.push(userMessage(redact(buildFeedbackPrompt(context.feedback, context.regressedCriteria))));
      } else {
        const files = await listTrackedFiles(context);
        messages.push({ role: 'system', content: redact(buildSystemPrompt(definition.systemPrompt)) });
        messages.push(userMessage(redact(buildTaskPrompt(context.task, files, context))));
      }
      const spentThisAttempt = session?.usage ?? { inputTokens: 0, outputTokens: 0, costUsd: 0 };
      const budgets = [
        ...(context.task.budget
          ? [
              {
                label: 'task',
                budget: context.task.budget,
                spentBefore: addSpend(context.task.usage, spentThisAttempt),
              },
            ]
          : []),
        ...(definition.budget
          ? [
              {
                label: `agent "${definition.name}"`,
                budget: definition.budget,
                spentBefore: spentThisAttempt,
              },
            ]
          : []),
      ];
      const wallTimeMs = Math.min(definition.maxWallTimeMs ?? context.timeoutMs, context.timeoutMs);
      // The hub's agent definition (`behavior.max_iterations`) caps the steps further, never raises them.
      const maxSteps = Math.min(
        input.maxSteps ?? definition.maxSteps,
        definition.maxSteps,
        context.agent?.behavior?.max_iterations ?? Number.POSITIVE_INFINITY,
      );
      const temperature = context.agent?.brain?.temperature;
      const stepsSoFar = session?.steps ?? 0;
      const loop = await runAgentLoop({
        model: built.model,
        modelInfo: {
          endpoint: assignment.endpoint.name,
          model: assignment.model,
          pricing: assignment.pricing,
        },
        messages,
        tools,
        toolContext,
        limits: {
          maxSteps: Math.max(0, maxSteps - stepsSoFar),
          deadline: Date.now() + wallTimeMs,
          wallTimeMs,
          maxOutputTokens: definition.maxOutputTokens,
          budgets,
          maxRepeatedCalls: definition.maxRepeatedCalls,
          maxStepsWithoutProgress: definition.maxStepsWithoutProgress,
        },
        retry,
        ...(temperature === undefined ? {} : { temperature }),
        emit: (event) => context.emit(event),
        redact,
        firstStep: stepsSoFar + 1,
      });
      const nextSession: AgentSession = {
        definitionName: definition.name,
        messages,
        steps: stepsSoFar + loop.steps,
        usage: addSpend(spentThisAttempt, loop.usage),
      };
      const result = toExecutorResult(loop, nextSession, assignment.model, redact);
      context.emit({ type: 'run-end', result });
      return result;
    } finally {
      await mcp?.close();
    }
  }

  return {
    specVersion: EXECUTOR_SPEC_VERSION,
    name: 'agent',
    validateInput(input) {
      const parsed = agentExecutorInputSchema.safeParse(input);
      if (!parsed.success) {
        return parsed.error.issues.map((issue) => ({
          field: ['executorInput', ...issue.path.map(String)].join('.'),
          reason: issue.message,
        }));
      }
      if (!definitions.has(parsed.data.agent)) {
        return [
          {
            field: 'executorInput.agent',
            reason: `no agent definition named "${parsed.data.agent}" on this runner (known: ${[...definitions.keys()].join(', ')})`,
          },
        ];
      }
      return [];
    },
    run: (context) => activate(context, undefined),
    resume: (context, session: ExecutorSession) => activate(context, session as AgentSession),
  };
}

function toExecutorResult(
  loop: AgentLoopResult,
  session: AgentSession,
  model: string,
  redact: (text: string) => string,
): ExecutorResult {
  const usage = {
    inputTokens: session.usage.inputTokens,
    outputTokens: session.usage.outputTokens,
    costUsd: session.usage.costUsd,
    model,
  };
  const { outcome } = loop;
  switch (outcome.status) {
    case 'final-answer':
      return {
        status: 'succeeded',
        summary: redact(outcome.text.trim()).slice(0, maxSummaryLength),
        usage,
        session,
      };
    case 'stopped':
      return {
        status: 'failed',
        usage,
        error: {
          kind: outcome.reason,
          // why: a budget spent or an agent going round in circles will not get better by trying again;
          // running out of steps or time might, with a differently behaving run.
          retryable: outcome.reason === 'max-steps' || outcome.reason === 'wall-time',
          message: outcome.message,
        },
      };
    case 'aborted':
      return {
        status: 'failed',
        usage,
        error: { kind: 'cancelled', retryable: true, message: 'the agent was stopped' },
      };
    case 'model-failed':
      return { status: 'failed', usage, error: { ...outcome.error, message: redact(outcome.error.message) } };
  }
}

function userMessage(text: string): ConversationMessage {
  return { role: 'user', content: [{ type: 'text', text }] };
}

function invalidInput(message: string): ExecutorResult {
  return { status: 'failed', error: { kind: 'invalid_input', retryable: false, message } };
}

/** The worktree's tracked files, for the task message's layout section. */
async function listTrackedFiles(context: ExecutorContext): Promise<string[]> {
  const listed = await runProcess({
    command: ['git', 'ls-files'],
    cwd: context.worktreePath,
    env: { ...context.env, GIT_TERMINAL_PROMPT: '0' },
    timeoutMs: listFilesTimeoutMs,
    abortSignal: context.abortSignal,
    // why: a million paths is far beyond what the prompt shows (the first 300 are used).
    maxOutputBytes: 4 * 1024 * 1024,
  });
  if (listed.exitCode !== 0) return [];
  return listed.output.split('\n').filter((line) => line.length > 0);
}
