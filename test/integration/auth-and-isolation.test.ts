import { CreateKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsTokenSigner } from '../../lambdas/adapters/kms/token-signer';
import { newClientId } from '../../lambdas/core/ids';
import type { Principal, Role } from '../../lambdas/core/principal';
import { TokenIssuer } from '../../lambdas/core/tokens';
import type { TokenSigner } from '../../lambdas/ports/key-service';
import { clientWithRoles, expectProblem, listAll, rawDynamo, rawKms, tableImage, tenantRows } from '../support/probe';
import { startTestRuntime, type Client } from '../support/runtime';

// Who may do what: tokens that must be refused, and tenants that must not see each other.
let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;
let db: DynamoDBClient;
let kms: KMSClient;
let a: Awaited<ReturnType<Client['onboard']>>;
let b: Awaited<ReturnType<Client['onboard']>>;
let signer: KmsTokenSigner;
let settings: { issuer: string; audience: string };

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A token minted by Coffer's own TokenIssuer, with the options an attacker or a clock could vary. */
async function mint(
  principal: Principal,
  options: { now?: number; issuer?: string; audience?: string; signer?: TokenSigner } = {},
): Promise<string> {
  const clock = { now: () => options.now ?? Date.now() };
  const issuer = new TokenIssuer(options.signer ?? signer, clock, {
    issuer: options.issuer ?? settings.issuer,
    audience: options.audience ?? settings.audience,
  });
  // Names the client record the authorizer re-reads (generation 1, as onboarding creates it).
  return (await issuer.issue(principal, { source: { kind: 'client', name: principal.id }, generation: 1, amr: ['client_secret'] })).access_token;
}

const tenantPrincipal = (tenantId: string, clientId: string, roles: Role[] = ['owner']): Principal => ({
  kind: 'tenant',
  type: 'client',
  tenantId,
  id: clientId,
  roles,
});

/** A token with a hand-made header and payload, signed by the real key. */
async function forge(header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = await signer.sign(Buffer.from(input, 'ascii'));
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

function claimsFor(tenantId: string, clientId: string, extra: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { iss: settings.issuer, aud: settings.audience, sub: clientId, iat: now, nbf: now, exp: now + 600, jti: 'j', tid: tenantId, ptype: 'client', roles: ['owner'], grp: [], amr: ['client_secret'], sid: 's', src: `client:${clientId}`, gen: 1, ...extra };
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = runtime.client;
  db = rawDynamo(runtime);
  kms = rawKms(runtime);
  settings = { issuer: process.env.COFFER_ISSUER!, audience: process.env.COFFER_AUDIENCE! };
  signer = new KmsTokenSigner(kms, runtime.resources.signingKeyAlias);
  [a, b] = [await api.onboard('tenant-a'), await api.onboard('tenant-b')];
});
afterAll(async () => {
  db?.destroy();
  kms?.destroy();
  await runtime?.stop();
});

