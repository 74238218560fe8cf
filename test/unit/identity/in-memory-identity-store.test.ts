// The fake's own contract: the semantics of DynamoIdentityStore that the login tests rely on.
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditDraft, AuditEvent } from '../../../lambdas/core/audit';
import { ConflictError, InternalError, WriteConflictError } from '../../../lambdas/core/errors';
import type { SessionRecord } from '../../../lambdas/ports/identity';
import { InMemoryClientRepository, TENANT_A, TENANT_B } from '../support/fakes';
import { groupRecord, stamp, userRecord } from '../support/identity-fixtures';
import { InMemoryIdentityStore } from '../support/identity-store';

const OWNERLESS = 'This would leave the tenant without an Owner; make someone else an Owner first.';
const CHANGED = 'The record changed since you read it (or no longer exists); read it again and retry.';

let clients: InMemoryClientRepository;
let store: InMemoryIdentityStore;

const alice = (rev = 1, extra = {}) => ({ ...userRecord(TENANT_A, 'alice', 'scrypt$x', extra), rev });

async function conflict(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConflictError);
  return (error as Error).message;
}

beforeEach(() => {
  clients = new InMemoryClientRepository();
  store = new InMemoryIdentityStore(clients);
});

describe('InMemoryIdentityStore: records', () => {
  it('creates only what is absent and replaces only at the expected rev', async () => {
    await store.save(TENANT_A, 'user', alice(1), undefined, 0);
    expect(await conflict(store.save(TENANT_A, 'user', alice(1), undefined, 0))).toBe("'alice' already exists.");
    expect(await conflict(store.save(TENANT_A, 'user', alice(2), 7, 0))).toBe(CHANGED);
    await store.save(TENANT_A, 'user', alice(2, { displayName: 'Alice' }), 1, 0);
    expect((await store.get(TENANT_A, 'user', 'alice'))?.displayName).toBe('Alice');
    expect(await conflict(store.remove(TENANT_A, 'user', 'alice', 1, 0))).toBe(CHANGED);
    await store.remove(TENANT_A, 'user', 'alice', 2, 0);
    expect(await store.get(TENANT_A, 'user', 'alice')).toBeUndefined();
    expect(await conflict(store.save(TENANT_A, 'user', alice(3), 2, 0))).toBe(CHANGED);
    expect(store.calls).toMatchObject({ save: 5, remove: 2, get: 2 });
  });

  it('hands out copies: changing a returned record changes nothing stored', async () => {
    store.seed(TENANT_A, 'user', alice());
    const read = (await store.get(TENANT_A, 'user', 'alice')) as unknown as { roles: string[] };
    read.roles.push('owner');
    expect(store.peek(TENANT_A, 'user', 'alice')!.roles).toEqual(['contributor']);
  });

  it('keeps tenants apart', async () => {
    store.seed(TENANT_A, 'user', alice());
    expect(await store.get(TENANT_B, 'user', 'alice')).toBeUndefined();
    expect(await store.all(TENANT_B, 'user')).toEqual([]);
  });

  it('lists by name in pages, with a cursor whenever a page is full', async () => {
    for (const name of ['carol', 'alice', 'bob']) store.seed(TENANT_A, 'user', userRecord(TENANT_A, name, 'x'));
    const first = await store.list(TENANT_A, 'user', { limit: 2 });
    expect(first.items.map((u) => u.username)).toEqual(['alice', 'bob']);
    const second = await store.list(TENANT_A, 'user', { limit: 2, cursor: first.cursor! });
    expect(second.items.map((u) => u.username)).toEqual(['carol']);
    expect(second.cursor).toBeUndefined();
    expect((await store.all(TENANT_A, 'user')).map((u) => u.username)).toEqual(['alice', 'bob', 'carol']);
  });

  it('shares client rows with the ClientRepository', async () => {
    await clients.put({ scope: TENANT_A, clientId: 'c1', name: 'c', secretHash: 'x', roles: [], status: 'active', createdAt: 't', createdBy: 'b' }, true);
    expect((await store.get(TENANT_A, 'client', 'c1'))?.name).toBe('c');
    await clients.put({ ...(await clients.get(TENANT_A, 'c1'))!, name: 'renamed' }, false);
    expect((await store.get(TENANT_A, 'client', 'c1'))?.name).toBe('renamed');
  });

  it('commits the audit event with the change, and none with a refused change', async () => {
    const recorded: AuditEvent[] = [];
    const draft = { id: 'e1', chain: TENANT_A } as unknown as AuditDraft;
    await store.save(TENANT_A, 'user', alice(), undefined, 0, { draft, recorded: (e) => recorded.push(e) });
    await conflict(store.save(TENANT_A, 'user', alice(), undefined, 0, { draft: { ...draft, id: 'e2' }, recorded: (e) => recorded.push(e) }));
    expect(recorded.map((e) => [e.id, e.seq])).toEqual([['e1', 1]]);
    expect(store.audits).toEqual(recorded);
  });
});

