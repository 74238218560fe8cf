import { beforeEach, describe, expect, it } from 'vitest';
import { DataKeyRing } from '../../lambdas/core/data-keys';
import { keyVersionOf, open } from '../../lambdas/core/envelope';
import {
  ContendedError,
  DeadlineExceededError,
  ConflictError,
  ForbiddenError,
  InternalError,
  NotFoundError,
  PayloadTooLargeError,
  VersionConflictError,
} from '../../lambdas/core/errors';
import type { Role } from '../../lambdas/core/principal';
import { parseSecretPath, type SecretPath } from '../../lambdas/core/secret-path';
import { MAX_SECRET_DATA_BYTES, Secrets } from '../../lambdas/core/secrets';
import { NO_RULES } from '../../lambdas/core/access/policy';
import { SecretAccessGate } from '../../lambdas/core/policy';
import type { TenantDataKeys } from '../../lambdas/ports/data-keys';
import {
  FakeKeyService,
  InMemorySecretStore,
  InMemoryTenantRepository,
  ManualClock,
  provisionTenant,
  TENANT_A,
  TENANT_B,
  tenantPrincipal,
  type InMemorySecretRepository,
} from './support/fakes';

const TTL = 60_000;
const T0 = '2025-01-01T00:00:00.000Z';
const path = (raw: string): SecretPath => parseSecretPath(raw);
const P = path('app/db/password');

let clock: ManualClock;
let store: InMemorySecretStore;
let tenants: InMemoryTenantRepository;
let kms: FakeKeyService;
let ring: DataKeyRing;
let repoA: InMemorySecretRepository;
let repoB: InMemorySecretRepository;
let secretsA: Secrets;
let secretsB: Secrets;
let keysOfA: Map<number, Uint8Array>;

const owner = tenantPrincipal(TENANT_A, ['owner'], 'cli_owner');
const as = (role: Role) => tenantPrincipal(TENANT_A, [role], `cli_${role}`);
const ownerOfB = tenantPrincipal(TENANT_B, ['owner'], 'cli_owner_b');

/** A tenant with no policies and no safelist: roles alone decide. */
const rolesOnly = () => new SecretAccessGate(async () => NO_RULES, '10.0.0.1');

beforeEach(async () => {
  clock = new ManualClock(Date.parse(T0));
  store = new InMemorySecretStore();
  tenants = new InMemoryTenantRepository();
  kms = new FakeKeyService();
  keysOfA = await provisionTenant(tenants, kms, TENANT_A);
  await provisionTenant(tenants, kms, TENANT_B);
  ring = new DataKeyRing(tenants, kms, clock, TTL);
  repoA = store.forTenant(TENANT_A);
  repoB = store.forTenant(TENANT_B);
  secretsA = new Secrets(TENANT_A, { repository: repoA, dataKeys: ring.forTenant(TENANT_A), clock, access: rolesOnly() });
  secretsB = new Secrets(TENANT_B, { repository: repoB, dataKeys: ring.forTenant(TENANT_B), clock, access: rolesOnly() });
});

async function rejection<E extends Error>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as E;
  }
  throw new Error(`expected a ${type.name}`);
}

