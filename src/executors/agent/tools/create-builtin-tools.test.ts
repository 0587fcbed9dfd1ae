import { describe, expect, it } from 'vitest';
import { createBuiltinTools } from './create-builtin-tools.ts';

describe('createBuiltinTools', () => {
  const tools = createBuiltinTools();

  it('offers the ten built-in tools with their kinds', () => {
    expect(Object.fromEntries(tools.map((tool) => [tool.name, tool.kind]))).toEqual({
      read_file: 'read',
      write_file: 'write',
      edit_file: 'write',
      list_directory: 'read',
      glob: 'read',
      grep: 'read',
      run_shell: 'execute',
      git_status: 'read',
      git_diff: 'read',
      report_progress: 'other',
    });
  });

  it('describes each input as a JSON Schema object with described properties', () => {
    for (const tool of tools) {
      expect(tool.description.length, tool.name).toBeGreaterThan(40);
      expect(tool.inputJsonSchema, tool.name).toMatchObject({ type: 'object', additionalProperties: false });
      const properties = (tool.inputJsonSchema.properties ?? {}) as Record<string, { description?: string }>;
      for (const [name, property] of Object.entries(properties)) {
        expect(property.description, `${tool.name}.${name}`).toBeTruthy();
      }
    }
    const edit = tools.find((tool) => tool.name === 'edit_file')!;
    expect(edit.inputJsonSchema.required).toEqual(['path', 'old_string', 'new_string']);
  });

  it('answers malformed input with an error naming the field, for every tool', () => {
    for (const tool of tools) {
      const parsed = tool.parseInput('not an object');
      expect(parsed.success, tool.name).toBe(false);
    }
    const read = tools.find((tool) => tool.name === 'read_file')!;
    expect(read.parseInput({ path: 5 })).toEqual({ success: false, error: expect.stringMatching(/^path: /) });
  });

  it('passes the shell time limit through', () => {
    const shell = createBuiltinTools({ shellTimeoutMs: 5_000 }).find((tool) => tool.name === 'run_shell')!;
    expect(shell.description).toContain('Time limit 5 s');
  });
});