describe('InMemoryIdentityStore: the Owner count', () => {
  it('moves with the change and never lets it drop below one', async () => {
    store.setOwnerCount(TENANT_A, 1);
    await store.save(TENANT_A, 'user', alice(1, { roles: ['owner'] }), undefined, 1);
    expect(store.ownerCount(TENANT_A)).toBe(2);
    await store.save(TENANT_A, 'user', alice(2, { roles: ['viewer'] }), 1, -1);
    expect(store.ownerCount(TENANT_A)).toBe(1);
    store.seed(TENANT_A, 'user', { ...userRecord(TENANT_A, 'root', 'x', { roles: ['owner'] }), rev: 1 });
    expect(await conflict(store.remove(TENANT_A, 'user', 'root', 1, -1))).toBe(OWNERLESS);
    expect(store.peek(TENANT_A, 'user', 'root')).toBeDefined();
    expect(store.ownerCount(TENANT_A)).toBe(1);
  });

  it('refuses to remove an Owner when no count exists at all', async () => {
    store.seed(TENANT_A, 'user', alice(1, { roles: ['owner'] }));
    expect(await conflict(store.remove(TENANT_A, 'user', 'alice', 1, -1))).toBe(OWNERLESS);
  });

  it('reports a stale rev as a conflict, not as the last Owner, while others remain', async () => {
    store.setOwnerCount(TENANT_A, 3);
    store.seed(TENANT_A, 'user', alice(2, { roles: ['owner'] }));
    expect(await conflict(store.remove(TENANT_A, 'user', 'alice', 1, -1))).toBe(CHANGED);
    expect(store.ownerCount(TENANT_A)).toBe(3);
  });
});

describe('InMemoryIdentityStore: login bookkeeping', () => {
  it('clears a failure streak and its lock, on existing records only', async () => {
    store.seed(TENANT_A, 'user', alice(1, { failedAttempts: 2, lockedUntil: 1234 }));
    await store.recordSuccess(TENANT_A, 'user', 'alice');
    expect(store.peek(TENANT_A, 'user', 'alice')!.failedAttempts).toBe(0);
    expect(store.peek(TENANT_A, 'user', 'alice')).not.toHaveProperty('lockedUntil');
    await store.recordSuccess(TENANT_A, 'user', 'ghost');
    expect(store.peek(TENANT_A, 'user', 'ghost')).toBeUndefined();
  });

  it('counts failed client logins per source and window', async () => {
    await store.countSourceFailure('203.0.113.7', 60_000, 120_000);
    await store.countSourceFailure('203.0.113.7', 60_000, 120_000);
    expect(await store.sourceFailures('203.0.113.7', 60_000)).toBe(2);
    expect(await store.sourceFailures('203.0.113.7', 120_000)).toBe(0);
    expect(await store.sourceFailures('203.0.113.8', 60_000)).toBe(0);
  });

  it('claims strictly increasing TOTP steps, only for an enrolled user', async () => {
    store.seed(TENANT_A, 'user', alice(1, { totp: { status: 'enabled', sealedSecret: 's', lastStep: 10 } }));
    expect(await store.claimOtpStep(TENANT_A, 'alice', 10)).toBe(false);
    expect(await store.claimOtpStep(TENANT_A, 'alice', 11)).toBe(true);
    expect(await store.claimOtpStep(TENANT_A, 'alice', 11)).toBe(false);
    expect(await store.claimOtpStep(TENANT_A, 'alice', 9)).toBe(false);
    store.seed(TENANT_A, 'user', userRecord(TENANT_A, 'bob', 'x'));
    expect(await store.claimOtpStep(TENANT_A, 'bob', 1)).toBe(false);
    expect(await store.claimOtpStep(TENANT_A, 'ghost', 1)).toBe(false);
  });

  it('claims a nonce once per tenant', async () => {
    expect(await store.claimNonce(TENANT_A, 'n', 5)).toBe(true);
    expect(await store.claimNonce(TENANT_A, 'n', 6)).toBe(false);
    expect(await store.claimNonce(TENANT_B, 'n', 5)).toBe(true);
  });
});

