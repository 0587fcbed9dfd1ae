import { describe, expect, it } from 'vitest';
import { mcpToolName } from './create-mcp-tool.ts';

describe('mcpToolName', () => {
  it('prefixes the server name and keeps a valid tool name as it is', () => {
    expect(mcpToolName('filesystem', 'read_text_file', new Set())).toBe('filesystem__read_text_file');
  });

  it('makes characters outside [a-zA-Z0-9_-] underscores', () => {
    expect(mcpToolName('docs', 'search.pages v2', new Set())).toBe('docs__search_pages_v2');
  });

  it('cuts a long name to 64 characters, ending in a hash of the tool name', () => {
    const name = mcpToolName('a'.repeat(32), 'b'.repeat(60), new Set());
    expect(name).toHaveLength(64);
    expect(name).toMatch(/^a{32}__b+_[0-9a-f]{8}$/);
    expect(mcpToolName('a'.repeat(32), 'b'.repeat(60), new Set())).toBe(name);
    expect(mcpToolName('a'.repeat(32), `${'b'.repeat(59)}c`, new Set())).not.toBe(name);
  });

  it('tells apart tools whose names only differ in sanitised characters', () => {
    const taken = new Set<string>();
    const first = mcpToolName('docs', 'get.page', taken);
    taken.add(first);
    const second = mcpToolName('docs', 'get_page', taken);
    expect(first).toBe('docs__get_page');
    expect(second).toMatch(/^docs__get_page_[0-9a-f]{8}$/);
    for (const name of [first, second]) expect(name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
  });
});
