import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { covers, matchesPath, mayOverlap, whyInvalidPattern } from '../../../lambdas/core/access/path-pattern';
import {
  AccessEvaluator,
  NO_RULES,
  OPERATIONS,
  ROLE_OPERATIONS,
  type AccessEntry,
  type AccessPolicy,
  type AccessRules,
  type Decision,
  type Operation,
} from '../../../lambdas/core/access/policy';
import { ROLES, type TenantPrincipal } from '../../../lambdas/core/principal';
import { TENANT_A } from '../support/fakes';

// Random policies over small pools, checked against the spec written out independently here:
//   outside the tenant safelist → denied; any matching deny entry → denied (over roles too);
//   a role with the operation, or a matching allow entry from inside its policy's safelist →
//   allowed; otherwise denied.

const RUNS = 400;

// ---------------------------------------------------------------------------------------------
// Paths and patterns

const LITERALS = ['a', 'b', 'ab', 'bb', 'db-main', 'x-prod', 'A'] as const;
const PATTERN_SEGMENTS = [...LITERALS, '*', '**', 'db-*', '*-prod', 'a*', '*b*', '*b*b'] as const;

const segmentArb = fc.constantFrom(...LITERALS);
const pathArb = fc.array(segmentArb, { minLength: 1, maxLength: 5 }).map((s) => s.join('/'));
const patternArb = fc.array(fc.constantFrom(...PATTERN_SEGMENTS), { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));

/** Concrete paths the pattern is meant to match, built from the pattern itself. */
function instantiate(pattern: string): fc.Arbitrary<string> {
  const parts = pattern.split('/').map((seg): fc.Arbitrary<string[]> => {
    if (seg === '**') return fc.array(segmentArb, { maxLength: 2 });
    if (seg === '*') return segmentArb.map((s) => [s]);
    if (seg.includes('*')) {
      const pieces = seg.split('*');
      const fills = pieces.slice(1).map(() => fc.constantFrom('', 'a', 'b', 'x-', 'main', 'b-prod'));
      return fc.tuple(...fills).map((f) => [pieces.reduce((acc, piece, i) => (i === 0 ? piece : acc + f[i - 1]! + piece), '')]);
    }
    return fc.constant([seg]);
  });
  return fc
    .tuple(...parts)
    .map((ps) => ps.flat().join('/'))
    .filter((p) => p.length > 0);
}

