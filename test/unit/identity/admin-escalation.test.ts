import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../../lambdas/core/credentials';
import { ForbiddenError, InvalidRequestError, UnauthenticatedError } from '../../../lambdas/core/errors';
import { ClientAdmin } from '../../../lambdas/core/identity/clients';
import { NamedRecordAdmin } from '../../../lambdas/core/identity/named-records';
import type { AdminRequest } from '../../../lambdas/core/identity/requests';
import { UserAdmin } from '../../../lambdas/core/identity/users';
import type { AccessEntry } from '../../../lambdas/core/access/policy';
import type { Role, TenantPrincipal } from '../../../lambdas/core/principal';
import type { ClientRecord } from '../../../lambdas/ports/tenant-repository';
import { TENANT_A } from '../support/fakes';
import { groupRecord, harness, PASSWORD, passwordHash, stamp, userRecord } from '../support/identity-fixtures';

// The CloudTruth rule beyond roles: nobody gets more than the actor holds through a group's
// allow entries, a wildcard selector, an IAM or issuer binding, a group they leave, a group
// deleted under them, or a credential the actor resets and then uses itself.

const IP = '203.0.113.7';
const CI = `${TENANT_A}.cli_bbbbbbbbbbbbbbbbbbbb`;

let hash: string;
let h: ReturnType<typeof harness>;
let users: UserAdmin;
let clients: ClientAdmin;
let named: NamedRecordAdmin;

const as = (id: string, roles: Role[], groups: string[] = [], extra: Partial<TenantPrincipal> = {}): AdminRequest => ({
  principal: { kind: 'tenant', tenantId: TENANT_A, type: 'user', id, roles, groups, ...extra },
  sourceIp: IP,
  rules: () => h.identities.accessRules(TENANT_A),
});
const alice = () => as('alice', ['admin']);
const owner = () => as('root', ['owner']);

function policy(name: string, ...entries: AccessEntry[]) {
  h.identities.seed(TENANT_A, 'policy', { ...stamp(), tenantId: TENANT_A, name, entries } as never);
}
const deny = (principal: string, operations: AccessEntry['operations'], paths = ['prod/**']): AccessEntry => ({ effect: 'deny', principals: [principal], paths, operations });
const allow = (principal: string, operations: AccessEntry['operations'], paths = ['prod/**']): AccessEntry => ({ effect: 'allow', principals: [principal], paths, operations });

async function refused(promise: Promise<unknown>, type: new (...args: never[]) => Error = ForbiddenError): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(error, 'expected a refusal').toBeInstanceOf(type);
  return error!;
}

beforeAll(async () => {
  hash = await passwordHash();
});

beforeEach(async () => {
  h = harness();
  users = new UserAdmin({ records: h.identities, logins: h.identities, clock: h.clock, totp: h.totp });
  clients = new ClientAdmin({ records: h.identities, logins: h.identities, clock: h.clock });
  named = new NamedRecordAdmin({ records: h.identities, clock: h.clock });
  h.identities.seed(TENANT_A, 'user', userRecord(TENANT_A, 'alice', hash, { roles: ['admin'] }));
  h.identities.seed(TENANT_A, 'user', userRecord(TENANT_A, 'bob', hash, { roles: ['contributor'], totp: { status: 'enabled', sealedSecret: 'x', lastStep: 0 } }));
  const ci: ClientRecord = { ...stamp(), scope: TENANT_A, clientId: CI, name: 'ci', secretHash: await hashSecret('cs_current'), roles: ['contributor'], groups: [], status: 'active', generation: 1 };
  h.identities.seed(TENANT_A, 'client', ci as never);
  h.identities.seed(TENANT_A, 'group', groupRecord(TENANT_A, 'contractors', []));
  h.identities.seed(TENANT_A, 'group', groupRecord(TENANT_A, 'prod-readers', []));
});

