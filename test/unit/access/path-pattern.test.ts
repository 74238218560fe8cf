import { describe, expect, it } from 'vitest';
import { covers, matchesPath, mayOverlap, parsePathPattern, whyInvalidPattern } from '../../../lambdas/core/access/path-pattern';
import { InvalidRequestError } from '../../../lambdas/core/errors';

describe('whyInvalidPattern / parsePathPattern', () => {
  it.each([
    '**',
    '*',
    'app',
    'app/**',
    'app/*',
    'app/**/b',
    '**/b',
    'a/db-*',
    'a/*-prod',
    'a*b*c',
    'A.b_c-d/x',
    '*/*/*',
    Array.from({ length: 16 }, () => 's').join('/'),
  ])('accepts %s', (raw) => {
    expect(whyInvalidPattern(raw)).toBeUndefined();
    expect(parsePathPattern(raw)).toBe(raw);
  });

  it.each([
    ['', 'the pattern is empty'],
    ['app/', "a trailing '/' is ambiguous; write 'prefix/**' or 'prefix/*'"],
    ['/', "a trailing '/' is ambiguous; write 'prefix/**' or 'prefix/*'"],
    ['app/**/', "a trailing '/' is ambiguous; write 'prefix/**' or 'prefix/*'"],
    ['/app', 'empty segment (leading or double slash)'],
    ['a//b', 'empty segment (leading or double slash)'],
    ['.', "'.' and '..' are not allowed as segments"],
    ['..', "'.' and '..' are not allowed as segments"],
    ['a/./b', "'.' and '..' are not allowed as segments"],
    ['a/../b', "'.' and '..' are not allowed as segments"],
    ['a**', "'**' must be a whole segment"],
    ['**b', "'**' must be a whole segment"],
    ['a/x**y/b', "'**' must be a whole segment"],
    ['***', "'**' must be a whole segment"],
    ['a b', "segments may only contain A-Z a-z 0-9 . _ - and '*'"],
    ['a/b?', "segments may only contain A-Z a-z 0-9 . _ - and '*'"],
    ['a/[bc]', "segments may only contain A-Z a-z 0-9 . _ - and '*'"],
    ['a\\b', "segments may only contain A-Z a-z 0-9 . _ - and '*'"],
    ['é', "segments may only contain A-Z a-z 0-9 . _ - and '*'"],
    ['x'.repeat(129), "segments may only contain A-Z a-z 0-9 . _ - and '*'"],
    ['a/'.repeat(600) + 'a', 'the pattern is longer than 1024 characters'],
    [Array.from({ length: 18 }, () => 's').join('/'), 'more than 16 segments'],
  ])('rejects %j: %s', (raw, reason) => {
    expect(whyInvalidPattern(raw)).toBe(reason);
    expect(() => parsePathPattern(raw)).toThrow(InvalidRequestError);
  });

  it('names the pattern and the reason in the error, and points at the paths field', () => {
    try {
      parsePathPattern('app/');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidRequestError);
      const e = error as InvalidRequestError;
      expect(e.message).toBe("Invalid path pattern 'app/': a trailing '/' is ambiguous; write 'prefix/**' or 'prefix/*'.");
      expect(e.issues).toEqual([{ field: 'paths', message: "a trailing '/' is ambiguous; write 'prefix/**' or 'prefix/*'" }]);
    }
  });
});

describe('matchesPath', () => {
  it.each([
    // `**` alone: everything
    ['**', 'a', true],
    ['**', 'a/b/c', true],
    // `a/**` matches a itself and anything below, nothing beside
    ['a/**', 'a', true],
    ['a/**', 'a/b', true],
    ['a/**', 'a/b/c/d', true],
    ['a/**', 'ab', false],
    ['a/**', 'b/a', false],
    ['a/**', 'A', false],
    // `**` in the middle: zero or more
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/b', true],
    ['a/**/b', 'a/x/y/b', true],
    ['a/**/b', 'a/x/y/c', false],
    ['a/**/b', 'a/b/c', false],
    ['a/**/b', 'a', false],
    ['a/**/b', 'b', false],
    ['**/b', 'b', true],
    ['**/b', 'x/y/b', true],
    ['**/b', 'x/b/y', false],
    ['a/**/**/b', 'a/b', true],
    ['a/**/**/b', 'a/x/y/z/b', true],
    ['**/x/**', 'a/x/b', true],
    ['**/x/**', 'x', true],
    ['**/x/**', 'a/y/b', false],
    // `*` is exactly one segment
    ['*', 'a', true],
    ['*', 'a/b', false],
    ['a/*', 'a/b', true],
    ['a/*', 'a', false],
    ['a/*', 'a/b/c', false],
    ['*/b', 'a/b', true],
    ['*/b', 'b', false],
    ['*/*', 'a/b', true],
    ['*/*', 'a/b/c', false],
    // globs inside a segment
    ['a/db-*', 'a/db-main', true],
    ['a/db-*', 'a/db-', true],
    ['a/db-*', 'a/db', false],
    ['a/db-*', 'a/xdb-main', false],
    ['a/db-*', 'a/db-main/x', false],
    ['a/*-prod', 'a/api-prod', true],
    ['a/*-prod', 'a/-prod', true],
    ['a/*-prod', 'a/api-prod-2', false],
    ['a/*-prod', 'a/api-dev', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'abbc', true],
    ['a*b*c', 'acb', false],
    ['a*b*c', 'ab', false],
    ['a*b*c', 'bc', false],
    ['a*b*c', 'abcd', false],
    ['a*b*c', 'a/b/c', false],
    ['a*a', 'a', false],
    ['a*a', 'aa', true],
    ['ab*ba', 'aba', false],
    ['ab*ba', 'abba', true],
    ['a*x*xb', 'axb', false], // the middle may not borrow from the suffix
    ['a*x*xb', 'axxb', true],
    ['*b*b', 'ab', false],
    ['*b*b', 'bb', true],
    ['*b*', 'abc', true],
    ['*b*', 'ac', false],
    // case-sensitive, literal
    ['app/*', 'App/x', false],
    ['App/*', 'App/x', true],
    ['app/DB', 'app/db', false],
    ['app/db', 'app/db', true],
    ['app/db', 'app/db/x', false],
    ['app/db', 'app', false],
    ['a.b', 'axb', false],
  ])('%s ~ %s: %s', (pattern, path, expected) => {
    expect(matchesPath(pattern, path)).toBe(expected);
  });
});