/** A pattern at least as broad as `inner`, segment by segment. */
function generalize(inner: string): fc.Arbitrary<string> {
  const segs = inner.split('/').map((seg) => (seg === '**' ? fc.constantFrom('**') : fc.constantFrom(seg, seg, '*', '**')));
  return fc.tuple(...segs).map((s) => s.join('/'));
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Reference matcher: the pattern as a regular expression over '/' + path. */
function refMatch(pattern: string, path: string): boolean {
  const body = pattern
    .split('/')
    .map((seg) => {
      if (seg === '**') return '(?:/[^/]+)*';
      if (seg === '*') return '/[^/]+';
      return '/' + seg.split('*').map(escapeRegex).join('[^/]*');
    })
    .join('');
  return new RegExp(`^${body}$`).test('/' + path);
}

// ---------------------------------------------------------------------------------------------
// Networks

const CIDRS = ['10.0.0.0/8', '10.1.0.0/16', '192.168.0.0/16', '2001:db8::/32'] as const;
const IPS = ['10.1.2.3', '10.2.0.1', '192.168.1.1', '172.16.0.1', '::ffff:10.1.2.3', '2001:db8::1', 'garbage'] as const;
const INSIDE: Record<(typeof CIDRS)[number], readonly string[]> = {
  '10.0.0.0/8': ['10.1.2.3', '10.2.0.1', '::ffff:10.1.2.3'],
  '10.1.0.0/16': ['10.1.2.3', '::ffff:10.1.2.3'],
  '192.168.0.0/16': ['192.168.1.1'],
  '2001:db8::/32': ['2001:db8::1'],
};
const inside = (cidrs: readonly string[] | undefined, ip: string) =>
  !cidrs?.length || cidrs.some((c) => INSIDE[c as (typeof CIDRS)[number]].includes(ip));

const ipArb = fc.constantFrom(...IPS);
const cidrsArb = fc.uniqueArray(fc.constantFrom(...CIDRS), { minLength: 1, maxLength: 2 });

// ---------------------------------------------------------------------------------------------
// Principals and rules

const SELECTORS = [
  '*',
  'role:owner',
  'role:contributor',
  'role:viewer',
  'group:dev',
  'group:ops',
  'client:cli_ops',
  'client:cli_*',
  'client:*',
  'user:usr_ann',
  'user:*',
  'iam:*',
] as const;

/** Reference selector semantics, written for the pool above. */
function refSelects(selector: string, p: TenantPrincipal): boolean {
  if (selector === '*') return true;
  const [kind, value] = selector.split(':') as [string, string];
  if (kind === 'role') return (p.roles as readonly string[]).includes(value);
  if (kind === 'group') return (p.groups ?? []).includes(value);
  if (kind !== p.type) return false;
  return value.endsWith('*') ? p.id.startsWith(value.slice(0, -1)) : p.id === value;
}

const principalArb: fc.Arbitrary<TenantPrincipal> = fc
  .record({
    type: fc.constantFrom('client' as const, 'user' as const),
    client: fc.constantFrom('cli_ops', 'cli_ci', 'svc_x'),
    user: fc.constantFrom('usr_ann', 'usr_bob'),
    roles: fc.subarray([...ROLES]),
    groups: fc.subarray(['dev', 'ops', 'qa']),
  })
  .map(({ type, client, user, roles, groups }) => ({ kind: 'tenant', tenantId: TENANT_A, type, id: type === 'client' ? client : user, roles, groups }));

const noRoles = principalArb.map((p) => ({ ...p, roles: [] }));

const entryArb: fc.Arbitrary<AccessEntry> = fc.record({
  effect: fc.constantFrom('allow' as const, 'deny' as const),
  principals: fc.uniqueArray(fc.constantFrom(...SELECTORS), { minLength: 1, maxLength: 2 }),
  paths: fc.uniqueArray(patternArb, { minLength: 1, maxLength: 2 }),
  operations: fc.uniqueArray(fc.constantFrom(...OPERATIONS), { minLength: 1, maxLength: 3 }),
});

const policiesArb: fc.Arbitrary<AccessPolicy[]> = fc
  .array(fc.record({ entries: fc.array(entryArb, { minLength: 1, maxLength: 3 }), cidrs: fc.option(cidrsArb, { freq: 3 }) }), { maxLength: 4 })
  .map((ps) => ps.map(({ entries, cidrs }, i) => ({ name: `p${i}`, entries, ...(cidrs ? { sourceCidrs: cidrs } : {}) })));

const rulesArb: fc.Arbitrary<AccessRules> = fc.record({
  policies: policiesArb,
  tenantCidrs: fc.oneof({ arbitrary: fc.constant([] as string[]), weight: 4 }, { arbitrary: cidrsArb, weight: 1 }),
});

const opArb = fc.constantFrom(...OPERATIONS);

/** Matching entries, in evaluation order, by the reference semantics. */
function refEntries(rules: AccessRules, p: TenantPrincipal, op: Operation, path: string) {
  return rules.policies.flatMap((policy) =>
    policy.entries
      .filter((e) => e.operations.includes(op) && e.principals.some((s) => refSelects(s, p)) && e.paths.some((pat) => refMatch(pat, path)))
      .map((entry) => ({ entry, policy })),
  );
}

function refDecide(rules: AccessRules, p: TenantPrincipal, op: Operation, path: string, ip: string): Decision {
  if (!inside(rules.tenantCidrs, ip)) return { allowed: false, reason: 'outside-network' };
  const matching = refEntries(rules, p, op, path);
  const deny = matching.find((m) => m.entry.effect === 'deny');
  if (deny) return { allowed: false, reason: 'deny-entry', policy: deny.policy.name };
  if (p.roles.some((r) => (ROLE_OPERATIONS[r] as readonly string[]).includes(op))) return { allowed: true, reason: 'role' };
  const allow = matching.find((m) => m.entry.effect === 'allow' && inside(m.policy.sourceCidrs, ip));
  if (allow) return { allowed: true, reason: 'policy', policy: allow.policy.name };
  return { allowed: false, reason: 'default-deny' };
}

/**
 * Random rules, principal, operation, path and source, where half the time an entry of the
 * given effect aimed at the path (a widening of it, for a random selector, maybe limited to
 * some networks) sits somewhere among the random policies: so that entries match often.
 */
function aimedCaseArb(effect: AccessEntry['effect'], principals: fc.Arbitrary<TenantPrincipal>) {
  const aimedArb = pathArb.chain((path) =>
    fc.record({
      path: fc.constant(path),
      aim: fc.boolean(),
      pattern: generalize(path),
      selector: fc.constantFrom(...SELECTORS),
      at: fc.nat(),
      cidrs: fc.option(cidrsArb),
    }),
  );
  return fc.tuple(rulesArb, principals, opArb, ipArb, aimedArb).map(([rules, p, op, ip, { path, aim, pattern, selector, at, cidrs }]) => {
    if (!aim) return [rules, p, op, path, ip] as const;
    const aimed: AccessPolicy = {
      name: 'aimed',
      entries: [{ effect, principals: [selector], paths: [pattern], operations: [op] }],
      ...(cidrs ? { sourceCidrs: cidrs } : {}),
    };
    const policies = [...rules.policies];
    policies.splice(at % (policies.length + 1), 0, aimed);
    return [{ ...rules, policies }, p, op, path, ip] as const;
  });
}

// ---------------------------------------------------------------------------------------------

describe('path patterns (properties)', () => {
  it('generated patterns are valid', () => {
    fc.assert(
      fc.property(patternArb, (pattern) => {
        expect(whyInvalidPattern(pattern)).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
  });

  it('matchesPath agrees with a reference regular expression', () => {
    const pairArb = patternArb.chain((pattern) => fc.tuple(fc.constant(pattern), fc.oneof(pathArb, instantiate(pattern))));
    fc.assert(
      fc.property(pairArb, ([pattern, path]) => {
        expect(matchesPath(pattern, path)).toBe(refMatch(pattern, path));
      }),
      { numRuns: RUNS },
    );
  });

  it('every path instantiated from a pattern matches it', () => {
    const pairArb = patternArb.chain((pattern) => fc.tuple(fc.constant(pattern), instantiate(pattern)));
    fc.assert(
      fc.property(pairArb, ([pattern, path]) => {
        expect(matchesPath(pattern, path)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('(e) covers(a, b) implies every path matching b matches a', () => {
    let covering = 0;
    const pairArb = fc.oneof(
      fc.tuple(patternArb, patternArb),
      patternArb.chain((inner) => fc.tuple(generalize(inner), fc.constant(inner))),
    );
    const caseArb = pairArb.chain(([a, b]) =>
      fc.tuple(fc.constant(a), fc.constant(b), fc.array(fc.oneof(instantiate(b), pathArb), { minLength: 1, maxLength: 6 })),
    );
    fc.assert(
      fc.property(caseArb, ([a, b, paths]) => {
        if (!covers(a, b)) return;
        covering++;
        for (const path of paths) if (matchesPath(b, path)) expect(matchesPath(a, path), `${a} ⊇ ${b} at ${path}`).toBe(true);
      }),
      { numRuns: RUNS },
    );
    expect(covering).toBeGreaterThan(RUNS / 10);
  });

  it('covers(generalization of b, b) holds: segment-wise widening is recognised', () => {
    const pairArb = patternArb.chain((inner) => fc.tuple(generalize(inner), fc.constant(inner)));
    fc.assert(
      fc.property(pairArb, ([outer, inner]) => {
        expect(covers(outer, inner), `${outer} ⊇ ${inner}`).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('(f) mayOverlap(a, b) false implies no path matches both', () => {
    let disjoint = 0;
    const caseArb = fc
      .tuple(patternArb, patternArb)
      .chain(([a, b]) =>
        fc.tuple(fc.constant(a), fc.constant(b), fc.array(fc.oneof(instantiate(a), instantiate(b), pathArb), { minLength: 1, maxLength: 8 })),
      );
    fc.assert(
      fc.property(caseArb, ([a, b, paths]) => {
        if (mayOverlap(a, b)) return;
        disjoint++;
        for (const path of paths) expect(matchesPath(a, path) && matchesPath(b, path), `${a} ∩ ${b} ∋ ${path}`).toBe(false);
      }),
      { numRuns: RUNS },
    );
    expect(disjoint).toBeGreaterThan(RUNS / 10);
  });
});

describe('AccessEvaluator (properties)', () => {
  it('decide() equals the reference model of the spec', () => {
    fc.assert(
      fc.property(rulesArb, principalArb, opArb, pathArb, ipArb, (rules, p, op, path, ip) => {
        expect(new AccessEvaluator(rules).decide(p, op, path, ip)).toEqual(refDecide(rules, p, op, path, ip));
      }),
      { numRuns: RUNS },
    );
  });

  it('(a) a matching deny entry denies, whatever roles the principal holds', () => {
    let denied = 0;
    fc.assert(
      fc.property(aimedCaseArb('deny', principalArb), fc.subarray([...ROLES]), ([rules, p, op, path, ip], roles) => {
        const denyMatches = refEntries(rules, p, op, path).some((m) => m.entry.effect === 'deny');
        // Roles also feed `role:` selectors; check both the generated roles and the extra ones.
        const evaluator = new AccessEvaluator(rules);
        if (denyMatches) {
          denied++;
          expect(evaluator.decide(p, op, path, ip).allowed).toBe(false);
          const boosted = { ...p, roles: [...new Set([...p.roles, ...roles, 'owner' as const])] };
          // Adding roles can only make more deny selectors match, never fewer.
          expect(evaluator.decide(boosted, op, path, ip).allowed).toBe(false);
        }
      }),
      { numRuns: RUNS },
    );
    expect(denied).toBeGreaterThan(RUNS / 20);
  });

  it('(b) no roles and no rules: denied everything, by default', () => {
    fc.assert(
      fc.property(noRoles, opArb, pathArb, ipArb, (p, op, path, ip) => {
        const evaluator = new AccessEvaluator(NO_RULES);
        expect(evaluator.decide(p, op, path, ip)).toEqual({ allowed: false, reason: 'default-deny' });
        expect(evaluator.mayAnywhere(p, op, ip)).toBe(false);
        expect(evaluator.holds(p, op, '**', ip)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('(c) with no roles, allowed implies a matching allow entry from inside its network', () => {
    let allowed = 0;
    fc.assert(
      fc.property(aimedCaseArb('allow', noRoles), ([rules, p, op, path, ip]) => {
        const decision = new AccessEvaluator(rules).decide(p, op, path, ip);
        if (!decision.allowed) return;
        allowed++;
        expect(decision.reason).toBe('policy');
        const allowing = refEntries(rules, p, op, path).filter((m) => m.entry.effect === 'allow' && inside(m.policy.sourceCidrs, ip));
        expect(allowing.map((m) => m.policy.name)).toContain(decision.policy);
      }),
      { numRuns: RUNS },
    );
    expect(allowed).toBeGreaterThan(RUNS / 80);
  });

  it('(d) holds(p, op, pattern) implies decide() allows every path the pattern matches', () => {
    let held = 0;
    const caseArb = fc
      .tuple(rulesArb, principalArb, opArb, patternArb, ipArb)
      .chain(([rules, p, op, pattern, ip]) =>
        fc.tuple(fc.constant(rules), fc.constant(p), fc.constant(op), fc.constant(pattern), fc.constant(ip), fc.array(instantiate(pattern), { minLength: 1, maxLength: 6 })),
      );
    fc.assert(
      fc.property(caseArb, ([rules, p, op, pattern, ip, paths]) => {
        const evaluator = new AccessEvaluator(rules);
        if (!evaluator.holds(p, op, pattern, ip)) return;
        held++;
        for (const path of paths) {
          expect(matchesPath(pattern, path)).toBe(true);
          expect(evaluator.decide(p, op, path, ip), `${op} on ${path} (held via ${pattern})`).toMatchObject({ allowed: true });
        }
      }),
      { numRuns: RUNS },
    );
    expect(held).toBeGreaterThan(RUNS / 20);
  });

  it('(d′) with no roles, holds() is also sound: a policy grant is passed on only where decide() allows', () => {
    let held = 0;
    // Half the time an allow entry widening the pattern (maybe network-limited, for a random
    // selector) sits among the random policies, so the non-role branch of holds() is exercised.
    const caseArb = fc
      .tuple(
        rulesArb,
        noRoles,
        opArb,
        ipArb,
        patternArb.chain((pat) => fc.tuple(fc.constant(pat), generalize(pat), fc.array(instantiate(pat), { minLength: 1, maxLength: 6 }))),
        fc.record({ aim: fc.boolean(), selector: fc.constantFrom(...SELECTORS), at: fc.nat(), cidrs: fc.option(cidrsArb, { freq: 3 }) }),
      )
      .map(([rules, p, op, ip, [pattern, wider, paths], { aim, selector, at, cidrs }]) => {
        if (!aim) return [rules, p, op, pattern, ip, paths] as const;
        const grant: AccessPolicy = {
          name: 'aimed',
          entries: [{ effect: 'allow', principals: [selector], paths: [wider], operations: [op] }],
          ...(cidrs ? { sourceCidrs: cidrs } : {}),
        };
        const policies = [...rules.policies];
        policies.splice(at % (policies.length + 1), 0, grant);
        return [{ ...rules, policies }, p, op, pattern, ip, paths] as const;
      });
    fc.assert(
      fc.property(caseArb, ([rules, p, op, pattern, ip, paths]) => {
        const evaluator = new AccessEvaluator(rules);
        if (!evaluator.holds(p, op, pattern, ip)) return;
        held++;
        for (const path of paths) expect(evaluator.decide(p, op, path, ip), `${op} on ${path} (held via ${pattern})`).toMatchObject({ allowed: true, reason: 'policy' });
      }),
      { numRuns: RUNS },
    );
    expect(held).toBeGreaterThan(RUNS / 80);
  });

  it('decide() allowed somewhere implies mayAnywhere() (the listing gate lets the caller in)', () => {
    fc.assert(
      fc.property(rulesArb, principalArb, opArb, pathArb, ipArb, (rules, p, op, path, ip) => {
        const evaluator = new AccessEvaluator(rules);
        if (evaluator.decide(p, op, path, ip).allowed) expect(evaluator.mayAnywhere(p, op, ip)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('outside the tenant safelist nothing is allowed or held', () => {
    fc.assert(
      fc.property(rulesArb, principalArb, opArb, pathArb, patternArb, ipArb, (rules, p, op, path, pattern, ip) => {
        fc.pre(rules.tenantCidrs.length > 0 && !inside(rules.tenantCidrs, ip));
        const evaluator = new AccessEvaluator(rules);
        expect(evaluator.decide(p, op, path, ip)).toEqual({ allowed: false, reason: 'outside-network' });
        expect(evaluator.mayAnywhere(p, op, ip)).toBe(false);
        expect(evaluator.holds(p, op, pattern, ip)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
