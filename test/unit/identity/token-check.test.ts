import { beforeEach, describe, expect, it } from 'vitest';
import { UnauthenticatedError } from '../../../lambdas/core/errors';
import { currentPrincipal, type VerifiedToken } from '../../../lambdas/core/identity/token-check';
import type { PlatformPrincipal, Role, TenantPrincipal } from '../../../lambdas/core/principal';
import type { SessionRecord } from '../../../lambdas/ports/identity';
import type { ClientRecord } from '../../../lambdas/ports/tenant-repository';
import { InMemoryClientRepository, TENANT_A, TENANT_B } from '../support/fakes';
import { groupRecord, iamBinding, issuerRecord, userRecord } from '../support/identity-fixtures';
import { InMemoryIdentityStore } from '../support/identity-store';

const NOW = Date.parse('2026-11-24T12:00:00.000Z');
const SID = 'c2Vzc2lvbi1pZC0wMDAwMQ';
const CLIENT = `${TENANT_A}.cli_${'c'.repeat(20)}`;
const PLATFORM = `platform.cli_${'p'.repeat(20)}`;

let clients: InMemoryClientRepository;
let store: InMemoryIdentityStore;

const session = (extra: Partial<SessionRecord> = {}): SessionRecord => ({
  tenantId: TENANT_A,
  sessionId: SID,
  username: 'alice',
  currentHash: 'h',
  spent: [],
  generation: 2,
  mfa: false,
  createdAt: NOW,
  refreshExpiresAt: NOW + 1,
  absoluteExpiresAt: NOW + 2,
  revoked: false,
  ...extra,
});

const client = (extra: Partial<ClientRecord> = {}): ClientRecord => ({
  scope: TENANT_A,
  clientId: CLIENT,
  name: 'ci',
  secretHash: 'scrypt$x',
  roles: ['contributor'],
  status: 'active',
  generation: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'test',
  ...extra,
});

function userToken(roles: readonly Role[], groups: readonly string[] = [], generation = 2): VerifiedToken {
  const principal: TenantPrincipal = { kind: 'tenant', tenantId: TENANT_A, type: 'user', id: 'alice', roles, groups, authMethod: 'password', mfa: false, sessionId: SID };
  return { principal, source: { kind: 'user', name: 'alice' }, generation, sessionId: SID };
}

async function revoked(token: VerifiedToken): Promise<void> {
  const error = await currentPrincipal(token, store).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnauthenticatedError);
}

beforeEach(() => {
  clients = new InMemoryClientRepository();
  store = new InMemoryIdentityStore(clients);
  store.seed(TENANT_A, 'user', userRecord(TENANT_A, 'alice', 'scrypt$x', { roles: ['admin', 'viewer'], groups: ['ops'], generation: 2 }));
  store.seed(TENANT_A, 'group', groupRecord(TENANT_A, 'ops', ['contributor']));
  store.putSession(session());
});

describe('currentPrincipal: users', () => {
  it('returns the principal, re-derived, in one store read', async () => {
    const token = userToken(['admin', 'contributor', 'viewer'], ['ops']);
    expect(await currentPrincipal(token, store)).toEqual({ ...token.principal, roles: ['admin', 'contributor', 'viewer'], groups: ['ops'] });
    expect(store.calls.loadTokenState).toBe(1);
    expect(Object.entries(store.calls).filter(([name, n]) => n > 0 && name !== 'loadTokenState')).toEqual([]);
  });

  it('revokes when the user record is gone', async () => {
    await store.remove(TENANT_A, 'user', 'alice', 1, 0);
    await revoked(userToken(['admin']));
  });

  it('revokes when the user is disabled', async () => {
    store.seed(TENANT_A, 'user', { ...store.peek(TENANT_A, 'user', 'alice')!, status: 'disabled' });
    await revoked(userToken(['admin']));
  });

  it('revokes when the generation moved on (password changed) or the token is from a later one', async () => {
    await revoked(userToken(['admin'], [], 1));
    await revoked(userToken(['admin'], [], 3));
  });

  it('revokes when the session was logged out', async () => {
    await store.revokeSession(TENANT_A, SID, NOW + 2);
    await revoked(userToken(['admin']));
  });

  it('revokes a user token whose session does not exist', async () => {
    store.putSession(session({ sessionId: 'other-session-id-00000' }));
    await revoked({ ...userToken(['admin']), sessionId: 'missing-session-00000' });
  });

  it("revokes when the session belongs to an older generation than the user's", async () => {
    store.putSession(session({ generation: 1 }));
    await revoked(userToken(['admin']));
  });
});

