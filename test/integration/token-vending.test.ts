import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observeAwsCalls, type ObservedAwsCall } from '../../lambdas/adapters/call-counter';
import { TENANT_SESSION_SECONDS } from '../../lambdas/adapters/sts/tenant-session';
import { startTestRuntime, type Client } from '../support/runtime';
import { refusalFor, refusalForOwnRole } from '../support/tenant-confinement';

// Token vending at run time: every AWS call a tenant's request makes is signed with that
// tenant's session of the tenant-access role, and each of those calls is one the role's
// policy allows (test/support/tenant-confinement.ts says how that is judged offline).

type Tenant = Awaited<ReturnType<Client['onboard']>>;

let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;
let calls: ObservedAwsCall[] = [];
let stopObserving: () => void;
const answers: string[] = [];

beforeAll(async () => {
  // No cached authorizer answers: a logout takes effect on the next request.
  runtime = await startTestRuntime({ authorizerCacheTtlMs: 0 });
  api = runtime.client;
  stopObserving = observeAwsCalls((call) => calls.push(call));
});
afterAll(async () => {
  stopObserving?.();
  await runtime?.stop();
});

async function send(tenant: Tenant, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await api.request(method, path, { token: tenant.token, ...(body === undefined ? {} : { body }), headers });
  answers.push(JSON.stringify(response.body ?? ''), JSON.stringify([...response.headers]));
  return response;
}

/** Secrets, identity administration and the trail: a request to every request function. */
async function workOf(tenant: Tenant, round: number) {
  const path = `vending/round-${round}`;
  const statuses = [
    (await send(tenant, 'PUT', `/v1/secrets/${path}`, { data: { v: `${round}` } }, { 'idempotency-key': `vending-${tenant.tenantId}-${round}-key` })).status,
    (await send(tenant, 'PUT', `/v1/secrets/${path}`, { data: { v: `${round}b` } })).status,
    (await send(tenant, 'GET', `/v1/secrets/${path}?version=1`)).status,
    (await send(tenant, 'GET', '/v1/secrets?prefix=vending/')).status,
    (await send(tenant, 'GET', `/v1/metadata/${path}`)).status,
    (await send(tenant, 'DELETE', `/v1/secrets/${path}`)).status,
    (await send(tenant, 'POST', `/v1/restore/${path}`)).status,
    (await send(tenant, 'POST', '/v1/users', { username: `vending-${round}`, password: 'correct horse battery staple 42', roles: ['viewer'] })).status,
    (await send(tenant, 'GET', '/v1/users')).status,
    (await send(tenant, 'PUT', `/v1/policies/vending-${round}`, { entries: [{ effect: 'allow', principals: ['*'], paths: ['vending/**'], operations: ['read'] }] })).status,
    (await send(tenant, 'PUT', `/v1/audit/sinks/vending-${round}`, { target: { type: 'webhook', url: 'https://127.0.0.1:9/hook' } })).status,
    (await send(tenant, 'DELETE', `/v1/audit/sinks/vending-${round}`)).status,
    (await send(tenant, 'GET', '/v1/audit?limit=5')).status,
    (await send(tenant, 'GET', '/v1/audit/export')).status,
    (await send(tenant, 'POST', '/v1/clients', { name: `vending-${round}`, roles: ['viewer'] })).status,
    (await send(tenant, 'PUT', `/v1/groups/vending-${round}`, { roles: ['viewer'] })).status,
    (await send(tenant, 'GET', '/v1/network')).status,
    (await send(tenant, 'GET', '/v1/whoami')).status,
    (await send({ ...tenant, token: await api.token(tenant.clientId, tenant.clientSecret) }, 'POST', '/v1/logout')).status,
  ];
  return statuses;
}

const accessKeysOf = (tenantId: string) =>
  new Set(calls.filter((c) => c.command === 'AssumeRole' && (c.input.Tags as any[])?.[0]?.Value === tenantId).map((c) => (c.output as any)?.Credentials?.AccessKeyId as string));