describe('create', () => {
  it('creates version 1 and returns its summary, never the value', async () => {
    const summary = await secretsA.create(owner, P, { data: { password: 'hunter2' } });
    expect(summary).toEqual({
      path: P,
      version: 1,
      createdAt: T0,
      createdBy: 'client:cli_owner',
      updatedAt: T0,
      updatedBy: 'client:cli_owner',
      tags: {},
    });
    expect(JSON.stringify(summary)).not.toContain('hunter2');
  });

  it('stores only ciphertext, sealed for this tenant, path, version and current key version', async () => {
    await secretsA.create(owner, P, { data: { password: 'hunter2' } });
    const stored = repoA.raw(P)!.head.latest;
    expect(Buffer.from(stored.ciphertext).includes(Buffer.from('hunter2'))).toBe(false);
    expect(stored.keyVersion).toBe(1);
    expect(keyVersionOf(stored.ciphertext)).toBe(1);
    const plain = open(keysOfA.get(1)!, { tenantId: TENANT_A, path: P, version: 1, keyVersion: 1 }, stored.ciphertext);
    expect(JSON.parse(plain.toString('utf8'))).toEqual({ password: 'hunter2' });
  });

  it('keeps description and tags', async () => {
    const summary = await secretsA.create(owner, P, { data: { a: 1 }, description: 'primary db', tags: { env: 'prod', team: 'core' } });
    expect(summary).toMatchObject({ description: 'primary db', tags: { env: 'prod', team: 'core' } });
    const read = await secretsA.read(owner, P);
    expect(read.description).toBe('primary db');
    expect(read.tags).toEqual({ env: 'prod', team: 'core' });
  });

  it('refuses to create twice with 409 and leaves the first version alone', async () => {
    await secretsA.create(owner, P, { data: { n: 1 } });
    const error = await rejection(secretsA.create(owner, P, { data: { n: 2 } }), ConflictError);
    expect(error).not.toBeInstanceOf(VersionConflictError);
    expect(error.detail).toBe(`A secret already exists at '${P}'.`);
    expect((await secretsA.read(owner, P)).data).toEqual({ n: 1 });
    expect(repoA.raw(P)!.head.version).toBe(1);
  });

  it('refuses to create over a deleted secret, saying so', async () => {
    await secretsA.create(owner, P, { data: { n: 1 } });
    await secretsA.delete(owner, P);
    const error = await rejection(secretsA.create(owner, P, { data: { n: 2 } }), ConflictError);
    expect(error.detail).toBe(`A deleted secret exists at '${P}'; restore or purge it first.`);
  });

  it('turns a lost creation race into 409 without retrying', async () => {
    repoA.conflictingWrites = 1;
    const error = await rejection(secretsA.create(owner, P, { data: { n: 1 } }), ConflictError);
    expect(error.detail).toBe(`A secret already exists at '${P}'.`);
    expect(repoA.calls.writeVersion).toBe(1);
  });

  it('is forbidden to a viewer, and writes nothing', async () => {
    await rejection(secretsA.create(as('viewer'), P, { data: { n: 1 } }), ForbiddenError);
    expect(repoA.calls.writeVersion).toBe(0);
    expect(repoA.calls.head).toBe(0);
  });
});

