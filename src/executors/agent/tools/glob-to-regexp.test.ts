import { describe, expect, it } from 'vitest';
import { globToRegExp, hasGlobSyntax } from './glob-to-regexp.ts';

function matches(pattern: string, candidate: string): boolean {
  return globToRegExp(pattern).test(candidate);
}

describe('globToRegExp', () => {
  it('* stays within one directory', () => {
    expect(matches('*.ts', 'a.ts')).toBe(true);
    expect(matches('*.ts', '.hidden.ts')).toBe(true);
    expect(matches('*.ts', 'src/a.ts')).toBe(false);
    expect(matches('src/*.ts', 'src/a.ts')).toBe(true);
    expect(matches('src/*', 'src/lib/a.ts')).toBe(false);
  });

  it('** spans zero or more directories', () => {
    expect(matches('**/*.ts', 'a.ts')).toBe(true);
    expect(matches('**/*.ts', 'src/lib/a.ts')).toBe(true);
    expect(matches('src/**/test/*.ts', 'src/test/a.ts')).toBe(true);
    expect(matches('src/**/test/*.ts', 'src/x/y/test/a.ts')).toBe(true);
    expect(matches('src/**', 'src/x/y.ts')).toBe(true);
    expect(matches('src/**', 'lib/x.ts')).toBe(false);
    expect(matches('**', 'any/thing')).toBe(true);
    // Not a whole segment: an ordinary star.
    expect(matches('a**.ts', 'abc.ts')).toBe(true);
    expect(matches('a**.ts', 'a/b.ts')).toBe(false);
  });

  it('? is one character except /', () => {
    expect(matches('file?.txt', 'file1.txt')).toBe(true);
    expect(matches('file?.txt', 'file10.txt')).toBe(false);
    expect(matches('a?b', 'a/b')).toBe(false);
  });

  it('{a,b} alternatives, nested', () => {
    expect(matches('*.{js,ts}', 'x.js')).toBe(true);
    expect(matches('*.{js,ts}', 'x.ts')).toBe(true);
    expect(matches('*.{js,ts}', 'x.json')).toBe(false);
    expect(matches('{src,test}/**/*.{ts,{m,c}js}', 'test/a/b.mjs')).toBe(true);
    expect(matches('{src,test}/**/*.{ts,{m,c}js}', 'lib/b.mjs')).toBe(false);
  });

  it('character classes, negated classes', () => {
    expect(matches('[abc].txt', 'b.txt')).toBe(true);
    expect(matches('[abc].txt', 'd.txt')).toBe(false);
    expect(matches('[a-c]x', 'bx')).toBe(true);
    expect(matches('[!a]x', 'bx')).toBe(true);
    expect(matches('[!a]x', 'ax')).toBe(false);
  });

  it('treats regex characters and unbalanced brackets literally', () => {
    expect(matches('a+b(c).txt', 'a+b(c).txt')).toBe(true);
    expect(matches('a.txt', 'abtxt')).toBe(false);
    expect(matches('a[b', 'a[b')).toBe(true);
    expect(matches('{a', '{a')).toBe(true);
    expect(matches('\\*.txt', '*.txt')).toBe(true);
    expect(matches('\\*.txt', 'a.txt')).toBe(false);
  });

  it('hasGlobSyntax tells literal names from patterns', () => {
    expect(hasGlobSyntax('src')).toBe(false);
    expect(hasGlobSyntax('*.ts')).toBe(true);
    expect(hasGlobSyntax('{a,b}')).toBe(true);
  });
});
