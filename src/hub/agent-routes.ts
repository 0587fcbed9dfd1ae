/**
 * The agent definition routes (admin): the definitions in use with their source, cache times and the
 * rejected files, and one definition with its skills. Definitions come from the hub's `agents` setting
 * (a directory or a Git repository); a hub without one answers an empty list.
 */
import type { Hono } from 'hono';
import type { AgentDefinitionDetail, AgentDefinitionList } from '../core/api.ts';
import { NotFoundError } from '../core/errors.ts';
import type { HubDependencies } from './hub-dependencies.ts';
import type { HubEnv } from './hub-env.ts';

/** Registers `/v1/agents` routes. */
export function registerAgentRoutes(app: Hono<HubEnv>, { agentDefinitions }: HubDependencies): void {
  app.get('/v1/agents', async (c) => {
    if (agentDefinitions === undefined) {
      const answer: AgentDefinitionList = { agents: [], problems: [] };
      return c.json(answer);
    }
    const agents = await agentDefinitions.list();
    const answer: AgentDefinitionList = {
      source: agentDefinitions.status(),
      agents,
      problems: agentDefinitions.problems(),
    };
    return c.json(answer);
  });

  app.get('/v1/agents/:name', async (c) => {
    const name = c.req.param('name');
    const agent = await agentDefinitions?.get(name);
    if (agentDefinitions === undefined || agent === undefined) throw new NotFoundError('agent', name);
    const available = new Set(await agentDefinitions.skillNames());
    const answer: AgentDefinitionDetail = {
      agent,
      skills: agent.definition.capabilities.skills.map((skill) => ({
        name: skill,
        exists: available.has(skill),
      })),
    };
    return c.json(answer);
  });
}