describe('write and read versions', () => {
  it('creates when missing, then adds versions; reads the latest and any older version', async () => {
    const v1 = await secretsA.write(owner, P, { data: { pw: 'one' } });
    clock.advance(1000);
    const v2 = await secretsA.write(as('contributor'), P, { data: { pw: 'two' } });
    clock.advance(1000);
    const v3 = await secretsA.write(owner, P, { data: { pw: 'three' } });
    expect([v1.version, v2.version, v3.version]).toEqual([1, 2, 3]);
    expect(v3).toMatchObject({
      createdAt: T0,
      createdBy: 'client:cli_owner',
      updatedAt: '2025-01-01T00:00:02.000Z',
      updatedBy: 'client:cli_owner',
    });

    const latest = await secretsA.read(as('viewer'), P);
    expect(latest).toEqual({
      path: P,
      version: 3,
      latestVersion: 3,
      data: { pw: 'three' },
      createdAt: '2025-01-01T00:00:02.000Z',
      createdBy: 'client:cli_owner',
      tags: {},
    });
    const second = await secretsA.read(owner, P, 2);
    expect(second).toMatchObject({ version: 2, latestVersion: 3, data: { pw: 'two' }, createdAt: '2025-01-01T00:00:01.000Z', createdBy: 'client:cli_contributor' });
    expect((await secretsA.read(owner, P, 1)).data).toEqual({ pw: 'one' });
    expect((await secretsA.read(owner, P, 3)).data).toEqual({ pw: 'three' });
  });

  it('answers 404 for a version that does not exist', async () => {
    await secretsA.write(owner, P, { data: { pw: 'one' } });
    const error = await rejection(secretsA.read(owner, P, 2), NotFoundError);
    expect(error.detail).toBe(`Secret '${P}' has no version 2.`);
  });

  it('answers 404 for a path that does not exist', async () => {
    const error = await rejection(secretsA.read(owner, path('nope')), NotFoundError);
    expect(error.detail).toBe("No secret at 'nope'.");
  });

  it('keeps description and tags when a write omits them, replaces them when given', async () => {
    await secretsA.write(owner, P, { data: { n: 1 }, description: 'd1', tags: { env: 'dev' } });
    await secretsA.write(owner, P, { data: { n: 2 } });
    expect(await secretsA.read(owner, P)).toMatchObject({ description: 'd1', tags: { env: 'dev' } });
    await secretsA.write(owner, P, { data: { n: 3 }, description: 'd3', tags: {} });
    expect(await secretsA.read(owner, P)).toMatchObject({ description: 'd3', tags: {} });
  });

  it('treats paths as case-sensitive: App/DB and app/db are different secrets', async () => {
    await secretsA.write(owner, path('App/DB'), { data: { who: 'upper' } });
    await secretsA.write(owner, path('app/db'), { data: { who: 'lower' } });
    expect((await secretsA.read(owner, path('App/DB'))).data).toEqual({ who: 'upper' });
    expect((await secretsA.read(owner, path('app/db'))).data).toEqual({ who: 'lower' });
  });

  it('round-trips JSON values of every kind', async () => {
    const data = { s: 'é✓\u0000"', n: -1.5e10, b: false, z: null, a: [1, 'two', { three: 3 }], o: { nested: { deep: true } } };
    await secretsA.write(owner, P, { data });
    expect((await secretsA.read(owner, P)).data).toEqual(data);
  });

  it('is forbidden to a viewer', async () => {
    await secretsA.write(owner, P, { data: { n: 1 } });
    await rejection(secretsA.write(as('viewer'), P, { data: { n: 2 } }), ForbiddenError);
    expect(repoA.raw(P)!.head.version).toBe(1);
  });

  it('refuses to write to a deleted secret with 409', async () => {
    await secretsA.write(owner, P, { data: { n: 1 } });
    await secretsA.delete(owner, P);
    const error = await rejection(secretsA.write(owner, P, { data: { n: 2 } }), ConflictError);
    expect(error.detail).toBe(`The secret at '${P}' is deleted; restore it before writing.`);
  });
});

describe('If-Match (check-and-set)', () => {
  it('writes when the current version matches', async () => {
    await secretsA.write(owner, P, { data: { n: 1 } });
    expect((await secretsA.write(owner, P, { data: { n: 2 } }, 1)).version).toBe(2);
  });

  it('refuses a stale If-Match with 412 and writes nothing', async () => {
    await secretsA.write(owner, P, { data: { n: 1 } });
    await secretsA.write(owner, P, { data: { n: 2 } });
    const writesBefore = repoA.calls.writeVersion;
    const error = await rejection(secretsA.write(owner, P, { data: { n: 3 } }, 1), VersionConflictError);
    expect(error.code).toBe('version-conflict');
    expect(error.expected).toBe(1);
    expect(error.actual).toBe(2);
    expect(error.detail).toBe('The secret is at version 2, not 1.');
    expect(repoA.calls.writeVersion).toBe(writesBefore);
    expect((await secretsA.read(owner, P)).data).toEqual({ n: 2 });
  });

  it('refuses If-Match on a missing secret with 412', async () => {
    const error = await rejection(secretsA.write(owner, P, { data: { n: 1 } }, 1), VersionConflictError);
    expect(error.actual).toBeUndefined();
    expect(error.detail).toBe('No secret exists at this path; If-Match expected version 1.');
    expect(repoA.raw(P)).toBeUndefined();
  });

  it('reports a race lost after the check as 412 with the version actually found, without retrying', async () => {
    await secretsA.write(owner, P, { data: { n: 1 } });
    const rival = new Secrets(TENANT_A, { repository: store.forTenant(TENANT_A), dataKeys: ring.forTenant(TENANT_A), clock, access: rolesOnly() });
    let raced = false;
    repoA.beforeWrite = async () => {
      if (raced) return;
      raced = true;
      await rival.write(owner, P, { data: { n: 'rival' } });
    };
    const writesBefore = repoA.calls.writeVersion;
    const error = await rejection(secretsA.write(owner, P, { data: { n: 2 } }, 1), VersionConflictError);
    expect(error.expected).toBe(1);
    expect(error.actual).toBe(2);
    expect(repoA.calls.writeVersion - writesBefore).toBe(1);
    expect((await secretsA.read(owner, P)).data).toEqual({ n: 'rival' });
  });
});

