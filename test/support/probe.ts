import { DynamoDBClient, QueryCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { request as httpRequest } from 'node:http';
import { expect } from 'vitest';
import type { LocalRuntime } from '../../bin/local/runtime';
import { createDocumentClient } from '../../lambdas/adapters/dynamodb/client';
import { DynamoTenantRepository } from '../../lambdas/adapters/dynamodb/tenant-repository';
import { hashSecret, newClientSecret } from '../../lambdas/core/credentials';
import { newClientId } from '../../lambdas/core/ids';
import type { Role } from '../../lambdas/core/principal';
import type { Client, Response } from './runtime';

// Helpers for tests that look behind the API: raw table rows, raw HTTP, problem bodies.
// They use the SDK against the same moto the runtime talks to, never the handlers' clients.

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export function rawDynamo(runtime: LocalRuntime): DynamoDBClient {
  return new DynamoDBClient({ region: runtime.aws.region, endpoint: runtime.aws.dynamodbEndpoint, credentials });
}

export function rawKms(runtime: LocalRuntime, region = runtime.aws.region): KMSClient {
  return new KMSClient({ region, endpoint: runtime.aws.endpoint, credentials });
}

export type RawItem = Record<string, AttributeValue>;

/** Every item of the table, unmarshalled by nobody: exactly what DynamoDB holds. */
export async function scanTable(db: DynamoDBClient, table: string, pkPrefix?: string): Promise<RawItem[]> {
  const items: RawItem[] = [];
  let start: Record<string, AttributeValue> | undefined;
  const filter = pkPrefix === undefined ? {} : { FilterExpression: 'begins_with(pk, :prefix)', ExpressionAttributeValues: { ':prefix': { S: pkPrefix } } };
  do {
    const page = await db.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start, ...filter }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** A stable text image of some items (binary as base64), sorted by key: equal images, equal rows. */
export function imageOf(items: readonly RawItem[]): string {
  const render = (v: unknown): unknown => {
    if (v instanceof Uint8Array) return { $b64: Buffer.from(v).toString('base64') };
    if (Array.isArray(v)) return v.map(render);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, render(x)]));
    return v;
  };
  return JSON.stringify(
    items.map(render).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    null,
    1,
  );
}

/** The rows of one tenant (every key that starts `T#<tenantId>#`), as a comparable image. */
export async function tenantRows(db: DynamoDBClient, table: string, tenantId: string): Promise<string> {
  // The tenant's own partitions, read by key (a table scan grows with every test's rows):
  // its metadata, its secret heads, and the versions of every secret it has a head for.
  const heads = await queryPartition(db, table, `T#${tenantId}#HEADS`);
  const partitions = [`T#${tenantId}#META`, ...heads.map((head) => `T#${tenantId}#SECRET#${head.sk!.S}`)];
  const rest = await Promise.all(partitions.map((pk) => queryPartition(db, table, pk)));
  return imageOf([...heads, ...rest.flat()]);
}

async function queryPartition(db: DynamoDBClient, table: string, pk: string): Promise<RawItem[]> {
  const items: RawItem[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: pk } }, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Every row of the table as a comparable image, audit trail aside. */
export async function tableImage(db: DynamoDBClient, table: string): Promise<string> {
  return imageOf((await scanTable(db, table)).filter((item) => !isAuditRow(item)));
}

/** Every request, refused ones included, appends to the audit trail: that is not a write by the request. */
export function isAuditRow(item: RawItem): boolean {
  return item.pk?.S?.endsWith('#AUDIT') === true;
}

/** Asserts an RFC 9457 problem with the status, a clear detail and the correlation id in header and body. */
export function expectProblem(response: Response, status: number, detail?: string | RegExp): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  const correlationId = response.headers.get('x-correlation-id');
  expect(correlationId).toMatch(/^[A-Za-z0-9._-]{8,128}$/);
  expect(response.body).toMatchObject({ status, correlationId, type: expect.any(String), title: expect.any(String) });
  expect(typeof response.body.detail).toBe('string');
  expect(response.body.detail.length).toBeGreaterThan(10);
  if (typeof detail === 'string') expect(response.body.detail).toBe(detail);
  else if (detail) expect(response.body.detail).toMatch(detail);
}

/**
 * An HTTP request whose path goes on the wire byte for byte: fetch (WHATWG URL) would
 * resolve `.`/`..` segments and re-encode characters before sending.
 */
export function rawRequest(
  endpoint: string,
  method: string,
  rawPath: string,
  options: { token?: string; body?: string; headers?: Record<string, string>; /** Another loopback address to send from, e.g. 127.0.0.3. */ from?: string } = {},
): Promise<Response> {
  const url = new URL(endpoint);
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path: rawPath, headers, ...(options.from ? { localAddress: options.from } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // leave as text
        }
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve({ status: res.statusCode ?? 0, headers: h, body: body as any });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** The paths a tenant's listing shows (all pages), deleted ones included. */
export async function listAll(
  client: { request: (m: string, p: string, o?: { token?: string }) => Promise<Response> },
  token: string,
): Promise<string[]> {
  const paths: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.request('GET', `/v1/secrets?deleted=true&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
    if (page.status !== 200) throw new Error(`list failed: ${page.status} ${JSON.stringify(page.body)}`);
    paths.push(...page.body.items.map((i: { path: string }) => i.path));
    cursor = page.body.nextCursor;
  } while (cursor);
  return paths;
}

/**
 * An API client of `tenantId` with these roles, stored through the real repository (the
 * API to create clients arrives with "Identity and access"), and its access token.
 */
export async function clientWithRoles(runtime: LocalRuntime, api: Client, tenantId: string, roles: Role[]): Promise<string> {
  const doc = createDocumentClient({ region: runtime.aws.region, endpoint: runtime.aws.dynamodbEndpoint, credentials });
  const clientSecret = newClientSecret();
  const clientId = newClientId(tenantId);
  await new DynamoTenantRepository(doc, runtime.resources.table).put(
    { scope: tenantId, clientId, name: roles.join('+'), secretHash: await hashSecret(clientSecret), roles, status: 'active', createdAt: new Date().toISOString(), createdBy: 'test' },
    true,
  );
  doc.destroy();
  return api.token(clientId, clientSecret);
}
