import { randomUUID } from 'node:crypto';
import { BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambdas/adapters/dynamodb/client';
import { DynamoAuditLog } from '../../lambdas/adapters/dynamodb/audit-log';
import { IdempotencyKeyInUseError } from '../../lambdas/core/errors';
import { RequestAudit } from '../../lambdas/http/request-audit';
import { DynamoIdempotencyStore } from '../../lambdas/adapters/dynamodb/idempotency-store';
import { keys } from '../../lambdas/adapters/dynamodb/keys';
import type { AuditEvent } from '../../lambdas/core/audit';
import { fingerprintOf, idempotencyRef } from '../../lambdas/core/idempotency';
import { clientWithRoles, rawRequest } from '../support/probe';
import { startTestRuntime, type Client } from '../support/runtime';

let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;
let tenant: Awaited<ReturnType<Client['onboard']>>;
let doc: ReturnType<typeof createDocumentClient>;

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = runtime.client;
  tenant = await api.onboard('retrying');
  doc = createDocumentClient({ region: runtime.aws.region, endpoint: runtime.aws.dynamodbEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
});
afterAll(async () => {
  doc?.destroy();
  await runtime?.stop();
});

const newKey = () => `key-${randomUUID()}`;
const put = (path: string, body: unknown, key: string, token = tenant.token, extra: Record<string, string> = {}) =>
  api.request('PUT', `/v1/secrets/${path}`, { token, body, headers: { 'idempotency-key': key, ...extra } });
const version = async (path: string) => (await api.request('GET', `/v1/metadata/${path}`, { token: tenant.token })).body.version as number;

async function eventsOf(correlationId: string): Promise<AuditEvent[]> {
  const page = await api.request('GET', '/v1/audit?limit=1000', { token: tenant.token });
  const events: AuditEvent[] = [...page.body.items];
  let cursor = page.body.nextCursor as string | undefined;
  while (cursor) {
    const next = await api.request('GET', `/v1/audit?limit=1000&cursor=${encodeURIComponent(cursor)}`, { token: tenant.token });
    events.push(...next.body.items);
    cursor = next.body.nextCursor;
  }
  return events.filter((e) => e.correlationId === correlationId);
}

describe('Idempotency-Key on writes', () => {
  it('answers a retry with the first answer and writes nothing twice', async () => {
    const key = newKey();
    const first = await put('idem/one', { data: { v: 1 } }, key);
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    const retryId = `retry-${randomUUID()}`;
    const again = await put('idem/one', { data: { v: 1 } }, key, tenant.token, { 'x-correlation-id': retryId });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(again.headers.get('location')).toBe('/v1/secrets/idem/one');
    expect(again.body).toEqual(first.body);
    expect(await version('idem/one')).toBe(1);

    // The retry is in the trail with the answer it got, marked as a replay of the first.
    const [event, ...more] = await eventsOf(retryId);
    expect(more).toEqual([]);
    expect(event).toMatchObject({ action: 'secret.write', status: 201, details: { idempotentReplay: true, firstCorrelationId: first.headers.get('x-correlation-id') } });
  });

  it('refuses the same key with another body or another path (422) and writes nothing', async () => {
    const key = newKey();
    expect((await put('idem/two', { data: { v: 1 } }, key)).status).toBe(201);
    const otherBody = await put('idem/two', { data: { v: 2 } }, key);
    expect(otherBody.status).toBe(422);
    expect(otherBody.headers.get('content-type')).toBe('application/problem+json');
    expect(otherBody.body).toMatchObject({ type: 'https://coffer.dev/problems/idempotency-key-reused', status: 422 });
    expect((await put('idem/elsewhere', { data: { v: 1 } }, key)).status).toBe(422);
    expect((await api.request('DELETE', '/v1/secrets/idem/two', { token: tenant.token, headers: { 'idempotency-key': key } })).status).toBe(422);
    expect(await version('idem/two')).toBe(1);
    expect((await api.request('GET', '/v1/secrets/idem/elsewhere', { token: tenant.token })).status).toBe(404);
    expect((await put('idem/two', { data: { v: 1 } }, key, tenant.token, { 'if-match': '1' })).status).toBe(422);
  });

  it('keeps keys apart per principal: another caller with the same key writes for itself', async () => {
    const key = newKey();
    expect((await put('idem/shared', { data: { v: 1 } }, key)).status).toBe(201);
    const other = await clientWithRoles(runtime, api, tenant.tenantId, ['contributor']);
    const theirs = await put('idem/shared', { data: { v: 1 } }, key, other);
    expect(theirs.status).toBe(200);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(await version('idem/shared')).toBe(2);
  });

  it('lets concurrent retries of one request write once: the rest replay it or hear 409 with Retry-After', async () => {
    const key = newKey();
    expect((await api.request('PUT', '/v1/secrets/idem/burst', { token: tenant.token, body: { data: { v: 0 } } })).status).toBe(201);
    const answers = await Promise.all(Array.from({ length: 10 }, () => put('idem/burst', { data: { v: 1 } }, key)));
    const ran = answers.filter((a) => a.status === 200 && a.headers.get('idempotent-replayed') === null);
    const replayed = answers.filter((a) => a.headers.get('idempotent-replayed') === 'true');
    const busy = answers.filter((a) => a.status === 409);
    expect(ran).toHaveLength(1);
    expect(ran.length + replayed.length + busy.length).toBe(10);
    for (const b of busy) {
      expect(b.body.type).toBe('https://coffer.dev/problems/idempotency-key-in-use');
      expect(b.headers.get('retry-after')).toBe('1');
    }
    for (const r of replayed) expect(r.body).toEqual(ran[0]!.body);
    expect(await version('idem/burst')).toBe(2);
  });

  it('keeps no answer for a refusal: the same request runs for real once it can succeed', async () => {
    const key = newKey();
    const del = () => api.request('DELETE', '/v1/secrets/idem/later', { token: tenant.token, headers: { 'idempotency-key': key } });
    expect((await del()).status).toBe(404);
    expect((await api.request('PUT', '/v1/secrets/idem/later', { token: tenant.token, body: { data: { v: 1 } } })).status).toBe(201);
    expect((await del()).status).toBe(204);
    const replay = await del();
    expect(replay.status).toBe(204);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });

  it('replays a credential once shown without keeping it readable at rest', async () => {
    const key = newKey();
    const body = { name: `bot-${randomUUID().slice(0, 8)}`, roles: ['viewer'] };
    const created = await api.request('POST', '/v1/clients', { token: tenant.token, body, headers: { 'idempotency-key': key } });
    expect(created.status).toBe(201);
    const secret = created.body.clientSecret as string;
    expect(secret).toMatch(/^cs_/);
    const again = await api.request('POST', '/v1/clients', { token: tenant.token, body, headers: { 'idempotency-key': key } });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(created.body);
    expect((await api.request('GET', '/v1/clients?limit=1000', { token: tenant.token })).body.items.filter((c: { name: string }) => c.name === body.name)).toHaveLength(1);

    // Sealed under a key derived from the Idempotency-Key, which the table never holds.
    const { Items } = await doc.send(new ScanCommand({ TableName: runtime.resources.table }));
    const dump = JSON.stringify(Items);
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(secret.slice(3, 20));
    expect(dump).not.toContain(key);
  });

  it('replays a change whose answer was lost with its status, and says the rest was not kept', async () => {
    const key = newKey();
    const first = await put('idem/lost', { data: { v: 1 } }, key);
    expect(first.status).toBe(201);
    // As if the request had been cut off after its transaction committed and its time had
    // run out since: no answer stored, and nobody left to store one.
    const principal = { kind: 'tenant', tenantId: tenant.tenantId, type: 'client', id: tenant.clientId, roles: ['owner'] } as const;
    const Key = { pk: keys.idempotency(tenant.tenantId, idempotencyRef(principal, key).id), sk: keys.idempotencySk };
    const stored = (await doc.send(new GetCommand({ TableName: runtime.resources.table, Key }))).Item!;
    expect(stored).toMatchObject({ state: 'answered', status: 201 });
    await doc.send(new UpdateCommand({ TableName: runtime.resources.table, Key, UpdateExpression: 'SET #s = :c, lockedUntil = :past REMOVE answer', ExpressionAttributeNames: { '#s': 'state' }, ExpressionAttributeValues: { ':c': 'committed', ':past': Date.now() - 1 } }));

    const replay = await put('idem/lost', { data: { v: 1 } }, key);
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toMatchObject({ applied: true, correlationId: first.headers.get('x-correlation-id') });
    expect(await version('idem/lost')).toBe(1);
  });

  it('lets a retry take over a key whose first request was cut off before committing', async () => {
    const key = newKey();
    const body = { data: { v: 1 } };
    const principal = { kind: 'tenant', tenantId: tenant.tenantId, type: 'client', id: tenant.clientId, roles: ['owner'] } as const;
    const at = { tenantId: tenant.tenantId, id: idempotencyRef(principal, key).id };
    const fingerprint = fingerprintOf({ method: 'PUT', path: '/v1/secrets/idem/taken', query: {}, body: JSON.stringify(body) });
    const store = new DynamoIdempotencyStore(doc, runtime.resources.table);
    const stale = { fingerprint, owner: 'cut-off', correlationId: 'c-1', lockedUntil: Date.now() + 60_000, expiresAt: Math.floor(Date.now() / 1000) + 3600 };
    expect(await store.claim(at, stale)).toBeUndefined();

    // Still locked: the first request may yet commit.
    const early = await put('idem/taken', body, key);
    expect(early.status).toBe(409);
    expect(early.body.type).toBe('https://coffer.dev/problems/idempotency-key-in-use');

    const Key = { pk: keys.idempotency(tenant.tenantId, at.id), sk: keys.idempotencySk };
    await doc.send(new UpdateCommand({ TableName: runtime.resources.table, Key, UpdateExpression: 'SET lockedUntil = :past', ExpressionAttributeValues: { ':past': Date.now() - 1 } }));
    const taken = await put('idem/taken', body, key);
    expect(taken.status).toBe(201);
    expect(taken.headers.get('idempotent-replayed')).toBeNull();
    expect(await version('idem/taken')).toBe(1);
    expect((await doc.send(new GetCommand({ TableName: runtime.resources.table, Key }))).Item).toMatchObject({ state: 'answered', status: 201 });

    // Should the cut-off request wake up now, its change cannot commit: its claim is gone.
    const late = new RequestAudit({ action: 'secret.write', correlationId: 'c-1', sourceIp: '127.0.0.1', userAgent: 't', region: runtime.aws.region, time: new Date().toISOString() }, principal);
    const change = { Put: { TableName: runtime.resources.table, Item: { pk: `T#${tenant.tenantId}#TEST`, sk: 'late-write' } } };
    const pending = { ...late.pending(200), idempotency: { ...at, owner: 'cut-off' } };
    await expect(new DynamoAuditLog(doc, runtime.resources.table).transact([change], pending)).rejects.toBeInstanceOf(IdempotencyKeyInUseError);
    expect((await doc.send(new GetCommand({ TableName: runtime.resources.table, Key: { pk: `T#${tenant.tenantId}#TEST`, sk: 'late-write' } }))).Item).toBeUndefined();
  });

  it('finishes a purge cut short midway when it is retried with the same key, instead of replaying "done"', async () => {
    expect((await api.request('PUT', '/v1/secrets/idem/purged', { token: tenant.token, body: { data: { v: 1 } } })).status).toBe(201);
    expect((await api.request('PUT', '/v1/secrets/idem/purged', { token: tenant.token, body: { data: { v: 2 } } })).status).toBe(200);
    expect((await api.request('DELETE', '/v1/secrets/idem/purged', { token: tenant.token })).status).toBe(204);
    const key = newKey();
    const purge = () => api.request('DELETE', '/v1/metadata/idem/purged', { token: tenant.token, headers: { 'idempotency-key': key } });

    // DynamoDB fails the version deletes: the purge stops after its mark (and its event).
    const realSend = DynamoDBDocumentClient.prototype.send;
    const mock = mockClient(DynamoDBDocumentClient);
    try {
      for (const Command of [GetCommand, QueryCommand, UpdateCommand, PutCommand, DeleteCommand, TransactWriteCommand] as (new (input: any) => any)[]) {
        mock.on(Command).callsFake((input, getClient) => (realSend as any).call(getClient(), new Command(input)));
      }
      mock.on(BatchWriteCommand).rejects(Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable', $fault: 'server' }));
      expect((await purge()).status).toBe(503);
    } finally {
      mock.restore();
    }
    const versionsLeft = await doc.send(new QueryCommand({ TableName: runtime.resources.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.secretVersions(tenant.tenantId, 'idem/purged') } }));
    expect(versionsLeft.Items).toHaveLength(2);

    const retried = await purge();
    expect(retried.status).toBe(204);
    expect(retried.headers.get('idempotent-replayed')).toBeNull(); // it ran, and finished
    const after = await doc.send(new QueryCommand({ TableName: runtime.resources.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.secretVersions(tenant.tenantId, 'idem/purged') } }));
    expect(after.Items).toEqual([]);
    expect((await api.request('GET', '/v1/metadata/idem/purged', { token: tenant.token })).status).toBe(404);

    const replay = await purge();
    expect(replay.status).toBe(204);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });

  it('refuses an Idempotency-Key sent twice with 400', async () => {
    const twice = await rawRequest(runtime.endpoint, 'PUT', '/v1/secrets/idem/twice', {
      token: tenant.token,
      body: JSON.stringify({ data: { v: 1 } }),
      headers: { 'content-type': 'application/json', 'idempotency-key': [newKey(), newKey()] as unknown as string },
    });
    expect(twice.status).toBe(400);
    expect(twice.body.detail).toBe('Send Idempotency-Key once.');
    expect((await api.request('GET', '/v1/secrets/idem/twice', { token: tenant.token })).status).toBe(404);
  });

  it('refuses a malformed key, and a key on the token endpoint, with 400', async () => {
    const short = await put('idem/bad', { data: { v: 1 } }, 'short');
    expect(short.status).toBe(400);
    expect(short.body.detail).toContain('Idempotency-Key');
    expect((await put('idem/bad', { data: { v: 1 } }, 'x'.repeat(256))).status).toBe(400);
    expect((await put('idem/bad', { data: { v: 1 } }, `${'x'.repeat(20)} y`)).status).toBe(400);
    expect((await api.request('GET', '/v1/secrets/idem/bad', { token: tenant.token })).status).toBe(404);

    const token = await api.request('POST', '/v1/token', {
      body: { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret },
      headers: { 'idempotency-key': newKey() },
    });
    expect(token.status).toBe(400);
  });
});