describe('unconditional writes under contention', () => {
  it('retries on a lost race and becomes the next version', async () => {
    await secretsA.write(owner, P, { data: { n: 1 } });
    const rival = new Secrets(TENANT_A, { repository: store.forTenant(TENANT_A), dataKeys: ring.forTenant(TENANT_A), clock, access: rolesOnly() });
    let raced = false;
    repoA.beforeWrite = async () => {
      if (raced) return;
      raced = true;
      await rival.write(owner, P, { data: { n: 'rival' } });
    };
    const mine = await secretsA.write(owner, P, { data: { n: 'mine' } });
    expect(mine.version).toBe(3);
    expect((await secretsA.read(owner, P, 2)).data).toEqual({ n: 'rival' });
    expect((await secretsA.read(owner, P, 3)).data).toEqual({ n: 'mine' });
  });

  it('succeeds after a few WriteConflicts', async () => {
    repoA.conflictingWrites = 3;
    const summary = await secretsA.write(owner, P, { data: { n: 1 } });
    expect(summary.version).toBe(1);
    expect(repoA.calls.writeVersion).toBe(4);
  });

  it('gives up with a retryable 409 after 8 attempts', async () => {
    repoA.conflictingWrites = 1_000;
    const error = await rejection(secretsA.write(owner, P, { data: { n: 1 } }), ContendedError);
    expect(error.detail).toBe(`Too many concurrent writers on '${P}'; nothing was written. Retry shortly, or write with If-Match.`);
    expect(repoA.calls.writeVersion).toBe(8);
    expect(repoA.raw(P)).toBeUndefined();
  });

  it('gives up after two seconds of lost races, however few the attempts', async () => {
    repoA.conflictingWrites = 1_000;
    repoA.beforeWrite = () => clock.advance(700); // a slow, contended table
    await rejection(secretsA.write(owner, P, { data: { n: 1 } }), ContendedError);
    expect(repoA.calls.writeVersion).toBe(3); // 0.7, 1.4, 2.1 s: the third loss is past the budget
  });

  it('starts no attempt once the request has run out of time', async () => {
    const timeUp = new AbortController();
    const secrets = new Secrets(TENANT_A, { repository: repoA, dataKeys: ring.forTenant(TENANT_A), clock, access: rolesOnly(), signal: timeUp.signal });
    repoA.conflictingWrites = 1_000;
    repoA.beforeWrite = () => timeUp.abort();
    await rejection(secrets.write(owner, P, { data: { n: 1 } }), DeadlineExceededError);
    expect(repoA.calls.writeVersion).toBe(1);
    expect(repoA.raw(P)).toBeUndefined();
  });
});

