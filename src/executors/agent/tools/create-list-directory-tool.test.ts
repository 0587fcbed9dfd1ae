import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createListDirectoryTool } from './create-list-directory-tool.ts';
import { callTool } from './testing/call-tool.ts';
import { createTestWorktree } from './testing/create-test-worktree.ts';
import type { TestWorktree } from './testing/create-test-worktree.ts';

const tool = createListDirectoryTool();

describe('list_directory', () => {
  let worktree: TestWorktree;
  beforeEach(async () => {
    worktree = await createTestWorktree();
  });
  afterEach(async () => {
    await worktree.remove();
  });

  const list = (input: unknown) => callTool(tool, input, worktree.context());

  it('lists the root sorted, directories with a slash, links with their target, without .git', async () => {
    await mkdir(path.join(worktree.path, 'src'));
    await writeFile(path.join(worktree.path, 'b.txt'), '');
    await writeFile(path.join(worktree.path, '.env.example'), '');
    await symlink('b.txt', path.join(worktree.path, 'c-link'));
    const result = await list({});
    expect(result).toEqual({ output: '.env.example\nREADME.md\nb.txt\nc-link -> b.txt\nsrc/' });
  });

  it('lists a subdirectory and says when it is empty', async () => {
    await mkdir(path.join(worktree.path, 'src', 'lib'), { recursive: true });
    await writeFile(path.join(worktree.path, 'src', 'a.ts'), '');
    await expect(list({ path: 'src' })).resolves.toEqual({ output: 'a.ts\nlib/' });
    await expect(list({ path: 'src/lib' })).resolves.toEqual({ output: '"src/lib" is empty' });
  });

  it('caps the number of entries', async () => {
    await mkdir(path.join(worktree.path, 'many'));
    await Promise.all(
      Array.from({ length: 1_005 }, (_, index) =>
        writeFile(path.join(worktree.path, 'many', `f${String(index).padStart(4, '0')}`), ''),
      ),
    );
    const result = await list({ path: 'many' });
    const lines = result.output.split('\n');
    expect(lines).toHaveLength(1_001);
    expect(lines.at(-1)).toBe('[5 more entries not shown; use glob to narrow down]');
  });

  it('refuses files, missing paths, escapes and .git', async () => {
    await expect(list({ path: 'README.md' })).resolves.toMatchObject({
      isError: true,
      output: expect.stringContaining('not a directory'),
    });
    await expect(list({ path: 'nope' })).resolves.toEqual({
      isError: true,
      output: '"nope": does not exist',
    });
    await symlink(worktree.outsidePath, path.join(worktree.path, 'escape'));
    for (const requested of ['..', '/', 'escape', '.git']) {
      await expect(list({ path: requested }), requested).resolves.toMatchObject({ isError: true });
    }
  });
});
