import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AccessEvaluator,
  OPERATIONS,
  ROLE_OPERATIONS,
  type AccessEntry,
  type AccessPolicy,
  type AccessRules,
  type Operation,
  type PrincipalShape,
} from '../../../lambdas/core/access/policy';
import { ROLES, type Role, type TenantPrincipal, type TenantPrincipalType } from '../../../lambdas/core/principal';
import { TENANT_A } from '../support/fakes';

// The soundness of the CloudTruth bound, "nobody hands out more than they hold":
// whenever firstUnheld(actor, shape, ip) finds nothing unheld, every concrete principal of the
// shape may do only what the actor may do — for every operation, on every path of a small
// enumerated universe, from the same source (and, more strongly, from any source: firstUnheld
// never counts network-limited allows, so the bound does not depend on where the target calls
// from).

const RUNS = 500;
const PATTERN_RUNS = 300;

// ---------------------------------------------------------------------------------------------
// Paths: a small alphabet, so that patterns overlap often.

const LITERALS = ['a', 'b', 'ab', 'db-main'] as const;
const PATTERN_SEGMENTS = [...LITERALS, '*', '**', 'a*', 'db-*', '*b'] as const;

const patternArb = fc.array(fc.constantFrom(...PATTERN_SEGMENTS), { minLength: 1, maxLength: 3 }).map((s) => s.join('/'));

/** Every path of one to three literal segments: 4 + 16 + 64 = 84 paths. */
const PATHS: readonly string[] = (() => {
  const out: string[] = [];
  const grow = (prefix: string[], depth: number) => {
    if (prefix.length) out.push(prefix.join('/'));
    if (depth === 0) return;
    for (const seg of LITERALS) grow([...prefix, seg], depth - 1);
  };
  grow([], 3);
  return out;
})();

// ---------------------------------------------------------------------------------------------
// Networks: one address inside the first block, one inside the second, one outside both.

const CIDRS = ['10.0.0.0/8', '192.168.0.0/16'] as const;
const IPS = ['10.1.2.3', '192.168.1.1', '172.16.0.1'] as const;
const ipArb = fc.constantFrom(...IPS);
const cidrsArb = fc.uniqueArray(fc.constantFrom(...CIDRS), { minLength: 1, maxLength: 2 });

// ---------------------------------------------------------------------------------------------
// Principals and selectors

const USERS = ['usr_ann', 'usr_bob'] as const;
const CLIENTS = ['cli_1', 'cli_2', 'svc'] as const;
const GROUPS = ['g', 'h'] as const;

const SELECTORS = [
  '*',
  'role:owner',
  'role:admin',
  'role:contributor',
  'role:viewer',
  'group:g',
  'group:h',
  'user:usr_ann',
  'user:usr_*',
  'client:cli_1',
  'client:cli_*',
  'client:*',
  'iam:*',
  'iam:arn:aws:iam::111:role/*',
  'iam:arn:aws:iam::111:role/dev',
  'iam:arn:aws:sts::111:assumed-role/dev/*',
  'iam:*dev*',
  'federated:*',
  'federated:corp:*',
  'federated:corp:alice',
] as const;

const opArb = fc.constantFrom(...OPERATIONS);

const entryArb: fc.Arbitrary<AccessEntry> = fc.record({
  effect: fc.oneof({ arbitrary: fc.constant('allow' as const), weight: 2 }, { arbitrary: fc.constant('deny' as const), weight: 1 }),
  principals: fc.uniqueArray(fc.constantFrom(...SELECTORS), { minLength: 1, maxLength: 2 }),
  paths: fc.uniqueArray(patternArb, { minLength: 1, maxLength: 2 }),
  operations: fc.uniqueArray(opArb, { minLength: 1, maxLength: 3 }),
});

const policiesArb: fc.Arbitrary<AccessPolicy[]> = fc
  .array(fc.record({ entries: fc.array(entryArb, { minLength: 1, maxLength: 3 }), cidrs: fc.option(cidrsArb, { freq: 3 }) }), { maxLength: 4 })
  .map((ps) => ps.map(({ entries, cidrs }, i) => ({ name: `p${i}`, entries, ...(cidrs ? { sourceCidrs: cidrs } : {}) })));

