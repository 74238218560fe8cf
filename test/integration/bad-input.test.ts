import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectProblem, rawDynamo, rawRequest, tenantRows } from '../support/probe';
import { startTestRuntime, type Client } from '../support/runtime';
import { MAX_JSON_DEPTH } from '../../lambdas/http/json-depth';
import { routeMethods } from '../../lambdas/route-manifest';

// Every malformed request is refused with the right status, an RFC 9457 body that says what
// was wrong, a correlation id, and no change at all to the tenant's rows.
let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;
let token: string;
let tenantId: string;
let db: DynamoDBClient;
let before: string;

const KNOWN = 'known/secret';
const KNOWN_DATA = { value: 'untouched' };

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = runtime.client;
  ({ token, tenantId } = await api.onboard('bad-input'));
  db = rawDynamo(runtime);
  expect((await api.request('PUT', `/v1/secrets/${KNOWN}`, { token, body: { data: KNOWN_DATA } })).status).toBe(201);
});
afterAll(async () => {
  db?.destroy();
  await runtime?.stop();
});

beforeEach(async () => {
  before = await tenantRows(db, runtime.resources.table, tenantId);
});

/** Nothing the refused request could have touched has changed. */
async function expectNothingWritten(): Promise<void> {
  expect(await tenantRows(db, runtime.resources.table, tenantId)).toBe(before);
  const known = await api.request('GET', `/v1/secrets/${KNOWN}`, { token });
  expect(known.body).toMatchObject({ version: 1, data: KNOWN_DATA });
}

const json = { 'content-type': 'application/json' };

describe('malformed and mistyped bodies', () => {
  it.each([
    ['truncated JSON', '{"data": {"a": 1}'],
    ['a trailing comma', '{"data": {"a": 1},}'],
    ['single quotes', "{'data': {'a': 1}}"],
    ['a bare word', 'data'],
    ['two JSON documents', '{"data":{}} {"data":{}}'],
  ])('refuses %s with 400 and does not echo the body', async (_, rawBody) => {
    for (const method of ['PUT', 'POST']) {
      const response = await api.request(method, '/v1/secrets/bad/json', { token, rawBody, headers: json });
      expectProblem(response, 400, 'The request body is not valid JSON.');
      expect(JSON.stringify(response.body)).not.toContain(rawBody);
    }
    expect((await api.request('GET', '/v1/secrets/bad/json', { token })).status).toBe(404);
    await expectNothingWritten();
  });

  it('refuses an empty body with 400', async () => {
    const response = await api.request('PUT', '/v1/secrets/bad/empty', { token, rawBody: '', headers: json });
    expectProblem(response, 400, 'The request body is empty; send a JSON object.');
    await expectNothingWritten();
  });

  // API.md names 400 for malformed input and has no 422: the code answers 400 for both.
  it.each([
    ['data is a string', { data: 'hunter2' }, 'Invalid data: must be a JSON object.', 'data'],
    ['data is an array', { data: ['a'] }, 'Invalid data: must be a JSON object.', 'data'],
    ['data is null', { data: null }, 'Invalid data: must be a JSON object.', 'data'],
    ['data is a number', { data: 42 }, 'Invalid data: must be a JSON object.', 'data'],
    ['data is missing', { description: 'no data' }, 'Invalid data: must be a JSON object.', 'data'],
    ['description is a number', { data: {}, description: 5 }, 'Invalid description: Invalid input: expected string, received number.', 'description'],
    ['description is too long', { data: {}, description: 'd'.repeat(1025) }, /^Invalid description: Too big/, 'description'],
    ['a tag value is a number', { data: {}, tags: { env: 1 } }, 'Invalid tags.env: Invalid input: expected string, received number.', 'tags.env'],
    ['tags is an array', { data: {}, tags: ['env'] }, 'Invalid tags: Invalid input: expected record, received array.', 'tags'],
    ['a tag key has a space', { data: {}, tags: { 'e v': 'x' } }, /^Invalid tags\.e v: Invalid key in record/, 'tags.e v'],
    ['there are 51 tags', { data: {}, tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, 'v'])) }, 'Invalid tags: at most 50 tags.', 'tags'],
  ])('refuses a body where %s with 400 naming the field', async (_, body, detail, field) => {
    for (const method of ['PUT', 'POST']) {
      const response = await api.request(method, '/v1/secrets/bad/types', { token, body });
      expectProblem(response, 400, typeof detail === 'string' ? detail.replace(/^Invalid /, 'Invalid body.') : new RegExp(detail.source.replace('^Invalid ', '^Invalid body\\.')));
      expect(response.body.errors[0].field).toBe(`body.${field}`);
    }
    expect((await api.request('GET', '/v1/secrets/bad/types', { token })).status).toBe(404);
    await expectNothingWritten();
  });

  it.each([
    ['a JSON array', '[{"data":{}}]'],
    ['a JSON string', '"data"'],
    ['JSON null', 'null'],
    ['a JSON number', '1'],
  ])('refuses %s as the body with 400', async (_, rawBody) => {
    const response = await api.request('PUT', '/v1/secrets/bad/shape', { token, rawBody, headers: json });
    expectProblem(response, 400, /^Invalid body: Invalid input: expected object, received /);
    await expectNothingWritten();
  });

  it.each([
    ['an unknown top-level field', { data: { a: 1 }, extra: true }, 'extra'],
    ['a tenant id in the body', { data: { a: 1 }, tenantId: 'ten_aaaaaaaaaaaaaaaaaaaa' }, 'tenantId'],
    ['a version in the body', { data: { a: 1 }, version: 7 }, 'version'],
  ])('refuses %s with 400 naming it', async (_, body, key) => {
    for (const method of ['PUT', 'POST']) {
      const response = await api.request(method, '/v1/secrets/bad/unknown', { token, body });
      expectProblem(response, 400, `Invalid body: Unrecognized key: "${key}".`);
    }
    expect((await api.request('GET', '/v1/secrets/bad/unknown', { token })).status).toBe(404);
    await expectNothingWritten();
  });

  it('stores a "__proto__" key in data like any other key, or refuses it — never drops it silently', async () => {
    // JSON.parse makes "__proto__" an own property; a JSON object with that member is valid.
    const rawBody = '{"data":{"__proto__":{"isAdmin":"yes"},"user":"alice"}}';
    const put = await api.request('PUT', '/v1/secrets/bad/proto', { token, rawBody, headers: json });
    if (put.status === 400) {
      expectProblem(put, 400);
      await expectNothingWritten();
      return;
    }
    expect(put.status).toBe(201);
    const read = await api.request('GET', '/v1/secrets/bad/proto', { token });
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body.data)).toBe('{"__proto__":{"isAdmin":"yes"},"user":"alice"}');
  });
});