describe('taking over a principal by resetting its credential', () => {
  beforeEach(() => policy('alice-no-prod-read', deny('user:alice', ['read'])));

  it("refuses an Admin denied read on prod/** a reset of a Contributor's password, secret or TOTP, and changes nothing", async () => {
    const before = { bob: h.identities.peek(TENANT_A, 'user', 'bob'), ci: h.identities.peek(TENANT_A, 'client', CI) };
    const messages = [
      (await refused(users.setPassword(alice(), 'bob', { newPassword: 'taken-over-by-alice!' }))).message,
      (await refused(clients.rotateSecret(alice(), CI))).message,
      (await refused(users.disableTotp(alice(), 'bob'))).message,
    ];
    for (const message of messages) expect(message).toBe("You cannot reset the credentials of a principal that may 'read' on '**': you do not hold it there yourself.");
    expect(h.identities.peek(TENANT_A, 'user', 'bob')).toEqual(before.bob);
    expect(h.identities.peek(TENANT_A, 'client', CI)).toEqual(before.ci);
  });

  it('refuses it too when the target holds the denied access through a policy, not a role', async () => {
    h.identities.seed(TENANT_A, 'user', userRecord(TENANT_A, 'carol', hash, { roles: [] }));
    policy('carol-reads-prod', allow('user:carol', ['read'], ['prod/db']));
    const error = await refused(users.setPassword(alice(), 'carol', { newPassword: 'taken-over-by-alice!' }));
    expect(error.message).toContain("'read' on 'prod/db'");
  });

  it('allows the reset when the Admin holds everything the target may do', async () => {
    h.identities.seed(TENANT_A, 'user', userRecord(TENANT_A, 'dave', hash, { roles: [] }));
    policy('dave-reads-dev', allow('user:dave', ['read'], ['dev/**']));
    await users.setPassword(alice(), 'dave', { newPassword: 'an-entirely-new-passphrase' });
    // And an Admin under no deny may reset a Contributor.
    await users.setPassword(as('eve', ['admin']), 'bob', { newPassword: 'an-entirely-new-passphrase' });
  });
});

describe('denies that bind the actor and the target alike', () => {
  it('lets an Owner reset a Contributor under a tenant-wide deny both share, and create one', async () => {
    policy('nobody-deletes-audit', deny('*', ['delete'], ['audit/**']));
    await users.setPassword(owner(), 'bob', { newPassword: 'an-entirely-new-passphrase' });
    await users.disableTotp(owner(), 'bob');
    await users.create(owner(), { username: 'cleo', password: 'a-long-password-1', roles: ['contributor'], groups: [] });
  });

  it("lets an Admin reset another Admin when a deny on 'role:admin' binds both", async () => {
    policy('admins-no-payroll', deny('role:admin', ['read'], ['payroll/**']));
    h.identities.seed(TENANT_A, 'user', userRecord(TENANT_A, 'adam', hash, { roles: ['admin'] }));
    await users.setPassword(alice(), 'adam', { newPassword: 'an-entirely-new-passphrase' });
  });

  it("still refuses when the actor's deny is wider than the target's", async () => {
    policy('alice-no-prod', deny('user:alice', ['read'], ['prod/**']));
    policy('bob-no-prod-db', deny('user:bob', ['read'], ['prod/db']));
    await refused(users.setPassword(alice(), 'bob', { newPassword: 'an-entirely-new-passphrase' }));
  });
});

describe('groups as such', () => {
  it("refuses giving a group a role that 'role:' allow entries stretch past what the Admin holds", async () => {
    policy('alice-no-prod-delete', deny('user:alice', ['delete']));
    policy('viewers-delete-prod', allow('role:viewer', ['delete']));
    h.identities.seed(TENANT_A, 'user', userRecord(TENANT_A, 'bob', hash, { roles: [], groups: ['prod-readers'] }));
    const error = await refused(named.putGroup(alice(), 'prod-readers', { roles: ['viewer'] }));
    expect(error.message).toContain("(policy 'viewers-delete-prod')");
    expect(h.identities.peek(TENANT_A, 'group', 'prod-readers')!.roles).toEqual([]);
  });

  it("refuses an Admin taking a role from a group when a deny on that role binds where the Admin is denied", async () => {
    policy('alice-no-prod-read', deny('user:alice', ['read']));
    policy('viewers-no-prod', deny('role:viewer', ['read']));
    h.identities.seed(TENANT_A, 'group', groupRecord(TENANT_A, 'auditors', ['viewer']));
    const error = await refused(named.putGroup(alice(), 'auditors', { roles: [] }));
    expect(error.message).toContain("You cannot lift a deny of 'read' on 'prod/**' (policy 'viewers-no-prod')");
    await refused(named.remove(alice(), 'group', 'auditors'));
    expect(h.identities.peek(TENANT_A, 'group', 'auditors')!.roles).toEqual(['viewer']);
    await named.putGroup(owner(), 'auditors', { roles: [] });
  });

  it("refuses recreating a group whose 'group:' allows reach past what the Admin holds", async () => {
    policy('alice-no-prod-read', deny('user:alice', ['read']));
    policy('ops-read-prod', allow('group:ops', ['read']));
    await refused(named.putGroup(alice(), 'ops', { roles: [] }));
    await named.putGroup(owner(), 'ops', { roles: [] });
  });
});

