import { DynamoDBClient, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain, type AuditEvent } from '../../lambdas/core/audit';
import { clientWithRoles } from '../support/probe';
import { startTestRuntime, type Client } from '../support/runtime';

let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;
let tenant: Awaited<ReturnType<Client['onboard']>>;
let rawDynamo: DynamoDBClient;

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = runtime.client;
  tenant = await api.onboard('audited');
  rawDynamo = new DynamoDBClient({ region: runtime.aws.region, endpoint: runtime.aws.dynamodbEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
});
afterAll(() => runtime?.stop());

const correlation = () => `test-${randomUUID()}`;

async function trail(token: string, query = ''): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let cursor: string | undefined;
  do {
    const qs = new URLSearchParams(query);
    qs.set('limit', '1000');
    if (cursor) qs.set('cursor', cursor);
    const page = await api.request('GET', `/v1/audit?${qs}`, { token });
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    events.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return events;
}

describe('one audit event per request', () => {
  it('records every secrets request, failures included, exactly once with its correlation id', async () => {
    const { token } = tenant;
    const calls: [string, string, Record<string, unknown>, number][] = [
      ['PUT', '/v1/secrets/app/one', { body: { data: { v: 1 } } }, 201],
      ['PUT', '/v1/secrets/app/one', { body: { data: { v: 2 } } }, 200],
      ['PUT', '/v1/secrets/app/one', { body: { data: { v: 3 } }, headers: { 'if-match': '1' } }, 412],
      ['POST', '/v1/secrets/app/one', { body: { data: { v: 9 } } }, 409],
      ['GET', '/v1/secrets/app/one', {}, 200],
      ['GET', '/v1/secrets/app/one?version=7', {}, 404],
      ['GET', '/v1/secrets/missing', {}, 404],
      ['GET', '/v1/secrets/a//b', {}, 400],
      ['GET', '/v1/secrets?prefix=app/', {}, 200],
      ['GET', '/v1/metadata/app/one', {}, 200],
      ['DELETE', '/v1/secrets/app/one', {}, 204],
      ['POST', '/v1/restore/app/one', {}, 200],
      ['DELETE', '/v1/metadata/app/one', {}, 409],
      ['PUT', '/v1/secrets/app/bad', { rawBody: '{"data":', headers: { 'content-type': 'application/json' } }, 400],
    ];
    const ids: string[] = [];
    for (const [method, path, options, status] of calls) {
      const id = correlation();
      ids.push(id);
      const headers = { ...(options.headers as Record<string, string> | undefined), 'x-correlation-id': id };
      const response = await api.request(method, path, { token, ...options, headers });
      expect(`${method} ${path} → ${response.status}`).toBe(`${method} ${path} → ${status}`);
      expect(response.headers.get('x-correlation-id')).toBe(id);
    }

    const events = await trail(token);
    for (const [i, id] of ids.entries()) {
      const matching = events.filter((e) => e.correlationId === id);
      expect(matching, `${calls[i]![0]} ${calls[i]![1]}`).toHaveLength(1);
      expect(matching[0]!.status).toBe(calls[i]![3]);
    }
    const byId = (id: string) => events.find((e) => e.correlationId === id)!;
    expect(byId(ids[0]!)).toMatchObject({
      action: 'secret.write',
      resource: 'app/one',
      outcome: 'success',
      status: 201,
      tenantId: tenant.tenantId,
      chain: tenant.tenantId,
      actor: { type: 'client', id: tenant.clientId, authMethod: 'client_credentials' },
      details: { version: 1 },
      region: 'eu-west-1',
    });
    expect(byId(ids[2]!)).toMatchObject({ action: 'secret.write', outcome: 'failure', status: 412, details: { error: 'version-conflict' } });
    expect(byId(ids[4]!)).toMatchObject({ action: 'secret.read', outcome: 'success', resource: 'app/one', details: { version: 2 } });
    expect(byId(ids[7]!)).toMatchObject({ action: 'secret.read', outcome: 'failure', status: 400, resource: 'a//b' });
    for (const event of events) {
      expect(event.sourceIp).toBe('127.0.0.1');
      expect(event.userAgent).not.toBe('');
    }
  });

  it('puts token issuance in the client tenant chain and failed attempts in the platform chain', async () => {
    const ok = correlation();
    const issued = await api.request('POST', '/v1/token', {
      body: { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret },
      headers: { 'x-correlation-id': ok },
    });
    expect(issued.status).toBe(200);
    const bad = correlation();
    const refused = await api.request('POST', '/v1/token', {
      body: { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: 'wrong-secret-PLANTED' },
      headers: { 'x-correlation-id': bad },
    });
    expect(refused.status).toBe(401);

    const tenantEvents = await trail(tenant.token);
    expect(tenantEvents.find((e) => e.correlationId === ok)).toMatchObject({ action: 'token.issue', outcome: 'success', actor: { id: tenant.clientId } });
    expect(tenantEvents.find((e) => e.correlationId === bad)).toBeUndefined();

    const platformEvents = await trail(await api.adminToken());
    expect(platformEvents.find((e) => e.correlationId === bad)).toMatchObject({
      action: 'token.issue',
      outcome: 'denied',
      status: 401,
      actor: { type: 'anonymous', id: null },
      details: { clientId: tenant.clientId, error: 'unauthenticated' },
    });
    expect(platformEvents.some((e) => e.action === 'tenant.create' && e.details.tenantId === tenant.tenantId)).toBe(true);
  });
});

