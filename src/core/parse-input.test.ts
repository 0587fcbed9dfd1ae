import { describe, expect, it } from 'vitest';
import { InvalidInputError } from './errors.ts';
import { parseInput } from './parse-input.ts';
import { taskSpecSchema } from './types.ts';

describe('parseInput with the task spec', () => {
  it('applies defaults', () => {
    const spec = parseInput(taskSpecSchema, { title: ' Fix it ', repo: '/srv/app' });
    expect(spec).toMatchObject({
      title: 'Fix it',
      lane: 'normal',
      priority: 0,
      maxAttempts: 3,
      successCriteria: [],
      grants: [],
      fixRounds: 2,
    });
    // Routing settles these; the spec has no default for them.
    expect(spec.executor).toBeUndefined();
    expect(spec.complexity).toBeUndefined();
  });

  it('refuses an empty budget, a bad model selector and too many fix rounds', () => {
    let error: unknown;
    try {
      parseInput(taskSpecSchema, {
        title: 't',
        repo: '/srv/app',
        budget: {},
        model: 'Not A Selector',
        fixRounds: 6,
        grants: ['GitHub:read'],
      });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues.map((issue) => issue.field).sort()).toEqual([
      'budget',
      'fixRounds',
      'grants.0',
      'model',
    ]);
  });

  it('names every bad field and the reason', () => {
    let error: unknown;
    try {
      parseInput(taskSpecSchema, {
        title: '',
        repo: '/srv/app',
        lane: 'urgent',
        successCriteria: [{ description: 'tests pass', command: '' }],
        surprise: true,
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    const fields = (error as InvalidInputError).issues.map((issue) => issue.field).sort();
    expect(fields).toEqual(['', 'lane', 'successCriteria.0.command', 'title']);
    const unknown = (error as InvalidInputError).issues.find((issue) => issue.field === '');
    expect(unknown?.reason).toBe('unknown field(s): surprise');
    expect((error as InvalidInputError).message).toContain('lane:');
  });

  it('refuses non-objects and oversized executor input', () => {
    expect(() => parseInput(taskSpecSchema, 'a string')).toThrow(InvalidInputError);
    expect(() =>
      parseInput(taskSpecSchema, { title: 't', repo: 'r', executorInput: { blob: 'x'.repeat(70_000) } }),
    ).toThrow(/executorInput: must serialize to at most 65536 bytes/);
  });
});
