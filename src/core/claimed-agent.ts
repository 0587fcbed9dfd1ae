/**
 * The agent definition as a runner receives it with a claimed attempt (`ClaimedWork.agent`): the hub's
 * definition of the agent the scheduler assigned the attempt to, with the skills it names already loaded,
 * so that the runner (which never reads the definitions source) can put them into the agent's context.
 */
import type { AgentDefinition } from './agent-definition.ts';
import type { AgentSkill } from './agent-skill.ts';

/** A skill the definition names that the hub could not load when the attempt was claimed. */
export interface UnloadedSkill {
  name: string;
  /** Why, as the hub's loader said it (`skill deploy not found: ...`). */
  reason: string;
}

/** The agent definition of a claimed attempt (see docs/agents.md, "What reaches the runner"). */
export interface ClaimedAgent {
  /** The definition's `name`, which is also `attempt.agent`. */
  name: string;
  /** The executor the definition runs on (`type`); equal to the task's executor. */
  type: string;
  description?: string;
  /** `brain` as in the file (`model`, `temperature`). */
  brain?: AgentDefinition['brain'];
  /** `behavior` as in the file (`respond_to_mentions`, `max_iterations`). */
  behavior?: AgentDefinition['behavior'];
  /**
   * `capabilities.grants`. When not empty, the attempt's effective grants are the task's grants that are
   * also listed here ({@link effectiveGrants}); empty leaves the task's grants as they are.
   */
  grants: string[];
  /** `capabilities.mcp_servers`, by name. */
  mcpServers: string[];
  /** The commit the definition was read from (Git sources). */
  revision?: string;
  /** The skills the definition names that loaded, in its order. */
  skills: AgentSkill[];
  /** The skills it names that could not be loaded; absent when all loaded. */
  unloadedSkills?: UnloadedSkill[];
}

/**
 * The grants an attempt holds: the task's grants, narrowed to the agent's `capabilities.grants` when the
 * agent lists any. Never wider than the task's own grants, in the task's order.
 */
export function effectiveGrants(
  taskGrants: readonly string[],
  agent: Pick<ClaimedAgent, 'grants'> | undefined,
): string[] {
  if (agent === undefined || agent.grants.length === 0) return [...taskGrants];
  const allowed = new Set(agent.grants);
  return taskGrants.filter((grant) => allowed.has(grant));
}