describe('nesting depth', () => {
  const DEPTH_DETAIL = `The request body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels.`;
  const nested = (depth: number, open = '{"a":', close = '}', leaf = '1') => `${open.repeat(depth)}${leaf}${close.repeat(depth)}`;
  /** `{"data": …}` with `data` nested so that the whole body is `depth` levels deep. */
  const secretOf = (depth: number) => `{"data":${nested(depth - 1)}}`;
  const concrete = (resource: string) => resource.replace('{path+}', 'deep/x').replace('{clientId}', `${tenantId}.cli_aaaaaaaaaaaaaaaaaaaa`).replace(/\{[a-zA-Z]+\}/g, 'x');
  const jsonRoutes = routeMethods().filter((r) => r.body !== 'none');

  it('walks a plausible set of JSON routes (secrets, identity, sinks, tenants, token)', () => {
    expect(jsonRoutes.length).toBeGreaterThanOrEqual(12);
    expect(new Set(jsonRoutes.map((r) => r.fn))).toEqual(new Set(['secrets', 'identity', 'audit', 'tenants', 'token']));
  });

  it(`refuses a body nested deeper than ${MAX_JSON_DEPTH} levels with 400 naming the limit, on every JSON route, and writes nothing`, async () => {
    const admin = await api.adminToken();
    for (const deep of [nested(5000), nested(30_000), nested(100_000, '[', ']')]) {
      for (const r of jsonRoutes) {
        const as = r.access === 'public' ? undefined : r.access === 'platform' ? admin : token;
        const response = await api.request(r.method, concrete(r.resource), { ...(as ? { token: as } : {}), rawBody: deep, headers: json });
        expectProblem(response, 400, DEPTH_DETAIL);
      }
    }
    await expectNothingWritten();
  });

  it(`stores and reads back data exactly ${MAX_JSON_DEPTH} levels deep, counting the body itself, and refuses one level more`, async () => {
    expect((await api.request('PUT', '/v1/secrets/deep/ok', { token, rawBody: secretOf(MAX_JSON_DEPTH), headers: json })).status).toBe(201);
    expect((await api.request('GET', '/v1/secrets/deep/ok', { token })).status).toBe(200);
    expectProblem(await api.request('PUT', '/v1/secrets/deep/no', { token, rawBody: secretOf(MAX_JSON_DEPTH + 1), headers: json }), 400, DEPTH_DETAIL);
    expect((await api.request('GET', '/v1/secrets/deep/no', { token })).status).toBe(404);
  });

  it('counts brackets inside strings as text, not as nesting', async () => {
    const data = JSON.stringify({ data: { text: '{['.repeat(1000), escaped: '\\"{{{{' } });
    expect((await api.request('PUT', '/v1/secrets/deep/text', { token, rawBody: data, headers: json })).status).toBe(201);
    expect((await api.request('GET', '/v1/secrets/deep/text', { token })).body).toMatchObject({ data: JSON.parse(data).data });
  });
});

