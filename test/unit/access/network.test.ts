import { describe, expect, it } from 'vitest';
import { parseCidr, Safelist } from '../../../lambdas/core/access/network';
import { AccessEvaluator, type AccessRules } from '../../../lambdas/core/access/policy';
import { InvalidRequestError } from '../../../lambdas/core/errors';
import { TENANT_A, tenantPrincipal } from '../support/fakes';

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['10.1.2.3/32', '10.1.2.3/32'],
    ['192.168.0.0/16', '192.168.0.0/16'],
    ['10.0.0.0/08', '10.0.0.0/8'],
    ['2001:db8::/32', '2001:db8::/32'],
    ['2001:DB8::/32', '2001:db8::/32'],
    ['::/0', '::/0'],
    ['::1/128', '::1/128'],
    ['::ffff:10.0.0.0/104', '::ffff:10.0.0.0/104'],
  ])('accepts %s as %s', (raw, normalised) => {
    expect(parseCidr(raw)).toBe(normalised);
  });

  it.each([
    '10.0.0.0/33',
    '10.0.0.0/100',
    '::/129',
    '2001:db8::/1000',
    '10.0.0.0',
    '2001:db8::',
    'abc/8',
    '10.0.0.0/8/1',
    '10.0.0.0/',
    '/8',
    '',
    '10.0.0.0/-1',
    '10.0.0.0/+8',
    '10.0.0.0/8.0',
    '10.0.0.0/ 8',
    '10.0.0.0/8 ',
    ' 10.0.0.0/8',
    '10.0.0.0/0x8',
    '10.0.0.256/8',
    '10.0.0/8',
    '010.0.0.0/8',
    'localhost/32',
  ])('rejects %j with InvalidRequestError', (raw) => {
    expect(() => parseCidr(raw)).toThrow(InvalidRequestError);
  });

  it('says what it wants and points at the cidrs field', () => {
    try {
      parseCidr('10.0.0.0/33');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidRequestError);
      const e = error as InvalidRequestError;
      expect(e.message).toBe("Invalid CIDR '10.0.0.0/33': write an IPv4 or IPv6 block such as 10.0.0.0/8 or 2001:db8::/32.");
      expect(e.issues).toEqual([{ field: 'cidrs', message: 'not a CIDR block' }]);
    }
  });
});

describe('Safelist', () => {
  const allows = (cidrs: string[], ip: string) => new Safelist(cidrs.map(parseCidr)).allows(ip);

  it.each([
    // IPv4 /8 and its edges
    [['10.0.0.0/8'], '10.0.0.0', true],
    [['10.0.0.0/8'], '10.255.255.255', true],
    [['10.0.0.0/8'], '9.255.255.255', false],
    [['10.0.0.0/8'], '11.0.0.0', false],
    // /32 is one address
    [['10.1.2.3/32'], '10.1.2.3', true],
    [['10.1.2.3/32'], '10.1.2.4', false],
    // /0 is every IPv4 address
    [['0.0.0.0/0'], '255.255.255.255', true],
    [['0.0.0.0/0'], '1.2.3.4', true],
    // several blocks: any one
    [['10.0.0.0/8', '192.168.0.0/16'], '192.168.7.7', true],
    [['10.0.0.0/8', '192.168.0.0/16'], '172.16.0.1', false],
    // IPv6
    [['2001:db8::/32'], '2001:db8::1', true],
    [['2001:db8::/32'], '2001:DB8:ffff::1', true],
    [['2001:db8::/32'], '2001:db9::1', false],
    [['2001:db8::1/128'], '2001:db8::1', true],
    [['2001:db8::1/128'], '2001:db8::2', false],
    [['::/0'], '2001:db8::1', true],
    [['::/0'], '::1', true],
    // IPv4 families do not bleed into IPv6 blocks
    [['2001:db8::/32'], '10.1.2.3', false],
    [['10.0.0.0/8'], '2001:db8::1', false],
    // IPv4-mapped IPv6 is checked as the IPv4 address it is
    [['10.0.0.0/8'], '::ffff:10.1.2.3', true],
    [['10.0.0.0/8'], '::FFFF:10.1.2.3', true],
    [['10.0.0.0/8'], '::ffff:11.1.2.3', false],
    [['10.1.2.3/32'], '::ffff:10.1.2.3', true],
    [['10.0.0.0/8'], '::ffff:a01:203', true],
    [['10.0.0.0/8'], '0:0:0:0:0:ffff:10.1.2.3', true],
    [['2001:db8::/32'], '::ffff:10.1.2.3', false],
    [['::ffff:10.0.0.0/104'], '10.1.2.3', true],
    [['::ffff:10.0.0.0/104'], '11.1.2.3', false],
  ] as const)('%j allows %s: %s', (cidrs, ip, expected) => {
    expect(allows([...cidrs], ip)).toBe(expected);
  });

  it.each(['', 'unknown', 'garbage', '10.0.0', '10.0.0.1.5', '10.0.0.256', '10.0.0.1/32', ' 10.0.0.1', '10.0.0.1 ', '::ffff:999.1.1.1', 'localhost'])(
    'never allows the unparseable source %j, even with /0 everywhere',
    (ip) => {
      expect(allows(['0.0.0.0/0', '::/0'], ip)).toBe(false);
    },
  );

  it('keeps the blocks it was built from', () => {
    expect(new Safelist(['10.0.0.0/8', '2001:db8::/32']).cidrs).toEqual(['10.0.0.0/8', '2001:db8::/32']);
  });
});