describe('size limit', () => {
  // {"v":"…"} is 8 bytes of JSON around the string.
  const ofBytes = (n: number) => ({ v: 'x'.repeat(n - 8) });

  it('is 64 KiB of serialized JSON', () => {
    expect(MAX_SECRET_DATA_BYTES).toBe(65_536);
    expect(JSON.stringify(ofBytes(65_536))).toHaveLength(65_536);
  });

  it('accepts exactly 64 KiB', async () => {
    await secretsA.write(owner, P, { data: ofBytes(65_536) });
    expect(JSON.stringify((await secretsA.read(owner, P)).data)).toHaveLength(65_536);
  });

  it('refuses one byte more with 413, before any key or storage work', async () => {
    const error = await rejection(secretsA.write(owner, P, { data: ofBytes(65_537) }), PayloadTooLargeError);
    expect(error.detail).toBe('Secret data is 65537 bytes serialized; the limit is 65536.');
    expect(kms.calls.unwrapDataKey).toBe(0);
    expect(repoA.calls.writeVersion).toBe(0);
    await rejection(secretsA.create(owner, path('other'), { data: ofBytes(65_537) }), PayloadTooLargeError);
  });

  it('counts UTF-8 bytes, not characters', async () => {
    // 'é' is two bytes: 32,765 of them make 65,530 + 8 = 65,538 bytes in only 32,773 characters.
    const data = { v: 'é'.repeat(32_765) };
    expect(JSON.stringify(data).length).toBeLessThan(65_536);
    const error = await rejection(secretsA.write(owner, P, { data }), PayloadTooLargeError);
    expect(error.detail).toContain('65538 bytes');
  });
});

describe('data keys', () => {
  it('unwraps the data key once; warm reads and writes make zero KMS calls', async () => {
    await secretsA.write(owner, P, { data: { n: 1 } });
    expect(kms.calls.unwrapDataKey).toBe(1);
    for (let i = 0; i < 5; i++) await secretsA.read(owner, P);
    await secretsA.write(owner, P, { data: { n: 2 } });
    await secretsA.read(owner, P, 1);
    expect(kms.calls.unwrapDataKey).toBe(1);
    expect(kms.calls.generateDataKey).toBe(0);
  });

  it('unwraps again after the TTL', async () => {
    await secretsA.write(owner, P, { data: { n: 1 } });
    clock.advance(TTL);
    await secretsA.read(owner, P);
    expect(kms.calls.unwrapDataKey).toBe(2);
  });

  it('after a key rotation, new versions use the new key and old versions still read', async () => {
    await secretsA.write(owner, P, { data: { n: 1 } });
    const record = tenants.tenants.get(TENANT_A)!;
    const dk = await kms.generateDataKey(TENANT_A, record.keys);
    tenants.seed({ ...record, currentKeyVersion: 2 }, { tenantId: TENANT_A, keyVersion: 2, createdAt: T0, wrapped: dk.wrapped });
    clock.advance(TTL);
    await secretsA.write(owner, P, { data: { n: 2 } });
    expect(repoA.raw(P)!.versions.get(1)!.keyVersion).toBe(1);
    expect(repoA.raw(P)!.versions.get(2)!.keyVersion).toBe(2);
    expect((await secretsA.read(owner, P, 1)).data).toEqual({ n: 1 });
    expect((await secretsA.read(owner, P)).data).toEqual({ n: 2 });
    const meta = await secretsA.metadata(owner, P, { limit: 10 });
    expect(meta.versions.items.map((v) => v.keyVersion)).toEqual([2, 1]);
  });

  // Bug: DataKeyRing hands callers the cache's own Buffer, and DataKeyCache zeroes a Buffer
  // when it evicts it. A write that got its key from the cache, while a concurrent request
  // finds the entry just expired, seals the new version under an all-zero key: the write is
  // acknowledged but the secret can never be read again (and the key is no secret).
  it('a write racing a read across the data-key TTL stays readable', async () => {
    const keys = ring.forTenant(TENANT_A);
    let expireOnNextGet = false;
    const dataKeys: TenantDataKeys = {
      current: () => keys.current(),
      get: (keyVersion) => {
        if (expireOnNextGet) {
          expireOnNextGet = false;
          clock.advance(1); // the cached key's TTL runs out just as the read looks it up
        }
        return keys.get(keyVersion);
      },
    };
    const secrets = new Secrets(TENANT_A, { repository: repoA, dataKeys, clock, access: rolesOnly() });
    const other = path('app/other');
    await secrets.write(owner, other, { data: { n: 'other' } });
    clock.advance(TTL - 1);
    expireOnNextGet = true;
    const [written, read] = await Promise.all([secrets.write(owner, P, { data: { pw: 'new' } }), secrets.read(owner, other)]);
    expect(written.version).toBe(1);
    expect(read.data).toEqual({ n: 'other' });
    const zeroKey = new Uint8Array(32);
    const sealed = repoA.raw(P)!.head.latest.ciphertext;
    expect(
      () => open(zeroKey, { tenantId: TENANT_A, path: P, version: 1, keyVersion: 1 }, sealed),
      'the new version must not be sealed under an all-zero key',
    ).toThrow(InternalError);
    expect((await secrets.read(owner, P)).data).toEqual({ pw: 'new' });
  });
});