describe('tokens the authorizer refuses with 401', () => {
  const refused = async (authorization: string | undefined) => {
    const response = await api.request('GET', '/v1/secrets', { ...(authorization === undefined ? {} : { headers: { authorization } }) });
    return response;
  };

  it('refuses a request with no token', async () => {
    expectProblem(await refused(undefined), 401, 'Send a bearer token in the Authorization header.');
  });

  it.each([
    ['an empty bearer', 'Bearer '],
    ['a non-JWT bearer', 'Bearer not-a-token'],
    ['two parts', 'Bearer aaa.bbb'],
    ['garbage in three parts', 'Bearer aaa.bbb.ccc'],
    ['Basic credentials', `Basic ${Buffer.from('user:pass').toString('base64')}`],
    ['a token without the Bearer scheme', 'eyJhbGciOiJFUzI1NiJ9.e30.sig'],
    ['a bearer with trailing junk', 'Bearer aaa.bbb.ccc extra'],
  ])('refuses %s', async (_, authorization) => {
    expectProblem(await refused(authorization), 401, 'The token is missing, invalid or expired.');
  });

  it('accepts a freshly minted token (the minting below is faithful)', async () => {
    const token = await mint(tenantPrincipal(a.tenantId, a.clientId));
    expect((await api.request('GET', '/v1/secrets', { token })).status).toBe(200);
  });

  it('refuses an expired token', async () => {
    const token = await mint(tenantPrincipal(a.tenantId, a.clientId), { now: Date.now() - 2 * 3600_000 });
    expectProblem(await refused(`Bearer ${token}`), 401, 'The token is missing, invalid or expired.');
  });

  it('refuses a token one second past its expiry', async () => {
    const token = await mint(tenantPrincipal(a.tenantId, a.clientId), { now: Date.now() - 3601_000 });
    expectProblem(await refused(`Bearer ${token}`), 401);
  });

  it('refuses a token that is not valid yet (nbf in the future)', async () => {
    const token = await mint(tenantPrincipal(a.tenantId, a.clientId), { now: Date.now() + 600_000 });
    expectProblem(await refused(`Bearer ${token}`), 401);
  });

  it('refuses a token for another audience or from another issuer', async () => {
    for (const options of [{ audience: 'not-coffer' }, { issuer: 'https://evil.example' }, { issuer: `${settings.issuer}/` }]) {
      const token = await mint(tenantPrincipal(a.tenantId, a.clientId), options);
      expectProblem(await refused(`Bearer ${token}`), 401);
    }
  });

  it('refuses a token signed by another KMS key, even when it names the real kid', async () => {
    const other = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
    const otherSigner = new KmsTokenSigner(kms, other.KeyMetadata!.Arn!);
    const impostor: TokenSigner = { keyId: () => signer.keyId(), sign: (m) => otherSigner.sign(m), publicJwks: () => otherSigner.publicJwks() };
    expectProblem(await refused(`Bearer ${await mint(tenantPrincipal(a.tenantId, a.clientId), { signer: impostor })}`), 401);
    expectProblem(await refused(`Bearer ${await mint(tenantPrincipal(a.tenantId, a.clientId), { signer: otherSigner })}`), 401);
  });

  it('refuses a token whose payload was edited after signing (tenant A to tenant B)', async () => {
    const [header, payload, signature] = a.token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const edited = `${header}.${b64({ ...claims, tid: b.tenantId })}.${signature}`;
    expectProblem(await refused(`Bearer ${edited}`), 401);
  });

  it("refuses alg 'none', with or without a signature part", async () => {
    const payload = claimsFor(a.tenantId, a.clientId);
    for (const alg of ['none', 'None', 'NONE']) {
      const unsigned = `${b64({ alg, typ: 'JWT', kid: await signer.keyId() })}.${b64(payload)}`;
      expectProblem(await refused(`Bearer ${unsigned}.`), 401);
      expectProblem(await refused(`Bearer ${unsigned}.AAAA`), 401);
    }
  });

  it('refuses HS256 keyed with the public key (algorithm confusion)', async () => {
    const [jwk] = await signer.publicJwks();
    const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: jwk!.kid })}.${b64(claimsFor(a.tenantId, a.clientId))}`;
    for (const secret of [JSON.stringify(jwk), jwk!.x, `${jwk!.x}${jwk!.y}`]) {
      const mac = createHmac('sha256', secret).update(input).digest('base64url');
      expectProblem(await refused(`Bearer ${input}.${mac}`), 401);
    }
  });

  it('refuses a KMS signature left in DER form (not r‖s)', async () => {
    const input = `${b64({ alg: 'ES256', typ: 'JWT', kid: await signer.keyId() })}.${b64(claimsFor(a.tenantId, a.clientId))}`;
    const { Signature } = await kms.send(
      new SignCommand({ KeyId: runtime.resources.signingKeyAlias, Message: Buffer.from(input), MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }),
    );
    expectProblem(await refused(`Bearer ${input}.${Buffer.from(Signature!).toString('base64url')}`), 401);
  });

  it('refuses well-signed tokens whose claims are not a valid principal', async () => {
    const cases = [
      claimsFor(a.tenantId, a.clientId, { roles: ['superuser'] }),
      claimsFor(a.tenantId, a.clientId, { ptype: 'root' }),
      claimsFor('ten_bad', a.clientId),
      claimsFor(a.tenantId, a.clientId, { tid: undefined }),
      // A platform principal that also claims a tenant is neither.
      claimsFor(a.tenantId, 'platform.cli_aaaaaaaaaaaaaaaaaaaa', { ptype: 'platform', roles: [] }),
      claimsFor(a.tenantId, '', {}),
    ];
    for (const claims of cases) {
      const token = await forge({ alg: 'ES256', typ: 'JWT', kid: await signer.keyId() }, claims);
      expectProblem(await refused(`Bearer ${token}`), 401);
    }
    // The same forging with valid claims passes, so the refusals above are about the claims.
    const ok = await forge({ alg: 'ES256', typ: 'JWT', kid: await signer.keyId() }, claimsFor(a.tenantId, a.clientId));
    expect((await refused(`Bearer ${ok}`)).status).toBe(200);
  });

  it('refuses bad client credentials at POST /v1/token with one generic 401', async () => {
    const bodies = [
      { grant_type: 'client_credentials', client_id: a.clientId, client_secret: 'cs_wrong' },
      { grant_type: 'client_credentials', client_id: newClientId(a.tenantId), client_secret: a.clientSecret },
      { grant_type: 'client_credentials', client_id: a.clientId.replace(a.tenantId, b.tenantId), client_secret: a.clientSecret },
      { grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x' },
    ];
    for (const body of bodies) {
      const response = await api.request('POST', '/v1/token', { body });
      expectProblem(response, 401, 'The credentials are missing, invalid or expired.');
      expect(JSON.stringify(response.body)).not.toContain(a.clientSecret);
    }
  });
});

describe('platform and tenant boundaries (403)', () => {
  it('refuses a tenant token on every admin route, and creates no tenant', async () => {
    const before = await api.request('GET', '/v1/admin/tenants?limit=1000', { token: await api.adminToken() });
    expectProblem(await api.request('POST', '/v1/admin/tenants', { token: a.token, body: { name: 'sneaky' } }), 403, 'Only the platform admin can manage tenants.');
    expectProblem(await api.request('GET', '/v1/admin/tenants', { token: a.token }), 403, 'Only the platform admin can manage tenants.');
    expectProblem(await api.request('GET', `/v1/admin/tenants/${b.tenantId}`, { token: a.token }), 403, 'Only the platform admin can manage tenants.');
    expectProblem(await api.request('GET', `/v1/admin/tenants/${a.tenantId}`, { token: a.token }), 403, 'Only the platform admin can manage tenants.');
    const after = await api.request('GET', '/v1/admin/tenants?limit=1000', { token: await api.adminToken() });
    expect(after.body.items).toEqual(before.body.items);
  });

  it('refuses the platform admin on tenant secrets, whether or not the secret exists, and writes nothing', async () => {
    await api.request('PUT', '/v1/secrets/admin/probe', { token: a.token, body: { data: { v: 'tenant-only' } } });
    const image = await tableImage(db, runtime.resources.table);
    const admin = await api.adminToken();
    const detail = 'Platform principals manage tenants; they cannot access tenant secrets.';
    for (const path of ['admin/probe', 'admin/absent']) {
      for (const [method, resource, body] of [
        ['GET', 'secrets', undefined],
        ['PUT', 'secrets', { data: { v: 'admin' } }],
        ['POST', 'secrets', { data: { v: 'admin' } }],
        ['DELETE', 'secrets', undefined],
        ['GET', 'metadata', undefined],
        ['DELETE', 'metadata', undefined],
        ['POST', 'restore', undefined],
      ] as const) {
        const response = await api.request(method, `/v1/${resource}/${path}`, { token: admin, ...(body ? { body } : {}) });
        expectProblem(response, 403, detail);
        expect(JSON.stringify(response.body)).not.toContain('tenant-only');
      }
    }
    expectProblem(await api.request('GET', '/v1/secrets', { token: admin }), 403, detail);
    expect(await tableImage(db, runtime.resources.table)).toBe(image);
  });
});

describe('tenant isolation: A can never reach B', () => {
  const SHARED = 'shared/db/password';
  const ONLY_B = 'only-b/api-key';
  const B_DELETED = 'only-b/retired';
  let bImage: string;

  beforeAll(async () => {
    for (const n of [1, 2]) await api.request('PUT', `/v1/secrets/${SHARED}`, { token: b.token, body: { data: { owner: 'B', n }, tags: { team: 'b' } } });
    await api.request('PUT', `/v1/secrets/${ONLY_B}`, { token: b.token, body: { data: { key: 'b-key' }, description: 'B only' } });
    await api.request('PUT', `/v1/secrets/${B_DELETED}`, { token: b.token, body: { data: { key: 'old' } } });
    await api.request('DELETE', `/v1/secrets/${B_DELETED}`, { token: b.token });
    await api.request('PUT', `/v1/secrets/${SHARED}`, { token: a.token, body: { data: { owner: 'A', n: 1 } } });
    bImage = await tenantRows(db, runtime.resources.table, b.tenantId);
  });

  /** B's rows are byte-for-byte what they were, and B still reads its own values. */
  async function expectBUnchanged(): Promise<void> {
    expect(await tenantRows(db, runtime.resources.table, b.tenantId)).toBe(bImage);
    expect((await api.request('GET', `/v1/secrets/${SHARED}`, { token: b.token })).body).toMatchObject({ version: 2, data: { owner: 'B', n: 2 } });
    expect((await api.request('GET', `/v1/secrets/${ONLY_B}`, { token: b.token })).body).toMatchObject({ version: 1, data: { key: 'b-key' } });
  }

  it("answers A's reads of B's secrets with the same 404 as a path that never existed", async () => {
    const never = 'never/existed';
    for (const [resource, query] of [['secrets', ''], ['secrets', '?version=1'], ['metadata', '']] as const) {
      const bs = await api.request('GET', `/v1/${resource}/${ONLY_B}${query}`, { token: a.token });
      const nx = await api.request('GET', `/v1/${resource}/${never}${query}`, { token: a.token });
      expectProblem(bs, 404);
      expectProblem(nx, 404);
      const { correlationId: _1, ...bBody } = bs.body;
      const { correlationId: _2, ...nBody } = nx.body;
      expect({ ...bBody, detail: bBody.detail.replace(ONLY_B, '<path>') }).toEqual({ ...nBody, detail: nBody.detail.replace(never, '<path>') });
      expect(JSON.stringify(bs.body)).not.toContain('b-key');
    }
    // A deleted secret of B is just as invisible.
    expectProblem(await api.request('GET', `/v1/metadata/${B_DELETED}`, { token: a.token }), 404, `No secret at '${B_DELETED}'.`);
    await expectBUnchanged();
  });

  it("reads A's own value at a path B also uses, never B's", async () => {
    const read = await api.request('GET', `/v1/secrets/${SHARED}`, { token: a.token });
    expect(read.body).toMatchObject({ version: 1, latestVersion: 1, data: { owner: 'A', n: 1 }, tags: {} });
    expectProblem(await api.request('GET', `/v1/secrets/${SHARED}?version=2`, { token: a.token }), 404, `Secret '${SHARED}' has no version 2.`);
    const meta = await api.request('GET', `/v1/metadata/${SHARED}`, { token: a.token });
    expect(meta.body.versions.map((v: { version: number }) => v.version)).toEqual([1]);
  });

  it("never lists B's paths to A, with or without prefix, deleted included", async () => {
    const paths = await listAll(api, a.token);
    expect(paths).not.toContain(ONLY_B);
    expect(paths).not.toContain(B_DELETED);
    expect((await api.request('GET', '/v1/secrets?prefix=only-b/&deleted=true', { token: a.token })).body.items).toEqual([]);
  });

  it("confines a cursor taken from B's listing to A's own rows", async () => {
    const page = await api.request('GET', '/v1/secrets?limit=1&deleted=true', { token: b.token });
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const aPaths = await listAll(api, a.token);
    const crossed = await api.request('GET', `/v1/secrets?deleted=true&cursor=${page.body.nextCursor}`, { token: a.token });
    expect(crossed.status).toBe(200);
    for (const item of crossed.body.items as { path: string }[]) expect(aPaths).toContain(item.path);
    expect(JSON.stringify(crossed.body)).not.toContain('only-b');
  });

  it("refuses A's delete, restore and purge of B's secrets with 404 and changes nothing of B's", async () => {
    expectProblem(await api.request('DELETE', `/v1/secrets/${ONLY_B}`, { token: a.token }), 404, `No secret at '${ONLY_B}'.`);
    expectProblem(await api.request('POST', `/v1/restore/${B_DELETED}`, { token: a.token }), 404, `No deleted secret at '${B_DELETED}'.`);
    expectProblem(await api.request('DELETE', `/v1/metadata/${B_DELETED}`, { token: a.token }), 404, `No secret at '${B_DELETED}'.`);
    expectProblem(await api.request('DELETE', `/v1/metadata/${ONLY_B}`, { token: a.token }), 404, `No secret at '${ONLY_B}'.`);
    await expectBUnchanged();
  });

  it("lets A's writes, deletes and purges at a shared path touch only A's rows", async () => {
    const put = await api.request('PUT', `/v1/secrets/${SHARED}`, { token: a.token, headers: { 'if-match': '1' }, body: { data: { owner: 'A', n: 2 } } });
    expect(put.status).toBe(200);
    expect(put.body.version).toBe(2);
    // If-Match 2 is B's current version, not A's: A's own version decides.
    const stale = await api.request('PUT', `/v1/secrets/${SHARED}`, { token: a.token, headers: { 'if-match': '1' }, body: { data: { owner: 'A', n: 3 } } });
    expectProblem(stale, 412, 'The secret is at version 2, not 1.');
    expect((await api.request('DELETE', `/v1/secrets/${SHARED}`, { token: a.token })).status).toBe(204);
    expect((await api.request('DELETE', `/v1/metadata/${SHARED}`, { token: a.token })).status).toBe(204);
    expectProblem(await api.request('GET', `/v1/secrets/${SHARED}`, { token: a.token }), 404);
    await expectBUnchanged();
  });

  it("lets A create its own secret at a path only B uses: no 409 leaks B's secret", async () => {
    const created = await api.request('POST', `/v1/secrets/${ONLY_B}`, { token: a.token, body: { data: { key: 'a-key' } } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ path: ONLY_B, version: 1 });
    expect(created.body).not.toHaveProperty('description');
    expect((await api.request('GET', `/v1/secrets/${ONLY_B}`, { token: a.token })).body.data).toEqual({ key: 'a-key' });
    // B's deleted secret at this path would make B's own POST a 409; A's is a plain create.
    expect((await api.request('POST', `/v1/secrets/${B_DELETED}`, { token: a.token, body: { data: { key: 'a' } } })).status).toBe(201);
    await expectBUnchanged();
  });

  it('takes the tenant only from the token: tenant headers and query parameters are ignored or refused', async () => {
    for (const header of ['x-tenant-id', 'x-coffer-tenant', 'x-amz-tenant', 'tenant']) {
      const read = await api.request('GET', `/v1/secrets/${SHARED}`, { token: b.token, headers: { [header]: a.tenantId } });
      expect(read.body).toMatchObject({ data: { owner: 'B', n: 2 } });
    }
    expectProblem(await api.request('GET', `/v1/secrets/${ONLY_B}?tenant=${b.tenantId}`, { token: a.token }), 400, 'Invalid query: Unrecognized key: "tenant".');
    await expectBUnchanged();
  });

  it('refuses a validly signed token naming a client that does not exist (the authorizer re-reads it) and writes nothing', async () => {
    const image = await tableImage(db, runtime.resources.table);
    const ghost = await mint(tenantPrincipal('ten_aaaaaaaaaaaaaaaaaaaa', newClientId('ten_aaaaaaaaaaaaaaaaaaaa')));
    expectProblem(await api.request('GET', `/v1/secrets/${SHARED}`, { token: ghost }), 401);
    expectProblem(await api.request('PUT', '/v1/secrets/ghost/write', { token: ghost, body: { data: { v: 1 } } }), 401);
    expect(await tableImage(db, runtime.resources.table)).toBe(image);
  });
});

describe('roles inside a tenant', () => {
  let viewer: string;
  let contributor: string;

  /** A real API client with these roles, stored through the real repository, logged in at /v1/token. */
  beforeAll(async () => {
    viewer = await clientWithRoles(runtime, api, a.tenantId, ['viewer']);
    contributor = await clientWithRoles(runtime, api, a.tenantId, ['contributor']);
    await api.request('PUT', '/v1/secrets/roles/existing', { token: a.token, body: { data: { v: 1 } } });
    await api.request('PUT', '/v1/secrets/roles/deleted', { token: a.token, body: { data: { v: 1 } } });
    await api.request('DELETE', '/v1/secrets/roles/deleted', { token: a.token });
  });

  it('lets a viewer read and list, and refuses every change with 403 before looking at the secret', async () => {
    expect((await api.request('GET', '/v1/secrets/roles/existing', { token: viewer })).body.data).toEqual({ v: 1 });
    expect((await api.request('GET', '/v1/secrets?prefix=roles/', { token: viewer })).status).toBe(200);
    expect((await api.request('GET', '/v1/metadata/roles/existing', { token: viewer })).status).toBe(200);
    const image = await tenantRows(db, runtime.resources.table, a.tenantId);
    for (const path of ['roles/existing', 'roles/absent']) {
      expectProblem(await api.request('PUT', `/v1/secrets/${path}`, { token: viewer, body: { data: { v: 2 } } }), 403, `Your access does not allow 'update' on '${path}'.`);
      expectProblem(await api.request('POST', `/v1/secrets/${path}`, { token: viewer, body: { data: { v: 2 } } }), 403, `Your access does not allow 'create' on '${path}'.`);
      expectProblem(await api.request('DELETE', `/v1/secrets/${path}`, { token: viewer }), 403, `Your access does not allow 'delete' on '${path}'.`);
    }
    expectProblem(await api.request('POST', '/v1/restore/roles/deleted', { token: viewer }), 403, "Your access does not allow 'delete' on 'roles/deleted'.");
    expectProblem(await api.request('DELETE', '/v1/metadata/roles/deleted', { token: viewer }), 403, 'Only Owners and Admins can purge secrets.');
    expect(await tenantRows(db, runtime.resources.table, a.tenantId)).toBe(image);
  });

  it('lets a contributor create, update, delete and restore, but never purge', async () => {
    expect((await api.request('POST', '/v1/secrets/roles/by-contributor', { token: contributor, body: { data: { v: 1 } } })).status).toBe(201);
    expect((await api.request('PUT', '/v1/secrets/roles/existing', { token: contributor, body: { data: { v: 2 } } })).status).toBe(200);
    expect((await api.request('DELETE', '/v1/secrets/roles/by-contributor', { token: contributor })).status).toBe(204);
    expect((await api.request('POST', '/v1/restore/roles/by-contributor', { token: contributor })).status).toBe(200);
    expect((await api.request('DELETE', '/v1/secrets/roles/by-contributor', { token: contributor })).status).toBe(204);
    const image = await tenantRows(db, runtime.resources.table, a.tenantId);
    expectProblem(await api.request('DELETE', '/v1/metadata/roles/by-contributor', { token: contributor }), 403, 'Only Owners and Admins can purge secrets.');
    expect(await tenantRows(db, runtime.resources.table, a.tenantId)).toBe(image);
  });

  it("keeps a viewer of tenant A out of tenant B's secrets as well (404)", async () => {
    await api.request('PUT', '/v1/secrets/roles/b-side', { token: b.token, body: { data: { v: 'b' } } });
    expectProblem(await api.request('GET', '/v1/secrets/roles/b-side', { token: viewer }), 404);
  });
});

describe('who the records say did it', () => {
  it('records the calling client as createdBy/updatedBy/deletedBy "client:<clientId>"', async () => {
    const put = await api.request('PUT', '/v1/secrets/who/wrote', { token: a.token, body: { data: { v: 1 } } });
    expect(put.body.createdBy).toBe(`client:${a.clientId}`);
    expect(put.body.updatedBy).toBe(`client:${a.clientId}`);
    await api.request('DELETE', '/v1/secrets/who/wrote', { token: a.token });
    const listed = await api.request('GET', '/v1/secrets?prefix=who/&deleted=true', { token: a.token });
    expect(listed.body.items[0].deletedBy).toBe(`client:${a.clientId}`);
  });
});
