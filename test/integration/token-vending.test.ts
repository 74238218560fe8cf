import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observeAwsCalls, type ObservedAwsCall } from '../../lambdas/adapters/call-counter';
import { TENANT_SESSION_SECONDS } from '../../lambdas/adapters/sts/tenant-session';
import { startTestRuntime, type Client } from '../support/runtime';
import { refusalFor } from '../support/tenant-confinement';

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
  runtime = await startTestRuntime();
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
    (await send(tenant, 'GET', '/v1/whoami')).status,
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
    for (const tenant of [a, b]) expect(await workOf(tenant, 1)).toEqual([201, 200, 200, 200, 200, 204, 200, 201, 200, 201, 200, 204, 200, 200]);

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

  it("runs the platform admin's requests as the function's own role, acting for no tenant", async () => {
    calls = [];
    const admin = await api.adminToken();
    expect((await api.request('GET', '/v1/audit?limit=5', { token: admin })).status).toBe(200);
    expect((await api.request('GET', '/v1/whoami', { token: admin })).status).toBe(200);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.filter((c) => c.actingTenant !== undefined)).toEqual([]);
    expect(calls.filter((c) => c.command === 'AssumeRole')).toEqual([]);
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