describe('group membership', () => {
  beforeEach(() => {
    policy('contractors-no-prod', deny('group:contractors', ['create', 'read', 'update', 'delete', 'list', 'grant']));
    policy('prod-readers', allow('group:prod-readers', ['read']));
  });
  const contractorAlice = () => as('alice', ['admin'], ['contractors']);

  it("refuses to put a new principal in a group whose allow entries reach what the actor is denied", async () => {
    h.identities.seed(TENANT_A, 'user', userRecord(TENANT_A, 'alice', hash, { roles: ['admin'], groups: ['contractors'] }));
    const error = await refused(clients.create(contractorAlice(), { name: 'sock', roles: [], groups: ['prod-readers'] }));
    expect(error.message).toBe("You cannot give this principal 'read' on 'prod/**' (policy 'prod-readers'): you do not hold it there yourself.");
    await refused(users.create(contractorAlice(), { username: 'sock', password: 'a-long-password-1', roles: [], groups: ['prod-readers'] }));
    await refused(users.update(contractorAlice(), 'bob', { groups: ['prod-readers'] }));
    expect(h.identities.peek(TENANT_A, 'user', 'sock')).toBeUndefined();
    expect(h.identities.peek(TENANT_A, 'user', 'bob')!.groups).toEqual([]);
    // Someone who holds read on prod may.
    await clients.create(owner(), { name: 'reader', roles: [], groups: ['prod-readers'] });
  });

  it('refuses an Admin leaving the group its deny names, and deleting that group; an Owner may delete it', async () => {
    h.identities.seed(TENANT_A, 'user', userRecord(TENANT_A, 'alice', hash, { roles: ['admin'], groups: ['contractors'] }));
    await refused(users.update(contractorAlice(), 'alice', { groups: [] }));
    expect(h.identities.peek(TENANT_A, 'user', 'alice')!.groups).toEqual(['contractors']);
    const error = await refused(named.remove(contractorAlice(), 'group', 'contractors'));
    expect(error.message).toBe("You cannot lift a deny of 'create' on 'prod/**' (policy 'contractors-no-prod'): you do not hold it there yourself.");
    expect(h.identities.peek(TENANT_A, 'group', 'contractors')).toBeDefined();
    await named.remove(owner(), 'group', 'contractors');
    expect(h.identities.peek(TENANT_A, 'group', 'contractors')).toBeUndefined();
  });

  it('ends the tokens of a principal that joins a group, so the group denies bind at once', async () => {
    const generation = h.identities.peek(TENANT_A, 'user', 'bob')!.generation;
    await users.update(owner(), 'bob', { groups: ['contractors'] });
    expect(h.identities.peek(TENANT_A, 'user', 'bob')!.generation).toBeGreaterThan(generation);
    const after = h.identities.peek(TENANT_A, 'user', 'bob')!.generation;
    await users.update(owner(), 'bob', { displayName: 'Bob' });
    expect(h.identities.peek(TENANT_A, 'user', 'bob')!.generation).toBe(after);
  });

  it('still refuses a group that does not exist, but tolerates a stale membership of a deleted one', async () => {
    const error = await refused(users.update(owner(), 'bob', { groups: ['nope'] }), InvalidRequestError);
    expect(error.message).toBe("No group 'nope'.");
    h.identities.seed(TENANT_A, 'user', userRecord(TENANT_A, 'stale', hash, { roles: ['viewer'], groups: ['gone'] }));
    await users.update(owner(), 'stale', { roles: ['contributor'] });
  });
});

