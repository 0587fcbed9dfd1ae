import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGrepTool } from './create-grep-tool.ts';
import { callTool } from './testing/call-tool.ts';
import { createTestWorktree } from './testing/create-test-worktree.ts';
import type { TestWorktree } from './testing/create-test-worktree.ts';

const tool = createGrepTool();

describe('grep', () => {
  let worktree: TestWorktree;
  beforeEach(async () => {
    worktree = await createTestWorktree();
    const files: Record<string, string> = {
      'src/a.ts': 'export function alpha() {}\n// TODO: beta\n',
      'src/lib/b.ts': 'function Beta() {}\r\n',
      'src/c.js': 'const todo = 1;\n',
      'node_modules/pkg/index.ts': 'export function alpha() {}\n',
    };
    for (const [file, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(worktree.path, file)), { recursive: true });
      await writeFile(path.join(worktree.path, file), content);
    }
  });
  afterEach(async () => {
    await worktree.remove();
  });

  const grep = (input: unknown) => callTool(tool, input, worktree.context());

  it('returns file:line: text for matching lines, skipping node_modules and .git', async () => {
    const result = await grep({ pattern: 'function\\s+\\w+' });
    expect(result).toEqual({
      output: 'src/a.ts:1: export function alpha() {}\nsrc/lib/b.ts:1: function Beta() {}',
    });
  });

  it('matches case-insensitively with ignore_case', async () => {
    const result = await grep({ pattern: 'todo', ignore_case: true });
    expect(result.output).toBe('src/a.ts:2: // TODO: beta\nsrc/c.js:1: const todo = 1;');
  });

  it('filters files by glob (file names, or paths with a slash) and searches a path', async () => {
    await expect(grep({ pattern: 'o', glob: '*.js' })).resolves.toEqual({
      output: 'src/c.js:1: const todo = 1;',
    });
    await expect(grep({ pattern: 'function', glob: 'lib/**', path: 'src' })).resolves.toEqual({
      output: 'src/lib/b.ts:1: function Beta() {}',
    });
    await expect(grep({ pattern: 'alpha', path: 'src/a.ts' })).resolves.toEqual({
      output: 'src/a.ts:1: export function alpha() {}',
    });
    await expect(grep({ pattern: 'alpha', path: 'node_modules' })).resolves.toEqual({
      output: 'node_modules/pkg/index.ts:1: export function alpha() {}',
    });
  });

  it('skips binary files and says when nothing matches', async () => {
    await writeFile(path.join(worktree.path, 'blob.bin'), Buffer.from('alpha\0alpha'));
    const result = await grep({ pattern: 'nothing-here' });
    expect(result).toEqual({
      output: 'No matches for "nothing-here" in the worktree (4 text files searched)',
    });
    expect((await grep({ pattern: 'alpha' })).output).not.toContain('blob.bin');
  });

  it('answers an invalid regular expression with an error naming it', async () => {
    const result = await grep({ pattern: 'foo(' });
    expect(result).toEqual({
      isError: true,
      output: expect.stringMatching(/^invalid regular expression "foo\(": .*/),
    });
  });

  it('caps matches and line length', async () => {
    await writeFile(
      path.join(worktree.path, 'many.txt'),
      Array.from({ length: 300 }, () => 'hit').join('\n'),
    );
    const many = (await grep({ pattern: 'hit', path: 'many.txt' })).output.split('\n');
    expect(many).toHaveLength(201);
    expect(many.at(-1)).toContain('stopped at 200 matches');

    await writeFile(path.join(worktree.path, 'wide.txt'), `hit${'x'.repeat(1_000)}`);
    const wide = await grep({ pattern: 'hit', path: 'wide.txt' });
    expect(wide.output).toBe(`wide.txt:1: hit${'x'.repeat(297)}…`);
  });

  it('does not read through symbolic links or outside the worktree', async () => {
    await writeFile(path.join(worktree.outsidePath, 'secret.txt'), 'alpha secret');
    await symlink(path.join(worktree.outsidePath, 'secret.txt'), path.join(worktree.path, 'link.txt'));
    await symlink(worktree.outsidePath, path.join(worktree.path, 'escape'));
    expect((await grep({ pattern: 'secret' })).output).toContain('No matches');
    for (const requested of ['link.txt', 'escape', '../outside', '.git']) {
      await expect(grep({ pattern: 'secret', path: requested }), requested).resolves.toMatchObject({
        isError: true,
      });
    }
  });
});