const rulesArb: fc.Arbitrary<AccessRules> = fc.record({
  policies: policiesArb,
  tenantCidrs: fc.oneof({ arbitrary: fc.constant([] as string[]), weight: 5 }, { arbitrary: cidrsArb, weight: 1 }),
});

const rolesArb = (pool: readonly Role[]): fc.Arbitrary<Role[]> =>
  fc.oneof(
    fc.subarray([...pool]),
    fc.constantFrom(...pool.map((r) => [r])),
    fc.constant([] as Role[]),
  );

const principal = (type: TenantPrincipalType, id: string, roles: readonly Role[], groups: readonly string[]): TenantPrincipal => ({
  kind: 'tenant',
  tenantId: TENANT_A,
  type,
  id,
  roles,
  groups,
});

const actorArb: fc.Arbitrary<TenantPrincipal> = fc
  .record({
    type: fc.constantFrom('user' as const, 'client' as const),
    user: fc.constantFrom(...USERS),
    client: fc.constantFrom(...CLIENTS),
    // Actors that hold much are the ones the bound lets through: weight them up.
    roles: fc.oneof(
      { arbitrary: fc.constantFrom<Role[]>(['owner'], ['admin'], ['owner', 'admin']), weight: 2 },
      { arbitrary: rolesArb(ROLES), weight: 3 },
    ),
    groups: fc.subarray([...GROUPS]),
  })
  .map(({ type, user, client, roles, groups }) => principal(type, type === 'user' ? user : client, roles, groups));

interface Target {
  readonly shape: PrincipalShape;
  /** Concrete principals of the shape (for a pattern shape, a sample of matching ids). */
  readonly members: readonly TenantPrincipal[];
}

const concreteTargetArb: fc.Arbitrary<Target> = fc
  .record({
    type: fc.constantFrom('user' as const, 'client' as const),
    user: fc.constantFrom(...USERS),
    client: fc.constantFrom(...CLIENTS),
    roles: fc.oneof({ arbitrary: rolesArb(['contributor', 'viewer']), weight: 3 }, { arbitrary: rolesArb(ROLES), weight: 1 }),
    groups: fc.subarray([...GROUPS]),
  })
  .map(({ type, user, client, roles, groups }) => {
    const id = type === 'user' ? user : client;
    return { shape: { type, idPatterns: [id], roles, groups }, members: [principal(type, id, roles, groups)] };
  });

/** Reference id matching, independent of the product's wildcard code: `*` is any run. */
const idMatches = (pattern: string, id: string) =>
  new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(id);

const IAM_PATTERN_SETS: readonly (readonly string[])[] = [
  ['arn:aws:iam::111:role/*', 'arn:aws:sts::111:assumed-role/*/*'],
  ['arn:aws:iam::111:role/dev*', 'arn:aws:sts::111:assumed-role/dev*/*'],
  ['arn:aws:iam::111:role/dev', 'arn:aws:sts::111:assumed-role/dev/*'],
  ['arn:aws:sts::111:assumed-role/ops/*'],
  ['arn:aws:iam::*:role/dev'],
];
const IAM_IDS = [
  'arn:aws:iam::111:role/dev',
  'arn:aws:iam::111:role/dev-x',
  'arn:aws:iam::111:role/ops',
  'arn:aws:iam::222:role/dev',
  'arn:aws:sts::111:assumed-role/dev/s1',
  'arn:aws:sts::111:assumed-role/dev-x/s2',
  'arn:aws:sts::111:assumed-role/ops/s3',
] as const;
const FEDERATED_PATTERNS = ['corp:*', 'other:*'] as const;
const FEDERATED_IDS = ['corp:alice', 'corp:bob', 'other:carol', 'other:alice'] as const;

const patternTargetArb: fc.Arbitrary<Target> = fc
  .record({
    iam: fc.boolean(),
    iamPatterns: fc.constantFrom(...IAM_PATTERN_SETS),
    fedPattern: fc.constantFrom(...FEDERATED_PATTERNS),
    // Bindings cannot carry Owner.
    roles: rolesArb(['admin', 'contributor', 'viewer']),
    groups: fc.subarray([...GROUPS]),
  })
  .map(({ iam, iamPatterns, fedPattern, roles, groups }) => {
    const type: TenantPrincipalType = iam ? 'iam' : 'federated';
    const idPatterns = iam ? iamPatterns : [fedPattern];
    const ids = (iam ? IAM_IDS : FEDERATED_IDS).filter((id) => idPatterns.some((p) => idMatches(p, id)));
    return { shape: { type, idPatterns, roles, groups }, members: ids.map((id) => principal(type, id, roles, groups)) };
  });