describe('tenant isolation', () => {
  it('tenant B cannot read tenant A’s secret at the same path: 404, as if it did not exist', async () => {
    await secretsA.write(owner, P, { data: { pw: 'A-only' } });
    const error = await rejection(secretsB.read(ownerOfB, P), NotFoundError);
    expect(error.detail).toBe(`No secret at '${P}'.`);
    expect(error.detail).not.toContain('A-only');
    await rejection(secretsB.read(ownerOfB, P, 1), NotFoundError);
    await rejection(secretsB.metadata(ownerOfB, P, { limit: 10 }), NotFoundError);
    await rejection(secretsB.delete(ownerOfB, P), NotFoundError);
  });

  it('the same path in two tenants names two independent secrets', async () => {
    await secretsA.write(owner, P, { data: { who: 'A' } });
    const b = await secretsB.create(ownerOfB, P, { data: { who: 'B' } });
    expect(b.version).toBe(1);
    await secretsB.write(ownerOfB, P, { data: { who: 'B2' } });
    expect(await secretsA.read(owner, P)).toMatchObject({ version: 1, data: { who: 'A' } });
    expect(await secretsB.read(ownerOfB, P)).toMatchObject({ version: 2, data: { who: 'B2' } });
    expect((await secretsB.list(ownerOfB, '', { limit: 10 })).items.map((i) => i.path)).toEqual([P]);
    await secretsB.delete(ownerOfB, P);
    expect((await secretsA.read(owner, P)).data).toEqual({ who: 'A' });
  });

  it('A’s ciphertext copied into B’s table does not open for B', async () => {
    await secretsA.write(owner, P, { data: { pw: 'A-only' } });
    const row = repoA.raw(P)!;
    store.partition(TENANT_B).set(P, { head: row.head, versions: new Map(row.versions) });
    await rejection(secretsB.read(ownerOfB, P), InternalError);
  });

  it('a ciphertext moved to another path or replayed as another version does not open', async () => {
    await secretsA.write(owner, P, { data: { pw: 'v1' } });
    await secretsA.write(owner, P, { data: { pw: 'v2' } });
    const row = repoA.raw(P)!;
    const Q = path('app/db/other');
    store.partition(TENANT_A).set(Q, { head: { ...row.head, path: Q }, versions: new Map() });
    await rejection(secretsA.read(owner, Q), InternalError);
    // v1's ciphertext presented as the latest (v2)
    row.head = { ...row.head, latest: { ...row.head.latest, ciphertext: row.versions.get(1)!.ciphertext } };
    await rejection(secretsA.read(owner, P), InternalError);
  });
  // A platform principal reaches no Secrets method: the access gate refuses it on every
  // tenant route before the core runs (test/unit/access-gate.test.ts).
});