describe('size limits', () => {
  it('refuses a body over 256 KiB with 413 before reading it', async () => {
    const body = { data: { v: 'x'.repeat(256 * 1024) } };
    for (const method of ['PUT', 'POST']) {
      const response = await api.request(method, '/v1/secrets/big/body', { token, body });
      expectProblem(response, 413, 'The request body is larger than 262144 bytes.');
    }
    expect((await api.request('GET', '/v1/secrets/big/body', { token })).status).toBe(404);
    await expectNothingWritten();
  });

  it('refuses a body over the gateway limit of 10 MB with 413', async () => {
    const response = await api.request('PUT', '/v1/secrets/big/huge', { token, rawBody: 'x'.repeat(10 * 1024 * 1024 + 1), headers: json });
    expectProblem(response, 413, 'The request exceeds 10 MB.');
    await expectNothingWritten();
  });

  it('refuses data over 64 KiB serialized with 413, on create and on a new version', async () => {
    const overhead = JSON.stringify({ v: '' }).length;
    const data = { v: 'y'.repeat(64 * 1024 - overhead + 1) };
    const size = JSON.stringify(data).length;
    const create = await api.request('POST', '/v1/secrets/big/value', { token, body: { data } });
    expectProblem(create, 413, `Secret data is ${size} bytes serialized; the limit is 65536.`);
    const update = await api.request('PUT', `/v1/secrets/${KNOWN}`, { token, body: { data } });
    expectProblem(update, 413, `Secret data is ${size} bytes serialized; the limit is 65536.`);
    expect((await api.request('GET', '/v1/secrets/big/value', { token })).status).toBe(404);
    await expectNothingWritten();
  });

  it('counts the limit in UTF-8 bytes, not characters', async () => {
    // 'é' is 2 bytes: ~33 k characters are over 64 KiB although fewer than 65,536 characters.
    const data = { v: 'é'.repeat(33_000) };
    expect(JSON.stringify(data).length).toBeLessThan(64 * 1024);
    const response = await api.request('PUT', '/v1/secrets/big/utf8', { token, body: { data } });
    expectProblem(response, 413, /^Secret data is 66008 bytes serialized/);
    await expectNothingWritten();
  });
});

describe('content types', () => {
  it.each([
    ['text/plain', 'text/plain'],
    ['form encoding', 'application/x-www-form-urlencoded'],
    ['XML', 'application/xml'],
    ['multipart', 'multipart/form-data; boundary=x'],
    ['a JSON look-alike', 'application/jsonp'],
  ])('refuses %s with 415', async (_, contentType) => {
    for (const method of ['PUT', 'POST']) {
      const response = await api.request(method, '/v1/secrets/bad/type', { token, rawBody: '{"data":{"a":1}}', headers: { 'content-type': contentType } });
      expectProblem(response, 415, 'Send the body as application/json.');
    }
    await expectNothingWritten();
  });

  it('refuses a body sent without any content type with 415', async () => {
    const response = await rawRequest(runtime.endpoint, 'PUT', '/v1/secrets/bad/untyped', { token, body: '{"data":{"a":1}}' });
    expectProblem(response, 415, 'Send the body as application/json.');
    await expectNothingWritten();
  });

  it('accepts application/json with a charset and a +json type', async () => {
    const a = await api.request('PUT', '/v1/secrets/ok/charset', { token, rawBody: '{"data":{"a":1}}', headers: { 'content-type': 'Application/JSON; charset=utf-8' } });
    expect(a.status).toBe(201);
    const b = await api.request('PUT', '/v1/secrets/ok/plus-json', { token, rawBody: '{"data":{"a":1}}', headers: { 'content-type': 'application/vnd.coffer+json' } });
    expect(b.status).toBe(201);
  });
});

