import { describe, expect, it } from 'vitest';
import {
  AccessEvaluator,
  NO_RULES,
  OPERATIONS,
  ROLE_OPERATIONS,
  selectorMatches,
  type AccessPolicy,
  type AccessRules,
} from '../../../lambdas/core/access/policy';
import type { Role, TenantPrincipal } from '../../../lambdas/core/principal';
import { TENANT_A, tenantPrincipal } from '../support/fakes';

const IP = '10.0.0.1';
const CLIENT_ID = `${TENANT_A}.cli_abcdefghijklmnopqrst`;

function principal(over: Partial<TenantPrincipal> = {}): TenantPrincipal {
  return { kind: 'tenant', tenantId: TENANT_A, type: 'client', id: CLIENT_ID, roles: [], ...over };
}

const rules = (...policies: AccessPolicy[]): AccessRules => ({ tenantCidrs: [], policies });

describe('ROLE_OPERATIONS', () => {
  it('is the role table of the design', () => {
    expect(OPERATIONS).toEqual(['create', 'read', 'update', 'delete', 'list', 'grant']);
    expect(ROLE_OPERATIONS).toEqual({
      owner: ['create', 'read', 'update', 'delete', 'list', 'grant'],
      admin: ['create', 'read', 'update', 'delete', 'list', 'grant'],
      contributor: ['create', 'read', 'update', 'delete', 'list'],
      viewer: ['read', 'list'],
    });
  });

  it('is what decide() applies with no rules', () => {
    const evaluator = new AccessEvaluator(NO_RULES);
    for (const role of Object.keys(ROLE_OPERATIONS) as Role[]) {
      for (const op of OPERATIONS) {
        const expected = ROLE_OPERATIONS[role].includes(op)
          ? { allowed: true, reason: 'role' }
          : { allowed: false, reason: 'default-deny' };
        expect(evaluator.decide(principal({ roles: [role] }), op, 'a/b', IP), `${role} ${op}`).toEqual(expected);
      }
    }
  });

  it('ignores roles it does not know, including Object.prototype names', () => {
    const evaluator = new AccessEvaluator(NO_RULES);
    for (const role of ['superuser', 'Owner', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(evaluator.decide(principal({ roles: [role as Role] }), 'read', 'a', IP), role).toEqual({ allowed: false, reason: 'default-deny' });
      expect(evaluator.mayAnywhere(principal({ roles: [role as Role] }), 'read', IP), role).toBe(false);
    }
  });
});

describe('selectorMatches', () => {
  const client = principal({ roles: ['viewer'], groups: ['dev', 'ops'] });
  const user = principal({ type: 'user', id: 'ann@example.com', roles: ['contributor'] });

  it.each([
    ['*', client, true],
    ['*', user, true],
    ['role:viewer', client, true],
    ['role:contributor', client, false],
    ['role:contributor', user, true],
    ['role:superuser', client, false],
    ['role:*', client, false], // roles take no wildcard
    ['group:dev', client, true],
    ['group:ops', client, true],
    ['group:qa', client, false],
    ['group:dev', user, false], // no groups at all
    ['group:d*', client, false], // groups take no wildcard
    [`client:${CLIENT_ID}`, client, true],
    [`client:${CLIENT_ID}x`, client, false],
    [`client:${CLIENT_ID.slice(0, -1)}`, client, false], // no prefix match without '*'
    ['client:ten_*', client, true],
    [`client:${TENANT_A}.cli_*`, client, true],
    ['client:ten_b*', client, false],
    ['client:*', client, true],
    ['client:*', user, false],
    ['client:*qrst', client, true],
    ['client:ten_*.cli_*', client, true],
    ['user:*', user, true],
    ['user:*', client, false],
    ['user:ann@example.com', user, true],
    ['user:ann@example.co', user, false],
    ['user:ann@example?com', user, false], // regex metacharacters are literal
    ['user:ann@example.c.m', user, false],
    ['user:ann@example.c*', user, true],
    ['user:ANN@example.com', user, false], // case-sensitive
    [`user:${CLIENT_ID}`, client, false], // type must match
    ['iam:*', client, false],
  ] as const)('%s selects %o: %s', (selector, p, expected) => {
    expect(selectorMatches(selector, p)).toBe(expected);
  });

  it('treats regex syntax in an id as literal text', () => {
    const odd = principal({ type: 'user', id: 'a.b+c(d)' });
    expect(selectorMatches('user:a.b+c(d)', odd)).toBe(true);
    expect(selectorMatches('user:aXb+c(d)', odd)).toBe(false);
    expect(selectorMatches('user:a.b+c(d', odd)).toBe(false);
    expect(selectorMatches('user:a.*', odd)).toBe(true);
    expect(selectorMatches('user:a*b*b', principal({ type: 'user', id: 'ab' }))).toBe(false);
    expect(selectorMatches('user:a*b*b', principal({ type: 'user', id: 'a/b-b' }))).toBe(true);
  });
});

describe('AccessEvaluator.decide', () => {
  it('lets a matching deny entry win over the Owner role, naming its policy', () => {
    const evaluator = new AccessEvaluator(
      rules({ name: 'lockdown', entries: [{ effect: 'deny', principals: ['*'], paths: ['prod/root-key'], operations: ['read'] }] }),
    );
    const owner = principal({ roles: ['owner'] });
    expect(evaluator.decide(owner, 'read', 'prod/root-key', IP)).toEqual({ allowed: false, reason: 'deny-entry', policy: 'lockdown' });
    // only where, what and whom it names
    expect(evaluator.decide(owner, 'update', 'prod/root-key', IP)).toEqual({ allowed: true, reason: 'role' });
    expect(evaluator.decide(owner, 'read', 'prod/root-key2', IP)).toEqual({ allowed: true, reason: 'role' });
    expect(evaluator.decide(owner, 'read', 'prod/root-key/x', IP)).toEqual({ allowed: true, reason: 'role' });
    expect(evaluator.decide(owner, 'read', 'Prod/root-key', IP)).toEqual({ allowed: true, reason: 'role' });
  });

  it('lets a deny win over an allow, in whichever order or policy they come', () => {
    const allow = { effect: 'allow' as const, principals: ['group:dev'], paths: ['app/**'], operations: ['read' as const] };
    const deny = { effect: 'deny' as const, principals: ['group:dev'], paths: ['app/secret'], operations: ['read' as const] };
    const dev = principal({ groups: ['dev'] });
    for (const r of [
      rules({ name: 'p', entries: [allow, deny] }),
      rules({ name: 'p', entries: [deny, allow] }),
      rules({ name: 'a', entries: [allow] }, { name: 'p', entries: [deny] }),
    ]) {
      const evaluator = new AccessEvaluator(r);
      expect(evaluator.decide(dev, 'read', 'app/secret', IP)).toEqual({ allowed: false, reason: 'deny-entry', policy: 'p' });
      expect(evaluator.decide(dev, 'read', 'app/other', IP)).toMatchObject({ allowed: true, reason: 'policy' });
    }
  });

  it('matches entries by group:, role:, user: and client: selectors', () => {
    const evaluator = new AccessEvaluator(
      rules(
        { name: 'by-group', entries: [{ effect: 'allow', principals: ['group:dev'], paths: ['dev/**'], operations: ['read'] }] },
        { name: 'by-role', entries: [{ effect: 'allow', principals: ['role:viewer'], paths: ['shared/*'], operations: ['update'] }] },
        { name: 'by-user', entries: [{ effect: 'allow', principals: ['user:ann'], paths: ['ann/**'], operations: ['create', 'read'] }] },
        { name: 'by-client', entries: [{ effect: 'allow', principals: ['client:ten_*'], paths: ['ci/db-*'], operations: ['read'] }] },
      ),
    );
    const dev = principal({ groups: ['dev'] });
    const viewer = principal({ roles: ['viewer'] });
    const ann = principal({ type: 'user', id: 'ann' });
    const bob = principal({ type: 'user', id: 'bob' });

    expect(evaluator.decide(dev, 'read', 'dev/x/y', IP)).toEqual({ allowed: true, reason: 'policy', policy: 'by-group' });
    expect(evaluator.decide(principal(), 'read', 'dev/x/y', IP)).toEqual({ allowed: false, reason: 'default-deny' });
    expect(evaluator.decide(viewer, 'update', 'shared/cfg', IP)).toEqual({ allowed: true, reason: 'policy', policy: 'by-role' });
    expect(evaluator.decide(viewer, 'update', 'shared/cfg/x', IP)).toEqual({ allowed: false, reason: 'default-deny' });
    expect(evaluator.decide(viewer, 'read', 'shared/cfg', IP)).toEqual({ allowed: true, reason: 'role' });
    expect(evaluator.decide(ann, 'create', 'ann', IP)).toEqual({ allowed: true, reason: 'policy', policy: 'by-user' });
    expect(evaluator.decide(bob, 'create', 'ann/x', IP)).toEqual({ allowed: false, reason: 'default-deny' });
    expect(evaluator.decide(principal(), 'read', 'ci/db-main', IP)).toEqual({ allowed: true, reason: 'policy', policy: 'by-client' });
    expect(evaluator.decide(principal(), 'read', 'ci/cache', IP)).toEqual({ allowed: false, reason: 'default-deny' });
    expect(evaluator.decide(principal({ id: 'platform.cli_x' }), 'read', 'ci/db-main', IP)).toEqual({ allowed: false, reason: 'default-deny' });
    expect(evaluator.decide(principal(), 'update', 'ci/db-main', IP)).toEqual({ allowed: false, reason: 'default-deny' });
  });

  it('names the first allowing policy', () => {
    const entry = { effect: 'allow' as const, principals: ['*'], paths: ['**'], operations: ['list' as const] };
    const evaluator = new AccessEvaluator(rules({ name: 'first', entries: [entry] }, { name: 'second', entries: [entry] }));
    expect(evaluator.decide(principal(), 'list', 'x', IP)).toEqual({ allowed: true, reason: 'policy', policy: 'first' });
  });

  it('reports role over policy when both allow', () => {
    const evaluator = new AccessEvaluator(rules({ name: 'p', entries: [{ effect: 'allow', principals: ['*'], paths: ['**'], operations: ['read'] }] }));
    expect(evaluator.decide(principal({ roles: ['viewer'] }), 'read', 'x', IP)).toEqual({ allowed: true, reason: 'role' });
  });

  it('allows grant through a policy entry', () => {
    const evaluator = new AccessEvaluator(rules({ name: 'delegate', entries: [{ effect: 'allow', principals: ['group:leads'], paths: ['team/**'], operations: ['grant'] }] }));
    expect(evaluator.decide(principal({ groups: ['leads'], roles: ['contributor'] }), 'grant', 'team/x', IP)).toEqual({
      allowed: true,
      reason: 'policy',
      policy: 'delegate',
    });
    expect(evaluator.decide(principal({ roles: ['contributor'] }), 'grant', 'team/x', IP)).toEqual({ allowed: false, reason: 'default-deny' });
  });
});

describe('AccessEvaluator.mayAnywhere', () => {
  it('is true for a role or an allow entry, and false for deny entries alone', () => {
    const evaluator = new AccessEvaluator(
      rules({
        name: 'p',
        entries: [
          { effect: 'allow', principals: ['group:dev'], paths: ['dev/**'], operations: ['list'] },
          { effect: 'deny', principals: ['group:qa'], paths: ['**'], operations: ['list'] },
        ],
      }),
    );
    expect(evaluator.mayAnywhere(principal({ roles: ['viewer'] }), 'list', IP)).toBe(true);
    expect(evaluator.mayAnywhere(principal({ groups: ['dev'] }), 'list', IP)).toBe(true);
    expect(evaluator.mayAnywhere(principal({ groups: ['dev'] }), 'read', IP)).toBe(false);
    expect(evaluator.mayAnywhere(principal({ groups: ['qa'] }), 'list', IP)).toBe(false);
    expect(evaluator.mayAnywhere(principal(), 'list', IP)).toBe(false);
  });
});

describe('AccessEvaluator.policiesFor', () => {
  const a: AccessPolicy = { name: 'a', entries: [{ effect: 'allow', principals: ['group:dev'], paths: ['**'], operations: ['read'] }] };
  const b: AccessPolicy = { name: 'b', entries: [{ effect: 'deny', principals: ['user:ann', 'client:ten_*'], paths: ['x'], operations: ['delete'] }] };
  const c: AccessPolicy = {
    name: 'c',
    description: 'for viewers',
    entries: [
      { effect: 'allow', principals: ['user:bob'], paths: ['x'], operations: ['read'] },
      { effect: 'allow', principals: ['role:viewer'], paths: ['y'], operations: ['read'] },
    ],
  };
  const everyone: AccessPolicy = { name: 'everyone', entries: [{ effect: 'allow', principals: ['*'], paths: ['pub/*'], operations: ['read'] }] };

  it('lists the policies with an entry naming the principal, whatever the effect or operation, in order', () => {
    const evaluator = new AccessEvaluator(rules(a, b, c));
    expect(evaluator.policiesFor(principal({ groups: ['dev'] })).map((p) => p.name)).toEqual(['a', 'b']);
    expect(evaluator.policiesFor(principal({ type: 'user', id: 'ann' })).map((p) => p.name)).toEqual(['b']);
    expect(evaluator.policiesFor(principal({ type: 'user', id: 'bob' })).map((p) => p.name)).toEqual(['c']);
    expect(evaluator.policiesFor(principal({ type: 'user', id: 'eve', roles: ['viewer'], groups: ['dev'] })).map((p) => p.name)).toEqual(['a', 'c']);
    expect(evaluator.policiesFor(principal({ type: 'user', id: 'eve' }))).toEqual([]);
    expect(evaluator.policiesFor(principal({ type: 'user', id: 'bob' }))[0]).toBe(c);
  });

  it("includes '*' policies for everyone and is empty with no rules", () => {
    expect(new AccessEvaluator(rules(a, everyone)).policiesFor(principal({ type: 'user', id: 'eve' })).map((p) => p.name)).toEqual(['everyone']);
    expect(new AccessEvaluator(NO_RULES).policiesFor(principal({ roles: ['owner'] }))).toEqual([]);
  });
});

describe('AccessEvaluator.holds (the grant check)', () => {
  it('is true for a role that includes the operation, on any pattern', () => {
    const evaluator = new AccessEvaluator(NO_RULES);
    expect(evaluator.holds(principal({ roles: ['owner'] }), 'grant', '**', IP)).toBe(true);
    expect(evaluator.holds(principal({ roles: ['viewer'] }), 'read', 'a/**', IP)).toBe(true);
    expect(evaluator.holds(principal({ roles: ['viewer'] }), 'update', 'a/**', IP)).toBe(false);
    expect(evaluator.holds(principal(), 'read', 'a', IP)).toBe(false);
  });

  it('is false when a deny entry may overlap the pattern, even for an Owner', () => {
    const evaluator = new AccessEvaluator(
      rules({ name: 'lock', entries: [{ effect: 'deny', principals: ['*'], paths: ['prod/root-key'], operations: ['read'] }] }),
    );
    const owner = principal({ roles: ['owner'] });
    expect(evaluator.holds(owner, 'read', 'prod/**', IP)).toBe(false);
    expect(evaluator.holds(owner, 'read', '**', IP)).toBe(false);
    expect(evaluator.holds(owner, 'read', 'prod/*', IP)).toBe(false);
    expect(evaluator.holds(owner, 'read', 'prod/root-key', IP)).toBe(false);
    expect(evaluator.holds(owner, 'read', 'prod/root-*', IP)).toBe(false);
    // disjoint patterns, other operations
    expect(evaluator.holds(owner, 'read', 'dev/**', IP)).toBe(true);
    expect(evaluator.holds(owner, 'read', 'prod/other', IP)).toBe(true);
    expect(evaluator.holds(owner, 'read', 'prod/root-key/x', IP)).toBe(true);
    expect(evaluator.holds(owner, 'update', 'prod/**', IP)).toBe(true);
  });

  it('is true for an allow entry that covers the pattern, false when it does not', () => {
    const evaluator = new AccessEvaluator(
      rules({ name: 'team', entries: [{ effect: 'allow', principals: ['group:team'], paths: ['team/**', 'shared/*'], operations: ['read', 'grant'] }] }),
    );
    const member = principal({ groups: ['team'] });
    expect(evaluator.holds(member, 'read', 'team/**', IP)).toBe(true);
    expect(evaluator.holds(member, 'read', 'team/app/*', IP)).toBe(true);
    expect(evaluator.holds(member, 'read', 'team', IP)).toBe(true);
    expect(evaluator.holds(member, 'read', 'shared/db-*', IP)).toBe(true);
    expect(evaluator.holds(member, 'read', 'shared/**', IP)).toBe(false);
    expect(evaluator.holds(member, 'read', '**', IP)).toBe(false);
    expect(evaluator.holds(member, 'read', 'other/x', IP)).toBe(false);
    expect(evaluator.holds(member, 'update', 'team/**', IP)).toBe(false);
    expect(evaluator.holds(principal(), 'read', 'team/**', IP)).toBe(false);
  });

  it('is false for an allow limited to some networks, even from inside them', () => {
    const evaluator = new AccessEvaluator(
      rules({
        name: 'office',
        sourceCidrs: ['10.0.0.0/8'],
        entries: [{ effect: 'allow', principals: ['group:team'], paths: ['team/**'], operations: ['read'] }],
      }),
    );
    const member = principal({ groups: ['team'] });
    expect(evaluator.decide(member, 'read', 'team/x', '10.1.1.1')).toEqual({ allowed: true, reason: 'policy', policy: 'office' });
    expect(evaluator.holds(member, 'read', 'team/x', '10.1.1.1')).toBe(false);
    expect(evaluator.holds(member, 'read', 'team/**', '10.1.1.1')).toBe(false);
  });

  it('still holds through a role when a network-limited policy also names the principal', () => {
    const evaluator = new AccessEvaluator(
      rules({
        name: 'office',
        sourceCidrs: ['10.0.0.0/8'],
        entries: [{ effect: 'allow', principals: ['*'], paths: ['**'], operations: ['read'] }],
      }),
    );
    expect(evaluator.holds(principal({ roles: ['viewer'] }), 'read', 'team/**', '192.168.0.1')).toBe(true);
  });
});
