import { beforeEach, describe, expect, it } from 'vitest';
import { Authentication } from '../../lambdas/core/authentication';
import { verifySecret } from '../../lambdas/core/credentials';
import { DataKeyRing } from '../../lambdas/core/data-keys';
import { NotFoundError } from '../../lambdas/core/errors';
import { CLIENT_ID, TENANT_ID } from '../../lambdas/core/ids';
import { parseSecretPath } from '../../lambdas/core/secret-path';
import { Secrets } from '../../lambdas/core/secrets';
import { NO_RULES } from '../../lambdas/core/access/policy';
import { SecretAccessGate } from '../../lambdas/core/policy';
import { Tenants } from '../../lambdas/core/tenants';
import { TokenIssuer } from '../../lambdas/core/tokens';
import { InMemoryIdentityStore } from './support/identity-store';
import {
  FakeKeyService,
  FakeTokenSigner,
  InMemoryClientRepository,
  InMemorySecretStore,
  InMemoryTenantRepository,
  ManualClock,
  platformAdmin,
  REGIONS,
  TENANT_A,
  tenantPrincipal,
} from './support/fakes';

const T0 = '2025-01-01T00:00:00.000Z';

let clock: ManualClock;
let clients: InMemoryClientRepository;
let tenantRepo: InMemoryTenantRepository;
let kms: FakeKeyService;
let tenants: Tenants;

beforeEach(() => {
  clock = new ManualClock(Date.parse(T0));
  clients = new InMemoryClientRepository();
  tenantRepo = new InMemoryTenantRepository(clients);
  kms = new FakeKeyService();
  tenants = new Tenants({ tenants: tenantRepo, clients, keys: kms, clock });
});