// ---------------------------------------------------------------------------------------------
// The check

const describeCase = (rules: AccessRules, actor: TenantPrincipal, shape: PrincipalShape, firstIp: string) =>
  JSON.stringify({ rules, actor, shape, firstUnheldIp: firstIp });

interface Tally {
  runs: number;
  bounded: number;
  /** Bounded, and some member may do something (so the implication was really tested). */
  nonVacuous: number;
  /** …where a member is allowed something by a policy entry rather than a role. */
  viaPolicy: number;
  /** …where the actor is itself denied something by a deny entry (a deny excused by the shape's). */
  actorDenied: number;
  /** …where the actor is denied by a deny entry an operation the target may use elsewhere. */
  sameOpDenied: number;
  /** …where the actor is allowed, by a policy entry rather than a role, something the target may do. */
  actorViaPolicy: number;
}

const newTally = (): Tally => ({ runs: 0, bounded: 0, nonVacuous: 0, viaPolicy: 0, actorDenied: 0, sameOpDenied: 0, actorViaPolicy: 0 });

/**
 * If nothing is unheld, every member's allowed (op, path) — from `ip`, or from every source when
 * `everySource` — is allowed to the actor too. Throws with the whole case on a violation.
 */
function checkBound(rules: AccessRules, actor: TenantPrincipal, target: Target, ip: string, tally: Tally, everySource: boolean): void {
  tally.runs++;
  const evaluator = new AccessEvaluator(rules);
  if (evaluator.firstUnheld(actor, target.shape, ip) !== undefined) return;
  tally.bounded++;
  let any = false;
  let viaPolicy = false;
  let actorDenied = false;
  const deniedOps = new Set<Operation>();
  const allowedOps = new Set<Operation>();
  let actorViaPolicy = false;
  for (const source of everySource ? IPS : [ip]) {
    for (const operation of OPERATIONS) {
      for (const path of PATHS) {
        const mine = evaluator.decide(actor, operation, path, source);
        if (mine.reason === 'deny-entry') {
          actorDenied = true;
          deniedOps.add(operation);
        }
        for (const member of target.members) {
          const theirs = evaluator.decide(member, operation, path, source);
          if (!theirs.allowed) continue;
          any = true;
          allowedOps.add(operation);
          if (theirs.reason === 'policy') viaPolicy = true;
          if (mine.reason === 'policy') actorViaPolicy = true;
          if (!mine.allowed) {
            throw new Error(
              `firstUnheld found nothing unheld, yet ${member.type}:${member.id} may '${operation}' on '${path}' from ${source} ` +
                `(${JSON.stringify(theirs)}) while the actor may not (${JSON.stringify(mine)}).\nCase: ${describeCase(rules, actor, target.shape, ip)}`,
            );
          }
        }
      }
    }
  }
  if (any) {
    tally.nonVacuous++;
    if (viaPolicy) tally.viaPolicy++;
    if (actorDenied) tally.actorDenied++;
    if ([...deniedOps].some((op) => allowedOps.has(op))) tally.sameOpDenied++;
    if (actorViaPolicy) tally.actorViaPolicy++;
  }
}

/**
 * Random rules where, half the time, one more policy aims at the target: an allow entry naming it
 * (so that it is allowed something by a policy), and/or a deny that names it and the actor alike
 * (so that the actor's own deny is excused), each on a random pattern. Independently, half the
 * time another policy (maybe network-limited) allows the actor by name what the target's aimed
 * entry allows, or more, and the actor loses its roles: so that the actor holds by policy.
 */
