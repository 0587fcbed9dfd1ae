import { describe, expect, it } from 'vitest';
import { InvalidInputError } from './errors.ts';
import { parseInput } from './parse-input.ts';
import { taskSpecSchema } from './types.ts';

describe('parseInput with the task spec', () => {
  it('applies defaults', () => {
    const spec = parseInput(taskSpecSchema, { title: ' Fix it ', repo: '/srv/app' });
    expect(spec).toMatchObject({
      title: 'Fix it',
      executor: 'shell',
      lane: 'normal',
      priority: 0,
      maxAttempts: 3,
      complexity: 'standard',
      successCriteria: [],
    });
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
