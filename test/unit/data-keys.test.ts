import { beforeEach, describe, expect, it } from 'vitest';
import { DataKeyRing } from '../../lambdas/core/data-keys';
import { DependencyUnavailableError, InternalError, NotFoundError } from '../../lambdas/core/errors';
import { FakeKeyService, InMemoryTenantRepository, ManualClock, provisionTenant, TENANT_A, TENANT_B } from './support/fakes';

const TTL = 60_000;
const bytes = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');

let clock: ManualClock;
let tenants: InMemoryTenantRepository;
let kms: FakeKeyService;
let ring: DataKeyRing;
let keysOfA: Map<number, Uint8Array>;
let keysOfB: Map<number, Uint8Array>;

beforeEach(async () => {
  clock = new ManualClock();
  tenants = new InMemoryTenantRepository();
  kms = new FakeKeyService();
  keysOfA = await provisionTenant(tenants, kms, TENANT_A, 2);
  keysOfB = await provisionTenant(tenants, kms, TENANT_B, 1);
  ring = new DataKeyRing(tenants, kms, clock, TTL);
});

describe('DataKeyRing: resolving keys', () => {
  it('current() is the tenant record’s current key version, unwrapped', async () => {
    const { keyVersion, key } = await ring.forTenant(TENANT_A).current();
    expect(keyVersion).toBe(2);
    expect(bytes(key)).toBe(bytes(keysOfA.get(2)!));
  });

  it('get(v) unwraps an older key version too', async () => {
    expect(bytes(await ring.forTenant(TENANT_A).get(1))).toBe(bytes(keysOfA.get(1)!));
  });

  it('keeps tenants apart: the same key version of two tenants gives their own keys', async () => {
    const a = await ring.forTenant(TENANT_A).get(1);
    const b = await ring.forTenant(TENANT_B).get(1);
    expect(bytes(a)).toBe(bytes(keysOfA.get(1)!));
    expect(bytes(b)).toBe(bytes(keysOfB.get(1)!));
    expect(bytes(a)).not.toBe(bytes(b));
  });

  it('passes KMS the tenant the key belongs to (fake KMS fails on a wrong context)', async () => {
    // Swap B's wrapped record into A's slot: unwrapping it under tenant A must fail.
    const bRecord = (await tenants.getDataKey(TENANT_B, 1))!;
    tenants.dataKeys.set(`${TENANT_A}#1`, { ...bRecord, tenantId: TENANT_A });
    await expect(ring.forTenant(TENANT_A).get(1)).rejects.toThrow(/encryption context/);
  });

  it('refuses an unknown tenant with NotFoundError', async () => {
    await expect(ring.forTenant('ten_cccccccccccccccccccc').current()).rejects.toBeInstanceOf(NotFoundError);
  });

  it('reports a missing data-key record as an internal error', async () => {
    await expect(ring.forTenant(TENANT_A).get(9)).rejects.toBeInstanceOf(InternalError);
    expect(kms.calls.unwrapDataKey).toBe(0);
  });
});

describe('DataKeyRing: caching', () => {
  it('makes no KMS or table call on a warm get', async () => {
    const keys = ring.forTenant(TENANT_A);
    await keys.current();
    expect(kms.calls.unwrapDataKey).toBe(1);
    const tableCalls = tenants.calls.getTenant + tenants.calls.getDataKey;
    for (let i = 0; i < 10; i++) {
      await keys.current();
      await keys.get(2);
    }
    expect(kms.calls.unwrapDataKey).toBe(1);
    expect(tenants.calls.getTenant + tenants.calls.getDataKey).toBe(tableCalls);
  });

  it('unwraps once per key version', async () => {
    const keys = ring.forTenant(TENANT_A);
    await keys.get(1);
    await keys.get(2);
    await keys.get(1);
    await keys.get(2);
    expect(kms.calls.unwrapDataKey).toBe(2);
  });

  it('unwraps again once the TTL has passed, not before', async () => {
    const keys = ring.forTenant(TENANT_A);
    await keys.get(1);
    clock.advance(TTL - 1);
    await keys.get(1);
    expect(kms.calls.unwrapDataKey).toBe(1);
    clock.advance(1);
    const key = await keys.get(1);
    expect(kms.calls.unwrapDataKey).toBe(2);
    expect(bytes(key)).toBe(bytes(keysOfA.get(1)!));
  });

  it('caches the current key version for the TTL, then picks up a rotation', async () => {
    const keys = ring.forTenant(TENANT_A);
    expect((await keys.current()).keyVersion).toBe(2);
    const record = tenants.tenants.get(TENANT_A)!;
    const dk = await kms.generateDataKey(TENANT_A, record.keys);
    tenants.seed({ ...record, currentKeyVersion: 3 }, { tenantId: TENANT_A, keyVersion: 3, createdAt: record.createdAt, wrapped: dk.wrapped });
    expect((await keys.current()).keyVersion).toBe(2);
    clock.advance(TTL);
    const next = await keys.current();
    expect(next.keyVersion).toBe(3);
    expect(bytes(next.key)).toBe(bytes(dk.plaintext));
  });

  it('clear() forgets every key', async () => {
    const keys = ring.forTenant(TENANT_A);
    await keys.current();
    ring.clear();
    await keys.current();
    expect(kms.calls.unwrapDataKey).toBe(2);
    expect(tenants.calls.getTenant).toBe(2);
  });
});