function caseArb(targetArb: fc.Arbitrary<Target>) {
  return fc
    .tuple(
      rulesArb,
      actorArb,
      targetArb,
      ipArb,
      fc.record({
        aim: fc.boolean(),
        // 'TARGET': a selector aimed at the target (by its id, or id pattern, or a group of it).
        allowSelector: fc.oneof(fc.constantFrom(...SELECTORS), fc.constant('TARGET')),
        allowPath: patternArb,
        allowOps: fc.uniqueArray(opArb, { minLength: 1, maxLength: 3 }),
        denySelector: fc.option(fc.constantFrom('*', 'role:owner', 'role:admin', 'role:contributor', 'role:viewer', 'group:g', 'group:h')),
        denyPath: patternArb,
        denyOps: fc.uniqueArray(opArb, { minLength: 1, maxLength: 3 }),
        cidrs: fc.option(cidrsArb, { freq: 3 }),
        at: fc.nat(),
      }),
      fc.record({
        aim: fc.boolean(),
        dropRoles: fc.boolean(),
        wider: fc.constantFrom('same', '**', 'first/**'),
        extraOps: fc.subarray([...OPERATIONS], { maxLength: 2 }),
        cidrs: fc.option(cidrsArb, { freq: 2 }),
        at: fc.nat(),
      }),
    )
    .map(([rules, actor0, target, ip, aim, mine]) => {
      let actor = actor0;
      const policies = [...rules.policies];
      if (aim.aim) {
        const { type, idPatterns, groups } = target.shape;
        const selector =
          aim.allowSelector !== 'TARGET' ? aim.allowSelector : groups.length && aim.at % 3 === 0 ? `group:${groups[0]}` : `${type}:${idPatterns[aim.at % idPatterns.length]}`;
        const entries: AccessEntry[] = [{ effect: 'allow', principals: [selector], paths: [aim.allowPath], operations: aim.allowOps }];
        if (aim.denySelector) entries.push({ effect: 'deny', principals: [aim.denySelector], paths: [aim.denyPath], operations: aim.denyOps });
        policies.splice(aim.at % (policies.length + 1), 0, { name: 'aimed', entries, ...(aim.cidrs ? { sourceCidrs: aim.cidrs } : {}) });
      }
      if (mine.aim) {
        const first = aim.allowPath.split('/')[0]!;
        const path = mine.wider === 'same' ? aim.allowPath : mine.wider === '**' ? '**' : first === '**' ? '**' : `${first}/**`;
        // Held on every path, it may also stand in for the target's roles.
        const roleOps = mine.wider === '**' ? target.shape.roles.flatMap((r) => ROLE_OPERATIONS[r]) : [];
        const operations = [...new Set([...aim.allowOps, ...mine.extraOps, ...roleOps])];
        const entry: AccessEntry = { effect: 'allow', principals: [`${actor.type}:${actor.id}`], paths: [path], operations };
        policies.splice(mine.at % (policies.length + 1), 0, { name: 'actor-grant', entries: [entry], ...(mine.cidrs ? { sourceCidrs: mine.cidrs } : {}) });
        if (mine.dropRoles) actor = { ...actor, roles: [] };
      }
      return [{ ...rules, policies }, actor, target, ip] as const;
    });
}

const report = (name: string, t: Tally) =>
  console.info(`${name}: ${t.runs} runs, ${t.bounded} bounded, ${t.nonVacuous} non-vacuous (${t.viaPolicy} via policy, ${t.actorDenied} with the actor denied somewhere, ${t.sameOpDenied} of an operation the target uses, ${t.actorViaPolicy} where the actor holds by policy)`);

// ---------------------------------------------------------------------------------------------