describe('list', () => {
  beforeEach(async () => {
    for (const p of ['app/a', 'app/b', 'app/c', 'apple', 'db/x']) await secretsA.write(owner, path(p), { data: { p }, tags: { p } });
  });

  it('lists by prefix, in path order, with summaries only', async () => {
    const page = await secretsA.list(as('viewer'), 'app/', { limit: 10 });
    expect(page.items.map((i) => i.path)).toEqual(['app/a', 'app/b', 'app/c']);
    expect(page.cursor).toBeUndefined();
    expect(page.items[0]).toEqual({
      path: 'app/a',
      version: 1,
      createdAt: T0,
      createdBy: 'client:cli_owner',
      updatedAt: T0,
      updatedBy: 'client:cli_owner',
      tags: { p: 'app/a' },
    });
    expect(Object.keys(page.items[0]!)).not.toContain('latest');
  });

  it('a prefix may end mid-segment', async () => {
    const page = await secretsA.list(owner, 'app', { limit: 10 });
    expect(page.items.map((i) => i.path)).toEqual(['app/a', 'app/b', 'app/c', 'apple']);
  });

  it('pages with a cursor until the last page, which has none', async () => {
    const first = await secretsA.list(owner, '', { limit: 2 });
    expect(first.items.map((i) => i.path)).toEqual(['app/a', 'app/b']);
    expect(first.cursor).toEqual(expect.any(String));
    const second = await secretsA.list(owner, '', { limit: 2, cursor: first.cursor! });
    expect(second.items.map((i) => i.path)).toEqual(['app/c', 'apple']);
    const third = await secretsA.list(owner, '', { limit: 2, cursor: second.cursor! });
    expect(third.items.map((i) => i.path)).toEqual(['db/x']);
    expect(third.cursor).toBeUndefined();
  });

  it('leaves deleted secrets out unless asked', async () => {
    await secretsA.delete(owner, path('app/b'));
    expect((await secretsA.list(owner, 'app/', { limit: 10 })).items.map((i) => i.path)).toEqual(['app/a', 'app/c']);
    const all = await secretsA.list(owner, 'app/', { limit: 10 }, true);
    expect(all.items.map((i) => [i.path, i.deletedAt])).toEqual([
      ['app/a', undefined],
      ['app/b', T0],
      ['app/c', undefined],
    ]);
  });

  it('shows another tenant nothing', async () => {
    expect((await secretsB.list(ownerOfB, '', { limit: 10 })).items).toEqual([]);
  });
});

describe('metadata', () => {
  it('lists versions newest first, paginated, without values', async () => {
    for (let n = 1; n <= 3; n++) {
      await secretsA.write(owner, P, { data: { n } });
      clock.advance(1000);
    }
    const meta = await secretsA.metadata(as('viewer'), P, { limit: 2 });
    expect(meta).toMatchObject({ path: P, version: 3, tags: {} });
    expect(meta.versions.items).toEqual([
      { version: 3, createdAt: '2025-01-01T00:00:02.000Z', createdBy: 'client:cli_owner', keyVersion: 1 },
      { version: 2, createdAt: '2025-01-01T00:00:01.000Z', createdBy: 'client:cli_owner', keyVersion: 1 },
    ]);
    expect(Object.keys(meta)).not.toContain('latest');
    const rest = await secretsA.metadata(owner, P, { limit: 2, cursor: meta.versions.cursor! });
    expect(rest.versions.items.map((v) => v.version)).toEqual([1]);
    expect(rest.versions.cursor).toBeUndefined();
  });

  it('shows a deleted secret’s deletion', async () => {
    await secretsA.write(owner, P, { data: { n: 1 } });
    clock.advance(5000);
    await secretsA.delete(as('contributor'), P);
    expect(await secretsA.metadata(owner, P, { limit: 1 })).toMatchObject({ deletedAt: '2025-01-01T00:00:05.000Z', deletedBy: 'client:cli_contributor' });
  });
});