describe('allow entries that name roles or id patterns', () => {
  beforeEach(() => policy('alice-no-prod-delete', deny('user:alice', ['delete'])));

  it("refuses a Viewer when 'role:viewer' is allowed delete where the Admin is denied it", async () => {
    policy('viewers-delete-prod', allow('role:viewer', ['delete']));
    const error = await refused(users.create(alice(), { username: 'vic', password: 'a-long-password-1', roles: ['viewer'], groups: [] }));
    expect(error.message).toContain("(policy 'viewers-delete-prod')");
  });

  it("refuses any new client when 'client:*' is allowed what the Admin is denied", async () => {
    policy('clients-delete-prod', allow(`client:${TENANT_A}.cli_*`, ['delete']));
    await refused(clients.create(alice(), { name: 'any', roles: [], groups: [] }));
    const before = h.identities.peek(TENANT_A, 'user', 'bob');
    await refused(clients.rotateSecret(alice(), CI));
    expect(h.identities.peek(TENANT_A, 'user', 'bob')).toEqual(before);
  });

  it('refuses an IAM binding whose roles, or whose assumed-role sessions, reach what the Admin is denied', async () => {
    await refused(named.putIamBinding(alice(), 'deployers', { arnPattern: 'arn:aws:iam::123456789012:role/deploy', roles: ['contributor'], status: 'active' }));
    policy('deploy-sessions', allow('iam:arn:aws:sts::123456789012:assumed-role/deploy/*', ['delete']));
    const error = await refused(named.putIamBinding(alice(), 'deployers', { arnPattern: 'arn:aws:iam::123456789012:role/deploy', roles: ['viewer'], status: 'active' }));
    expect(error.message).toContain("(policy 'deploy-sessions')");
    // A binding of IAM users cannot mint assumed-role sessions: the entry does not reach it.
    await named.putIamBinding(alice(), 'users', { arnPattern: 'arn:aws:iam::123456789012:user/ci-*', roles: ['viewer'], status: 'active' });
    expect(h.identities.peek(TENANT_A, 'iam-binding', 'deployers')).toBeUndefined();
  });

  it("refuses a trusted issuer whose principals 'federated:<name>:*' are allowed what the Admin is denied", async () => {
    policy('github-delete-prod', allow('federated:github:repo:acme/*', ['delete']));
    const issuer = (name: string) =>
      named.putIssuer(alice(), name, { issuer: 'https://token.actions.githubusercontent.com', jwksUri: 'https://token.actions.githubusercontent.com/.well-known/jwks', audiences: ['coffer'], bindings: [{ claims: { repository: 'acme/app' }, roles: ['viewer'] }], status: 'active' });
    await refused(issuer('github'));
    expect(h.identities.peek(TENANT_A, 'issuer', 'github')).toBeUndefined();
    await issuer('gitlab');
  });
});

describe('a client rotating its own secret', () => {
  const self = () => as(CI, ['contributor'], [], { type: 'client' });

  it('must send its current secret: missing is a 400, wrong a generic 401 that counts as a failure', async () => {
    await refused(clients.rotateSecret(self(), CI), InvalidRequestError);
    const wrong = await refused(clients.rotateSecret(self(), CI, 'cs_wrong'), UnauthenticatedError);
    expect(wrong.message).toBe('The credentials are missing, invalid or expired.');
    // Counted against the caller's address, never on the client (which no one can lock).
    expect(h.identities.peek(TENANT_A, 'client', CI)!.failedAttempts).toBeUndefined();
    expect([...h.identities.sourceCounts.values()]).toEqual([1]);
    const rotated = await clients.rotateSecret(self(), CI, 'cs_current');
    expect(rotated.clientSecret).toMatch(/^cs_/);
    expect((await h.auth.clientCredentials(CI, rotated.clientSecret, IP)).principal).toMatchObject({ id: CI });
  });
});

describe('changing your own password', () => {
  it('claims each attempt before checking it, so a burst with the right password in it still locks', async () => {
    const bob = () => as('bob', ['contributor']);
    const guesses = [...Array.from({ length: 10 }, (_, i) => `wrong-guess-${i}`), PASSWORD];
    const results = await Promise.allSettled(guesses.map((currentPassword) => users.setPassword(bob(), 'bob', { currentPassword, newPassword: 'a-new-password-by-thief' })));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(h.identities.peek(TENANT_A, 'user', 'bob')!.lockedUntil).toBeGreaterThan(h.clock.now());
    await refused(h.auth.password({ tenant: TENANT_A, username: 'bob', password: 'a-new-password-by-thief' }), UnauthenticatedError);
  });

  it('counts no attempt for a refused new password, and the right current password clears the streak', async () => {
    const bob = () => as('bob', ['contributor']);
    for (let i = 0; i < 6; i++) await refused(users.setPassword(bob(), 'bob', { currentPassword: PASSWORD, newPassword: 'short' }), InvalidRequestError);
    expect(h.identities.peek(TENANT_A, 'user', 'bob')!.failedAttempts ?? 0).toBe(0);
    await refused(users.setPassword(bob(), 'bob', { currentPassword: 'wrong-guess', newPassword: 'an-entirely-new-passphrase' }), UnauthenticatedError);
    expect(h.identities.peek(TENANT_A, 'user', 'bob')!.failedAttempts).toBe(1);
    await users.setPassword(bob(), 'bob', { currentPassword: PASSWORD, newPassword: 'an-entirely-new-passphrase' });
    expect(h.identities.peek(TENANT_A, 'user', 'bob')!.failedAttempts).toBe(0);
  });

  it('changes it with the right current password', async () => {
    await users.setPassword(as('bob', ['contributor']), 'bob', { currentPassword: PASSWORD, newPassword: 'an-entirely-new-passphrase' });
    await expect(h.auth.password({ tenant: TENANT_A, username: 'bob', password: 'an-entirely-new-passphrase' })).rejects.toThrow(/one-time code/);
  });
});
