import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createReadFileTool } from './create-read-file-tool.ts';
import { callTool } from './testing/call-tool.ts';
import { createTestWorktree } from './testing/create-test-worktree.ts';
import type { TestWorktree } from './testing/create-test-worktree.ts';

const tool = createReadFileTool();

function numbered(count: number, from = 1): string {
  return Array.from({ length: count }, (_, index) => `line ${from + index}`).join('\n');
}

describe('read_file', () => {
  let worktree: TestWorktree;
  beforeEach(async () => {
    worktree = await createTestWorktree();
  });
  afterEach(async () => {
    await worktree.remove();
  });

  const read = (input: unknown) => callTool(tool, input, worktree.context());

  it('returns the lines numbered like cat -n', async () => {
    await writeFile(path.join(worktree.path, 'a.txt'), 'first\n\tindented\r\nlast');
    const result = await read({ path: 'a.txt' });
    expect(result.isError).toBeUndefined();
    expect(result.output).toBe('     1\tfirst\n     2\t\tindented\n     3\tlast');
  });

  it('reads from offset for limit lines and says how to read on', async () => {
    await writeFile(path.join(worktree.path, 'a.txt'), `${numbered(10)}\n`);
    const result = await read({ path: 'a.txt', offset: 3, limit: 2 });
    expect(result.output).toContain('     3\tline 3\n     4\tline 4\n');
    expect(result.output).not.toContain('line 5');
    expect(result.output).toContain('[showing lines 3-4 of 10; call read_file with offset=5 to read more]');
  });

  it('notes the end of the file when reading the last part', async () => {
    await writeFile(path.join(worktree.path, 'a.txt'), numbered(10));
    const result = await read({ path: 'a.txt', offset: 9 });
    expect(result.output).toContain('    10\tline 10\n\n[showing lines 9-10 of 10; end of file]');
  });

  it('caps at 2000 lines', async () => {
    await writeFile(path.join(worktree.path, 'long.txt'), numbered(2_500));
    const result = await read({ path: 'long.txt', limit: 5_000 });
    expect(result.output).toContain('  2000\tline 2000\n');
    expect(result.output).not.toContain('line 2001');
    expect(result.output).toContain('call read_file with offset=2001');
  });

  it('caps at 100 KB and cuts very long lines', async () => {
    const line = 'x'.repeat(1_500);
    await writeFile(path.join(worktree.path, 'wide.txt'), Array.from({ length: 200 }, () => line).join('\n'));
    const wide = await read({ path: 'wide.txt' });
    expect(Buffer.byteLength(wide.output)).toBeLessThan(100 * 1024 + 200);
    expect(wide.output).toMatch(
      /\[showing lines 1-\d+ of 200; call read_file with offset=\d+ to read more\]$/,
    );

    await writeFile(path.join(worktree.path, 'minified.js'), 'y'.repeat(5_000));
    const minified = await read({ path: 'minified.js' });
    expect(minified.output).toContain('… [line cut: 5000 characters]');
  });

  it('refuses an offset past the end', async () => {
    await writeFile(path.join(worktree.path, 'a.txt'), numbered(3));
    const result = await read({ path: 'a.txt', offset: 10 });
    expect(result).toMatchObject({
      isError: true,
      output: expect.stringContaining('has 3 lines; offset 10'),
    });
  });

  it('says so for an empty file', async () => {
    await writeFile(path.join(worktree.path, 'empty.txt'), '');
    await expect(read({ path: 'empty.txt' })).resolves.toEqual({ output: '"empty.txt" is empty' });
  });

  it('refuses binary files, directories and missing files with clear errors', async () => {
    await writeFile(path.join(worktree.path, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]));
    await mkdir(path.join(worktree.path, 'src'));
    await expect(read({ path: 'image.png' })).resolves.toEqual({
      output: expect.stringContaining('"image.png" is a binary file'),
      isError: true,
    });
    await expect(read({ path: 'src' })).resolves.toEqual({
      output: expect.stringContaining('is a directory; use list_directory'),
      isError: true,
    });
    await expect(read({ path: 'missing.txt' })).resolves.toEqual({
      output: '"missing.txt": does not exist',
      isError: true,
    });
  });

  it('refuses paths outside the worktree and inside .git', async () => {
    await writeFile(path.join(worktree.outsidePath, 'secret.txt'), 'TOP-SECRET-CONTENT');
    await symlink(path.join(worktree.outsidePath, 'secret.txt'), path.join(worktree.path, 'link.txt'));
    for (const requested of [
      '../outside/secret.txt',
      path.join(worktree.outsidePath, 'secret.txt'),
      'link.txt',
      '.git/config',
    ]) {
      const result = await read({ path: requested });
      expect(result.isError, requested).toBe(true);
      expect(result.output).not.toContain('TOP-SECRET-CONTENT');
    }
  });

  it('rejects malformed input naming the field', () => {
    expect(tool.parseInput({})).toEqual({ success: false, error: expect.stringContaining('path') });
    expect(tool.parseInput({ path: 'a', offset: 0 })).toEqual({
      success: false,
      error: expect.stringContaining('offset'),
    });
    expect(tool.parseInput({ path: 'a', limit: 'ten' })).toEqual({
      success: false,
      error: expect.stringContaining('limit'),
    });
  });
});
