import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type Client } from '../support/runtime';

let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;
let token: string;

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = runtime.client;
  ({ token } = await api.onboard('acme'));
});
afterAll(() => runtime?.stop());

describe('secrets API over HTTP against moto', () => {
  it('writes three versions, reads v2, lists, deletes and restores', async () => {
    for (const n of [1, 2, 3]) {
      const put = await api.request('PUT', '/v1/secrets/app/db/password', { token, body: { data: { password: `pw-${n}` }, tags: { env: 'prod' } } });
      expect(put.status).toBe(n === 1 ? 201 : 200);
      expect(put.body).toMatchObject({ path: 'app/db/password', version: n });
      expect(put.headers.get('etag')).toBe(`"${n}"`);
    }

    const v2 = await api.request('GET', '/v1/secrets/app/db/password?version=2', { token });
    expect(v2.status).toBe(200);
    expect(v2.body).toMatchObject({ path: 'app/db/password', version: 2, latestVersion: 3, data: { password: 'pw-2' }, tags: { env: 'prod' } });

    const latest = await api.request('GET', '/v1/secrets/app/db/password', { token });
    expect(latest.body.data).toEqual({ password: 'pw-3' });

    const list = await api.request('GET', '/v1/secrets?prefix=app/', { token });
    expect(list.status).toBe(200);
    expect(list.body.items.map((i: { path: string }) => i.path)).toEqual(['app/db/password']);
    expect(JSON.stringify(list.body)).not.toContain('pw-');

    expect((await api.request('DELETE', '/v1/secrets/app/db/password', { token })).status).toBe(204);
    expect((await api.request('GET', '/v1/secrets/app/db/password', { token })).status).toBe(404);
    expect((await api.request('GET', '/v1/secrets?prefix=app/', { token })).body.items).toEqual([]);

    const restored = await api.request('POST', '/v1/restore/app/db/password', { token });
    expect(restored.status).toBe(200);
    expect((await api.request('GET', '/v1/secrets/app/db/password', { token })).body.data).toEqual({ password: 'pw-3' });
  });

  it('creates with POST and refuses a second POST with 409', async () => {
    const first = await api.request('POST', '/v1/secrets/svc/api-key', { token, body: { data: { key: 'k1' }, description: 'API key' } });
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toBe('/v1/secrets/svc/api-key');
    const second = await api.request('POST', '/v1/secrets/svc/api-key', { token, body: { data: { key: 'k2' } } });
    expect(second.status).toBe(409);
    expect(second.headers.get('content-type')).toBe('application/problem+json');
    expect((await api.request('GET', '/v1/secrets/svc/api-key', { token })).body).toMatchObject({ version: 1, data: { key: 'k1' }, description: 'API key' });
  });

  it('refuses a stale If-Match with 412 and writes nothing', async () => {
    await api.request('PUT', '/v1/secrets/cas/value', { token, body: { data: { n: 1 } } });
    await api.request('PUT', '/v1/secrets/cas/value', { token, body: { data: { n: 2 } } });
    const stale = await api.request('PUT', '/v1/secrets/cas/value', { token, headers: { 'if-match': '1' }, body: { data: { n: 3 } } });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ status: 412, title: 'Version conflict' });
    const current = await api.request('GET', '/v1/secrets/cas/value', { token });
    expect(current.body).toMatchObject({ version: 2, data: { n: 2 } });
    const fresh = await api.request('PUT', '/v1/secrets/cas/value', { token, headers: { 'if-match': '"2"' }, body: { data: { n: 3 } } });
    expect(fresh.status).toBe(200);
    expect(fresh.body.version).toBe(3);
  });

  it('loses no update when many writers race on one secret', async () => {
    const writers = 12;
    const results = await Promise.all(
      Array.from({ length: writers }, (_, i) => api.request('PUT', '/v1/secrets/race/counter', { token, body: { data: { writer: i } } })),
    );
    // Every acknowledged write is its own version; a writer that gave up was told (409).
    const acknowledged = results.filter((r) => r.status === 200 || r.status === 201);
    expect(results.every((r) => [200, 201, 409].includes(r.status))).toBe(true);
    expect(acknowledged.length).toBeGreaterThan(writers / 2);
    const versions = acknowledged.map((r) => r.body.version).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: acknowledged.length }, (_, i) => i + 1));
    const meta = await api.request('GET', '/v1/metadata/race/counter?limit=100', { token });
    expect(meta.body.version).toBe(acknowledged.length);
    expect(meta.body.versions).toHaveLength(acknowledged.length);
    for (const r of acknowledged) {
      const read = await api.request('GET', `/v1/secrets/race/counter?version=${r.body.version}`, { token });
      expect(read.body.data).toEqual({ writer: results.indexOf(r) });
    }
  });

  it('checks-and-sets under a race: exactly one of two If-Match writers wins', async () => {
    await api.request('PUT', '/v1/secrets/cas/race', { token, body: { data: { n: 0 } } });
    const [a, b] = await Promise.all([
      api.request('PUT', '/v1/secrets/cas/race', { token, headers: { 'if-match': '1' }, body: { data: { n: 'a' } } }),
      api.request('PUT', '/v1/secrets/cas/race', { token, headers: { 'if-match': '1' }, body: { data: { n: 'b' } } }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 412]);
    expect((await api.request('GET', '/v1/secrets/cas/race', { token })).body.version).toBe(2);
  });

  it('pages through a listing with a cursor, in path order, never showing values', async () => {
    for (let i = 0; i < 7; i++) await api.request('PUT', `/v1/secrets/page/item-${i}`, { token, body: { data: { v: `secret-${i}` } } });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.request('GET', `/v1/secrets?prefix=page/&limit=3${cursor ? `&cursor=${cursor}` : ''}`, { token });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      expect(JSON.stringify(page.body)).not.toContain('secret-');
      seen.push(...page.body.items.map((i: { path: string }) => i.path));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => `page/item-${i}`));
  });

  it('lists versions newest first and purges only a deleted secret', async () => {
    for (const n of [1, 2]) await api.request('PUT', '/v1/secrets/purge/me', { token, body: { data: { n } } });
    const meta = await api.request('GET', '/v1/metadata/purge/me', { token });
    expect(meta.body.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect((await api.request('DELETE', '/v1/metadata/purge/me', { token })).status).toBe(409);
    expect((await api.request('DELETE', '/v1/secrets/purge/me', { token })).status).toBe(204);
    expect((await api.request('DELETE', '/v1/metadata/purge/me', { token })).status).toBe(204);
    expect((await api.request('GET', '/v1/metadata/purge/me', { token })).status).toBe(404);
    expect((await api.request('POST', '/v1/restore/purge/me', { token })).status).toBe(404);
    // The path is free again, starting from version 1.
    expect((await api.request('POST', '/v1/secrets/purge/me', { token, body: { data: { n: 9 } } })).body.version).toBe(1);
  });

  it('refuses writes to a deleted secret until it is restored', async () => {
    await api.request('PUT', '/v1/secrets/gone/soon', { token, body: { data: { n: 1 } } });
    await api.request('DELETE', '/v1/secrets/gone/soon', { token });
    expect((await api.request('PUT', '/v1/secrets/gone/soon', { token, body: { data: { n: 2 } } })).status).toBe(409);
    expect((await api.request('POST', '/v1/secrets/gone/soon', { token, body: { data: { n: 2 } } })).status).toBe(409);
    expect((await api.request('DELETE', '/v1/secrets/gone/soon', { token })).status).toBe(404);
    const deleted = await api.request('GET', '/v1/secrets?prefix=gone/&deleted=true', { token });
    expect(deleted.body.items[0]).toMatchObject({ path: 'gone/soon', deletedBy: expect.stringContaining('client:') });
  });

  it('stores data up to 64 KiB serialized and refuses one byte more with 413', async () => {
    const overhead = JSON.stringify({ v: '' }).length;
    const exact = { v: 'x'.repeat(64 * 1024 - overhead) };
    expect((await api.request('PUT', '/v1/secrets/big/exact', { token, body: { data: exact } })).status).toBe(201);
    expect((await api.request('GET', '/v1/secrets/big/exact', { token })).body.data.v.length).toBe(exact.v.length);
    const over = await api.request('PUT', '/v1/secrets/big/over', { token, body: { data: { v: `${exact.v}x` } } });
    expect(over.status).toBe(413);
    expect((await api.request('GET', '/v1/secrets/big/over', { token })).status).toBe(404);
  });

  it('returns a correlation id on every response, success or error, and honours a caller-supplied one', async () => {
    const ok = await api.request('GET', '/health');
    expect(ok.headers.get('x-correlation-id')).toBeTruthy();
    const err = await api.request('GET', '/v1/secrets/nope', { token, headers: { 'x-correlation-id': 'trace-1234abcd' } });
    expect(err.status).toBe(404);
    expect(err.headers.get('x-correlation-id')).toBe('trace-1234abcd');
    expect(err.body.correlationId).toBe('trace-1234abcd');
    const gateway = await api.request('GET', '/v1/secrets/nope');
    expect(gateway.status).toBe(401);
    expect(gateway.body.correlationId).toBe(gateway.headers.get('x-correlation-id'));
  });
});
