import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wildcardMatch, wildcardsOverlap } from '../../../lambdas/core/wildcard';

describe('wildcardsOverlap', () => {
  it.each([
    ['arn:aws:iam::1:role/*', 'arn:aws:iam::1:role/deploy', true],
    ['arn:aws:iam::1:role/ci-*', 'arn:aws:iam::1:role/*-prod', true],
    ['arn:aws:iam::1:user/*', 'arn:aws:iam::1:role/*', false],
    ['arn:aws:iam::1:*', 'arn:aws:iam::2:*', false],
    ['*', 'anything', true],
    ['a*b', 'c*', false],
    ['a*', '*b', true],
    ['exact', 'exact', true],
    ['exact', 'exacT', false],
    ['', '*', true],
    ['', 'x', false],
  ])('%s vs %s → %s', (a, b, expected) => {
    expect(wildcardsOverlap(a, b)).toBe(expected);
    expect(wildcardsOverlap(b, a)).toBe(expected);
  });

  it('agrees with wildcardMatch when one side has no wildcard, and finds the witness when both match a text', () => {
    const pattern = fc.stringMatching(/^[ab*]{0,8}$/);
    const text = fc.stringMatching(/^[ab]{0,8}$/);
    fc.assert(
      fc.property(pattern, text, (p, t) => {
        expect(wildcardsOverlap(p, t)).toBe(wildcardMatch(p, t));
      }),
    );
    fc.assert(
      fc.property(pattern, pattern, text, (p, q, t) => {
        if (wildcardMatch(p, t) && wildcardMatch(q, t)) expect(wildcardsOverlap(p, q)).toBe(true);
      }),
    );
  });

  it('stays fast on long patterns full of stars', () => {
    const a = `${'*a'.repeat(300)}b`;
    const b = `${'a*'.repeat(300)}c`;
    expect(wildcardsOverlap(a, b)).toBe(false);
  });
});
