import { QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KMSClient } from '@aws-sdk/client-kms';
import { createHmac, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign as signWith, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateSync } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsTokenSigner } from '../../lambdas/adapters/kms/token-signer';
import { expectProblem, imageOf, isAuditRow, rawDynamo, rawKms, scanTable, type RawItem } from '../support/probe';
import { patient, startTestRuntime, type Client, type Response } from '../support/runtime';

// Attacks on identity, end to end on the local runtime against moto: races on the real
// store (one TOTP code, one refresh token, used six times at once), escalation through
// trusted issuers, IAM bindings and user edits, tampered Coffer access tokens at the
// authorizer, tenant isolation of named identity records, and tampered external tokens
// at grant_type=jwt — each refusal checked against the raw rows it must not have touched,
// and each paired with a control that the same request, done right, gets through.

/** The authorizer cache TTL this file runs with: revocations show after it. */
const AUTHORIZER_CACHE_TTL_MS = 1000;
const PAST_CACHE_MS = AUTHORIZER_CACHE_TTL_MS + 300;
/** What POST /v1/token answers for any bad credential (README "Tokens — every way in"). */
const GENERIC_CREDENTIALS = 'The credentials are missing, invalid or expired.';
/** What the gateway answers when the authorizer refuses a token (bin/local/gateway.ts). */
const GENERIC_TOKEN = 'The token is missing, invalid or expired.';
const RACERS = 6;

let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;
let raw: Client;
let db: DynamoDBClient;
let kms: KMSClient;
let signer: KmsTokenSigner;
type Tenant = Awaited<ReturnType<Client['onboard']>>;
let a: Tenant;
let b: Tenant;

beforeAll(async () => {
  runtime = await startTestRuntime({ authorizerCacheTtlMs: AUTHORIZER_CACHE_TTL_MS });
  raw = runtime.client;
  api = patient(raw);
  db = rawDynamo(runtime);
  kms = rawKms(runtime);
  signer = new KmsTokenSigner(kms, runtime.resources.signingKeyAlias);
  [a, b] = [await api.onboard('attacks-a'), await api.onboard('attacks-b')];
});
afterAll(async () => {
  db?.destroy();
  kms?.destroy();
  await runtime?.stop();
});

// ---- helpers --------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const newPassword = () => `Pw-${randomUUID()}`;


/**
 * Every row of the tenant as DynamoDB holds it, audit trail aside, read by key: its
 * metadata (clients, data keys), identity (users, groups, policies, issuers, IAM bindings,
 * sessions, nonces), secret heads and every secret's versions — every partition keys.ts
 * gives a tenant. (A full Scan grows with every request's audit row; see `scannedImage`.)
 */
async function tenantImage(tenantId: string): Promise<string> {
  const [meta, identity, heads] = await Promise.all(['META', 'IDENTITY', 'HEADS'].map((p) => partition(`T#${tenantId}#${p}`)));
  const versions = await Promise.all(heads!.map((head) => partition(`T#${tenantId}#SECRET#${head.sk!.S}`)));
  return imageOf([...meta!, ...identity!, ...heads!, ...versions.flat()]);
}

/** The same, by a raw Scan of every `T#<tenantId>#…` row: catches a write to any partition. */
async function scannedImage(tenantId: string): Promise<string> {
  return imageOf((await scanTable(db, runtime.resources.table, `T#${tenantId}#`)).filter((item) => !isAuditRow(item)));
}