describe('firstUnheld: the bound is sound (properties)', () => {
  it('concrete user/client shapes: nothing unheld ⇒ the target may do only what the actor may, from that source', () => {
    const tally = newTally();
    fc.assert(
      fc.property(caseArb(concreteTargetArb), ([rules, actor, target, ip]) => checkBound(rules, actor, target, ip, tally, false)),
      { numRuns: RUNS },
    );
    report('concrete, same source', tally);
    expect(tally.nonVacuous).toBeGreaterThan(RUNS / 10);
    expect(tally.viaPolicy).toBeGreaterThan(RUNS / 50);
    expect(tally.actorDenied).toBeGreaterThan(RUNS / 50);
    expect(tally.sameOpDenied).toBeGreaterThan(RUNS / 100);
  });

  it('concrete shapes, stronger: the bound holds whatever source the target later calls from', () => {
    const tally = newTally();
    fc.assert(
      fc.property(caseArb(concreteTargetArb), ([rules, actor, target, ip]) => checkBound(rules, actor, target, ip, tally, true)),
      { numRuns: RUNS },
    );
    report('concrete, every source', tally);
    expect(tally.nonVacuous).toBeGreaterThan(RUNS / 10);
    expect(tally.viaPolicy).toBeGreaterThan(RUNS / 50);
    expect(tally.actorViaPolicy).toBeGreaterThan(RUNS / 100);
  });

  it('pattern shapes (iam ARN patterns, federated name:*): nothing unheld ⇒ every sampled member is bounded', () => {
    const tally = newTally();
    fc.assert(
      fc.property(caseArb(patternTargetArb), ([rules, actor, target, ip]) => {
        expect(target.members.length).toBeGreaterThan(0);
        checkBound(rules, actor, target, ip, tally, true);
      }),
      { numRuns: PATTERN_RUNS },
    );
    report('pattern shapes, every source', tally);
    expect(tally.nonVacuous).toBeGreaterThan(PATTERN_RUNS / 10);
    expect(tally.viaPolicy).toBeGreaterThan(PATTERN_RUNS / 50);
    expect(tally.actorDenied).toBeGreaterThan(PATTERN_RUNS / 50);
    expect(tally.actorViaPolicy).toBeGreaterThan(PATTERN_RUNS / 100);
  });
});

// ---------------------------------------------------------------------------------------------
// Known tricky cases

const IP = '10.1.2.3';
const owner = principal('user', 'usr_ann', ['owner'], []);
const contributorShape = (extra: Partial<PrincipalShape> = {}): PrincipalShape => ({ type: 'user', idPatterns: ['usr_bob'], roles: ['contributor'], groups: [], ...extra });
const rulesOf = (...policies: AccessPolicy[]): AccessRules => ({ policies, tenantCidrs: [] });
const deny = (principals: string[], paths: string[], operations: Operation[]): AccessEntry => ({ effect: 'deny', principals, paths, operations });
const allow = (principals: string[], paths: string[], operations: Operation[]): AccessEntry => ({ effect: 'allow', principals, paths, operations });

/** The property for one hand-written case, on the enumerated universe, from every source. */
function assertBounded(rules: AccessRules, actor: TenantPrincipal, shape: PrincipalShape, members: TenantPrincipal[]): void {
  checkBound(rules, actor, { shape, members }, IP, newTally(), true);
}

