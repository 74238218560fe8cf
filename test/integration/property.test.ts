import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAll, rawDynamo, rawRequest, tenantRows } from '../support/probe';
import { startTestRuntime, type Client, type Response } from '../support/runtime';

// Random paths (sent raw, dot segments and all, as API Gateway passes them) and bodies (some
// nested far past the depth limit) against the real runtime. A small model of the tenant (path →
// version, data, deleted) predicts every answer; the rules checked on every request:
// never a 5xx, every refusal is a problem+json that changed no row, every success did
// exactly what the model says.
let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;
let db: DynamoDBClient;
let token: string;
let tenantId: string;

interface Modelled {
  version: number;
  data: unknown;
  deleted: boolean;
}
const model = new Map<string, Modelled>();

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = runtime.client;
  db = rawDynamo(runtime);
  ({ token, tenantId } = await api.onboard('property'));
  for (const path of ['seed/a', 'seed/b']) {
    await api.request('PUT', `/v1/secrets/${path}`, { token, body: { data: { seed: path } } });
    model.set(path, { version: 1, data: { seed: path }, deleted: false });
  }
});
afterAll(async () => {
  db?.destroy();
  await runtime?.stop();
});

// ---- the oracle, written from API.md, independent of the code under test ----
const SEGMENT = /^[A-Za-z0-9._-]{1,128}$/;
const TAG_KEY = /^[A-Za-z0-9._:\/=+@-]{1,128}$/;

function validPath(path: string): boolean {
  const segments = path.split('/');
  return path.length > 0 && segments.length <= 16 && segments.every((s) => SEGMENT.test(s) && s !== '.' && s !== '..');
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** API.md: a JSON body nests at most 32 levels of objects and arrays, the body itself being level 1. */
const MAX_DEPTH = 32;
function depthOf(value: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [v, depth] = next;
    if (typeof v !== 'object' || v === null) continue;
    deepest = Math.max(deepest, depth);
    for (const child of Object.values(v)) pending.push([child, depth + 1]);
  }
  return deepest;
}

function validBody(body: unknown): boolean {
  if (!isPlainObject(body) || !isPlainObject(body.data) || depthOf(body) > MAX_DEPTH) return false;
  if (Object.keys(body).some((k) => !['data', 'description', 'tags'].includes(k))) return false;
  if (body.description !== undefined && !(typeof body.description === 'string' && body.description.length <= 1024)) return false;
  if (body.tags !== undefined) {
    if (!isPlainObject(body.tags)) return false;
    const entries = Object.entries(body.tags);
    if (entries.length > 50 || entries.some(([k, v]) => !TAG_KEY.test(k) || typeof v !== 'string' || v.length > 256)) return false;
  }
  return Buffer.byteLength(JSON.stringify(body.data)) <= 64 * 1024;
}

// ---- generators ----
const POOL = ['seed/a', 'seed/b', 'pool/one', 'pool/two/three', 'pool/x.y_z-1', 'p'];
const segment = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9._-]{1,10}$/) },
  { weight: 2, arbitrary: fc.constantFrom('.', '..', '...', '', '%2F', '%', '%00', '\\', '?', '#', ' ', '+', '~', '\u200B', '\u202E', '\uFF0F', '\u0430', 'e\u0301', 'x'.repeat(129)) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
);
const path = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...POOL) },
  { weight: 5, arbitrary: fc.array(segment, { minLength: 0, maxLength: 18 }).map((s) => s.join('/')) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
);

/** Sent exactly so: each means `.` or `..` once decoded, or holds a backslash (never a separator). */
const rawDotSegment = fc.constantFrom('.', '..', '%2e', '%2E%2e', '.%2E', '%2e.', 'a\\b', '\\..');
/** The request path as sent: meant paths percent-encoded per segment, or raw dot segments between pool paths. */
const sentPath = fc.oneof(
  { weight: 8, arbitrary: path.map((meant) => meant.split('/').map(encodeURIComponent).join('/')) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...POOL), rawDotSegment, fc.constantFrom('', 'x', 'seed/a', 'admin/tenants'))
      .map(([before, dot, after]) => [before, dot, after].filter(Boolean).join('/')),
  },
);
const nestedData = fc.integer({ min: MAX_DEPTH - 3, max: 1000 }).map((depth) => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
});