async function partition(pk: string): Promise<RawItem[]> {
  const items: RawItem[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({ TableName: runtime.resources.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: pk } }, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** The session rows of one user, raw. */
async function sessionsOf(tenantId: string, username: string): Promise<RawItem[]> {
  return (await partition(`T#${tenantId}#IDENTITY`)).filter((r) => r.sk?.S?.startsWith('SESSION#') && r.username?.S === username);
}

function passwordLogin(client: Client, tenant: string, username: string, password: string, otp?: string): Promise<Response> {
  return client.request('POST', '/v1/token', { body: { grant_type: 'password', tenant, username, password, ...(otp === undefined ? {} : { otp }) } });
}

function refresh(client: Client, refreshToken: string): Promise<Response> {
  return client.request('POST', '/v1/token', { body: { grant_type: 'refresh_token', refresh_token: refreshToken } });
}

/** A user of tenant `t` created by its Owner, and a fresh password login of it. */
async function user(t: Tenant, username: string, roles: string[], extra: Record<string, unknown> = {}): Promise<{ password: string; access_token: string; refresh_token: string }> {
  const password = newPassword();
  const created = await api.request('POST', '/v1/users', { token: t.token, body: { username, password, roles, ...extra } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const login = await passwordLogin(api, t.tenantId, username, password);
  expect(login.status, JSON.stringify(login.body)).toBe(200);
  return { password, access_token: login.body.access_token, refresh_token: login.body.refresh_token };
}

async function ok(response: Promise<Response>, status: number): Promise<Response> {
  const r = await response;
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  return r;
}

/** The exact body POST /v1/token answers for bad credentials. */
function expectGenericCredentials(response: Response): void {
  expectProblem(response, 401, GENERIC_CREDENTIALS);
  expect(response.body).toEqual({
    type: 'https://coffer.dev/problems/unauthenticated',
    title: 'Unauthorized',
    status: 401,
    detail: GENERIC_CREDENTIALS,
    correlationId: response.headers.get('x-correlation-id'),
  });
}

/** The exact body the gateway answers when the authorizer refuses a token. */
function expectGenericToken(response: Response): void {
  expectProblem(response, 401, GENERIC_TOKEN);
  expect(response.body).toEqual({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: GENERIC_TOKEN, correlationId: response.headers.get('x-correlation-id') });
}

/** PUT bodies of a trusted issuer and an IAM binding with these binding roles. */
const issuerBody = (jwksUri: string, roles: string[], extra: Record<string, unknown> = {}) => ({
  issuer: 'https://idp.attacks.example',
  jwksUri,
  audiences: ['coffer'],
  bindings: [{ claims: { repository: 'acme/app' }, roles, ...extra }],
});
const iamBody = (roles: string[], extra: Record<string, unknown> = {}) => ({ arnPattern: 'arn:aws:iam::123456789012:role/attacks-*', roles, ...extra });
// Never fetched: putting an issuer does not contact its JWKS.
const UNUSED_JWKS = 'http://127.0.0.1:9/jwks';

// ---- 1. races against the real store --------------------------------------------------

describe('races on the real store', () => {
  it(`lets exactly one of ${RACERS} parallel password+OTP logins with the same valid code in`, async () => {
    const racer = await user(a, 'otp-racer', ['viewer']);
    const enrol = await ok(api.request('POST', '/v1/users/otp-racer/totp', { token: racer.access_token }), 201);
    const secret: string = enrol.body.secret;
    const now = Math.floor(Date.now() / 1000);
    // Confirming claims the current step; the race uses the next one, never used before.
    await ok(api.request('POST', '/v1/users/otp-racer/totp/verify', { token: racer.access_token, body: { otp: generateSync({ secret, epoch: now }) } }), 204);
    const code = generateSync({ secret, epoch: now + 30 });
    const sessionsBefore = await sessionsOf(a.tenantId, 'otp-racer');

    const responses = await Promise.all(Array.from({ length: RACERS }, () => passwordLogin(raw, a.tenantId, 'otp-racer', racer.password, code)));

    const statuses = responses.map((r) => r.status).sort();
    expect(statuses, JSON.stringify(responses.map((r) => [r.status, r.body.detail]))).toEqual([200, ...Array(RACERS - 1).fill(401)]);
    for (const refused of responses.filter((r) => r.status !== 200)) {
      expectGenericCredentials(refused);
      expect(refused.body).not.toHaveProperty('access_token');
    }
    // One login, one session: the refused ones created none.
    const sessionsAfter = await sessionsOf(a.tenantId, 'otp-racer');
    expect(sessionsAfter).toHaveLength(sessionsBefore.length + 1);
    const winner = responses.find((r) => r.status === 200)!;
    const who = await ok(api.request('GET', '/v1/whoami', { token: winner.body.access_token }), 200);
    expect(who.body).toMatchObject({ principal: { type: 'user', id: 'otp-racer' }, mfa: true });
    // And the code stays spent.
    expectGenericCredentials(await passwordLogin(api, a.tenantId, 'otp-racer', racer.password, code));
  });

  it(`answers ${RACERS} parallel refreshes of one refresh token at most once, and then the whole family is dead`, async () => {
    const racer = await user(a, 'refresh-racer', ['viewer']);
    // Cached by the authorizer now: the revocation must outlive the cache.
    expect((await api.request('GET', '/v1/whoami', { token: racer.access_token })).status).toBe(200);

    const responses = await Promise.all(Array.from({ length: RACERS }, () => refresh(raw, racer.refresh_token)));

    const winners = responses.filter((r) => r.status === 200);
    expect(winners.length, JSON.stringify(responses.map((r) => [r.status, r.body.detail]))).toBeLessThanOrEqual(1);
    for (const refused of responses.filter((r) => r.status !== 200)) expectGenericCredentials(refused);
    expect(responses.filter((r) => r.status !== 200).length).toBeGreaterThanOrEqual(RACERS - 1);

    // Two uses of one refresh token: one is a copy, so the session is revoked.
    const sessions = await sessionsOf(a.tenantId, 'refresh-racer');
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.revoked).toEqual({ BOOL: true });

    await sleep(PAST_CACHE_MS);
    const accessTokens = [racer.access_token, ...winners.map((w) => w.body.access_token as string)];
    for (const token of accessTokens) {
      expectGenericToken(await api.request('GET', '/v1/whoami', { token }));
      expectGenericToken(await api.request('GET', '/v1/secrets?limit=1', { token }));
    }
    const refreshTokens = [racer.refresh_token, ...winners.map((w) => w.body.refresh_token as string)];
    for (const token of refreshTokens) expectGenericCredentials(await refresh(api, token));
    // The user itself is fine: a new login is a new family.
    const again = await passwordLogin(api, a.tenantId, 'refresh-racer', racer.password);
    expect(again.status).toBe(200);
    expect((await refresh(api, again.body.refresh_token)).status).toBe(200);
  });

  it('lets only one of two Owners demoting each other at once win: the tenant never loses its last Owner', async () => {
    const t = await api.onboard('owner-race');
    const other = await user(t, 'other-owner', ['owner']);
    const [byClient, byUser] = await Promise.all([
      raw.request('PATCH', '/v1/users/other-owner', { token: t.token, body: { roles: ['admin'] } }),
      raw.request('PATCH', `/v1/clients/${t.clientId}`, { token: other.access_token, body: { roles: ['admin'] } }),
    ]);
    const statuses = [byClient.status, byUser.status].sort();
    expect(statuses, JSON.stringify([byClient.body, byUser.body])).toEqual([200, 409]);
    expectProblem([byClient, byUser].find((r) => r.status === 409)!, 409, 'This would leave the tenant without an Owner; make someone else an Owner first.');
    const owners = [
      (await api.request('GET', '/v1/users/other-owner', { token: await api.token(t.clientId, t.clientSecret) })).body.roles,
      (await api.request('GET', `/v1/clients/${t.clientId}`, { token: await api.token(t.clientId, t.clientSecret) })).body.roles,
    ];
    expect(owners.filter((roles) => roles.includes('owner'))).toHaveLength(1);
  });
});

// ---- 2. escalation through issuers, IAM bindings and user edits ------------------------

describe('escalation through trusted issuers, IAM bindings and user edits', () => {
  /** An Admin whose read is denied on prod/**, one whose delete is, one unfenced; a Contributor. */
  let fencedRead: string;
  let fencedDelete: string;
  let freeAdmin: string;
  let contributor: string;

  beforeAll(async () => {
    fencedRead = (await user(a, 'fenced-read', ['admin'])).access_token;
    fencedDelete = (await user(a, 'fenced-delete', ['admin'])).access_token;
    freeAdmin = (await user(a, 'free-admin', ['admin'])).access_token;
    contributor = (await user(a, 'carl', ['contributor'])).access_token;
    await ok(api.request('PUT', '/v1/policies/fence-read', {
      token: a.token,
      body: { entries: [{ effect: 'deny', principals: ['user:fenced-read'], paths: ['prod/**'], operations: ['read'] }] },
    }), 201);
    await ok(api.request('PUT', '/v1/policies/fence-delete', {
      token: a.token,
      body: { entries: [{ effect: 'deny', principals: ['user:fenced-delete'], paths: ['prod/**'], operations: ['delete'] }] },
    }), 201);
    await ok(api.request('PUT', '/v1/groups/writers', { token: a.token, body: { roles: ['contributor'] } }), 201);
    await ok(api.request('PUT', '/v1/groups/readers', { token: a.token, body: { roles: ['viewer'] } }), 201);
    await ok(api.request('POST', '/v1/users', { token: a.token, body: { username: 'nobody', password: newPassword(), roles: [] } }), 201);
  });

  const READ_DENIED = "You cannot grant a role that includes 'read' everywhere: a policy limits your own 'read'.";
  const DELETE_DENIED = "You cannot grant a role that includes 'delete' everywhere: a policy limits your own 'delete'.";

  it("refuses an Admin denied read on prod/** an issuer or IAM binding that hands out 'viewer', and stores nothing", async () => {
    const image = await tenantImage(a.tenantId);
    expectProblem(await api.request('PUT', '/v1/issuers/esc-viewer', { token: fencedRead, body: issuerBody(UNUSED_JWKS, ['viewer']) }), 403, READ_DENIED);
    expectProblem(await api.request('PUT', '/v1/iam-bindings/esc-viewer', { token: fencedRead, body: iamBody(['viewer']) }), 403, READ_DENIED);
    expectProblem(await api.request('GET', '/v1/issuers/esc-viewer', { token: a.token }), 404, "No issuer 'esc-viewer'.");
    expectProblem(await api.request('GET', '/v1/iam-bindings/esc-viewer', { token: a.token }), 404, "No iam-binding 'esc-viewer'.");
    expect(await tenantImage(a.tenantId)).toBe(image);
    // Control: an Admin without the deny may, so the refusals are about the deny.
    await ok(api.request('PUT', '/v1/issuers/esc-viewer', { token: freeAdmin, body: issuerBody(UNUSED_JWKS, ['viewer']) }), 201);
    await ok(api.request('PUT', '/v1/iam-bindings/esc-viewer', { token: freeAdmin, body: iamBody(['viewer']) }), 201);
    expect(await tenantImage(a.tenantId)).not.toBe(image);
  });

  it("refuses a binding that names a group whose roles exceed the Admin's, and stores nothing", async () => {
    const image = await tenantImage(a.tenantId);
    // 'viewer' alone is within the delete-fenced Admin's reach; the group's 'contributor' is not.
    expectProblem(await api.request('PUT', '/v1/issuers/esc-group', { token: fencedDelete, body: issuerBody(UNUSED_JWKS, ['viewer'], { groups: ['writers'] }) }), 403, DELETE_DENIED);
    expectProblem(await api.request('PUT', '/v1/iam-bindings/esc-group', { token: fencedDelete, body: iamBody(['viewer'], { groups: ['writers'] }) }), 403, DELETE_DENIED);
    expectProblem(await api.request('PUT', '/v1/issuers/esc-group', { token: fencedDelete, body: issuerBody(UNUSED_JWKS, ['contributor']) }), 403, DELETE_DENIED);
    expectProblem(await api.request('GET', '/v1/issuers/esc-group', { token: a.token }), 404);
    expectProblem(await api.request('GET', '/v1/iam-bindings/esc-group', { token: a.token }), 404);
    expect(await tenantImage(a.tenantId)).toBe(image);
    // Control: without the group (or with one within reach) the same Admin may.
    await ok(api.request('PUT', '/v1/issuers/esc-group', { token: fencedDelete, body: issuerBody(UNUSED_JWKS, ['viewer'], { groups: ['readers'] }) }), 201);
    await ok(api.request('PUT', '/v1/iam-bindings/esc-group', { token: fencedDelete, body: iamBody(['viewer']) }), 201);
    // And it cannot widen what it just made past its fence either.
    const stored = await ok(api.request('GET', '/v1/issuers/esc-group', { token: a.token }), 200);
    expectProblem(await api.request('PUT', '/v1/issuers/esc-group', { token: fencedDelete, body: issuerBody(UNUSED_JWKS, ['viewer'], { groups: ['writers'] }) }), 403, DELETE_DENIED);
    expect((await api.request('GET', '/v1/issuers/esc-group', { token: a.token })).body).toEqual(stored.body);
  });

  it('refuses the Owner role in issuer, IAM binding and group bindings with 400, even from an Owner, and stores nothing', async () => {
    await ok(api.request('PUT', '/v1/issuers/owner-held', { token: a.token, body: issuerBody(UNUSED_JWKS, ['viewer']) }), 201);
    await ok(api.request('PUT', '/v1/iam-bindings/owner-held', { token: a.token, body: iamBody(['viewer']) }), 201);
    const heldIssuer = (await ok(api.request('GET', '/v1/issuers/owner-held', { token: a.token }), 200)).body;
    const heldBinding = (await ok(api.request('GET', '/v1/iam-bindings/owner-held', { token: a.token }), 200)).body;
    const image = await tenantImage(a.tenantId);
    const cases: [string, unknown, string][] = [
      ['/v1/issuers/owner-new', issuerBody(UNUSED_JWKS, ['owner']), 'A trusted issuer'],
      ['/v1/issuers/owner-new', issuerBody(UNUSED_JWKS, ['viewer', 'owner']), 'A trusted issuer'],
      ['/v1/issuers/owner-held', issuerBody(UNUSED_JWKS, ['owner']), 'A trusted issuer'],
      ['/v1/iam-bindings/owner-new', iamBody(['owner']), 'An IAM binding'],
      ['/v1/iam-bindings/owner-held', iamBody(['owner', 'contributor']), 'An IAM binding'],
      ['/v1/groups/owner-new', { roles: ['owner'] }, 'A group'],
    ];
    for (const [path, body, what] of cases) {
      for (const token of [a.token, freeAdmin]) {
        const response = await api.request('PUT', path, { token, body });
        expectProblem(response, 400, `${what} cannot carry the Owner role: Owners are users or clients, counted so the last one cannot go.`);
        expect(response.body.errors).toEqual([{ field: 'roles', message: 'owner not allowed' }]);
      }
    }
    for (const path of ['/v1/issuers/owner-new', '/v1/iam-bindings/owner-new', '/v1/groups/owner-new']) expectProblem(await api.request('GET', path, { token: a.token }), 404);
    expect((await api.request('GET', '/v1/issuers/owner-held', { token: a.token })).body).toEqual(heldIssuer);
    expect((await api.request('GET', '/v1/iam-bindings/owner-held', { token: a.token })).body).toEqual(heldBinding);
    expect(await tenantImage(a.tenantId)).toBe(image);
  });

  it('refuses a Contributor every write of issuers, IAM bindings and groups with 403, and stores nothing', async () => {
    const image = await tenantImage(a.tenantId);
    const detail = 'Only Owners and Admins can manage identities.';
    expectProblem(await api.request('PUT', '/v1/issuers/by-carl', { token: contributor, body: issuerBody(UNUSED_JWKS, ['viewer']) }), 403, detail);
    expectProblem(await api.request('PUT', '/v1/iam-bindings/by-carl', { token: contributor, body: iamBody(['contributor']) }), 403, detail);
    expectProblem(await api.request('PUT', '/v1/groups/by-carl', { token: contributor, body: { roles: ['viewer'] } }), 403, detail);
    // Nor may it replace or delete existing ones.
    expectProblem(await api.request('PUT', '/v1/issuers/owner-held', { token: contributor, body: issuerBody(UNUSED_JWKS, ['contributor']) }), 403, detail);
    expectProblem(await api.request('DELETE', '/v1/iam-bindings/owner-held', { token: contributor }), 403, detail);
    expectProblem(await api.request('GET', '/v1/issuers/owner-held', { token: contributor }), 403, detail);
    for (const path of ['/v1/issuers/by-carl', '/v1/iam-bindings/by-carl', '/v1/groups/by-carl']) expectProblem(await api.request('GET', path, { token: a.token }), 404);
    expect(await tenantImage(a.tenantId)).toBe(image);
  });

  it("refuses an Admin denied read a PATCH that gives a user 'viewer' (directly or by group), and the user is unchanged", async () => {
    const before = await ok(api.request('GET', '/v1/users/nobody', { token: a.token }), 200);
    const image = await tenantImage(a.tenantId);
    expectProblem(await api.request('PATCH', '/v1/users/nobody', { token: fencedRead, body: { roles: ['viewer'] } }), 403, READ_DENIED);
    expectProblem(await api.request('PATCH', '/v1/users/nobody', { token: fencedRead, body: { groups: ['readers'] } }), 403, READ_DENIED);
    expectProblem(await api.request('POST', '/v1/users', { token: fencedRead, body: { username: 'sock', password: newPassword(), roles: ['viewer'] } }), 403, READ_DENIED);
    expect((await api.request('GET', '/v1/users/nobody', { token: a.token })).body).toEqual(before.body);
    expectProblem(await api.request('GET', '/v1/users/sock', { token: a.token }), 404);
    expect(await tenantImage(a.tenantId)).toBe(image);
    // Control: the unfenced Admin may, so the refusal is about the deny.
    const patched = await ok(api.request('PATCH', '/v1/users/nobody', { token: freeAdmin, body: { roles: ['viewer'] } }), 200);
    expect(patched.body).toMatchObject({ roles: ['viewer'], rev: before.body.rev + 1 });
  });

  it("refuses a Contributor's PATCH of itself to 'admin' with 403, and it stays a Contributor", async () => {
    const before = await ok(api.request('GET', '/v1/users/carl', { token: a.token }), 200);
    const image = await tenantImage(a.tenantId);
    const detail = 'Only Owners and Admins can manage identities.';
    expectProblem(await api.request('PATCH', '/v1/users/carl', { token: contributor, body: { roles: ['admin'] } }), 403, detail);
    expectProblem(await api.request('PATCH', '/v1/users/carl', { token: contributor, body: { roles: ['contributor', 'owner'] } }), 403, detail);
    expectProblem(await api.request('PATCH', '/v1/users/carl', { token: contributor, body: { groups: ['writers'] } }), 403, detail);
    expect((await api.request('GET', '/v1/users/carl', { token: a.token })).body).toEqual(before.body);
    expect(before.body.roles).toEqual(['contributor']);
    expect(await tenantImage(a.tenantId)).toBe(image);
    // Its own token still carries just what it had.
    expect((await api.request('GET', '/v1/whoami', { token: contributor })).body).toMatchObject({ roles: ['contributor'] });
  });
});

// ---- 3. tampered Coffer access tokens at the authorizer ---------------------------------

describe("the authorizer refuses tampered Coffer access tokens and they change nothing", () => {
  const TARGET = 'attack/target';
  let claims: Record<string, unknown>;
  let kid: string;
  let pem: string;
  let images: { a: string; b: string; scannedA: string; scannedB: string };

  /** A token with this header and payload, signed by Coffer's real KMS key. */
  async function forge(header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
    const input = `${b64(header)}.${b64(payload)}`;
    const signature = await signer.sign(Buffer.from(input, 'ascii'));
    return `${input}.${Buffer.from(signature).toString('base64url')}`;
  }
  const fresh = (extra: Record<string, unknown> = {}) => ({ ...claims, jti: randomBytes(16).toString('base64url'), ...extra });
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    await ok(api.request('PUT', `/v1/secrets/${TARGET}`, { token: a.token, body: { data: { v: 'untouched' } } }), 201);
    // The claims of A's real Owner token (source record, generation, session and all).
    claims = JSON.parse(Buffer.from(a.token.split('.')[1]!, 'base64url').toString('utf8'));
    const jwks = await ok(api.request('GET', '/.well-known/jwks.json'), 200);
    const jwk = jwks.body.keys[0] as JsonWebKey & { kid: string };
    kid = jwk.kid;
    expect(kid).toBe(await signer.keyId());
    pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    images = { a: await tenantImage(a.tenantId), b: await tenantImage(b.tenantId), scannedA: await scannedImage(a.tenantId), scannedB: await scannedImage(b.tenantId) };
  });

  const cases: [string, () => Promise<string>][] = [
    // Empty signature: refused by the authorizer's bearer shape before any verification.
    ["alg 'none' with an empty signature", async () => `${b64({ alg: 'none', typ: 'JWT', kid })}.${b64(fresh())}.`],
    // A signature part present, so the token reaches the verifier.
    ["alg 'none' with a signature part", async () => `${b64({ alg: 'none', typ: 'JWT', kid })}.${b64(fresh())}.${Buffer.from('not a signature').toString('base64url')}`],
    ['HS256 keyed with the PEM (SPKI) form of the published public key', async () => {
      const input = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${b64(fresh())}`;
      return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    }],
    ['a kid that is not in the JWKS', () => forge({ alg: 'ES256', typ: 'JWT', kid: `${kid}-rotated` }, fresh())],
    ['an expired token', () => forge({ alg: 'ES256', typ: 'JWT', kid }, fresh({ iat: now() - 7200, nbf: now() - 7200, exp: now() - 60 }))],
    ['a token not valid yet (nbf in the future)', () => forge({ alg: 'ES256', typ: 'JWT', kid }, fresh({ iat: now(), nbf: now() + 600, exp: now() + 3600 }))],
    ['another issuer', () => forge({ alg: 'ES256', typ: 'JWT', kid }, fresh({ iss: 'https://evil.example' }))],
    ['another audience', () => forge({ alg: 'ES256', typ: 'JWT', kid }, fresh({ aud: 'not-coffer' }))],
    ["the tid of another tenant, signed by Coffer's key", () => forge({ alg: 'ES256', typ: 'JWT', kid }, fresh({ tid: b.tenantId }))],
    ["the tid of another tenant, edited into a real token", async () => {
      const [header, , signature] = a.token.split('.');
      return `${header}.${b64({ ...claims, tid: b.tenantId })}.${signature}`;
    }],
  ];

  it.each(cases)('refuses %s on GET and PUT with the generic 401, and both tenants\' rows are byte-identical', async (_name, make) => {
    const token = await make();
    const read = await api.request('GET', `/v1/secrets/${TARGET}`, { token });
    expectGenericToken(read);
    expect(JSON.stringify(read.body)).not.toContain('untouched');
    expectGenericToken(await api.request('PUT', `/v1/secrets/${TARGET}`, { token, body: { data: { v: 'overwritten' } } }));
    expectGenericToken(await api.request('PUT', '/v1/secrets/attack/planted', { token, body: { data: { v: 'planted' } } }));
    expect(await tenantImage(a.tenantId)).toBe(images.a);
    expect(await tenantImage(b.tenantId)).toBe(images.b);
  });

  it('leaves every row of both tenants, by a raw Scan, as it was before all the refusals above', async () => {
    expect(await scannedImage(a.tenantId)).toBe(images.scannedA);
    expect(await scannedImage(b.tenantId)).toBe(images.scannedB);
  });

  it('accepts the same claims when properly ES256-signed by the published key, so the refusals above are not vacuous', async () => {
    const token = await forge({ alg: 'ES256', typ: 'JWT', kid }, fresh());
    const read = await ok(api.request('GET', `/v1/secrets/${TARGET}`, { token }), 200);
    expect(read.body.data).toEqual({ v: 'untouched' });
    // And the image sees a write when one happens.
    const image = await tenantImage(a.tenantId);
    await ok(api.request('PUT', `/v1/secrets/${TARGET}`, { token, body: { data: { v: 'written by the control' } } }), 200);
    expect(await tenantImage(a.tenantId)).not.toBe(image);
  });
});

// ---- 4. tenant isolation of named identity records -----------------------------------

describe("tenant A's Owner cannot reach tenant B's groups, IAM bindings, issuers or policies", () => {
  const records = {
    groups: { name: 'team', kind: 'group', bodyA: { roles: ['contributor'] }, bodyB: { description: 'B team', roles: ['viewer'] } },
    'iam-bindings': { name: 'deploy', kind: 'iam-binding', bodyA: iamBody(['contributor']), bodyB: iamBody(['viewer']) },
    issuers: { name: 'idp', kind: 'issuer', bodyA: issuerBody(UNUSED_JWKS, ['contributor']), bodyB: issuerBody(UNUSED_JWKS, ['viewer']) },
    policies: {
      name: 'rules',
      kind: 'policy',
      bodyA: { entries: [{ effect: 'deny', principals: ['role:viewer'], paths: ['a/**'], operations: ['list'] }] },
      bodyB: { description: 'B rules', entries: [{ effect: 'deny', principals: ['role:viewer'], paths: ['b/**'], operations: ['read'] }] },
    },
  } as const;
  const bRecords: Record<string, unknown> = {};
  let bImage: string;
  let bScanned: string;

  beforeAll(async () => {
    for (const [collection, r] of Object.entries(records)) {
      await ok(api.request('PUT', `/v1/${collection}/${r.name}`, { token: b.token, body: r.bodyB }), 201);
      // Edited once, so rev 2: a write by A landing on it would show as rev 3.
      await ok(api.request('PUT', `/v1/${collection}/${r.name}`, { token: b.token, body: r.bodyB }), 200);
      bRecords[collection] = (await ok(api.request('GET', `/v1/${collection}/${r.name}`, { token: b.token }), 200)).body;
      expect(bRecords[collection]).toMatchObject({ rev: 2 });
    }
    bImage = await tenantImage(b.tenantId);
    bScanned = await scannedImage(b.tenantId);
  });

  async function expectBUnchanged(): Promise<void> {
    expect(await tenantImage(b.tenantId)).toBe(bImage);
    for (const [collection, r] of Object.entries(records)) {
      expect((await api.request('GET', `/v1/${collection}/${r.name}`, { token: b.token })).body).toEqual(bRecords[collection]);
    }
  }

  it.each(Object.keys(records) as (keyof typeof records)[])("answers A's GET and DELETE of B's %s with 404, and lists none of them", async (collection) => {
    const r = records[collection];
    const aImage = await tenantImage(a.tenantId);
    for (const method of ['GET', 'DELETE']) {
      const response = await api.request(method, `/v1/${collection}/${r.name}`, { token: a.token });
      expectProblem(response, 404, `No ${r.kind} '${r.name}'.`);
      expect(JSON.stringify(response.body)).not.toMatch(/B team|B rules|b\/\*\*|role\/attacks/);
    }
    const listed = await ok(api.request('GET', `/v1/${collection}?limit=1000`, { token: a.token }), 200);
    expect(listed.body.items.map((i: { name: string }) => i.name)).not.toContain(r.name);
    expect(await tenantImage(a.tenantId)).toBe(aImage);
    await expectBUnchanged();
  });

  it.each(Object.keys(records) as (keyof typeof records)[])("makes A's PUT of %s at B's name create A's own record (201, rev 1), never touch B's", async (collection) => {
    const r = records[collection];
    const put = await ok(api.request('PUT', `/v1/${collection}/${r.name}`, { token: a.token, body: r.bodyA }), 201);
    expect(put.body).toMatchObject({ name: r.name, rev: 1, tenantId: a.tenantId });
    await expectBUnchanged();
    const mine = await ok(api.request('GET', `/v1/${collection}/${r.name}`, { token: a.token }), 200);
    expect(mine.body).toEqual(put.body);
    expect(mine.body).not.toEqual(bRecords[collection]);
    // Deleting A's own leaves B's in place.
    await ok(api.request('DELETE', `/v1/${collection}/${r.name}`, { token: a.token }), 204);
    expectProblem(await api.request('GET', `/v1/${collection}/${r.name}`, { token: a.token }), 404);
    await expectBUnchanged();
  });

  it("leaves every row of B, by a raw Scan, as it was before all of A's requests above", async () => {
    expect(await scannedImage(b.tenantId)).toBe(bScanned);
  });
});

// ---- 5. tampered external tokens at grant_type=jwt ------------------------------------

describe('grant_type=jwt refuses tampered external tokens and changes nothing', () => {
  const ISS = 'https://ci.attacks.example';
  const KID = 'ci-1';
  let jwks: Server;
  let keyA: { privateKey: KeyObject; publicKey: KeyObject };
  let keyB: { privateKey: KeyObject; publicKey: KeyObject };
  let pemA: string;
  let images: { a: string; b: string; scannedA: string; scannedB: string };
  const now = () => Math.floor(Date.now() / 1000);
  const base = () => ({ iss: ISS, aud: 'coffer', sub: 'repo:acme/app:ref:refs/heads/main', iat: now(), nbf: now(), exp: now() + 300, repository: 'acme/app', jti: randomUUID() });

  function es256(claims: Record<string, unknown>, options: { kid?: string; privateKey?: KeyObject } = {}): string {
    const input = `${b64({ alg: 'ES256', typ: 'JWT', kid: options.kid ?? KID })}.${b64(claims)}`;
    const signature = signWith('sha256', Buffer.from(input), { key: options.privateKey ?? keyA.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  }
  const login = (tenant: string, assertion: string) => api.request('POST', '/v1/token', { body: { grant_type: 'jwt', tenant, assertion } });

  beforeAll(async () => {
    keyA = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    keyB = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwkOf = (k: KeyObject) => ({ ...k.export({ format: 'jwk' }), kid: KID, alg: 'ES256', use: 'sig' });
    const served = { '/a/jwks': { keys: [jwkOf(keyA.publicKey)] }, '/b/jwks': { keys: [jwkOf(keyB.publicKey)] } } as Record<string, unknown>;
    jwks = createServer((req, res) => {
      const body = served[req.url ?? ''];
      res.statusCode = body ? 200 : 404;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body ?? {}));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
    // The HMAC secret an algorithm-confusion attacker would use: the published key as PEM.
    const published = await (await fetch(`${origin}/a/jwks`)).json() as { keys: JsonWebKey[] };
    pemA = createPublicKey({ key: published.keys[0]!, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    // Both tenants trust an issuer of the same name and `iss`, each with its own JWKS.
    for (const [t, path] of [[a, '/a/jwks'], [b, '/b/jwks']] as const) {
      await ok(api.request('PUT', '/v1/issuers/ci', {
        token: t.token,
        body: { issuer: ISS, jwksUri: `${origin}${path}`, audiences: ['coffer'], bindings: [{ claims: { repository: 'acme/app' }, roles: ['contributor'] }] },
      }), 201);
    }
    images = { a: await tenantImage(a.tenantId), b: await tenantImage(b.tenantId), scannedA: await scannedImage(a.tenantId), scannedB: await scannedImage(b.tenantId) };
  });
  afterAll(() => {
    jwks?.close();
  });

  const cases: [string, string, () => string][] = [
    ["alg 'none'", 'a', () => `${b64({ alg: 'none', typ: 'JWT', kid: KID })}.${b64(base())}.`],
    ['HS256 keyed with the PEM (SPKI) form of the published key', 'a', () => {
      const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: KID })}.${b64(base())}`;
      return `${input}.${createHmac('sha256', pemA).update(input).digest('base64url')}`;
    }],
    ['a kid the issuer never published', 'a', () => es256(base(), { kid: 'ci-2' })],
    ['a key the issuer never published, under its kid', 'a', () => es256(base(), { privateKey: keyB.privateKey })],
    ['an expired token', 'a', () => es256({ ...base(), iat: now() - 600, nbf: now() - 600, exp: now() - 120 })],
    ['a token not valid yet (nbf in the future)', 'a', () => es256({ ...base(), nbf: now() + 600 })],
    ['another issuer', 'a', () => es256({ ...base(), iss: 'https://evil.example' })],
    ['another audience', 'a', () => es256({ ...base(), aud: 'someone-else' })],
    ["tenant A's token presented to tenant B", 'b', () => es256(base())],
  ];

  it.each(cases)('refuses %s with the generic 401, and both tenants\' rows are byte-identical', async (_name, tenant, make) => {
    const assertion = make();
    const response = await login(tenant === 'a' ? a.tenantId : b.tenantId, assertion);
    expectGenericCredentials(response);
    expect(JSON.stringify(response.body)).not.toContain(assertion.split('.')[1]!);
    expect(await tenantImage(a.tenantId)).toBe(images.a);
    expect(await tenantImage(b.tenantId)).toBe(images.b);
  });

  it('leaves every row of both tenants, by a raw Scan, as it was before all the refusals above', async () => {
    expect(await scannedImage(a.tenantId)).toBe(images.scannedA);
    expect(await scannedImage(b.tenantId)).toBe(images.scannedB);
  });

  it('accepts the same claims properly ES256-signed by the trusted JWKS, in each tenant, so the refusals are not vacuous', async () => {
    const claims = base();
    for (const [t, key] of [[a, keyA], [b, keyB]] as const) {
      const response = await login(t.tenantId, es256(claims, { privateKey: key.privateKey }));
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      const who = await ok(api.request('GET', '/v1/whoami', { token: response.body.access_token }), 200);
      expect(who.body).toMatchObject({ principal: { type: 'federated', id: `ci:${claims.sub}` }, tenantId: t.tenantId, roles: ['contributor'], authMethod: 'jwt' });
    }
  });
});