describe('Tenants.onboard', () => {
  it('creates the tenant with its regional keys, data key v1 and an Owner client', async () => {
    const { tenant, owner } = await tenants.onboard(platformAdmin, { name: 'acme' });
    expect(tenant.tenantId).toMatch(TENANT_ID);
    expect(tenant).toEqual({
      tenantId: tenant.tenantId,
      name: 'acme',
      plan: 'free',
      status: 'active',
      createdAt: T0,
      createdBy: `platform:${platformAdmin.id}`,
      keys: Object.fromEntries(REGIONS.map((r) => [r, `arn:aws:kms:${r}:123456789012:key/${tenant.tenantId}-${r}`])),
      currentKeyVersion: 1,
    });
    expect(kms.calls).toMatchObject({ createTenantKeys: 1, generateDataKey: 1, unwrapDataKey: 0 });

    const dataKey = await tenantRepo.getDataKey(tenant.tenantId, 1);
    expect(dataKey).toMatchObject({ tenantId: tenant.tenantId, keyVersion: 1, createdAt: T0 });
    expect(Object.keys(dataKey!.wrapped).sort()).toEqual([...REGIONS].sort());

    expect(CLIENT_ID.exec(owner.clientId)?.groups?.scope).toBe(tenant.tenantId);
    expect(owner.clientSecret).toMatch(/^cs_[A-Za-z0-9_-]{43}$/);
    const stored = await clients.get(tenant.tenantId, owner.clientId);
    expect(stored).toMatchObject({ scope: tenant.tenantId, name: 'owner', roles: ['owner'], status: 'active', createdAt: T0 });
    expect(stored!.secretHash).not.toContain(owner.clientSecret.slice(3));
    expect(await verifySecret(owner.clientSecret, stored!.secretHash)).toBe(true);
  });

  it('zeroes the plaintext data key it received from KMS', async () => {
    await tenants.onboard(platformAdmin, { name: 'acme' });
    expect(kms.issuedPlaintexts).toHaveLength(1);
    expect(kms.issuedPlaintexts[0]!.every((b) => b === 0)).toBe(true);
  });

  it('discards the keys it created when onboarding fails after them, and records no tenant', async () => {
    kms.failingGenerates = 1;
    await expect(tenants.onboard(platformAdmin, { name: 'doomed' })).rejects.toMatchObject({ code: 'dependency-unavailable' });
    expect(kms.calls.discardTenantKeys).toBe(1);
    expect(kms.discarded).toHaveLength(2);
    expect((await tenants.list(platformAdmin, { limit: 10 })).items).toEqual([]);
  });

  it('keeps a chosen plan', async () => {
    expect((await tenants.onboard(platformAdmin, { name: 'big', plan: 'enterprise' })).tenant.plan).toBe('enterprise');
  });

  it('gives each tenant a fresh id', async () => {
    const a = await tenants.onboard(platformAdmin, { name: 'acme' });
    const b = await tenants.onboard(platformAdmin, { name: 'acme' });
    expect(a.tenant.tenantId).not.toBe(b.tenant.tenantId);
    expect(a.owner.clientSecret).not.toBe(b.owner.clientSecret);
  });

  it('yields a working tenant: the owner logs in and stores and reads a secret', async () => {
    const { tenant, owner } = await tenants.onboard(platformAdmin, { name: 'acme' });
    const slices = (store: InMemoryIdentityStore) => ({ records: store, logins: store, sessions: store });
    const auth = new Authentication({
      clients,
      ...slices(new InMemoryIdentityStore(clients)),
      clock,
      tokens: new TokenIssuer(new FakeTokenSigner(), clock, { issuer: 'i', audience: 'a' }),
    });
    const login = await auth.clientCredentials(owner.clientId, owner.clientSecret, '203.0.113.7');
    expect(login.principal).toMatchObject({ kind: 'tenant', tenantId: tenant.tenantId, type: 'client', id: owner.clientId, roles: ['owner'] });
    const token = login.token.access_token;
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: owner.clientId, tid: tenant.tenantId, ptype: 'client', roles: ['owner'], src: `client:${owner.clientId}`, gen: 1 });

    const ring = new DataKeyRing(tenantRepo, kms, clock);
    const secrets = new Secrets(tenant.tenantId, { repository: new InMemorySecretStore().forTenant(tenant.tenantId), dataKeys: ring.forTenant(tenant.tenantId), clock, access: new SecretAccessGate(async () => NO_RULES, '10.0.0.1') });
    const me = tenantPrincipal(tenant.tenantId, ['owner'], owner.clientId);
    await secrets.create(me, parseSecretPath('first'), { data: { hello: 'world' } });
    expect((await secrets.read(me, parseSecretPath('first'))).data).toEqual({ hello: 'world' });
  });
});

describe('Tenants.get and list', () => {
  it('returns a tenant to the platform admin, 404 for an unknown one', async () => {
    const { tenant } = await tenants.onboard(platformAdmin, { name: 'acme' });
    expect(await tenants.get(platformAdmin, tenant.tenantId)).toEqual(tenant);
    await expect(tenants.get(platformAdmin, 'ten_zzzzzzzzzzzzzzzzzzzz')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists tenants for the platform admin only', async () => {
    await tenants.onboard(platformAdmin, { name: 'one' });
    await tenants.onboard(platformAdmin, { name: 'two' });
    const page = await tenants.list(platformAdmin, { limit: 10 });
    expect(page.items.map((t) => t.name).sort()).toEqual(['one', 'two']);
    // Tenant principals never reach Tenants: the access gate refuses them on every platform
    // route before the core (and so any KMS call) runs (test/unit/access-gate.test.ts).
  });
});

describe('Tenants.ensurePlatformAdmin', () => {
  it('creates the platform admin once and leaves it alone afterwards', async () => {
    await tenants.ensurePlatformAdmin('platform.cli_admin', 'cs_first');
    await tenants.ensurePlatformAdmin('platform.cli_admin', 'cs_second');
    expect(clients.calls.put).toBe(1);
    const admin = await clients.get('platform', 'platform.cli_admin');
    expect(admin).toMatchObject({ scope: 'platform', roles: [], status: 'active', createdBy: 'bootstrap', createdAt: T0 });
    expect(await verifySecret('cs_first', admin!.secretHash)).toBe(true);
    expect(await verifySecret('cs_second', admin!.secretHash)).toBe(false);
  });
});