describe('every other endpoint', () => {
  it('records admin, audit and refused-token requests exactly once each', async () => {
    const admin = await api.adminToken();
    const platformCalls: [string, string, string, number][] = [
      ['GET', '/v1/admin/tenants', admin, 200],
      ['GET', `/v1/admin/tenants/${tenant.tenantId}`, admin, 200],
      ['GET', '/v1/admin/tenants/ten_aaaaaaaaaaaaaaaaaaaa', admin, 404],
      ['GET', '/v1/admin/tenants', tenant.token, 403],
    ];
    const tenantCalls: [string, string, string, number][] = [
      ['GET', '/v1/audit?limit=1', tenant.token, 200],
      ['GET', '/v1/audit/export?action=secret.read', tenant.token, 200],
      ['GET', '/v1/audit?outcome=maybe', tenant.token, 400],
    ];
    const ids = new Map<string, [string, string, string, number]>();
    for (const call of [...platformCalls, ...tenantCalls]) {
      const id = correlation();
      const response = await api.request(call[0], call[1], { token: call[2], headers: { 'x-correlation-id': id } });
      expect(`${call[1]} → ${response.status}`).toBe(`${call[1]} → ${call[3]}`);
      ids.set(id, call);
    }
    const platform = await trail(admin);
    const own = await trail(tenant.token);
    for (const [id, call] of ids) {
      const chain = platformCalls.includes(call) && call[2] === admin ? platform : own;
      expect(chain.filter((e) => e.correlationId === id), `${call[0]} ${call[1]}`).toHaveLength(1);
    }
    // A tenant token on an admin route is the tenant's own event: it names who tried.
    const refusedAdmin = own.find((e) => e.action === 'tenant.list' && e.status === 403);
    expect(refusedAdmin).toMatchObject({ outcome: 'denied', actor: { id: tenant.clientId } });
  });

  it('records a refused token in the platform chain with the caller and the correlation id of the 401', async () => {
    const forged = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    const response = await api.request('GET', '/v1/secrets/probe/me', { token: forged, headers: { 'user-agent': 'probe/1.0' } });
    expect(response.status).toBe(401);
    const correlationId = response.headers.get('x-correlation-id');
    const refused = (await trail(await api.adminToken(), 'action=auth.verify')).filter((e) => e.correlationId === correlationId);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      chain: 'platform',
      tenantId: null,
      actor: { type: 'anonymous', id: null },
      resource: '/v1/secrets/probe/me',
      outcome: 'denied',
      status: 401,
      sourceIp: '127.0.0.1',
      userAgent: 'probe/1.0',
      details: { method: 'GET', route: '/v1/secrets/{path+}' },
    });
    expect(JSON.stringify(refused[0])).not.toContain(forged);
  });
});