const noProto = (v: unknown) => !JSON.stringify(v).includes('__proto__'); // a known bug, tested in bad-input
const data = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 });
const tags = fc.dictionary(fc.stringMatching(/^[a-z0-9.:_-]{1,8}$/), fc.string({ maxLength: 8 }), { maxKeys: 3 });
const anyTags = fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constant(null)), { maxKeys: 3 });
const body = fc.oneof(
  { weight: 6, arbitrary: fc.record({ data, description: fc.string({ maxLength: 20 }), tags }, { requiredKeys: ['data'] }) },
  { weight: 1, arbitrary: fc.record({ data, description: fc.oneof(fc.integer(), fc.string({ minLength: 1025, maxLength: 1030 })), tags: anyTags }, { requiredKeys: ['data'] }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.record({ data: fc.oneof(fc.array(fc.jsonValue({ maxDepth: 2 })), fc.string(), fc.constant(null), fc.integer()) }) },
  { weight: 1, arbitrary: fc.record({ data, extra: fc.jsonValue({ maxDepth: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ data: nestedData }) },
).filter(noProto);
const rawBody = fc.oneof({ weight: 6, arbitrary: body.map((b) => JSON.stringify(b) ?? 'null') }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) });

const request = fc.oneof(
  fc.record({ method: fc.constantFrom('PUT', 'POST'), urlPath: sentPath, rawBody }),
  fc.record({ method: fc.constantFrom('GET', 'DELETE'), urlPath: sentPath, rawBody: fc.constant(undefined) }),
);

// ---- what the server will see for a path as sent ----
/** The secret path the request names: each raw segment percent-decoded; undefined if one cannot be. */
function namedPath(urlPath: string): string | undefined {
  try {
    return urlPath.split('/').map(decodeURIComponent).join('/');
  } catch {
    return undefined;
  }
}

/** Sent as written, with no URL parsing on the way (fetch would resolve the dot segments). */
function send(method: string, urlPath: string, text?: string): Promise<Response> {
  return rawRequest(runtime.endpoint, method, `/v1/secrets/${urlPath}`, {
    token,
    ...(text === undefined ? {} : { body: text, headers: { 'content-type': 'application/json' } }),
  });
}

function expectRefusal(response: Response): void {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(response.body.correlationId).toBe(response.headers.get('x-correlation-id'));
  expect(response.body.status).toBe(response.status);
}

describe('random requests never break the rules', () => {
  it('never answers 5xx; refusals write nothing; successes do what the model predicts', async () => {
    await fc.assert(
      fc.asyncProperty(request, async ({ method, urlPath, rawBody: text }) => {
        const seen = namedPath(urlPath);
        const before = await tenantRows(db, runtime.resources.table, tenantId);
        const response = await send(method, urlPath, text);
        const context = `${method} ${JSON.stringify(urlPath)} → ${response.status} ${String(JSON.stringify(response.body)).slice(0, 300)}`;
        expect(response.status, context).toBeLessThan(500);
        if (response.status >= 400) {
          expectRefusal(response);
          expect(await tenantRows(db, runtime.resources.table, tenantId), context).toBe(before);
        }

        // The exact answer.
        if (seen === '') {
          expect([404, 405], context).toContain(response.status);
          return;
        }
        if (seen === undefined || !validPath(seen)) {
          expect(response.status, context).toBe(400);
          return;
        }
        const current = model.get(seen);
        const live = current !== undefined && !current.deleted;
        let parsed: unknown;
        let parses = true;
        try {
          parsed = text === undefined ? undefined : JSON.parse(text);
        } catch {
          parses = false;
        }
        switch (method) {
          case 'GET':
            if (!live) return void expect(response.status, context).toBe(404);
            expect(response.status, context).toBe(200);
            expect(response.body).toMatchObject({ path: seen, version: current.version });
            expect(response.body.data, context).toEqual(current.data);
            return;
          case 'DELETE':
            if (!live) return void expect(response.status, context).toBe(404);
            expect(response.status, context).toBe(204);
            current.deleted = true;
            return;
          case 'PUT':
          case 'POST': {
            if (!parses || !validBody(parsed)) return void expect(response.status, context).toBe(400);
            const { data: written } = parsed as { data: unknown };
            if (method === 'POST' && current) return void expect(response.status, context).toBe(409);
            if (method === 'PUT' && current?.deleted) return void expect(response.status, context).toBe(409);
            const version = (current?.version ?? 0) + 1;
            expect(response.status, context).toBe(version === 1 ? 201 : 200);
            expect(response.body).toMatchObject({ path: seen, version });
            model.set(seen, { version, data: written, deleted: false });
            const read = await send('GET', urlPath);
            expect(read.body.data, context).toEqual(written);
            return;
          }
        }
      }),
      { numRuns: 150, endOnFailure: true },
    );

    // The tenant holds exactly the paths the model says, in the states it says.
    const listed = await listAll(api, token);
    expect([...listed].sort()).toEqual([...model.keys()].sort());
    const live = await api.request('GET', '/v1/secrets?limit=1000', { token });
    expect(live.body.items.map((i: { path: string }) => i.path).sort()).toEqual(
      [...model].filter(([, m]) => !m.deleted).map(([p]) => p).sort(),
    );
  }, 120_000);
});
