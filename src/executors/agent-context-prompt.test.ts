import { describe, expect, it } from 'vitest';
import type { AgentSkill } from '../core/agent-skill.ts';
import type { ClaimedAgent } from '../core/claimed-agent.ts';
import { AGENT_CONTEXT_PROMPT_LIMITS, buildAgentContextPrompt } from './agent-context-prompt.ts';
import { buildCliAgentPrompt } from './cli-agents/cli-agent-prompt.ts';
import { buildTaskPrompt } from './task-prompt.ts';
import { createTestContext } from './testing/create-test-context.ts';
import { createTestTask } from './testing/create-test-task.ts';

const skillsDir = '/work/runner/scratch/att_1/skills';

function skill(name: string, instructions: string, files: AgentSkill['files'] = []): AgentSkill {
  return { name, instructionsFile: `skills/${name}/SKILL.md`, instructions, files };
}

function agent(overrides: Partial<ClaimedAgent> = {}): ClaimedAgent {
  return { name: 'coder', type: 'claude-code', grants: [], mcpServers: [], skills: [], ...overrides };
}

describe('the agent part of the task prompt', () => {
  it("names the agent and lists each skill's instructions and files by their path in the skills dir", () => {
    const text = buildAgentContextPrompt(
      agent({
        description: 'Writes code for the hub.',
        skills: [
          skill('hub-post', '# Posting\nRun scripts/post.sh with the message.\n', [
            { path: 'scripts/post.sh', size: 20, content: '#!/bin/sh\necho hi\n' },
            { path: 'logo.png', size: 4_096, omitted: 'binary' },
          ]),
        ],
        unloadedSkills: [{ name: 'deploy', reason: 'skill deploy not found: no folder skills/deploy/' }],
      }),
      skillsDir,
    );
    expect(text).toContain('## Agent\nYou are working as agent "coder": Writes code for the hub.');
    expect(text).toContain('## Skills');
    expect(text).toContain(`WARREN_SKILLS_DIR`);
    expect(text).toContain('### Skill: hub-post');
    expect(text).toContain(`Folder: ${skillsDir}/hub-post`);
    expect(text).toContain('Run scripts/post.sh with the message.');
    expect(text).toContain(`- ${skillsDir}/hub-post/scripts/post.sh`);
    expect(text).toContain('- logo.png: omitted (not text, 4096 bytes), not available');
    expect(text).not.toContain(`${skillsDir}/hub-post/logo.png`);
    expect(text).toContain('### Skill: deploy (not available)');
    expect(text).toContain('no folder skills/deploy/');
  });

  it('has only the agent line when the definition names no skills', () => {
    const text = buildAgentContextPrompt(agent(), skillsDir);
    expect(text).toBe('## Agent\nYou are working as agent "coder".');
  });

  it('caps the skills section: whole skills first, the next cut with a note, later ones named', () => {
    const line = 'Always check the deploy status before and after. '.repeat(2) + '\n';
    const long = line.repeat(Math.ceil(20_000 / line.length));
    const text = buildAgentContextPrompt(
      agent({ skills: [skill('first', long), skill('second', long), skill('third', 'short')] }),
      skillsDir,
    );
    const skills = text.slice(text.indexOf('## Skills'));
    // why: the notes after the cap are a few hundred characters at most.
    expect(skills.length).toBeLessThan(AGENT_CONTEXT_PROMPT_LIMITS.skillsCharacters + 1_000);
    expect(skills.length).toBeGreaterThan(AGENT_CONTEXT_PROMPT_LIMITS.skillsCharacters - 1_000);
    expect(skills).toContain(long.trim());
    expect(skills).toContain('### Skill: second');
    expect(skills).toContain(
      `[Skill "second" is cut here: the skills section is capped at 32000 characters. The full instructions are in ${skillsDir}/second/SKILL.md.]`,
    );
    expect(skills).not.toContain('### Skill: third');
    expect(skills).toContain(`- third: ${skillsDir}/third/SKILL.md`);
  });

  it('reaches both the agent loop and the CLI agents through the task prompt', () => {
    const task = createTestTask({ title: 'post it', instructions: 'Post the release notes.' });
    const claimed = agent({ skills: [skill('hub-post', 'Use the post script.')] });
    const loop = buildTaskPrompt(task, ['README.md'], { agent: claimed, agentSkillsDir: skillsDir });
    expect(loop.indexOf('## Skills')).toBeGreaterThan(loop.indexOf('Post the release notes.'));
    expect(loop.indexOf('## Skills')).toBeLessThan(loop.indexOf('## Repository layout'));
    expect(loop).toContain('Use the post script.');
    const cli = buildCliAgentPrompt(
      createTestContext('/tmp/worktree', { task, agent: claimed, agentSkillsDir: skillsDir }),
      false,
    );
    expect(cli).toContain('Use the post script.');
    expect(cli).toContain(`Folder: ${skillsDir}/hub-post`);
    expect(buildTaskPrompt(task)).not.toContain('## Agent');
  });
});