describe('requests no route serves (request.unrouted)', () => {
  it('records an unknown route and a wrong method in the caller’s own chain, once each', async () => {
    const admin = await api.adminToken();
    const calls: [method: string, path: string, token: string, status: number, route: string][] = [
      ['GET', '/v1/secretz/a', tenant.token, 404, '/v1/{proxy+}'],
      ['PATCH', '/v1/secrets/a/b', tenant.token, 405, '/v1/secrets/{path+}'],
      ['DELETE', '/v1/whoami', tenant.token, 405, '/v1/whoami'],
      ['GET', '/', tenant.token, 404, '/'],
      ['GET', '/v1/users/alice/keys', tenant.token, 404, '/v1/users/{name}/{proxy+}'],
      ['GET', '/v1/admin/tenantz', admin, 404, '/v1/admin/{proxy+}'],
      ['DELETE', '/v1/token', admin, 405, '/v1/token'],
    ];
    const ids: string[] = [];
    for (const [method, path, token, status] of calls) {
      const id = correlation();
      ids.push(id);
      const response = await api.request(method, path, { token, headers: { 'x-correlation-id': id } });
      expect(`${method} ${path} → ${response.status}`).toBe(`${method} ${path} → ${status}`);
    }
    const own = await trail(tenant.token, 'action=request.unrouted');
    const platform = await trail(admin, 'action=request.unrouted');
    for (const [i, [method, path, token, status, route]] of calls.entries()) {
      const events = (token === admin ? platform : own).filter((e) => e.correlationId === ids[i]);
      expect(events, `${method} ${path}`).toHaveLength(1);
      expect(events[0]).toMatchObject({
        action: 'request.unrouted',
        resource: path,
        status,
        outcome: 'failure',
        actor: token === admin ? { type: 'platform' } : { id: tenant.clientId },
        details: { method, route },
      });
    }
  });

  it('keeps answering an unknown route without a token with the authorizer’s 401, recorded as auth.verify', async () => {
    const response = await api.request('GET', '/v1/secretz/a', {});
    expect(response.status).toBe(401);
    const correlationId = response.headers.get('x-correlation-id');
    const forged = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    const refused = await api.request('PATCH', '/v1/secrets/a/b', { token: forged });
    expect(refused.status).toBe(401);
    const events = await trail(await api.adminToken(), 'action=auth.verify');
    expect(events.filter((e) => e.correlationId === refused.headers.get('x-correlation-id'))).toMatchObject([{ details: { method: 'PATCH', route: '/v1/secrets/{path+}' } }]);
    // No header at all: API Gateway answers 401 itself, without calling the authorizer.
    expect(events.filter((e) => e.correlationId === correlationId)).toHaveLength(0);
  });
});

describe('what events never hold', () => {
  it('no secret value, client secret or token appears in any stored event', async () => {
    const plantedValue = `PLANTED-VALUE-${randomUUID()}`;
    const write = await api.request('PUT', '/v1/secrets/planted/one', { token: tenant.token, body: { data: { password: plantedValue } } });
    expect(write.status).toBe(201);
    await api.request('GET', '/v1/secrets/planted/one', { token: tenant.token });
    const bodyLeak = await api.request('PUT', '/v1/secrets/planted/two', { token: tenant.token, body: { data: { password: plantedValue }, unknownField: plantedValue } });
    expect(bodyLeak.status).toBe(400);

    const scan = await rawDynamo.send(new ScanCommand({ TableName: runtime.resources.table }));
    const auditItems = (scan.Items ?? []).filter((item) => item.pk?.S?.endsWith('#AUDIT'));
    expect(auditItems.length).toBeGreaterThan(10);
    const stored = JSON.stringify(auditItems);
    for (const planted of [plantedValue, tenant.clientSecret, tenant.token, 'wrong-secret-PLANTED', runtime.admin.clientSecret]) {
      expect(stored.includes(planted), `found ${planted.slice(0, 12)}… in the audit items`).toBe(false);
    }
  });
});

