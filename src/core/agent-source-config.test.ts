import { describe, expect, it } from 'vitest';
import { agentSourceConfigSchema } from './agent-source-config.ts';
import { toFieldIssues } from './parse-input.ts';

function issuesOf(input: unknown) {
  const result = agentSourceConfigSchema.safeParse(input);
  if (result.success) throw new Error(`accepted: ${JSON.stringify(result.data)}`);
  return toFieldIssues(result.error, 'agents');
}

describe('agentSourceConfigSchema', () => {
  it('takes a directory or a Git repository, normalizing the folder', () => {
    expect(agentSourceConfigSchema.parse({ directory: './defs' })).toEqual({ directory: './defs' });
    expect(
      agentSourceConfigSchema.parse({
        git: { url: 'https://example.com/a.git', ref: 'main', path: './warren/' },
      }),
    ).toEqual({ git: { url: 'https://example.com/a.git', ref: 'main', path: 'warren' } });
  });

  it('names each bad field', () => {
    expect(issuesOf({})).toEqual([
      { field: 'agents', reason: expect.stringMatching(/exactly one of "directory" or "git"/) },
    ]);
    expect(issuesOf({ directory: 'a', git: { url: 'b', ref: 'c' } })[0]?.field).toBe('agents');
    expect(issuesOf({ git: { url: 'b', ref: '--upload-pack=x' } })).toEqual([
      { field: 'agents.git.ref', reason: expect.stringMatching(/branch, tag or commit/) },
    ]);
    expect(issuesOf({ git: { url: 'b', ref: 'a..b' } })[0]?.field).toBe('agents.git.ref');
    expect(issuesOf({ git: { url: '-oProxyCommand=x', ref: 'main' } })[0]?.field).toBe('agents.git.url');
    expect(issuesOf({ git: { url: 'b', ref: 'main', path: '../outside' } })[0]?.field).toBe(
      'agents.git.path',
    );
    expect(issuesOf({ git: { url: 'b', ref: 'main', path: '/abs' } })[0]?.field).toBe('agents.git.path');
    expect(issuesOf({ git: { url: 'b', ref: 'main', branch: 'x' } })).toEqual([
      { field: 'agents.git', reason: 'unknown field(s): branch' },
    ]);
  });
});