describe('covers', () => {
  it.each([
    ['**', 'a', true],
    ['**', 'a/b/c', true],
    ['**', '**', true],
    ['**', 'a/**/b', true],
    ['**', '*/db-*', true],
    ['a/**', 'a/b/*', true],
    ['a/**', 'a', true],
    ['a/**', 'a/**', true],
    ['a/**', 'a/x/**', true],
    ['a/**', 'b/**', false],
    ['a/**', '**', false],
    ['a/**', '*/b', false],
    ['a/*', 'a/**', false],
    ['a/*', 'a/b', true],
    ['a/*', 'a/*', true],
    ['a/*', 'a/db-*', true],
    ['a/*', 'a/b/c', false],
    ['a/*', 'a', false],
    ['a/db-*', 'a/*', false],
    ['a/db-*', 'a/db-main', true],
    ['a/db-*', 'a/db-*', true],
    ['a/db-*', 'a/db-main-*', false], // conservative: provable only for literals
    ['a/db-*', 'a/cache-main', false],
    ['a/b', 'a/b', true],
    ['a/b', 'a/c', false],
    ['a/b', 'a/B', false],
    ['a/b', 'a/*', false],
    ['a/b', 'a/b/c', false],
    ['a/b/c', 'a/b', false],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/y/b', true],
    ['a/**/b', 'a/*/b', true],
    ['a/**/b', 'a/**/b', true],
    ['a/**/b', 'a/x/c', false],
    ['a/**/b', 'a/b/c', false],
    ['*/b', 'x/b', true],
    ['*/b', '**/b', false],
    ['*', '*', true],
    ['*', '**', false],
  ])('%s covers %s: %s', (outer, inner, expected) => {
    expect(covers(outer, inner)).toBe(expected);
  });
});

describe('mayOverlap', () => {
  it.each([
    // distinct literals never overlap
    ['a/b', 'a/c', false],
    ['a', 'b', false],
    ['a/b', 'a/b/c', false],
    ['a', 'a/b', false],
    ['App/x', 'app/x', false],
    ['x/*', 'y/*', false],
    ['a/*', 'a/b/c', false],
    ['*', 'a/b', false],
    // equal literals do
    ['a/b', 'a/b', true],
    // globs: conservative
    ['**', 'a/b', true],
    ['a/b', '**', true],
    ['a/**', 'a', true],
    ['a', 'a/**', true],
    ['a/**', 'b/**', false],
    ['a/**', '**/z', true],
    ['a/*', 'a/b', true],
    ['a/*', '*/b', true],
    ['a/db-*', 'a/*-prod', true],
    ['a/db-*', 'a/cache', false], // a glob against a literal is decided exactly
    ['a/db-*', 'a/db-main', true],
    ['a/*-prod', 'a/db-*', true], // two globs: "maybe"
    ['a/**/b', 'a/x/y/b', true],
    ['a/**/b', 'a/x/y/c', false],
    ['**/b', '**/c', false], // exact here: no path ends in both
  ])('%s vs %s: %s', (a, b, expected) => {
    expect(mayOverlap(a, b)).toBe(expected);
    expect(mayOverlap(b, a)).toBe(expected);
  });
});

describe('pattern walks stay polynomial', () => {
  it('decides overlap, cover and match of `**`-heavy patterns (memoised walks, not exponential)', () => {
    const deep = `${Array.from({ length: 16 }, () => '**').join('/')}/x`;
    const other = `${Array.from({ length: 16 }, () => '**').join('/')}/y`;
    const path = `${Array.from({ length: 15 }, (_, i) => `s${i}`).join('/')}/z`;
    // Unmemoised, the first of these took ~40 s: this test would not finish within its timeout.
    expect(mayOverlap(deep, other)).toBe(false);
    expect(covers(deep, other)).toBe(false);
    expect(matchesPath(deep, path)).toBe(false);
  });
});