describe('hash chain', () => {
  it('keeps one unbroken chain when many requests of a tenant and a second container append at once', async () => {
    await api.request('PUT', '/v1/secrets/busy/one', { token: tenant.token, body: { data: { v: 1 } } });
    // Another container appending to the same chain at the same time.
    const { DynamoAuditLog } = await import('../../lambdas/adapters/dynamodb/audit-log');
    const other = new DynamoAuditLog(DynamoDBDocumentClient.from(rawDynamo), runtime.resources.table);
    const template = (await trail(tenant.token)).at(-1)!;
    const { seq: _seq, prevHash: _prev, hash: _hash, ...draft } = template;
    const ids = Array.from({ length: 24 }, () => correlation());
    const [responses] = await Promise.all([
      Promise.all(ids.map((id) => api.request('GET', '/v1/secrets/busy/one', { token: tenant.token, headers: { 'x-correlation-id': id } }))),
      Promise.all(Array.from({ length: 12 }, () => other.append({ ...draft, id: randomUUID(), time: new Date().toISOString() }))),
    ]);
    expect(responses.map((r) => r.status)).toEqual(ids.map(() => 200));
    const events = await trail(tenant.token);
    for (const id of ids) expect(events.filter((e) => e.correlationId === id)).toHaveLength(1);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(verifyChain(tenant.tenantId, events).problems).toEqual([]);
  });

  it('catches up with a chain other containers moved far ahead in a bounded number of calls, not one put per missed event', async () => {
    const { DynamoAuditLog } = await import('../../lambdas/adapters/dynamodb/audit-log');
    const doc = DynamoDBDocumentClient.from(rawDynamo);
    const sends: string[] = [];
    const counted = { send: (command: { constructor: { name: string } }) => (sends.push(command.constructor.name), doc.send(command as never)) } as unknown as DynamoDBDocumentClient;
    const behind = new DynamoAuditLog(counted, runtime.resources.table);
    const ahead = new DynamoAuditLog(doc, runtime.resources.table);
    const template = (await trail(tenant.token)).at(-1)!;
    const { seq: _seq, prevHash: _prev, hash: _hash, ...draft } = template;
    const event = () => ({ ...draft, id: randomUUID(), time: new Date().toISOString() });
    await behind.append(event()); // learns (and caches) the tail
    for (let i = 0; i < 30; i++) await ahead.append(event());
    sends.length = 0;
    const appended = await behind.append(event());
    // Stale cache: one lost put, one put at the learned holder's seq, then a read of the tail and the put.
    expect(sends.filter((name) => name === 'PutCommand').length).toBeLessThanOrEqual(3);
    expect(sends.length).toBeLessThanOrEqual(6);
    const events = await trail(tenant.token);
    expect(events.at(-1)?.id).toBe(appended.id);
    expect(verifyChain(tenant.tenantId, events).problems).toEqual([]);
  });

  it('links every event of a tenant to its predecessor', async () => {
    const events = await trail(tenant.token);
    expect(events.length).toBeGreaterThan(10);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(verifyChain(tenant.tenantId, events).problems).toEqual([]);
  });
});