describe('currentPrincipal: roles only shrink', () => {
  it('drops a role the user lost since the token was issued', async () => {
    store.seed(TENANT_A, 'user', { ...store.peek(TENANT_A, 'user', 'alice')!, roles: ['viewer'] });
    const p = (await currentPrincipal(userToken(['admin', 'contributor', 'viewer'], ['ops']), store)) as TenantPrincipal;
    expect(p.roles).toEqual(['contributor', 'viewer']);
  });

  it('does not add a role the user gained since (that waits for the next login)', async () => {
    store.seed(TENANT_A, 'user', { ...store.peek(TENANT_A, 'user', 'alice')!, roles: ['owner', 'admin', 'viewer'] });
    const p = (await currentPrincipal(userToken(['viewer'], []), store)) as TenantPrincipal;
    expect(p.roles).toEqual(['viewer']);
  });

  it("drops a group's roles once the user is removed from the group", async () => {
    store.seed(TENANT_A, 'user', { ...store.peek(TENANT_A, 'user', 'alice')!, groups: [] });
    const p = (await currentPrincipal(userToken(['admin', 'contributor', 'viewer'], ['ops']), store)) as TenantPrincipal;
    expect(p.roles).toEqual(['admin', 'viewer']);
    expect(p.groups).toEqual([]);
  });

  it("drops a group's roles once the group is deleted", async () => {
    await store.remove(TENANT_A, 'group', 'ops', 1, 0);
    const p = (await currentPrincipal(userToken(['admin', 'contributor', 'viewer'], ['ops']), store)) as TenantPrincipal;
    expect(p.roles).toEqual(['admin', 'viewer']);
    expect(p.groups).toEqual([]);
  });

  it("follows a change of the group's own roles, downwards only", async () => {
    store.seed(TENANT_A, 'group', groupRecord(TENANT_A, 'ops', ['owner']));
    store.seed(TENANT_A, 'user', { ...store.peek(TENANT_A, 'user', 'alice')!, roles: [] });
    const p = (await currentPrincipal(userToken(['contributor'], ['ops']), store)) as TenantPrincipal;
    expect(p.roles).toEqual([]);
    expect(p.groups).toEqual(['ops']);
  });

  it('ignores a group the user joined after the token was issued', async () => {
    store.seed(TENANT_A, 'group', groupRecord(TENANT_A, 'admins', ['owner']));
    store.seed(TENANT_A, 'user', { ...store.peek(TENANT_A, 'user', 'alice')!, groups: ['ops', 'admins'] });
    const p = (await currentPrincipal(userToken(['viewer'], ['ops']), store)) as TenantPrincipal;
    expect(p.roles).toEqual(['viewer']);
    expect(p.groups).toEqual(['ops']);
  });

  it('ignores a group the token claims but the user never belonged to', async () => {
    store.seed(TENANT_A, 'group', groupRecord(TENANT_A, 'admins', ['owner']));
    const p = (await currentPrincipal(userToken(['owner', 'viewer'], ['admins']), store)) as TenantPrincipal;
    expect(p.roles).toEqual(['viewer']);
    expect(p.groups).toEqual([]);
  });
});

