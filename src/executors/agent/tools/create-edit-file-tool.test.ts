import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEditFileTool } from './create-edit-file-tool.ts';
import { callTool } from './testing/call-tool.ts';
import { createTestWorktree } from './testing/create-test-worktree.ts';
import type { TestWorktree } from './testing/create-test-worktree.ts';

const tool = createEditFileTool();

describe('edit_file', () => {
  let worktree: TestWorktree;
  const file = () => path.join(worktree.path, 'code.ts');
  beforeEach(async () => {
    worktree = await createTestWorktree();
    await writeFile(file(), 'const a = 1;\nconst b = 2;\nconst a2 = 1;\n');
  });
  afterEach(async () => {
    await worktree.remove();
  });

  const edit = (input: Record<string, unknown>) =>
    callTool(tool, { path: 'code.ts', ...input }, worktree.context());

  it('replaces a unique string and reports the file as modified', async () => {
    const result = await edit({ old_string: 'const b = 2;', new_string: 'const b = 3;' });
    expect(result).toEqual({
      output: 'Replaced 1 occurrence in "code.ts" at line 2',
      fileChanges: [{ path: 'code.ts', change: 'modified' }],
    });
    await expect(readFile(file(), 'utf8')).resolves.toBe('const a = 1;\nconst b = 3;\nconst a2 = 1;\n');
  });

  it('refuses a string that is not unique, saying how often and where it occurs', async () => {
    const result = await edit({ old_string: '= 1;', new_string: '= 9;' });
    expect(result.isError).toBe(true);
    expect(result.output).toContain('not unique');
    expect(result.output).toContain('occurs 2 times (at lines 1, 3)');
    expect(result.output).toContain('more surrounding context');
    await expect(readFile(file(), 'utf8')).resolves.toContain('const a = 1;');
  });

  it('replaces every occurrence with replace_all', async () => {
    const result = await edit({ old_string: '= 1;', new_string: '= 9;', replace_all: true });
    expect(result.output).toBe('Replaced 2 occurrences in "code.ts"');
    await expect(readFile(file(), 'utf8')).resolves.toBe('const a = 9;\nconst b = 2;\nconst a2 = 9;\n');
  });

  it('keeps $ patterns in new_string literal', async () => {
    await edit({ old_string: 'const b = 2;', new_string: "const b = '$&$1$$';" });
    await expect(readFile(file(), 'utf8')).resolves.toContain("const b = '$&$1$$';");
  });

  it('says when old_string is not found, with a whitespace hint when that is the cause', async () => {
    const missing = await edit({ old_string: 'const c', new_string: 'const d' });
    expect(missing).toMatchObject({ isError: true, output: expect.stringContaining('was not found') });
    const spaced = await edit({ old_string: 'const  b =\n2;', new_string: 'x' });
    expect(spaced.output).toContain('different whitespace or indentation');
  });

  it('matches \\n in old_string against CRLF line ends', async () => {
    await writeFile(file(), 'one\r\ntwo\r\nthree\r\n');
    const result = await edit({ old_string: 'one\ntwo', new_string: 'uno\ndos' });
    expect(result.isError).toBeUndefined();
    await expect(readFile(file(), 'utf8')).resolves.toBe('uno\r\ndos\r\nthree\r\n');
  });

  it('refuses identical strings, missing files, directories and binary files', async () => {
    await expect(edit({ old_string: 'a', new_string: 'a' })).resolves.toMatchObject({
      isError: true,
      output: expect.stringContaining('the same'),
    });
    await expect(edit({ path: 'nope.ts', old_string: 'a', new_string: 'b' })).resolves.toEqual({
      isError: true,
      output: '"nope.ts" does not exist; use write_file to create it',
    });
    await mkdir(path.join(worktree.path, 'dir'));
    await expect(edit({ path: 'dir', old_string: 'a', new_string: 'b' })).resolves.toMatchObject({
      isError: true,
    });
    await writeFile(path.join(worktree.path, 'blob.bin'), Buffer.from([97, 0, 98]));
    await expect(edit({ path: 'blob.bin', old_string: 'a', new_string: 'b' })).resolves.toMatchObject({
      isError: true,
      output: expect.stringContaining('binary'),
    });
  });

  it('refuses paths outside the worktree and inside .git', async () => {
    await expect(edit({ path: '../outside/x', old_string: 'a', new_string: 'b' })).resolves.toMatchObject({
      isError: true,
      output: expect.stringContaining('outside the worktree'),
    });
    await expect(edit({ path: '.git/HEAD', old_string: 'ref', new_string: 'x' })).resolves.toMatchObject({
      isError: true,
      output: expect.stringContaining('inside .git'),
    });
  });

  it('rejects malformed input naming the field', () => {
    expect(tool.parseInput({ path: 'a', new_string: 'b' })).toEqual({
      success: false,
      error: expect.stringContaining('old_string'),
    });
    expect(tool.parseInput({ path: 'a', old_string: 'a', new_string: 'b', replace_all: 'yes' })).toEqual({
      success: false,
      error: expect.stringContaining('replace_all'),
    });
    expect(tool.parseInput({ path: 'a', old_string: 'a', new_string: 'b' })).toMatchObject({
      success: true,
      value: { replace_all: false },
    });
  });
});
