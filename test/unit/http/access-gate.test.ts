import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { IdempotencyStore } from '../../../lambdas/ports/idempotency';
import { describe, expect, it } from 'vitest';
import type { AccessRules } from '../../../lambdas/core/access/policy';
import { ROLES, type Principal } from '../../../lambdas/core/principal';
import { auditRoutes } from '../../../lambdas/handlers/audit-routes';
import { healthRoutes } from '../../../lambdas/handlers/health-routes';
import { identityRoutes } from '../../../lambdas/handlers/identity-routes';
import { secretsRoutes } from '../../../lambdas/handlers/secrets-routes';
import { tenantsRoutes } from '../../../lambdas/handlers/tenants-routes';
import { tokenRoutes } from '../../../lambdas/handlers/token-routes';
import { OUTSIDE_NETWORK, PLATFORM_ONLY } from '../../../lambdas/http/access-gate';
import { api, type AnyRoute } from '../../../lambdas/http/api';
import { toAuthorizerContext } from '../../../lambdas/http/principal-context';
import type { AuditEvent } from '../../../lambdas/core/audit';
import { routeMethods, ROUTES, type FunctionName } from '../../../lambdas/route-manifest';
import { platformAdmin, TENANT_A, tenantPrincipal } from '../support/fakes';

// The access gate is applied by the pipeline, from the manifest: every route of every
// group is walked here, so a new route cannot ship ungated.

/** A core that records that it was reached, and answers nothing. */
function unreachableCore(reached: string[]): never {
  return new Proxy(
    {},
    {
      get: (_, name) => (...args: unknown[]) => {
        reached.push(String(name));
        return Promise.reject(new Error(`core reached: ${String(name)} ${args.length}`));
      },
    },
  ) as never;
}

function routeGroups(reached: string[]): Record<FunctionName, readonly AnyRoute[]> {
  const core = unreachableCore(reached);
  return {
    health: healthRoutes(core),
    token: tokenRoutes(core, core),
    tenants: tenantsRoutes(core),
    secrets: secretsRoutes(() => core),
    audit: auditRoutes(core),
    identity: identityRoutes({ self: core, users: core, clients: core, named: core, network: core }, { allowLoopbackIssuers: false }),
  };
}

const SAFELIST: AccessRules = { policies: [], tenantCidrs: ['10.0.0.0/8'] };
const INSIDE = '10.1.2.3';
const OUTSIDE = '203.0.113.9';

/** No request here sends an Idempotency-Key. */
const NO_IDEMPOTENCY: IdempotencyStore = {
  claim: () => Promise.reject(new Error('no Idempotency-Key in these tests')),
  answer: () => Promise.reject(new Error('no Idempotency-Key in these tests')),
  release: () => Promise.reject(new Error('no Idempotency-Key in these tests')),
};

function harness() {
  const reached: string[] = [];
  const events: AuditEvent[] = [];
  const ruleReads: string[] = [];
  const groups = routeGroups(reached);
  const handlers = Object.fromEntries(
    Object.entries(groups).map(([fn, routes]) => [
      fn,
      api(routes, {
        auditLog: { append: async (e: AuditEvent) => void events.push(e) } as never,
        region: 'eu-west-1',
        idempotency: NO_IDEMPOTENCY,
        accessRules: async (tenantId) => {
          ruleReads.push(tenantId);
          return SAFELIST;
        },
      }),
    ]),
  ) as Record<FunctionName, ReturnType<typeof api>>;
  const call = async (fn: FunctionName, method: string, resource: string, principal: Principal | undefined, sourceIp = INSIDE) => {
    const event = {
      resource,
      path: resource,
      httpMethod: method,
      headers: {},
      multiValueHeaders: {},
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      stageVariables: null,
      body: null,
      isBase64Encoded: false,
      requestContext: { identity: { sourceIp }, authorizer: principal ? { ...toAuthorizerContext(principal), principalId: principal.id } : undefined },
    } as unknown as APIGatewayProxyEvent;
    const result = (await handlers[fn](event, { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 10_000 } as never)) as APIGatewayProxyResult;
    return { status: result.statusCode, body: result.body ? JSON.parse(result.body) : undefined };
  };
  return { groups, call, reached, events, ruleReads };
}