describe('currentPrincipal: clients, IAM and federated tokens', () => {
  const clientToken = (roles: readonly Role[], generation = 1, sid = 'single-token-handle-01'): VerifiedToken => ({
    principal: { kind: 'tenant', tenantId: TENANT_A, type: 'client', id: CLIENT, roles, groups: [], authMethod: 'client_credentials', sessionId: sid },
    source: { kind: 'client', name: CLIENT },
    generation,
    sessionId: sid,
  });

  it('accepts a tenant client with no session record (single tokens have none)', async () => {
    await clients.put(client(), true);
    expect(await currentPrincipal(clientToken(['contributor']), store)).toMatchObject({ id: CLIENT, roles: ['contributor'] });
  });

  it('revokes a client token whose handle was revoked (a tombstone), and only that one', async () => {
    await clients.put(client(), true);
    await store.revokeSession(TENANT_A, 'single-token-handle-01', NOW + 3600_000);
    await revoked(clientToken(['contributor']));
    expect(await currentPrincipal(clientToken(['contributor'], 1, 'single-token-handle-02'), store)).toMatchObject({ id: CLIENT });
  });

  it('revokes a client token after a secret rotation or a disable', async () => {
    await clients.put(client({ generation: 2 }), true);
    await revoked(clientToken(['contributor'], 1));
    await clients.put(client({ generation: 2, status: 'disabled' }), false);
    await revoked(clientToken(['contributor'], 2));
  });

  it('treats a client record without a generation as generation 1', async () => {
    const { generation: _g, ...legacy } = client();
    await clients.put(legacy, true);
    await expect(currentPrincipal(clientToken(['contributor'], 1), store)).resolves.toMatchObject({ id: CLIENT });
    await revoked(clientToken(['contributor'], 2));
  });

  it("does not find a tenant's client under another tenant", async () => {
    await clients.put(client({ scope: TENANT_B }), true);
    await revoked(clientToken(['contributor']));
  });

  it('re-derives an IAM principal from its binding and the binding’s groups', async () => {
    store.seed(TENANT_A, 'iam-binding', iamBinding(TENANT_A, 'deploy', 'arn:aws:iam::123456789012:role/Deploy', ['viewer'], { groups: ['ops'], generation: 4 }));
    const arn = 'arn:aws:sts::123456789012:assumed-role/Deploy/s';
    const token: VerifiedToken = {
      principal: { kind: 'tenant', tenantId: TENANT_A, type: 'iam', id: arn, roles: ['contributor', 'viewer'], groups: ['ops'], authMethod: 'aws_iam' },
      source: { kind: 'iam-binding', name: 'deploy' },
      generation: 4,
      sessionId: 'iam-token-handle-00001',
    };
    expect(await currentPrincipal(token, store)).toMatchObject({ roles: ['contributor', 'viewer'], groups: ['ops'] });
    store.seed(TENANT_A, 'iam-binding', { ...store.peek(TENANT_A, 'iam-binding', 'deploy')!, groups: [] });
    expect(await currentPrincipal(token, store)).toMatchObject({ roles: ['viewer'], groups: [] });
    store.seed(TENANT_A, 'iam-binding', { ...store.peek(TENANT_A, 'iam-binding', 'deploy')!, status: 'disabled' });
    await revoked(token);
  });

  it('re-derives a federated principal from the roles its issuer still binds', async () => {
    store.seed(
      TENANT_A,
      'issuer',
      issuerRecord(TENANT_A, 'github', 'https://gh', [
        { claims: { repository: 'acme/app' }, roles: ['contributor'] },
        { claims: { repository: 'acme/*' }, roles: ['viewer'] },
      ]),
    );
    const token: VerifiedToken = {
      principal: { kind: 'tenant', tenantId: TENANT_A, type: 'federated', id: 'github:repo:acme/app', roles: ['contributor', 'viewer'], groups: [], authMethod: 'jwt' },
      source: { kind: 'issuer', name: 'github' },
      generation: 1,
      sessionId: 'jwt-token-handle-00001',
    };
    expect(await currentPrincipal(token, store)).toMatchObject({ roles: ['contributor', 'viewer'] });
    store.seed(TENANT_A, 'issuer', { ...store.peek(TENANT_A, 'issuer', 'github')!, bindings: [{ claims: { repository: 'acme/*' }, roles: ['viewer'] }] });
    expect(await currentPrincipal(token, store)).toMatchObject({ roles: ['viewer'] });
    store.seed(TENANT_A, 'issuer', { ...store.peek(TENANT_A, 'issuer', 'github')!, generation: 2 });
    await revoked(token);
  });
});

describe('currentPrincipal: platform principals', () => {
  const principal: PlatformPrincipal = { kind: 'platform', type: 'platform', id: PLATFORM, authMethod: 'client_credentials', sessionId: 'platform-handle-000001' };
  const token = (generation = 1): VerifiedToken => ({ principal, source: { kind: 'client', name: PLATFORM }, generation, sessionId: 'platform-handle-000001' });

  beforeEach(async () => {
    await clients.put(client({ scope: 'platform', clientId: PLATFORM, roles: [] }), true);
  });

  it('checks the platform client record and returns the principal unchanged', async () => {
    expect(await currentPrincipal(token(), store)).toEqual(principal);
    expect(store.calls.loadTokenState).toBe(1);
  });

  it('revokes it once the platform client is disabled, rotated or deleted', async () => {
    await clients.put(client({ scope: 'platform', clientId: PLATFORM, roles: [], status: 'disabled' }), false);
    await revoked(token());
    await clients.put(client({ scope: 'platform', clientId: PLATFORM, roles: [], generation: 2 }), false);
    await revoked(token(1));
    clients.clients.delete(`platform#${PLATFORM}`);
    await revoked(token());
  });

  it('is not satisfied by a tenant client of the same name', async () => {
    clients.clients.delete(`platform#${PLATFORM}`);
    await clients.put(client({ scope: TENANT_A, clientId: PLATFORM }), true);
    await revoked(token());
  });
});