describe('network rules in AccessEvaluator', () => {
  const owner = tenantPrincipal(TENANT_A, ['owner']);
  const roleless = tenantPrincipal(TENANT_A, [], 'cli_ops');

  describe('tenant safelist', () => {
    const rules: AccessRules = {
      tenantCidrs: ['10.0.0.0/8', '2001:db8::/32'],
      policies: [{ name: 'ops', entries: [{ effect: 'allow', principals: ['client:cli_ops'], paths: ['**'], operations: ['read'] }] }],
    };
    const evaluator = new AccessEvaluator(rules);

    it.each(['192.168.1.1', '2001:db9::1', '::ffff:192.168.1.1', 'unknown', ''])('denies an Owner coming from %j', (ip) => {
      expect(evaluator.insideTenantNetwork(ip)).toBe(false);
      expect(evaluator.decide(owner, 'read', 'a/b', ip)).toEqual({ allowed: false, reason: 'outside-network' });
      expect(evaluator.mayAnywhere(owner, 'read', ip)).toBe(false);
      expect(evaluator.holds(owner, 'read', 'a/**', ip)).toBe(false);
      expect(evaluator.decide(roleless, 'read', 'a/b', ip)).toEqual({ allowed: false, reason: 'outside-network' });
    });

    it.each(['10.1.2.3', '::ffff:10.1.2.3', '2001:db8::7'])('lets roles and policies apply from %s', (ip) => {
      expect(evaluator.insideTenantNetwork(ip)).toBe(true);
      expect(evaluator.decide(owner, 'delete', 'a/b', ip)).toEqual({ allowed: true, reason: 'role' });
      expect(evaluator.decide(roleless, 'read', 'a/b', ip)).toEqual({ allowed: true, reason: 'policy', policy: 'ops' });
      expect(evaluator.holds(owner, 'read', 'a/**', ip)).toBe(true);
    });

    it('applies nowhere when empty', () => {
      const open = new AccessEvaluator({ tenantCidrs: [], policies: [] });
      expect(open.insideTenantNetwork('203.0.113.9')).toBe(true);
      expect(open.insideTenantNetwork('unknown')).toBe(true);
      expect(open.decide(owner, 'read', 'a', 'unknown')).toEqual({ allowed: true, reason: 'role' });
    });
  });

  describe('per-policy sourceCidrs', () => {
    const rules: AccessRules = {
      tenantCidrs: [],
      policies: [
        {
          name: 'office-only',
          sourceCidrs: ['192.168.0.0/16'],
          entries: [
            { effect: 'allow', principals: ['client:cli_ops'], paths: ['ops/**'], operations: ['read', 'list'] },
            { effect: 'deny', principals: ['*'], paths: ['ops/root'], operations: ['read'] },
          ],
        },
      ],
    };
    const evaluator = new AccessEvaluator(rules);

    it('counts an allow entry only from inside the policy network', () => {
      expect(evaluator.decide(roleless, 'read', 'ops/db', '192.168.4.4')).toEqual({ allowed: true, reason: 'policy', policy: 'office-only' });
      expect(evaluator.decide(roleless, 'read', 'ops/db', '::ffff:192.168.4.4')).toEqual({ allowed: true, reason: 'policy', policy: 'office-only' });
      expect(evaluator.decide(roleless, 'read', 'ops/db', '10.0.0.1')).toEqual({ allowed: false, reason: 'default-deny' });
      expect(evaluator.decide(roleless, 'read', 'ops/db', 'unknown')).toEqual({ allowed: false, reason: 'default-deny' });
      expect(evaluator.mayAnywhere(roleless, 'list', '192.168.4.4')).toBe(true);
      expect(evaluator.mayAnywhere(roleless, 'list', '10.0.0.1')).toBe(false);
    });

    it('does not limit roles: an Owner outside the policy network keeps its role', () => {
      expect(evaluator.decide(owner, 'read', 'ops/db', '10.0.0.1')).toEqual({ allowed: true, reason: 'role' });
    });

    it('counts its deny entries from everywhere', () => {
      for (const ip of ['192.168.4.4', '10.0.0.1', 'unknown']) {
        expect(evaluator.decide(owner, 'read', 'ops/root', ip), ip).toEqual({ allowed: false, reason: 'deny-entry', policy: 'office-only' });
        expect(evaluator.holds(owner, 'read', 'ops/**', ip), ip).toBe(false);
      }
    });

    it('falls through to another policy without a network limit', () => {
      const both = new AccessEvaluator({
        tenantCidrs: [],
        policies: [
          ...rules.policies,
          { name: 'anywhere', entries: [{ effect: 'allow', principals: ['client:cli_ops'], paths: ['ops/*'], operations: ['read'] }] },
        ],
      });
      expect(both.decide(roleless, 'read', 'ops/db', '10.0.0.1')).toEqual({ allowed: true, reason: 'policy', policy: 'anywhere' });
      expect(both.decide(roleless, 'read', 'ops/db', '192.168.4.4')).toEqual({ allowed: true, reason: 'policy', policy: 'office-only' });
      expect(both.decide(roleless, 'read', 'ops/db/x', '10.0.0.1')).toEqual({ allowed: false, reason: 'default-deny' });
    });
  });
});
