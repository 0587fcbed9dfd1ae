import { describe, expect, it } from 'vitest';
import { parseAgentDefinitionFile, type AgentDefinitionProblem } from './agent-definition.ts';

const example = `name: claude-coder-1
type: claude-code            # executor
brain: { model: claude-sonnet-4, temperature: 0.7 }
capabilities:
  grants: [github:read, github:write, hub:read]
  skills: [hub-post, github-pr]
  mcp_servers: [github, hub]
behavior: { respond_to_mentions: true, max_iterations: 10 }
cache_ttl: 300
`;

/** The problems of a file that must be rejected. */
function problemsOf(file: string, text: string): AgentDefinitionProblem[] {
  const result = parseAgentDefinitionFile(file, text);
  if (result.ok) throw new Error(`${file} was accepted: ${JSON.stringify(result.definition)}`);
  return result.problems;
}

describe('parseAgentDefinitionFile', () => {
  it('parses the example of the issue, keeping the file keys and filling defaults', () => {
    const result = parseAgentDefinitionFile('agents/claude-coder-1.yaml', example);
    expect(result).toEqual({
      ok: true,
      definition: {
        name: 'claude-coder-1',
        type: 'claude-code',
        brain: { model: 'claude-sonnet-4', temperature: 0.7 },
        capabilities: {
          grants: ['github:read', 'github:write', 'hub:read'],
          skills: ['hub-post', 'github-pr'],
          mcp_servers: ['github', 'hub'],
        },
        behavior: { respond_to_mentions: true, max_iterations: 10 },
        cache_ttl: 300,
        max_active: 1,
      },
    });
  });

  it('fills every default for a minimal file, and accepts .yml and a description', () => {
    const result = parseAgentDefinitionFile(
      'agents/reviewer.yml',
      'name: reviewer\ntype: codex\ndescription: Reviews PRs\n',
    );
    expect(result).toEqual({
      ok: true,
      definition: {
        name: 'reviewer',
        description: 'Reviews PRs',
        type: 'codex',
        brain: {},
        capabilities: { grants: [], skills: [], mcp_servers: [] },
        behavior: { respond_to_mentions: false },
        cache_ttl: 300,
        max_active: 1,
      },
    });
  });

  it.each([
    ['brain.temperature', 'name: a\ntype: shell\nbrain:\n  temperature: 2.5\n', /at most 2/, 4],
    ['brain.model', 'name: a\ntype: shell\nbrain: { model: "Not A Model" }\n', /tier|pinned/, 3],
    ['type', 'name: a\ntype: Claude Code\n', /executor name/, 2],
    ['name', 'name: A_Bad\ntype: shell\n', /lowercase/, 1],
    [
      'capabilities.grants.1',
      'name: a\ntype: shell\ncapabilities:\n  grants: [github:read, "GitHub Write"]\n',
      /lowercase/,
      4,
    ],
    ['capabilities.skills.1', 'name: a\ntype: shell\ncapabilities:\n  skills: [x, x]\n', /listed twice/, 4],
    [
      'capabilities.mcp_servers.0',
      'name: a\ntype: shell\ncapabilities:\n  mcp_servers: ["../etc"]\n',
      /lowercase/,
      4,
    ],
    [
      'behavior.respond_to_mentions',
      'name: a\ntype: shell\nbehavior:\n  respond_to_mentions: "yes please"\n',
      /boolean/,
      4,
    ],
    ['behavior.max_iterations', 'name: a\ntype: shell\nbehavior:\n  max_iterations: 0\n', /at least 1/, 4],
    ['cache_ttl', 'name: a\ntype: shell\ncache_ttl: 90000\n', /at most 86400/, 3],
    ['cache_ttl', 'name: a\ntype: shell\ncache_ttl: 1.5\n', /whole number/, 3],
    ['max_active', 'name: a\ntype: shell\nmax_active: 0\n', /at least 1/, 3],
  ])('names the bad field %s, with its line', (field, text, reason, line) => {
    const problems = problemsOf('agents/a.yaml', text);
    expect(problems).toEqual([{ file: 'agents/a.yaml', field, reason: expect.stringMatching(reason), line }]);
  });

  it('names a missing required field', () => {
    expect(problemsOf('agents/a.yaml', 'name: a\n')).toEqual([
      { file: 'agents/a.yaml', field: 'type', reason: expect.any(String), line: 1 },
    ]);
  });

  it('names each unknown field on its own line and suggests the snake_case key', () => {
    const problems = problemsOf(
      'agents/a.yaml',
      'name: a\ntype: shell\nmaxActive: 2\nbrain:\n  model: cheap\n  top_p: 1\n',
    );
    expect(problems).toEqual([
      {
        file: 'agents/a.yaml',
        field: 'maxActive',
        reason: expect.stringContaining('did you mean max_active?'),
        line: 3,
      },
      {
        file: 'agents/a.yaml',
        field: 'brain.top_p',
        reason: expect.stringContaining('unknown field'),
        line: 6,
      },
    ]);
  });

  it('reports a YAML syntax error with its line', () => {
    const problems = problemsOf(
      'agents/a.yaml',
      'name: a\ntype: shell\nbrain: { model: cheap\ncache_ttl: 5\n',
    );
    expect(problems[0]).toMatchObject({ file: 'agents/a.yaml', field: '', line: expect.any(Number) });
    expect(problems[0]!.reason).toMatch(/^YAML syntax error at line \d+, column \d+: /);
    const duplicate = problemsOf('agents/a.yaml', 'name: a\ntype: shell\ntype: codex\n');
    expect(duplicate).toEqual([
      {
        file: 'agents/a.yaml',
        field: '',
        reason: expect.stringMatching(/line 3, column 1: Map keys must be unique/),
        line: 3,
      },
    ]);
  });

  it('refuses a name that does not match the file name, naming both', () => {
    const problems = problemsOf('agents/coder.yaml', 'type: shell\nname: reviewer\n');
    expect(problems).toEqual([
      {
        file: 'agents/coder.yaml',
        field: 'name',
        reason:
          'is "reviewer" but the file is named coder.yaml; rename the file to reviewer.yaml or set name: coder',
        line: 2,
      },
    ]);
  });

  it('refuses empty files, lists, scalars, aliases bombs, huge files and other extensions', () => {
    expect(problemsOf('agents/a.yaml', '# nothing\n')[0]!.reason).toMatch(/is empty/);
    expect(problemsOf('agents/a.yaml', '- name: a\n')[0]!.reason).toMatch(/not a list/);
    expect(problemsOf('agents/a.yaml', 'just text\n')[0]!.reason).toMatch(/not a single value/);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let level = 1; level < 8; level += 1) {
      bomb.push(
        `${'b'.repeat(level)}: &${'b'.repeat(level)} [${Array(10)
          .fill(level === 1 ? '*a' : `*${'b'.repeat(level - 1)}`)
          .join(', ')}]`,
      );
    }
    expect(problemsOf('agents/a.yaml', `${bomb.join('\n')}\n`)[0]!.reason).toMatch(/cannot be read as YAML/);
    expect(
      problemsOf('agents/a.yaml', `name: a\ntype: shell\ndescription: "${'x'.repeat(70_000)}"\n`)[0]!.reason,
    ).toMatch(/at most 65536/);
    expect(problemsOf('agents/a.json', '{"name": "a", "type": "shell"}')[0]!.reason).toMatch(/<name>\.yaml/);
  });
});
