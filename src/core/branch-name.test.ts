import { describe, expect, it } from 'vitest';
import { branchNameFor, slugify } from './branch-name.ts';
import { createId } from './ids.ts';

describe('branch names', () => {
  it('is warren/<short-id>-<slug>', () => {
    const id = createId('tsk');
    expect(branchNameFor(id, 'Bump the version!')).toBe(
      `warren/${id.slice(-8).toLowerCase()}-bump-the-version`,
    );
  });

  it('makes any title safe for a git ref', () => {
    expect(slugify('Fix ../../etc/passwd: "quotes" & ~tilde^caret')).toBe(
      'fix-etc-passwd-quotes-tilde-caret',
    );
    expect(slugify('Ünïcödé títle')).toBe('unicode-title');
    expect(slugify('!!!')).toBe('task');
    expect(slugify('a'.repeat(100))).toHaveLength(40);
    expect(slugify(`${'word '.repeat(8)}end`)).not.toMatch(/-$/);
  });
});
