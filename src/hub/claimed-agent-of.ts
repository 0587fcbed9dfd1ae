/**
 * The agent definition a claim carries to the runner (`ClaimedWork.agent`): the definition of the agent the
 * scheduler assigned the attempt to, with its skills loaded from the definitions source.
 */
import type { AgentSkill } from '../core/agent-skill.ts';
import type { ClaimedAgent, UnloadedSkill } from '../core/claimed-agent.ts';
import type { Logger } from '../core/logger.ts';
import type { AgentDefinitionRegistry } from './agent-definitions/create-agent-definition-registry.ts';

// why: the reason goes to the runner and into the agent's prompt; a loader message is one line, and
// 500 characters keep a pathological one from bloating every claim.
const maxReasonLength = 500;

/**
 * The claimed agent `name` from the registry's cached definitions, or undefined when none of that name is
 * loaded. Never throws and never waits for the source: the lease is already taken, so a skill that fails
 * to load is left out (listed in `unloadedSkills`, logged as a warning naming the agent and the skill)
 * and the rest still go. Skills are loaded only when the definition names some; the registry caches them
 * per commit of a Git source.
 */
export async function claimedAgentOf(
  registry: AgentDefinitionRegistry,
  name: string,
  logger: Logger,
): Promise<ClaimedAgent | undefined> {
  const entry = registry.cached(name);
  if (entry === undefined) return undefined;
  const { definition } = entry;
  const agent: ClaimedAgent = {
    name: definition.name,
    type: definition.type,
    ...(definition.description === undefined ? {} : { description: definition.description }),
    brain: definition.brain,
    behavior: definition.behavior,
    grants: [...definition.capabilities.grants],
    mcpServers: [...definition.capabilities.mcp_servers],
    ...(entry.revision === undefined ? {} : { revision: entry.revision }),
    skills: [],
  };
  const names = definition.capabilities.skills;
  if (names.length === 0) return agent;
  // why per skill: one skill that fails to load must not cost the agent the others.
  const loaded = await Promise.allSettled(names.map((skill) => registry.loadSkill(skill)));
  const skills: AgentSkill[] = [];
  const unloaded: UnloadedSkill[] = [];
  for (const [index, result] of loaded.entries()) {
    const skill = names[index]!;
    if (result.status === 'fulfilled') {
      skills.push(result.value);
      continue;
    }
    const reason = describeFailure(result.reason).slice(0, maxReasonLength);
    unloaded.push({ name: skill, reason });
    logger.warn(
      { agent: definition.name, skill, reason },
      'a skill of the agent could not be loaded; the attempt goes without it',
    );
  }
  agent.skills = skills;
  if (unloaded.length > 0) agent.unloadedSkills = unloaded;
  return agent;
}

function describeFailure(error: unknown): string {
  // An InvalidInputError's message already names the file and the reason.
  return error instanceof Error ? error.message : String(error);
}
