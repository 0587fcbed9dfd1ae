import { describe, expect, it } from 'vitest';
import { InvalidInputError } from './errors.ts';
import { applyRoute, routeTask } from './route-task.ts';
import { DEFAULT_ROUTING_CONFIG, routingConfigSchema, type RoutingConfig } from './routing-config.ts';
import { requiredCapabilitiesOf, taskSpecSchema, type TaskSpecInput } from './types.ts';

const everything = new Set(['cheap', 'frontier', 'local', 'anthropic/claude-sonnet-4-5']);

function spec(fields: Partial<TaskSpecInput> = {}) {
  return taskSpecSchema.parse({ title: 'Add pagination', repo: '/srv/app', ...fields });
}

function refusal(call: () => unknown): InvalidInputError {
  try {
    call();
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error('expected an InvalidInputError');
}

describe('routingConfigSchema', () => {
  it('fills every default', () => {
    expect(DEFAULT_ROUTING_CONFIG).toEqual({
      complexity: {
        trivial: { executor: 'shell' },
        standard: { executor: 'agent', model: 'cheap' },
        complex: { executor: 'agent', model: 'frontier' },
      },
      seniority: { junior: 'cheap', senior: 'frontier', principal: 'frontier' },
    });
  });

  it('keeps what is given and defaults the rest', () => {
    const config = routingConfigSchema.parse({
      complexity: { complex: { executor: 'codex', model: 'local' } },
      seniority: { junior: 'local' },
    });
    expect(config.complexity.complex).toEqual({ executor: 'codex', model: 'local' });
    expect(config.complexity.standard).toEqual({ executor: 'agent', model: 'cheap' });
    expect(config.seniority).toEqual({ junior: 'local', senior: 'frontier', principal: 'frontier' });
  });

  it('names a bad field', () => {
    const result = routingConfigSchema.safeParse({ complexity: { standard: { executor: 'Agent!' } } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['complexity', 'standard', 'executor']);
  });
});

describe('routeTask', () => {
  it('sends a shell command to the shell executor with no model', () => {
    expect(
      routeTask(spec({ executorInput: { run: 'npm test' } }), DEFAULT_ROUTING_CONFIG, new Set()),
    ).toEqual({
      executor: 'shell',
      complexity: 'trivial',
      complexityReason: 'a shell command with no instructions',
    });
  });

  it('sends ordinary work to the agent on the cheap tier', () => {
    expect(routeTask(spec(), DEFAULT_ROUTING_CONFIG, everything)).toEqual({
      executor: 'agent',
      complexity: 'standard',
      complexityReason: 'no sign of a trivial or a complex task',
      model: 'cheap',
    });
  });

  it('sends complex work to the agent on the frontier tier', () => {
    expect(routeTask(spec({ title: 'Redesign the scheduler' }), DEFAULT_ROUTING_CONFIG, everything)).toEqual({
      executor: 'agent',
      complexity: 'complex',
      complexityReason: 'mentions redesign',
      model: 'frontier',
    });
  });

  it('keeps a given complexity and says so', () => {
    const route = routeTask(spec({ complexity: 'complex' }), DEFAULT_ROUTING_CONFIG, everything);
    expect(route).toMatchObject({
      complexity: 'complex',
      complexityReason: 'given by the task',
      model: 'frontier',
    });
  });

  it('takes the standard route for a trivial task without a command, and says so', () => {
    expect(routeTask(spec({ title: 'Fix a typo' }), DEFAULT_ROUTING_CONFIG, everything)).toEqual({
      executor: 'agent',
      complexity: 'trivial',
      complexityReason:
        "a one-line mechanical change (typo); the trivial route's shell executor needs executorInput.run, so it takes the standard route (agent)",
      model: 'cheap',
    });
  });

  it('lets a pinned executor win, with the model of the route', () => {
    expect(
      routeTask(spec({ executor: 'shell', title: 'Refactor everything' }), DEFAULT_ROUTING_CONFIG, new Set()),
    ).toEqual({ executor: 'shell', complexity: 'complex', complexityReason: 'mentions refactor' });
    expect(
      routeTask(spec({ executor: 'codex', executorInput: { run: 'x' } }), DEFAULT_ROUTING_CONFIG, everything),
    ).toEqual({
      executor: 'codex',
      complexity: 'trivial',
      complexityReason: 'a shell command with no instructions',
      // The trivial route names no model; the standard route's stands in.
      model: 'cheap',
    });
  });

  it('lets a pinned model win over seniority and route, and drops it for the shell executor', () => {
    const pinned = spec({ model: 'anthropic/claude-sonnet-4-5', seniority: 'principal' });
    expect(routeTask(pinned, DEFAULT_ROUTING_CONFIG, everything).model).toBe('anthropic/claude-sonnet-4-5');
    const shell = spec({ model: 'frontier', executor: 'shell' });
    expect(routeTask(shell, DEFAULT_ROUTING_CONFIG, new Set()).model).toBeUndefined();
  });

  it("takes the seniority's selector over the route's", () => {
    expect(routeTask(spec({ seniority: 'senior' }), DEFAULT_ROUTING_CONFIG, everything).model).toBe(
      'frontier',
    );
    expect(
      routeTask(spec({ seniority: 'junior', complexity: 'complex' }), DEFAULT_ROUTING_CONFIG, everything)
        .model,
    ).toBe('cheap');
  });

  it('follows a custom config', () => {
    const routing: RoutingConfig = routingConfigSchema.parse({
      complexity: { standard: { executor: 'claude-code', model: 'local' } },
    });
    expect(routeTask(spec(), routing, everything)).toMatchObject({ executor: 'claude-code', model: 'local' });
  });

  it('refuses a tier no endpoint offers, naming the field it came from', () => {
    const fromRoute = refusal(() => routeTask(spec(), DEFAULT_ROUTING_CONFIG, new Set(['frontier'])));
    expect(fromRoute.issues).toEqual([
      {
        field: 'complexity',
        reason:
          'a standard task goes to the agent executor on "cheap": no endpoint offers tier "cheap"; configure one with PUT /v1/endpoints/<name> (a model with "tier": "cheap"), or pin an executor (e.g. "executor": "shell")',
      },
    ]);
    const fromSeniority = refusal(() =>
      routeTask(spec({ seniority: 'senior' }), DEFAULT_ROUTING_CONFIG, new Set()),
    );
    expect(fromSeniority.issues[0]?.field).toBe('seniority');
    const fromPin = refusal(() =>
      routeTask(spec({ model: 'openai/gpt-5' }), DEFAULT_ROUTING_CONFIG, new Set(['cheap'])),
    );
    expect(fromPin.issues).toEqual([
      {
        field: 'model',
        reason:
          'no endpoint offers model "gpt-5" as "openai/gpt-5"; configure it with PUT /v1/endpoints/openai, or pin an executor (e.g. "executor": "shell")',
      },
    ]);
  });

  it('applies a route over the spec, leaving no unrouted field behind', () => {
    const input = spec({ model: 'frontier', executor: 'shell', executorInput: { run: 'true' } });
    const routed = applyRoute(input, routeTask(input, DEFAULT_ROUTING_CONFIG, new Set()));
    expect(routed).toMatchObject({ executor: 'shell', complexity: 'trivial' });
    expect('model' in routed).toBe(false);
    expect(requiredCapabilitiesOf(routed)).toEqual(['executor:shell']);
  });

  it('requires the model capability of the selector', () => {
    const input = spec({ model: 'anthropic/claude-sonnet-4-5', capabilities: ['node'] });
    const routed = applyRoute(input, routeTask(input, DEFAULT_ROUTING_CONFIG, everything));
    expect(requiredCapabilitiesOf(routed)).toEqual([
      'executor:agent',
      'model:anthropic/claude-sonnet-4-5',
      'node',
    ]);
  });
});

describe('routeTask for CLI agent executors', () => {
  // Only an OpenAI endpoint offers "cheap"; Anthropic offers "frontier" and a pinned model.
  const byProvider: Record<string, string[]> = {
    openai: ['cheap', 'openai/gpt-mini'],
    anthropic: ['frontier', 'anthropic/claude-sonnet-4-5'],
  };
  const selectorsFor = (providers: readonly string[]) =>
    new Set(providers.flatMap((provider) => byProvider[provider] ?? []));
  const all = new Set(Object.values(byProvider).flat());

  it('gives claude-code a tier only an Anthropic endpoint offers', () => {
    const route = routeTask(
      spec({ executor: 'claude-code', complexity: 'complex' }),
      DEFAULT_ROUTING_CONFIG,
      all,
      selectorsFor,
    );
    expect(route).toMatchObject({ executor: 'claude-code', model: 'frontier' });
  });

  it('runs claude-code without a model when no Anthropic endpoint offers its tier (the CLI uses its own)', () => {
    const route = routeTask(
      spec({ executor: 'claude-code', complexity: 'standard' }),
      DEFAULT_ROUTING_CONFIG,
      all,
      selectorsFor,
    );
    expect(route.executor).toBe('claude-code');
    expect(route.model).toBeUndefined();
  });

  it('refuses a pinned model of a provider the CLI does not speak, naming what it speaks', () => {
    const error = refusal(() =>
      routeTask(
        spec({ executor: 'claude-code', model: 'openai/gpt-mini' }),
        DEFAULT_ROUTING_CONFIG,
        all,
        selectorsFor,
      ),
    );
    expect(error.issues[0]).toMatchObject({ field: 'model' });
    expect(error.issues[0]!.reason).toContain('claude-code speaks anthropic');
  });

  it('lets the agent loop use any provider', () => {
    const route = routeTask(
      spec({ executor: 'agent', model: 'openai/gpt-mini' }),
      DEFAULT_ROUTING_CONFIG,
      all,
      selectorsFor,
    );
    expect(route.model).toBe('openai/gpt-mini');
  });
});