describe('firstUnheld: known tricky cases', () => {
  it("a tenant-wide deny on '*' binds actor and target alike: an Owner may hand out Contributor", () => {
    const rules = rulesOf({ name: 'lockdown', entries: [deny(['*'], ['db-main/**'], ['read', 'delete'])] });
    const evaluator = new AccessEvaluator(rules);
    expect(evaluator.firstUnheld(owner, contributorShape(), IP)).toBeUndefined();
    // And it is sound: the contributor is denied there too.
    const bob = principal('user', 'usr_bob', ['contributor'], []);
    expect(evaluator.decide(bob, 'read', 'db-main/x', IP)).toMatchObject({ allowed: false, reason: 'deny-entry' });
    assertBounded(rules, owner, contributorShape(), [bob]);
  });

  it('a deny on role:admin shared by an admin actor and an admin target is excused', () => {
    const actor = principal('client', 'cli_1', ['admin'], []);
    const shape: PrincipalShape = { type: 'user', idPatterns: ['usr_bob'], roles: ['admin'], groups: [] };
    const rules = rulesOf({ name: 'no-prod-deletes', entries: [deny(['role:admin'], ['a/**'], ['delete', 'grant'])] });
    const evaluator = new AccessEvaluator(rules);
    expect(evaluator.firstUnheld(actor, shape, IP)).toBeUndefined();
    assertBounded(rules, actor, shape, [principal('user', 'usr_bob', ['admin'], [])]);
    // A target without the role is not denied, so the actor's deny is not excused for it.
    expect(evaluator.firstUnheld(actor, contributorShape(), IP)).toEqual({ operation: 'delete', path: '**' });
  });

  it("an actor's wider deny is not excused by the target's narrower one: refused", () => {
    // Both are denied reads below a/b, the actor (only) below all of a.
    const rules = rulesOf({ name: 'p', entries: [deny(['*'], ['a/b/**'], ['read']), deny(['user:usr_ann'], ['a/**'], ['read'])] });
    const evaluator = new AccessEvaluator(rules);
    expect(evaluator.firstUnheld(owner, contributorShape(), IP)).toEqual({ operation: 'read', path: '**' });
    // Rightly: the target may read a/x, the actor may not.
    const bob = principal('user', 'usr_bob', ['contributor'], []);
    expect(evaluator.decide(bob, 'read', 'a/ab', IP).allowed).toBe(true);
    expect(evaluator.decide(owner, 'read', 'a/ab', IP).allowed).toBe(false);
    // The other way round (the actor's deny narrower than the shared one) is fine.
    const flipped = rulesOf({ name: 'p', entries: [deny(['*'], ['a/**'], ['read']), deny(['user:usr_ann'], ['a/b/**'], ['read'])] });
    expect(new AccessEvaluator(flipped).firstUnheld(owner, contributorShape(), IP)).toBeUndefined();
    assertBounded(flipped, owner, contributorShape(), [bob]);
  });

  it("an allow entry on 'group:g' names a target in g: the actor must hold what it allows", () => {
    const rules = rulesOf({ name: 'g-reads', entries: [allow(['group:g'], ['b/**'], ['read', 'update'])] });
    const evaluator = new AccessEvaluator(rules);
    const shape: PrincipalShape = { type: 'client', idPatterns: ['cli_2'], roles: [], groups: ['g'] };
    const member = principal('client', 'cli_2', [], ['g']);
    expect(evaluator.decide(member, 'update', 'b/ab', IP)).toMatchObject({ allowed: true, reason: 'policy', policy: 'g-reads' });
    // A viewer holds read but not update there.
    expect(evaluator.firstUnheld(principal('user', 'usr_ann', ['viewer'], []), shape, IP)).toEqual({ operation: 'update', path: 'b/**', policy: 'g-reads' });
    // A member of g without roles holds it through the same entry.
    const peer = principal('user', 'usr_ann', [], ['g']);
    expect(evaluator.firstUnheld(peer, shape, IP)).toBeUndefined();
    assertBounded(rules, peer, shape, [member]);
    // …but not when the entry only counts from some networks: that cannot be passed on.
    const limited = rulesOf({ name: 'g-reads', entries: [allow(['group:g'], ['b/**'], ['read', 'update'])], sourceCidrs: ['10.0.0.0/8'] });
    expect(new AccessEvaluator(limited).firstUnheld(peer, shape, IP)).toEqual({ operation: 'read', path: 'b/**', policy: 'g-reads' });
    // A target not in g is not named by the entry, so nothing is needed for it.
    expect(evaluator.firstUnheld(peer, { ...shape, groups: [] }, IP)).toBeUndefined();
  });

  it('an iam pattern shape is named by an allow on an overlapping selector, and excused only by a deny naming all of it', () => {
    const shape: PrincipalShape = { type: 'iam', idPatterns: ['arn:aws:iam::111:role/dev*'], roles: ['viewer'], groups: [] };
    const actor = principal('user', 'usr_ann', ['contributor'], []);
    // The allow names only some of the shape's ids: still counted (they may be minted).
    const some = rulesOf({ name: 'p', entries: [allow(['iam:arn:aws:iam::111:role/dev-x'], ['a/**'], ['grant'])] });
    expect(new AccessEvaluator(some).firstUnheld(actor, shape, IP)).toEqual({ operation: 'grant', path: 'a/**', policy: 'p' });
    // A deny naming only some of the shape does not excuse the actor's deny…
    const partial = rulesOf({ name: 'p', entries: [deny(['iam:arn:aws:iam::111:role/dev-x', 'user:usr_ann'], ['a/**'], ['read'])] });
    expect(new AccessEvaluator(partial).firstUnheld(actor, shape, IP)).toEqual({ operation: 'read', path: '**' });
    // …one naming all of it does.
    const whole = rulesOf({ name: 'p', entries: [deny(['iam:arn:aws:iam::111:*', 'user:usr_ann'], ['a/**'], ['read'])] });
    expect(new AccessEvaluator(whole).firstUnheld(actor, shape, IP)).toBeUndefined();
    assertBounded(whole, actor, shape, ['arn:aws:iam::111:role/dev', 'arn:aws:iam::111:role/dev-x'].map((id) => principal('iam', id, ['viewer'], [])));
  });
});