describe('DataKeyRing: concurrent misses', () => {
  it('shares one unwrap between two concurrent gets of the same key', async () => {
    const keys = ring.forTenant(TENANT_A);
    kms.hold();
    const first = keys.get(1);
    const second = keys.get(1);
    await Promise.resolve();
    kms.release();
    const [a, b] = await Promise.all([first, second]);
    expect(kms.calls.unwrapDataKey).toBe(1);
    expect(tenants.calls.getDataKey).toBe(1);
    expect(bytes(a)).toBe(bytes(keysOfA.get(1)!));
    expect(bytes(b)).toBe(bytes(a));
  });

  it('shares one unwrap among many concurrent current() calls', async () => {
    const keys = ring.forTenant(TENANT_A);
    kms.hold();
    const all = Array.from({ length: 20 }, () => keys.current());
    await new Promise((r) => setTimeout(r, 0));
    kms.release();
    const results = await Promise.all(all);
    expect(kms.calls.unwrapDataKey).toBe(1);
    expect(new Set(results.map((r) => bytes(r.key))).size).toBe(1);
  });

  it('does not merge misses of different key versions or tenants', async () => {
    kms.hold();
    const pending = [ring.forTenant(TENANT_A).get(1), ring.forTenant(TENANT_A).get(2), ring.forTenant(TENANT_B).get(1)];
    await new Promise((r) => setTimeout(r, 0));
    kms.release();
    const [a1, a2, b1] = await Promise.all(pending);
    expect(kms.calls.unwrapDataKey).toBe(3);
    expect([bytes(a1), bytes(a2), bytes(b1)]).toEqual([bytes(keysOfA.get(1)!), bytes(keysOfA.get(2)!), bytes(keysOfB.get(1)!)]);
  });
});

describe('DataKeyRing: failures', () => {
  it('does not cache a failed unwrap: the next get calls KMS again and succeeds', async () => {
    const keys = ring.forTenant(TENANT_A);
    kms.failingUnwraps = 1;
    await expect(keys.get(1)).rejects.toBeInstanceOf(DependencyUnavailableError);
    const key = await keys.get(1);
    expect(bytes(key)).toBe(bytes(keysOfA.get(1)!));
    expect(kms.calls.unwrapDataKey).toBe(2);
  });

  it('fails every concurrent waiter of a failed unwrap, then retries on the next call', async () => {
    const keys = ring.forTenant(TENANT_A);
    kms.failingUnwraps = 1;
    kms.hold();
    const first = keys.get(1);
    const second = keys.get(1);
    await new Promise((r) => setTimeout(r, 0));
    kms.release();
    const results = await Promise.allSettled([first, second]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(kms.calls.unwrapDataKey).toBe(1);
    await expect(keys.get(1)).resolves.toBeDefined();
    expect(kms.calls.unwrapDataKey).toBe(2);
  });

  it('does not cache an unknown tenant', async () => {
    const unknown = 'ten_dddddddddddddddddddd';
    await expect(ring.forTenant(unknown).current()).rejects.toBeInstanceOf(NotFoundError);
    await provisionTenant(tenants, kms, unknown, 1);
    await expect(ring.forTenant(unknown).current()).resolves.toMatchObject({ keyVersion: 1 });
  });
});

describe('DataKeyRing: keys handed to callers', () => {
  // A key returned by get()/current() is used by the caller after further awaits (Secrets
  // awaits current() and then seals). If refreshing an expired entry zeroes the very buffer
  // an earlier caller still holds, that caller encrypts under an all-zero key.
  it('a key already handed to one caller survives another caller refreshing the expired entry', async () => {
    const keys = ring.forTenant(TENANT_A);
    await keys.get(1); // warm
    const first = keys.get(1); // cache hit, still in flight to its caller
    clock.advance(TTL); // the entry expires before the second request arrives
    const second = keys.get(1); // evicts the expired entry and unwraps again
    const [a, b] = await Promise.all([first, second]);
    expect(bytes(b)).toBe(bytes(keysOfA.get(1)!));
    expect(bytes(a)).toBe(bytes(keysOfA.get(1)!));
  });
});