const routes = routeMethods();
const authorized = routes.filter((r) => r.access !== 'public');
const tenantRoutes = routes.filter((r) => r.access === 'tenant');
const platformRoutes = routes.filter((r) => r.access === 'platform');

describe('the route manifest', () => {
  it('names an access mode for every route, and a token for every non-public one', () => {
    for (const r of routes) expect(['public', 'tenant', 'platform', 'self', 'tenant-or-platform'], `${r.method} ${r.resource}`).toContain(r.access);
    expect(routes.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.resource}`).sort()).toEqual(['GET /.well-known/jwks.json', 'GET /health', 'POST /v1/token']);
    expect(authorized.length).toBeGreaterThan(40);
  });

  it('pins the routes that skip the tenant gate, so a route cannot slip out of it by a changed mode', () => {
    const named = (access: string) => routes.filter((r) => r.access === access).map((r) => `${r.method} ${r.resource}`).sort();
    expect(named('self')).toEqual(['GET /v1/roles', 'GET /v1/whoami', 'POST /v1/logout']);
    expect(named('tenant-or-platform')).toEqual(['GET /v1/audit', 'GET /v1/audit/export']);
    expect(named('platform')).toEqual(['GET /v1/admin/tenants', 'GET /v1/admin/tenants/{tenantId}', 'POST /v1/admin/tenants']);
    expect(tenantRoutes.length).toBe(routes.length - 3 - 3 - 2 - 3);
  });

  it('lists each resource once', () => {
    expect(new Set(ROUTES.map((r) => r.resource)).size).toBe(ROUTES.length);
  });

  it('has exactly one handler route for each of its routes, in the function it names, and no other', () => {
    const { groups } = harness();
    const served = Object.entries(groups).flatMap(([fn, list]) => list.map((r) => `${fn} ${r.method} ${r.resource}`));
    expect(served.sort()).toEqual(routes.map((r) => `${r.fn} ${r.method} ${r.resource}`).sort());
  });

  it('refuses at cold start a handler route the manifest does not list, or a tenant route without access rules', () => {
    const [first] = routeGroups([]).secrets;
    expect(() => api([{ ...first!, method: 'PATCH' as never }], { auditLog: {} as never, region: 'r', accessRules: async () => SAFELIST })).toThrow(/not in the route manifest/);
    expect(() => api([first!], { auditLog: {} as never, region: 'r' })).toThrow(/pass accessRules/);
    const write = routeGroups([]).secrets.find((r) => r.method === 'PUT')!;
    expect(() => api([write], { auditLog: {} as never, region: 'r', accessRules: async () => SAFELIST })).toThrow(/pass an idempotency store/);
  });
});

describe('the access gate, on every route of the manifest', () => {
  it.each(tenantRoutes.map((r) => [r.method, r.resource, r.fn] as const))('%s %s refuses a platform token, before the core runs', async (method, resource, fn) => {
    const h = harness();
    const response = await h.call(fn, method, resource, platformAdmin);
    expect(response.status).toBe(403);
    expect(response.body.detail).toMatch(/platform principals/i);
    expect(h.reached).toEqual([]);
    expect(h.events).toHaveLength(1);
    expect(h.events[0]).toMatchObject({ status: 403, outcome: 'denied' });
  });

  it.each(tenantRoutes.map((r) => [r.method, r.resource, r.fn] as const))('%s %s refuses a tenant token from outside its safelist, before the core runs', async (method, resource, fn) => {
    const h = harness();
    const response = await h.call(fn, method, resource, tenantPrincipal(TENANT_A, ['owner']), OUTSIDE);
    expect(response).toMatchObject({ status: 403, body: { detail: OUTSIDE_NETWORK } });
    expect(h.reached).toEqual([]);
    expect(h.ruleReads).toEqual([TENANT_A]);
  });

  it.each(tenantRoutes.map((r) => [r.method, r.resource, r.fn] as const))('%s %s lets an Owner from inside the safelist through to the route', async (method, resource, fn) => {
    const h = harness();
    const response = await h.call(fn, method, resource, tenantPrincipal(TENANT_A, ['owner']), INSIDE);
    expect(response.status).not.toBe(403);
    // Through to the route: its input refused (400, 415: no body sent) or its core reached.
    expect(h.reached.length > 0 || [400, 415].includes(response.status), `${method} ${resource} → ${response.status}`).toBe(true);
  });

  it.each(platformRoutes.flatMap((r) => ROLES.map((role) => [r.method, r.resource, r.fn, role] as const)))('%s %s (%s) refuses a tenant %s, before the core (and KMS) runs', async (method, resource, fn, role) => {
    const h = harness();
    const response = await h.call(fn, method, resource, tenantPrincipal(TENANT_A, [role]));
    expect(response).toMatchObject({ status: 403, body: { detail: PLATFORM_ONLY } });
    expect(h.reached).toEqual([]);
  });

  it('keeps the messages of before for platform principals on tenant routes', async () => {
    const h = harness();
    expect((await h.call('secrets', 'GET', '/v1/secrets/{path+}', platformAdmin)).body.detail).toBe('Platform principals manage tenants; they cannot access tenant secrets.');
    expect((await h.call('secrets', 'GET', '/v1/secrets', platformAdmin)).body.detail).toBe('Platform principals manage tenants; they cannot access tenant secrets.');
    expect((await h.call('identity', 'GET', '/v1/users', platformAdmin)).body.detail).toBe('Identities belong to a tenant; platform principals manage none.');
    expect((await h.call('audit', 'GET', '/v1/audit/sinks', platformAdmin)).body.detail).toBe('Audit sinks belong to a tenant; platform principals have none.');
  });

  it('lets the platform admin read its own audit chain, and binds tenants to their safelist there', async () => {
    const h = harness();
    for (const resource of ['/v1/audit', '/v1/audit/export']) {
      await h.call('audit', 'GET', resource, platformAdmin);
      expect(h.reached.pop()).toBe('query');
      expect(await h.call('audit', 'GET', resource, tenantPrincipal(TENANT_A), OUTSIDE)).toMatchObject({ status: 403, body: { detail: OUTSIDE_NETWORK } });
      expect(h.reached).toEqual([]);
    }
  });

  it('lets any verified principal, from anywhere, reach whoami, logout and the role table', async () => {
    for (const principal of [platformAdmin, tenantPrincipal(TENANT_A, ['viewer'])]) {
      const h = harness();
      await h.call('identity', 'GET', '/v1/whoami', principal, OUTSIDE);
      await h.call('identity', 'POST', '/v1/logout', principal, OUTSIDE);
      expect(h.reached).toEqual(['whoami', 'logout']);
      expect((await h.call('identity', 'GET', '/v1/roles', principal, OUTSIDE)).status).toBe(200);
      expect(h.ruleReads).toEqual([]);
    }
  });

  it('refuses a request that reached an authorized route without a verified principal', async () => {
    for (const r of authorized) {
      const h = harness();
      expect((await h.call(r.fn, r.method, r.resource, undefined)).status, `${r.method} ${r.resource}`).toBe(401);
      expect(h.reached).toEqual([]);
    }
  });
});

describe('one read of the access rules per request', () => {
  it('serves the gate and the route the same read of the tenant rules', async () => {
    const reads: string[] = [];
    let seen: AccessRules[] = [];
    const routes = secretsRoutes((_tenantId, request) => {
      void Promise.all([request.accessRules(), request.accessRules()]).then((r) => (seen = r));
      return unreachableCore([]);
    });
    const handler = api(routes, {
      auditLog: { append: async () => undefined } as never,
      region: 'eu-west-1',
      idempotency: NO_IDEMPOTENCY,
      accessRules: async (tenantId) => {
        reads.push(tenantId);
        return SAFELIST;
      },
    });
    const event = {
      resource: '/v1/secrets',
      path: '/v1/secrets',
      httpMethod: 'GET',
      headers: {},
      queryStringParameters: null,
      pathParameters: null,
      body: null,
      requestContext: { identity: { sourceIp: INSIDE }, authorizer: { ...toAuthorizerContext(tenantPrincipal(TENANT_A)), principalId: 'cli_tester' } },
    } as unknown as APIGatewayProxyEvent;
    await handler(event, { awsRequestId: 'req-2', getRemainingTimeInMillis: () => 10_000 } as never);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(reads).toEqual([TENANT_A]);
    expect(seen).toEqual([SAFELIST, SAFELIST]);
  });
});