describe('secret paths', () => {
  // Sent as fetch sends them (percent-encoded where needed).
  it.each([
    ['a double slash', 'a//b', 'Invalid params.path: empty segment (leading, trailing or double slash).'],
    ['a leading slash', '/a', 'Invalid params.path: empty segment (leading, trailing or double slash).'],
    ['a trailing slash', 'a/', 'Invalid params.path: empty segment (leading, trailing or double slash).'],
    ['17 segments', Array.from({ length: 17 }, (_, i) => `s${i}`).join('/'), 'Invalid params.path: more than 16 segments.'],
    ['a 129-character segment', `a/${'x'.repeat(129)}`, 'Invalid params.path: a segment is longer than 128 characters.'],
    ['a zero-width space', 'a\u200Bb', 'Invalid params.path: segments may only contain A-Z a-z 0-9 . _ -.'],
    ['a right-to-left override', 'pay\u202Elmth.exe', 'Invalid params.path: segments may only contain A-Z a-z 0-9 . _ -.'],
    ['a fullwidth solidus', 'a\uFF0Fb', 'Invalid params.path: segments may only contain A-Z a-z 0-9 . _ -.'],
    ['a Cyrillic look-alike', 'p\u0430ssword', 'Invalid params.path: segments may only contain A-Z a-z 0-9 . _ -.'],
    ['a combining accent', 'e\u0301', 'Invalid params.path: segments may only contain A-Z a-z 0-9 . _ -.'],
    ['a space', 'a b', 'Invalid params.path: segments may only contain A-Z a-z 0-9 . _ -.'],
    ['a colon', 'a:b', 'Invalid params.path: segments may only contain A-Z a-z 0-9 . _ -.'],
    ['a backslash (encoded)', 'a%5Cb', 'Invalid params.path: segments may only contain A-Z a-z 0-9 . _ -.'],
    ['a NUL byte (encoded)', 'a%00b', 'Invalid params.path: segments may only contain A-Z a-z 0-9 . _ -.'],
    ['a double-encoded slash', 'a%252Fb', 'Invalid params.path: segments may only contain A-Z a-z 0-9 . _ -.'],
    ['an encoded ".." between encoded slashes', 'a%2F..%2Fb', "Invalid path: an encoded '/' (%2F) is not allowed; separate segments with '/'."],
    ['an encoded trailing slash', 'a%2F', "Invalid path: an encoded '/' (%2F) is not allowed; separate segments with '/'."],
    ['an encoded slash inside a segment', 'enc%2Fslash', "Invalid path: an encoded '/' (%2F) is not allowed; separate segments with '/'."],
    ['malformed percent-encoding', 'a%ZZ', 'Invalid path: malformed percent-encoding.'],
    ['an overlong UTF-8 slash', 'a%C0%AFb', 'Invalid path: malformed percent-encoding.'],
  ])('refuses a path with %s with 400, on every method', async (_, path, detail) => {
    for (const [method, body] of [['PUT', { data: { a: 1 } }], ['POST', { data: { a: 1 } }], ['GET', undefined], ['DELETE', undefined]] as const) {
      const response = await api.request(method, `/v1/secrets/${path}`, { token, ...(body ? { body } : {}) });
      expectProblem(response, 400, detail);
    }
    for (const resource of ['metadata', 'restore']) {
      const response = await api.request(resource === 'restore' ? 'POST' : 'GET', `/v1/${resource}/${path}`, { token });
      expectProblem(response, 400, detail);
    }
    await expectNothingWritten();
  });

  it.each([
    ['a "." segment', '/v1/secrets/a/./b'],
    ['a ".." segment', '/v1/secrets/a/../b'],
    ['an encoded ".." segment', '/v1/secrets/a/%2e%2e/b'],
    ['".." climbing out of the secrets route', '/v1/secrets/../secrets/b'],
    ['".." climbing to the tenants route', '/v1/secrets/x/../../admin/tenants'],
    ['a mixed-case encoded ".." segment', '/v1/secrets/a/%2E%2e/c'],
    ['an encoded "." segment', '/v1/secrets/a/%2e/b'],
    ['a raw backslash (WHATWG URLs read it as "/")', '/v1/secrets/a\\d'],
  ])('refuses a path with %s sent raw on the wire with 400, on every method, and stores nothing', async (_, rawPath) => {
    // API Gateway passes the path as sent (no dot-segment removal), and so does the local
    // gateway: the contract's 400 for '.' and '..' segments, never a resolved other path.
    for (const method of ['PUT', 'POST', 'GET', 'DELETE']) {
      const response = await rawRequest(runtime.endpoint, method, rawPath, { token, ...(method === 'PUT' || method === 'POST' ? { body: '{"data":{"a":1}}', headers: json } : {}) });
      expect(response.status, `${method} ${rawPath}`).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    await expectNothingWritten();
  });

  it('refuses a percent-encoded slash inside a segment instead of treating it as a separator', async () => {
    // RFC 3986 §2.2: a reserved character and its percent-encoding are not equivalent, so
    // `a%2Fb` is one segment containing '/', outside the path alphabet (API.md: "anything
    // else is 400"). Treating it as `a/b` makes two URLs name one secret.
    const response = await api.request('PUT', '/v1/secrets/enc%2Fslash', { token, body: { data: { a: 1 } } });
    expectProblem(response, 400);
    expect((await api.request('GET', '/v1/secrets/enc/slash', { token })).status).toBe(404);
    await expectNothingWritten();
  });

  it('stores a path of 1,024 characters', async () => {
    const path = `${'k'.repeat(100)}/`.repeat(11).slice(0, 1024);
    expect((await api.request('PUT', `/v1/secrets/${path}`, { token, body: { data: { a: 1 } } })).status).toBe(201);
    expect((await api.request('GET', `/v1/secrets/${path}`, { token })).body.path).toBe(path);
  });

  it('refuses a path longer than 1,024 characters (the sort-key bound) with 400, never a 500', async () => {
    // API.md's segment rules alone would allow 2,063 characters; DynamoDB sort keys hold 1,024 bytes.
    for (const path of [
      `${'m'.repeat(127)}/`.repeat(9).slice(0, 1025),
      Array.from({ length: 16 }, (_, i) => `${i.toString(16)}${'z'.repeat(127)}`).join('/'),
    ]) {
      const put = await api.request('PUT', `/v1/secrets/${path}`, { token, body: { data: { a: 1 } } });
      expectProblem(put, 400, 'Invalid params.path: the path is longer than 1024 characters.');
    }
  });
});

describe('query strings and headers', () => {
  it.each([
    ['version=0', 'Invalid query.version: a positive version number.'],
    ['version=abc', 'Invalid query.version: a positive version number.'],
    ['version=-1', 'Invalid query.version: a positive version number.'],
    ['version=1.5', 'Invalid query.version: a positive version number.'],
    ['version=01', 'Invalid query.version: a positive version number.'],
    ['version=', 'Invalid query.version: a positive version number.'],
    ['version=99999999999', 'Invalid query.version: a positive version number.'],
    ['version=4294967295', /^Invalid query\.version: Too big/],
    ['versoin=1', 'Invalid query: Unrecognized key: "versoin".'],
  ])('refuses GET ?%s with 400', async (query, detail) => {
    const response = await api.request('GET', `/v1/secrets/${KNOWN}?${query}`, { token });
    expectProblem(response, 400, detail);
    expect(JSON.stringify(response.body)).not.toContain(KNOWN_DATA.value);
  });

  it('answers 404, not 400, for a well-formed version that does not exist', async () => {
    expectProblem(await api.request('GET', `/v1/secrets/${KNOWN}?version=2`, { token }), 404, `Secret '${KNOWN}' has no version 2.`);
  });

  const invalidCursor = 'The cursor is invalid; pass back the cursor of a previous page unchanged.';
  it.each([
    ['not base64 JSON', 'cursor=garbage', invalidCursor],
    ['a cursor holding a number', `cursor=${Buffer.from('{"p":5}').toString('base64url')}`, invalidCursor],
    ['a cursor holding a traversal path', `cursor=${Buffer.from('{"p":"../x"}').toString('base64url')}`, invalidCursor],
    ['a cursor naming another key space', `cursor=${Buffer.from('{"p":"T#ten_aaaaaaaaaaaaaaaaaaaa#HEADS"}').toString('base64url')}`, invalidCursor],
    ['an empty cursor', 'cursor=', 'Invalid query.cursor: Too small: expected string to have >=1 characters.'],
    ['limit=0', 'limit=0', 'Invalid query.limit: Too small: expected number to be >=1.'],
    ['limit=1001', 'limit=1001', 'Invalid query.limit: Too big: expected number to be <=1000.'],
    ['limit=-5', 'limit=-5', 'Invalid query.limit: Too small: expected number to be >=1.'],
    ['limit=abc', 'limit=abc', 'Invalid query.limit: Invalid input: expected number, received NaN.'],
    ['limit=2.5', 'limit=2.5', 'Invalid query.limit: Invalid input: expected int, received number.'],
    ['a prefix with a leading slash', 'prefix=/known', 'Invalid prefix: use the characters of a secret path, without a leading or double slash.'],
    ['a prefix with a double slash', 'prefix=known//x', 'Invalid prefix: use the characters of a secret path, without a leading or double slash.'],
    ['a prefix with unicode', `prefix=${encodeURIComponent('kn\u200Bown')}`, 'Invalid prefix: use the characters of a secret path, without a leading or double slash.'],
    ['deleted=yes', 'deleted=yes', /^Invalid query\.deleted: /],
    ['an unknown parameter', 'tenant=ten_aaaaaaaaaaaaaaaaaaaa', 'Invalid query: Unrecognized key: "tenant".'],
  ])('refuses a listing with %s with 400', async (_, query, detail) => {
    expectProblem(await api.request('GET', `/v1/secrets?${query}`, { token }), 400, detail);
  });

  it.each([['0'], ['abc'], ['"x"'], ['W/"abc"'], ['1, 2'], ['-1'], ['1.0'], ['""']])('refuses If-Match: %s with 400 and writes nothing', async (value) => {
    const response = await api.request('PUT', `/v1/secrets/${KNOWN}`, { token, headers: { 'if-match': value }, body: { data: { value: 'changed' } } });
    expectProblem(response, 400, /^Invalid headers\.if-match: /);
    await expectNothingWritten();
  });

  it('replaces a correlation id that is not a plain token with its own', async () => {
    const response = await api.request('GET', '/v1/secrets/missing/one', { token, headers: { 'x-correlation-id': 'bad id\twith<html>' } });
    expectProblem(response, 404);
    expect(response.body.correlationId).not.toContain('<');
  });
});

describe('routes and methods', () => {
  it.each([
    ['GET', '/v1/nothing-here'],
    ['GET', '/v2/secrets/a'],
    ['GET', '/v1/secrets/'],
    ['POST', '/v1/secret/a'],
    ['GET', '/'],
    ['GET', '/v1/nothing-%3Cscript%3E'],
  ])('answers %s %s with a gateway 404 problem that does not echo the path', async (method, path) => {
    const response = await api.request(method, path, { token });
    expectProblem(response, 404);
    expect(response.body.detail).toBe('No such route.');
    if (path.length > 1) expect(JSON.stringify(response.body)).not.toContain(path.slice(1));
  });

  it.each([
    ['PATCH', '/v1/secrets/known/secret'],
    ['DELETE', '/v1/secrets'],
    ['POST', '/v1/secrets'],
    ['PUT', '/v1/metadata/known/secret'],
    ['GET', '/v1/restore/known/secret'],
    ['DELETE', '/v1/token'],
  ])('answers %s %s with 405', async (method, path) => {
    const response = await api.request(method, path, { token, ...(method === 'PATCH' ? { body: { data: {} } } : {}) });
    expectProblem(response, 405, /is not allowed on /);
    await expectNothingWritten();
  });

  it('names the allowed methods in an Allow header on 405 (RFC 9110 §15.5.6)', async () => {
    const response = await api.request('DELETE', '/v1/secrets', { token });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });
});
