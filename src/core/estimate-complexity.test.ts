import { describe, expect, it } from 'vitest';
import { estimateComplexity, hasShellCommand, type ComplexityInput } from './estimate-complexity.ts';

function task(fields: Partial<ComplexityInput> = {}): ComplexityInput {
  return { title: 'Do the thing', instructions: '', successCriteria: [], executorInput: {}, ...fields };
}

const criteria = (count: number) =>
  Array.from({ length: count }, (_unused, index) => ({ description: `check ${index + 1}` }));

describe('estimateComplexity', () => {
  it('calls a shell command with no instructions trivial', () => {
    expect(estimateComplexity(task({ executorInput: { run: 'npm test' } }))).toEqual({
      complexity: 'trivial',
      reason: 'a shell command with no instructions',
    });
    expect(estimateComplexity(task({ executorInput: { run: ['a', 'b'] }, instructions: '  \n ' }))).toEqual({
      complexity: 'trivial',
      reason: 'a shell command with no instructions',
    });
  });

  it('calls a shell command with one short line of instructions trivial', () => {
    expect(
      estimateComplexity(task({ executorInput: { run: 'make export' }, instructions: 'Nightly export.' })),
    ).toEqual({ complexity: 'trivial', reason: 'a shell command with short instructions' });
  });

  it('lets a shell command with several lines of instructions be judged by its words', () => {
    const estimate = estimateComplexity(
      task({ executorInput: { run: 'make' }, instructions: 'First this.\nThen that, with care.' }),
    );
    expect(estimate).toEqual({ complexity: 'standard', reason: 'no sign of a trivial or a complex task' });
  });

  it('ignores a blank command', () => {
    expect(hasShellCommand({ run: '   ' })).toBe(false);
    expect(hasShellCommand({ run: [] })).toBe(false);
    expect(hasShellCommand({ run: 42 })).toBe(false);
    expect(hasShellCommand({})).toBe(false);
  });

  it('raises work that mentions hard words to complex, naming each word found', () => {
    expect(estimateComplexity(task({ title: 'Refactor the store' }))).toEqual({
      complexity: 'complex',
      reason: 'mentions refactor',
    });
    expect(
      estimateComplexity(
        task({
          title: 'Harden login',
          instructions: 'Fix the SECURITY hole and the concurrent writes.',
          successCriteria: [{ description: 'the migration runs' }],
        }),
      ),
    ).toEqual({ complexity: 'complex', reason: 'mentions migrate, concurrency and security' });
  });

  it('matches whole words only', () => {
    // "prefactored", "securityless" and "migratory" are not the keywords.
    const estimate = estimateComplexity(
      task({ title: 'Update the prefactored migratory securityless bits' }),
    );
    expect(estimate.complexity).toBe('standard');
  });

  it('raises very long instructions and many criteria to complex, saying so', () => {
    expect(estimateComplexity(task({ instructions: 'x'.repeat(3_001) }))).toEqual({
      complexity: 'complex',
      reason: 'instructions are 3,001 characters (over 3,000)',
    });
    expect(estimateComplexity(task({ instructions: 'x'.repeat(3_000) })).complexity).toBe('standard');
    expect(estimateComplexity(task({ successCriteria: criteria(6) }))).toEqual({
      complexity: 'complex',
      reason: '6 success criteria (over 5)',
    });
    expect(estimateComplexity(task({ successCriteria: criteria(5) })).complexity).toBe('standard');
    expect(
      estimateComplexity(
        task({ title: 'Rewrite it', instructions: 'y'.repeat(4_000), successCriteria: criteria(7) }),
      ),
    ).toEqual({
      complexity: 'complex',
      reason: 'mentions rewrite; instructions are 4,000 characters (over 3,000); 7 success criteria (over 5)',
    });
  });

  it('lowers a one-line mechanical change to trivial, naming the words', () => {
    expect(estimateComplexity(task({ title: 'Fix a typo in the README' }))).toEqual({
      complexity: 'trivial',
      reason: 'a one-line mechanical change (typo)',
    });
    expect(
      estimateComplexity(task({ title: 'Bump lodash', instructions: 'and reformat? no: format the file' })),
    ).toEqual({ complexity: 'trivial', reason: 'a one-line mechanical change (bump and format)' });
  });

  it('does not call a mechanical word in long or multi-line text trivial', () => {
    expect(
      estimateComplexity(
        task({ title: 'Rename the option', instructions: 'Rename it.\nThen update every caller.' }),
      ).complexity,
    ).toBe('standard');
    expect(
      estimateComplexity(task({ title: 'Rename the option', instructions: 'z '.repeat(100) })).complexity,
    ).toBe('standard');
  });

  it('puts hard words before mechanical ones', () => {
    expect(estimateComplexity(task({ title: 'Rename and refactor the module' }))).toEqual({
      complexity: 'complex',
      reason: 'mentions refactor',
    });
  });

  it('calls everything else standard', () => {
    expect(estimateComplexity(task({ title: 'Add pagination to the list endpoint' }))).toEqual({
      complexity: 'standard',
      reason: 'no sign of a trivial or a complex task',
    });
  });

  it('is deterministic', () => {
    const input = task({ title: 'Migrate the build', instructions: 'carefully' });
    expect(estimateComplexity(input)).toEqual(estimateComplexity(input));
  });
});
