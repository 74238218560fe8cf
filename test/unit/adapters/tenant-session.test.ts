import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  TENANT_SESSION_RENEW_BEFORE_MS,
  TENANT_SESSION_RETRY_MS,
  TENANT_SESSION_SECONDS,
  TENANT_SESSIONS_KEPT,
  TenantSessions,
} from '../../../lambdas/adapters/sts/tenant-session';
import { DependencyUnavailableError, InternalError } from '../../../lambdas/core/errors';
import { newTenantId } from '../../../lambdas/core/ids';

const ROLE = 'arn:aws:iam::123456789012:role/coffer-tenant-access';
const sts = mockClient(STSClient);
let now = Date.parse('2026-12-07T12:00:00Z');
const clock = { now: () => now };
let minted = 0;

beforeEach(() => {
  sts.reset();
  minted = 0;
  sts.on(AssumeRoleCommand).callsFake(mint);
});
afterEach(() => sts.reset());

async function mint(input: any) {
  minted++;
  await new Promise((resolve) => setTimeout(resolve, 5));
  return {
    Credentials: {
      AccessKeyId: `ASIA${minted}-${input.Tags[0].Value}`,
      SecretAccessKey: `secret-${minted}`,
      SessionToken: `token-${minted}`,
      Expiration: new Date(now + input.DurationSeconds * 1000),
    },
  };
}

const sessions = () => new TenantSessions(new STSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'own', secretAccessKey: 'own' } }), ROLE, clock);

describe('TenantSessions (token vending)', () => {
  it('assumes the role once per tenant, tagged with the tenant and named after it', async () => {
    const tenant = newTenantId();
    const vending = sessions();
    const first = await vending.credentials(tenant);
    expect(first).toEqual({ accessKeyId: `ASIA1-${tenant}`, secretAccessKey: 'secret-1', sessionToken: 'token-1', expiration: new Date(now + TENANT_SESSION_SECONDS * 1000) });
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
      { RoleArn: ROLE, RoleSessionName: `coffer-${tenant}`, Tags: [{ Key: 'TenantId', Value: tenant }], DurationSeconds: 3600 },
    ]);
    for (let i = 0; i < 20; i++) expect(await vending.credentials(tenant)).toBe(first);
    expect(minted).toBe(1);
  });

  it('shares one AssumeRole among concurrent requests of a tenant, and keeps tenants apart', async () => {
    const [a, b] = [newTenantId(), newTenantId()];
    const vending = sessions();
    const got = await Promise.all([...Array(10)].flatMap(() => [vending.credentials(a), vending.credentials(b)]));
    expect(minted).toBe(2);
    expect(new Set(got.filter((_, i) => i % 2 === 0).map((c) => c.accessKeyId))).toEqual(new Set([expect.stringContaining(a)]));
    expect(new Set(got.filter((_, i) => i % 2 === 1).map((c) => c.accessKeyId))).toEqual(new Set([expect.stringContaining(b)]));
  });

  it('renews a session shortly before it expires, once, and not before', async () => {
    const tenant = newTenantId();
    const vending = sessions();
    const first = await vending.credentials(tenant);
    now += TENANT_SESSION_SECONDS * 1000 - TENANT_SESSION_RENEW_BEFORE_MS - 1_000;
    expect(await vending.credentials(tenant)).toBe(first);
    now += 2_000;
    const renewed = await Promise.all([vending.credentials(tenant), vending.credentials(tenant), vending.credentials(tenant)]);
    expect(minted).toBe(2);
    expect(new Set(renewed.map((c) => c.accessKeyId))).toEqual(new Set([`ASIA2-${tenant}`]));
    // The SDK asks again 5 minutes before expiry; by then the session it gets is fresh.
    expect(TENANT_SESSION_RENEW_BEFORE_MS).toBeGreaterThan(5 * 60_000);
  });

  it('answers an STS failure as a dependency outage and does not keep it: the next request tries again', async () => {
    const tenant = newTenantId();
    const vending = sessions();
    sts.on(AssumeRoleCommand).rejectsOnce(Object.assign(new Error('throttled'), { name: 'Throttling' })).callsFake(mint);
    const failed = await vending.credentials(tenant).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(DependencyUnavailableError);
    expect((failed as DependencyUnavailableError).dependency).toBe('sts');
    expect((failed as Error).message).not.toContain('throttled');
    expect((await vending.credentials(tenant)).accessKeyId).toContain(tenant);
  });

  it('keeps serving a session that still works when its renewal fails, and renews once STS answers', async () => {
    const tenant = newTenantId();
    const vending = sessions();
    const first = await vending.credentials(tenant);
    now += TENANT_SESSION_SECONDS * 1000 - 4 * 60_000; // 4 minutes left: the SDK asks again
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('throttled'), { name: 'Throttling' }));
    // Every request sharing the failed renewal gets the old session, not an error.
    expect(await Promise.all([vending.credentials(tenant), vending.credentials(tenant)])).toEqual([first, first]);
    const tries = sts.commandCalls(AssumeRoleCommand).length;
    expect(tries).toBe(2);
    // Not retried on every call meanwhile (the SDK asks on every request near expiry).
    for (let i = 0; i < 10; i++) expect(await vending.credentials(tenant)).toBe(first);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(tries);
    now += TENANT_SESSION_RETRY_MS + 1;
    sts.on(AssumeRoleCommand).callsFake(mint);
    expect((await vending.credentials(tenant)).accessKeyId).toBe(`ASIA2-${tenant}`);
  });

  it('fails the request when the renewal fails and the old session is about to expire', async () => {
    const tenant = newTenantId();
    const vending = sessions();
    await vending.credentials(tenant);
    now += TENANT_SESSION_SECONDS * 1000 - 30_000;
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('down'), { name: 'ServiceUnavailable' }));
    await expect(vending.credentials(tenant)).rejects.toBeInstanceOf(DependencyUnavailableError);
  });

  it('refuses an answer without credentials', async () => {
    sts.on(AssumeRoleCommand).resolves({});
    await expect(sessions().credentials(newTenantId())).rejects.toBeInstanceOf(DependencyUnavailableError);
  });

  it('mints nothing for what is not a tenant id (an IAM wildcard, another partition)', async () => {
    const vending = sessions();
    for (const bad of ['ten_*', 'PLATFORM', `${newTenantId()}#x`, '', 'ten_${aws:username}']) {
      await expect(vending.credentials(bad), bad).rejects.toBeInstanceOf(InternalError);
    }
    expect(minted).toBe(0);
  });

  it(`keeps the ${TENANT_SESSIONS_KEPT} most recently used tenants' sessions`, { timeout: 30_000 }, async () => {
    const vending = sessions();
    const tenants = [...Array(TENANT_SESSIONS_KEPT + 1)].map(() => newTenantId());
    for (const tenant of tenants) await vending.credentials(tenant);
    expect(minted).toBe(TENANT_SESSIONS_KEPT + 1);
    await vending.credentials(tenants[TENANT_SESSIONS_KEPT]!); // kept
    await vending.credentials(tenants[1]!); // kept
    expect(minted).toBe(TENANT_SESSIONS_KEPT + 1);
    await vending.credentials(tenants[0]!); // the least recently used went first
    expect(minted).toBe(TENANT_SESSIONS_KEPT + 2);
  });
});