describe('InMemoryIdentityStore: sessions', () => {
  const session: SessionRecord = {
    tenantId: TENANT_A,
    sessionId: 's1',
    username: 'alice',
    currentHash: 'h1',
    spent: [],
    generation: 1,
    mfa: false,
    createdAt: 0,
    refreshExpiresAt: 100,
    absoluteExpiresAt: 1000,
    revoked: false,
  };

  it('creates a session once', async () => {
    await store.createSession(session);
    await expect(store.createSession(session)).rejects.toBeInstanceOf(WriteConflictError);
    expect(await store.getSession(TENANT_A, 's1')).toEqual(session);
  });

  it('rotates only from the current hash, before expiry, while not revoked', async () => {
    await store.createSession(session);
    expect(await store.rotateSession(TENANT_A, 's1', 'wrong', 'h2', 50, 150)).toBe(false);
    expect(await store.rotateSession(TENANT_A, 's1', 'h1', 'h2', 100, 150)).toBe(false);
    expect(await store.rotateSession(TENANT_A, 's1', 'h1', 'h2', 99, 150)).toBe(true);
    expect(await store.getSession(TENANT_A, 's1')).toMatchObject({ currentHash: 'h2', spent: ['h1'], refreshExpiresAt: 150 });
    expect(await store.rotateSession(TENANT_A, 's1', 'h1', 'h3', 99, 150)).toBe(false);
    await store.revokeSession(TENANT_A, 's1', 1000);
    expect(await store.rotateSession(TENANT_A, 's1', 'h2', 'h3', 99, 150)).toBe(false);
    expect((await store.getSession(TENANT_A, 's1'))?.revoked).toBe(true);
  });

  it('leaves a tombstone when revoking a session that has no record, invisible to getSession', async () => {
    await store.revokeSession(TENANT_A, 'token-only', 500);
    expect(await store.getSession(TENANT_A, 'token-only')).toBeUndefined();
    expect(store.peekSession(TENANT_A, 'token-only')).toEqual({ revoked: true, ttlUntil: 500 });
    expect((await store.loadTokenState(TENANT_A, { kind: 'user', name: 'alice' }, 'token-only', [])).session).toEqual({ revoked: true });
    await expect(store.createSession({ ...session, sessionId: 'token-only' })).rejects.toBeInstanceOf(WriteConflictError);
  });

  it('loads source, session and groups in one call, skipping missing groups', async () => {
    store.seed(TENANT_A, 'user', alice());
    store.seed(TENANT_A, 'group', groupRecord(TENANT_A, 'ops', ['admin']));
    await store.createSession(session);
    store.resetCalls();
    const state = await store.loadTokenState(TENANT_A, { kind: 'user', name: 'alice' }, 's1', ['ops', 'gone']);
    expect(state.source).toMatchObject({ username: 'alice' });
    expect(state.session).toEqual(session);
    expect(state.groups.map((g) => g.name)).toEqual(['ops']);
    expect(store.calls.loadTokenState).toBe(1);
    expect(store.calls.get + store.calls.getSession + store.calls.groups).toBe(0);
  });

  it('fails like BatchGetItem on duplicate keys', async () => {
    store.seed(TENANT_A, 'group', { ...groupRecord(TENANT_A, 'ops', ['admin']), ...stamp() });
    await expect(store.groups(TENANT_A, ['ops', 'ops'])).rejects.toBeInstanceOf(InternalError);
    expect((await store.groups(TENANT_A, ['ops', 'nope'])).map((g) => g.name)).toEqual(['ops']);
  });
});