describe('token vending: tenant requests run as the tenant', () => {
  let a: Tenant;
  let b: Tenant;

  beforeAll(async () => {
    a = await api.onboard('vending-a');
    b = await api.onboard('vending-b');
  });

  it('signs every call of a tenant request with a session tagged with that tenant, minted once', async () => {
    calls = [];
    for (const tenant of [a, b]) expect(await workOf(tenant, 1)).toEqual([201, 200, 200, 200, 200, 204, 200, 201, 200, 201, 200, 204, 200, 200, 201, 201, 200, 200, 204]);

    const assumed = calls.filter((c) => c.command === 'AssumeRole');
    for (const tenant of [a, b]) {
      const own = assumed.filter((c) => (c.input.Tags as any[])[0].Value === tenant.tenantId);
      // One session per tenant and container; the local runtime runs every function in one
      // process (in AWS: one per tenant in each warm container of each function).
      expect(own).toHaveLength(1);
      for (const call of own) {
        expect(call.input).toEqual({
          RoleArn: runtime.resources.tenantAccessRoleArn,
          RoleSessionName: `coffer-${tenant.tenantId}`,
          Tags: [{ Key: 'TenantId', Value: tenant.tenantId }],
          DurationSeconds: TENANT_SESSION_SECONDS,
        });
      }
      const sessionKeys = accessKeysOf(tenant.tenantId);
      expect(sessionKeys.size).toBe(1);
      const acting = calls.filter((c) => c.actingTenant === tenant.tenantId && c.service !== 'sts');
      expect(acting.length).toBeGreaterThan(40);
      expect(new Set(acting.map((c) => c.service))).toEqual(new Set(['dynamodb', 'kms']));
      // The function's own credentials sign nothing a tenant's request does (but AssumeRole).
      expect(acting.filter((c) => !sessionKeys.has(c.accessKeyId!)).map((c) => `${c.service}:${c.command} by ${c.accessKeyId}`)).toEqual([]);
    }
  });

  it("keeps every call made with a tenant's session inside what the tenant-access role allows", () => {
    expect(calls.length).toBeGreaterThan(0);
    for (const tenant of [a, b]) {
      const sessionKeys = accessKeysOf(tenant.tenantId);
      const signed = calls.filter((c) => sessionKeys.has(c.accessKeyId!));
      expect(signed.length).toBeGreaterThan(40);
      expect(signed.map((c) => refusalFor(tenant.tenantId, c)).filter(Boolean)).toEqual([]);
    }
  });

  it('reuses the sessions: a second round mints none', async () => {
    calls = [];
    for (const tenant of [a, b]) await workOf(tenant, 2);
    expect(calls.filter((c) => c.command === 'AssumeRole')).toEqual([]);
    expect(calls.filter((c) => c.actingTenant !== undefined && c.service !== 'sts').length).toBeGreaterThan(80);
  });

  it("runs every other request as the function's own role, within its platform grants (lib/own-role-grants.ts)", async () => {
    calls = [];
    const admin = await api.adminToken();
    const asAdmin = [
      ['GET', '/v1/audit?limit=5', 200],
      ['GET', '/v1/audit/export', 200],
      ['GET', '/v1/whoami', 200],
      ['GET', '/v1/roles', 200],
      ['GET', '/v1/secrets', 403], // a tenant route: refused, recorded on the platform chain
      ['GET', '/v1/users', 403],
      ['GET', '/v1/no-such-route', 404], // unrouted: the audit function answers
    ] as const;
    for (const [method, path, status] of asAdmin) expect((await api.request(method, path, { token: admin })).status, path).toBe(status);
    expect((await api.request('GET', '/v1/no-such-route', {})).status).toBe(401);
    // The platform admin's logout, under an Idempotency-Key: its session lives in PLATFORM#IDENTITY.
    const other = await api.token(runtime.admin.clientId, runtime.admin.clientSecret);
    expect((await api.request('POST', '/v1/logout', { token: other, headers: { 'idempotency-key': 'vending-platform-logout-1' } })).status).toBe(204);
    expect((await api.request('GET', '/v1/whoami', { token: other })).status).toBe(401);

    expect(calls.filter((c) => c.actingTenant !== undefined)).toEqual([]);
    expect(calls.filter((c) => c.command === 'AssumeRole')).toEqual([]);
    const own = calls.filter((c) => c.functionName === 'secrets' || c.functionName === 'audit' || c.functionName === 'identity');
    expect(new Set(own.map((c) => c.functionName))).toEqual(new Set(['secrets', 'audit', 'identity']));
    expect(own.some((c) => c.functionName === 'identity' && c.command === 'UpdateItem')).toBe(true);
    expect(own.map((c) => refusalForOwnRole(c.functionName as 'secrets' | 'audit' | 'identity', c)).filter(Boolean)).toEqual([]);
  });

  it('never lets session credentials reach a response', () => {
    const secrets: string[] = [];
    for (const tenant of [a, b]) {
      for (const call of calls.filter((c) => c.command === 'AssumeRole' && (c.input.Tags as any[])[0].Value === tenant.tenantId)) {
        const c = (call.output as any).Credentials;
        secrets.push(c.AccessKeyId, c.SecretAccessKey, c.SessionToken);
      }
    }
    expect(answers.length).toBeGreaterThan(50);
    for (const secret of secrets) expect(answers.some((answer) => answer.includes(secret))).toBe(false);
  });
});

describe('token vending when STS fails', () => {
  it('refuses the request with 503 naming STS, writes nothing, and recovers once STS answers', async () => {
    const tenant = await api.onboard('vending-sts-down');
    const sts = mockClient(STSClient);
    try {
      sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('STS is unavailable'), { name: 'ServiceUnavailable' }));
      const refused = await send(tenant, 'PUT', '/v1/secrets/vending/down', { data: { v: '1' } });
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ type: expect.stringContaining('dependency-unavailable'), detail: expect.stringContaining('(sts)') });
      expect(refused.headers.get('retry-after')).not.toBeNull();
    } finally {
      sts.restore();
    }
    expect((await send(tenant, 'GET', '/v1/secrets/vending/down')).status).toBe(404);
    expect((await send(tenant, 'PUT', '/v1/secrets/vending/down', { data: { v: '2' } })).status).toBe(201);
  });
});
