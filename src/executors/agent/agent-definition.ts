/**
 * Agent definitions: a named configuration of Warren's agent loop (system prompt, tools, MCP servers,
 * limits and budget) that tasks select with `executorInput.agent`.
 */
import { z } from 'zod';
import { budgetSchema } from '../../core/types.ts';
import { mcpServerConfigsSchema } from './mcp/mcp-server-config.ts';

/** The definition used when a task names none. */
export const DEFAULT_AGENT_NAME = 'default';

/** An agent definition as configured. */
export const agentDefinitionSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be a lowercase name such as "reviewer" (letters, digits, -)'),
  description: z.string().max(1_000).optional(),
  /** Replaces the default system prompt; Warren's working rules are always appended. */
  systemPrompt: z.string().min(1).max(100_000).optional(),
  /** Built-in tools offered, by name; all of them when absent. */
  tools: z.array(z.string().min(1).max(64)).max(64).optional(),
  /** MCP servers started for each activation; their tools are offered as `<server>__<tool>`. */
  mcpServers: mcpServerConfigsSchema.default([]),
  /** why: 50 model calls is plenty for a focused change and bounds a confused agent's spend. */
  maxSteps: z.number().int().min(1).max(1_000).default(50),
  /** Wall-clock limit of one activation; the task's timeout still applies. */
  maxWallTimeMs: z.number().int().min(1_000).optional(),
  /** why: 8 192 output tokens fits any single edit or summary; larger answers are usually runaway text. */
  maxOutputTokens: z.number().int().min(256).max(200_000).default(8_192),
  /** Budget of one attempt (the run and its fix rounds); a task's own budget applies as well. */
  budget: budgetSchema.optional(),
  /** Same call repeated this many times with no file change ends the attempt as `no-progress`. */
  maxRepeatedCalls: z.number().int().min(2).max(100).default(3),
  /** This many steps in a row with no file change and nothing new learned end it as `no-progress`. */
  maxStepsWithoutProgress: z.number().int().min(2).max(100).default(8),
});
/** A parsed agent definition with defaults applied. */
export type AgentDefinition = z.output<typeof agentDefinitionSchema>;
/** An agent definition as written in a config file. */
export type AgentDefinitionInput = z.input<typeof agentDefinitionSchema>;

/** What a task gives the `agent` executor in `executorInput`. */
export const agentExecutorInputSchema = z.strictObject({
  /** The agent definition to use. */
  agent: z.string().min(1).max(64).default(DEFAULT_AGENT_NAME),
  /** Lowers the definition's step limit for this task. */
  maxSteps: z.number().int().min(1).max(1_000).optional(),
});