describe('fail closed', () => {
  const realSend = DynamoDBDocumentClient.prototype.send;
  let mock: ReturnType<typeof mockClient> | undefined;
  afterEach(() => {
    mock?.restore();
    mock = undefined;
  });

  /** DynamoDB works, except writes that touch an audit chain (alone or in a transaction). */
  function breakAuditWrites() {
    mock = mockClient(DynamoDBDocumentClient);
    const passThrough = (Command: new (input: any) => any) =>
      mock!.on(Command).callsFake((input, getClient) => (realSend as any).call(getClient(), new Command(input)));
    for (const Command of [GetCommand, QueryCommand, UpdateCommand]) passThrough(Command);
    mock.on(PutCommand).callsFake((input, getClient) => {
      if (String(input.Item?.pk).endsWith('#AUDIT')) throw Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable', $fault: 'server' });
      return (realSend as any).call(getClient(), new PutCommand(input));
    });
    mock.on(TransactWriteCommand).callsFake((input, getClient) => {
      const touchesAudit = JSON.stringify(input.TransactItems).includes('#AUDIT');
      if (touchesAudit) throw Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable', $fault: 'server' });
      return (realSend as any).call(getClient(), new TransactWriteCommand(input));
    });
  }

  it('records a request once when the SDK retried a put whose first answer was lost', async () => {
    await api.request('PUT', '/v1/secrets/app/lost', { token: tenant.token, body: { data: { v: 1 } } });
    mock = mockClient(DynamoDBDocumentClient);
    const passThrough = (Command: new (input: any) => any) =>
      mock!.on(Command).callsFake((input, getClient) => (realSend as any).call(getClient(), new Command(input)));
    for (const Command of [GetCommand, QueryCommand, UpdateCommand, TransactWriteCommand]) passThrough(Command);
    let lost = 0;
    mock.on(PutCommand).callsFake(async (input, getClient) => {
      const client = getClient();
      await (realSend as any).call(client, new PutCommand(input));
      if (!String(input.Item?.pk).endsWith('#AUDIT') || lost++ > 0) return {};
      // The put landed but its answer was lost; the SDK's retry meets its own item.
      return (realSend as any).call(client, new PutCommand(input));
    });
    const id = correlation();
    const response = await api.request('GET', '/v1/secrets/app/lost', { token: tenant.token, headers: { 'x-correlation-id': id } });
    mock.restore();
    mock = undefined;
    expect(response.status).toBe(200);
    expect(lost).toBe(1);
    const events = await trail(tenant.token);
    expect(events.filter((e) => e.correlationId === id)).toHaveLength(1);
    expect(verifyChain(tenant.tenantId, events).problems).toEqual([]);
  });

  it('answers a read with 503 and without the value when its event cannot be recorded', async () => {
    await api.request('PUT', '/v1/secrets/closed/read', { token: tenant.token, body: { data: { v: 'visible-only-when-audited' } } });
    breakAuditWrites();
    const response = await api.request('GET', '/v1/secrets/closed/read', { token: tenant.token });
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(JSON.stringify(response.body)).not.toContain('visible-only-when-audited');
    expect(response.body.detail).toMatch(/audit/);
  });

  it('refuses a write with 503 and changes nothing when its event cannot be recorded', async () => {
    const first = await api.request('PUT', '/v1/secrets/closed/write', { token: tenant.token, body: { data: { v: 1 } } });
    expect(first.status).toBe(201);
    breakAuditWrites();
    const refused = await api.request('PUT', '/v1/secrets/closed/write', { token: tenant.token, body: { data: { v: 2 } } });
    expect(refused.status).toBe(503);
    const deleteRefused = await api.request('DELETE', '/v1/secrets/closed/write', { token: tenant.token });
    expect(deleteRefused.status).toBe(503);
    mock!.restore();
    mock = undefined;

    const after = await api.request('GET', '/v1/secrets/closed/write', { token: tenant.token });
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ version: 1, latestVersion: 1, data: { v: 1 } });
    expect(verifyChain(tenant.tenantId, await trail(tenant.token)).problems).toEqual([]);
  });

  it('says that a refused login was counted when its event cannot be recorded, instead of "nothing was changed"', async () => {
    const username = `outage-${randomUUID().slice(0, 8)}`;
    expect((await api.request('POST', '/v1/users', { token: tenant.token, body: { username, password: 'correct horse battery' } })).status).toBe(201);
    breakAuditWrites();
    const response = await api.request('POST', '/v1/token', { body: { grant_type: 'password', tenant: tenant.tenantId, username, password: 'wrong horse battery' } });
    expect(response.status).toBe(503);
    expect(response.body.detail).toBe(
      'The audit trail cannot record this login, so no token was issued; the attempt was still counted (a failed one toward the user lockout or your address limit, a successful password login clears the user count). Retry later.',
    );
    expect(response.body.detail).not.toContain('nothing was changed');
    const user = await rawDynamo.send(new GetItemCommand({ TableName: runtime.resources.table, Key: { pk: { S: `T#${tenant.tenantId}#IDENTITY` }, sk: { S: `USER#${username}` } } }));
    expect(user.Item?.failedAttempts).toEqual({ N: '1' });
  });

  it('answers a refused token with 503, not an unrecorded 401', async () => {
    breakAuditWrites();
    const response = await api.request('GET', '/v1/secrets/closed/read', { token: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl' });
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('refuses onboarding with 503 and leaves no tenant when the platform event cannot be recorded', async () => {
    const before = await api.request('GET', '/v1/admin/tenants?limit=1000', { token: await api.adminToken() });
    breakAuditWrites();
    const refused = await api.request('POST', '/v1/admin/tenants', { token: await api.adminToken(), body: { name: 'never' } });
    expect(refused.status).toBe(503);
    mock!.restore();
    mock = undefined;
    const after = await api.request('GET', '/v1/admin/tenants?limit=1000', { token: await api.adminToken() });
    expect(after.body.items.map((t: { name: string }) => t.name)).toEqual(before.body.items.map((t: { name: string }) => t.name));
  });
});

describe('who may read the trail', () => {
  it('scopes each caller to its own chain and validates the filters', async () => {
    const other = await api.onboard('other');
    const events = await trail(other.token);
    expect(events.every((e) => e.chain === other.tenantId)).toBe(true);
    expect(events.some((e) => e.chain === tenant.tenantId)).toBe(false);

    const bad = await api.request('GET', '/v1/audit?from=yesterday', { token: tenant.token });
    expect(bad.status).toBe(400);
    const inverted = await api.request('GET', '/v1/audit?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', { token: tenant.token });
    expect(inverted.status).toBe(400);
  });

  it('refuses Contributors and Viewers (403), and records their attempts', async () => {
    for (const role of ['contributor', 'viewer'] as const) {
      const token = await clientWithRoles(runtime, api, tenant.tenantId, [role]);
      for (const path of ['/v1/audit', '/v1/audit/export', '/v1/audit/sinks']) {
        const response = await api.request('GET', path, { token });
        expect(`${role} ${path} → ${response.status}`).toBe(`${role} ${path} → 403`);
      }
      const put = await api.request('PUT', '/v1/audit/sinks/mine', { token, body: { target: { type: 'webhook', url: 'https://example.com/hook' } } });
      expect(put.status).toBe(403);
    }
    const refused = (await trail(tenant.token, 'outcome=denied')).filter((e) => e.action.startsWith('audit.'));
    expect(refused.length).toBeGreaterThanOrEqual(8);
  });

  it('filters by action, outcome, path and time, and exports JSON Lines', async () => {
    const reads = await trail(tenant.token, 'action=secret.read&outcome=failure');
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((e) => e.action === 'secret.read' && e.outcome === 'failure')).toBe(true);
    const onPath = await trail(tenant.token, 'path=app/');
    expect(onPath.length).toBeGreaterThan(0);
    expect(onPath.every((e) => e.resource?.startsWith('app/'))).toBe(true);
    expect(await trail(tenant.token, 'to=2000-01-01T00:00:00Z')).toEqual([]);

    const exported = await api.request('GET', '/v1/audit/export?action=secret.write', { token: tenant.token });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (exported.body as string).trim().split('\n').map((line) => JSON.parse(line) as AuditEvent);
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.every((e) => e.action === 'secret.write' && typeof e.hash === 'string')).toBe(true);
  });
});