describe('delete, restore, purge', () => {
  beforeEach(async () => {
    await secretsA.write(owner, P, { data: { n: 1 } });
    await secretsA.write(owner, P, { data: { n: 2 } });
  });

  it('soft delete hides the secret from read (404), keeps it restorable with all versions', async () => {
    clock.advance(1000);
    await secretsA.delete(owner, P);
    await rejection(secretsA.read(owner, P), NotFoundError);
    await rejection(secretsA.read(owner, P, 1), NotFoundError);
    clock.advance(1000);
    const restored = await secretsA.restore(as('admin'), P);
    expect(restored).toEqual({
      path: P,
      version: 2,
      createdAt: T0,
      createdBy: 'client:cli_owner',
      updatedAt: '2025-01-01T00:00:02.000Z',
      updatedBy: 'client:cli_admin',
      tags: {},
    });
    expect((await secretsA.read(owner, P)).data).toEqual({ n: 2 });
    expect((await secretsA.read(owner, P, 1)).data).toEqual({ n: 1 });
    expect(repoA.raw(P)!.head.deletedAt).toBeUndefined();
  });

  it('deleting twice or deleting a missing secret is 404', async () => {
    await secretsA.delete(owner, P);
    await rejection(secretsA.delete(owner, P), NotFoundError);
    await rejection(secretsA.delete(owner, path('missing')), NotFoundError);
  });

  it('a delete that loses a race to another delete is 404', async () => {
    const original = repoA.markDeleted.bind(repoA);
    repoA.markDeleted = async (p, at, by) => {
      await store.forTenant(TENANT_A).markDeleted(p, at, 'rival');
      return original(p, at, by);
    };
    await rejection(secretsA.delete(owner, P), NotFoundError);
  });

  it('restoring a live or missing secret is 404', async () => {
    const error = await rejection(secretsA.restore(owner, P), NotFoundError);
    expect(error.detail).toBe(`No deleted secret at '${P}'.`);
    await rejection(secretsA.restore(owner, path('missing')), NotFoundError);
  });

  it('viewers can neither delete nor restore', async () => {
    await rejection(secretsA.delete(as('viewer'), P), ForbiddenError);
    await secretsA.delete(owner, P);
    await rejection(secretsA.restore(as('viewer'), P), ForbiddenError);
  });

  it('purge refuses a live secret with 409', async () => {
    const error = await rejection(secretsA.purge(owner, P), ConflictError);
    expect(error.detail).toBe(`Delete the secret at '${P}' before purging it.`);
    expect(repoA.calls.purge).toBe(0);
    expect((await secretsA.read(owner, P)).data).toEqual({ n: 2 });
  });

  it('purge of a deleted secret removes head and every version; the path is then free', async () => {
    await secretsA.delete(owner, P);
    await secretsA.purge(as('admin'), P);
    expect(repoA.raw(P)).toBeUndefined();
    expect(await repoA.version(P, 1)).toBeUndefined();
    await rejection(secretsA.read(owner, P), NotFoundError);
    await rejection(secretsA.restore(owner, P), NotFoundError);
    await rejection(secretsA.purge(owner, P), NotFoundError);
    expect((await secretsA.create(owner, P, { data: { fresh: true } })).version).toBe(1);
    await rejection(secretsA.read(owner, P, 2), NotFoundError);
  });

  it('purge is forbidden to contributors and viewers', async () => {
    await secretsA.delete(owner, P);
    await rejection(secretsA.purge(as('contributor'), P), ForbiddenError);
    await rejection(secretsA.purge(as('viewer'), P), ForbiddenError);
    expect(repoA.raw(P)).toBeDefined();
  });
});
