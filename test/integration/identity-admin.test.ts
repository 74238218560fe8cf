import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { generateSync } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/probe';
import { patient, startTestRuntime, type Client, type Response } from '../support/runtime';

// Identity and access end to end on the local runtime: users and clients managed through
// the API, password/TOTP/refresh logins, revocation through the authorizer's cache, the
// CloudTruth escalation rule, the last Owner, policies on secrets, the network safelist,
// tenant isolation of identities, and validation.

/** The authorizer cache TTL this file runs with: revocations show after it. */
const AUTHORIZER_CACHE_TTL_MS = 1000;
const PAST_CACHE_MS = AUTHORIZER_CACHE_TTL_MS + 200;
const GENERIC = 'The credentials are missing, invalid or expired.';
const ALL_OPS = ['create', 'read', 'update', 'delete', 'list', 'grant'] as const;

let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;
type Tenant = Awaited<ReturnType<Client['onboard']>>;
let a: Tenant;
let b: Tenant;

beforeAll(async () => {
  runtime = await startTestRuntime({ authorizerCacheTtlMs: AUTHORIZER_CACHE_TTL_MS });
  api = patient(runtime.client);
  [a, b] = [await api.onboard('identity-a'), await api.onboard('identity-b')];
});
afterAll(async () => {
  await runtime?.stop();
});

// ---- helpers --------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A password that is long enough and never contains a (non-hex) username. */
const newPassword = () => `Pw-${randomUUID()}`;

function passwordLogin(tenant: string, username: string, password: string, otp?: string): Promise<Response> {
  return api.request('POST', '/v1/token', { body: { grant_type: 'password', tenant, username, password, ...(otp === undefined ? {} : { otp }) } });
}

async function login(tenant: string, username: string, password: string, otp?: string): Promise<{ access_token: string; refresh_token: string }> {
  const response = await passwordLogin(tenant, username, password, otp);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

function refresh(refreshToken: string): Promise<Response> {
  return api.request('POST', '/v1/token', { body: { grant_type: 'refresh_token', refresh_token: refreshToken } });
}

async function createUser(token: string, username: string, roles: string[], extra: Record<string, unknown> = {}): Promise<{ username: string; password: string }> {
  const password = newPassword();
  const response = await api.request('POST', '/v1/users', { token, body: { username, password, roles, ...extra } });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return { username, password };
}

async function createClient(token: string, name: string, roles: string[], extra: Record<string, unknown> = {}): Promise<{ clientId: string; clientSecret: string }> {
  const response = await api.request('POST', '/v1/clients', { token, body: { name, roles, ...extra } });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return { clientId: response.body.clientId, clientSecret: response.body.clientSecret };
}

async function putPolicy(token: string, name: string, body: Record<string, unknown>, status = 201): Promise<Response> {
  const response = await api.request('PUT', `/v1/policies/${name}`, { token, body });
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  return response;
}

async function putSecret(token: string, path: string, data: Record<string, unknown> = { v: path }): Promise<void> {
  const response = await api.request('PUT', `/v1/secrets/${path}`, { token, body: { data } });
  expect(response.status, JSON.stringify(response.body)).toBeLessThan(300);
}

const status = async (token: string, method = 'GET', path = '/v1/whoami') => (await api.request(method, path, { token })).status;

/** A problem body without its per-request correlation id. */
const sansCorrelation = (body: Record<string, unknown>) => {
  const { correlationId: _c, ...rest } = body;
  return rest;
};

/** An HTTP request sent from another loopback address (127.0.0.2): outside a 127.0.0.1/32 safelist. */
function requestFrom(localAddress: string, method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<Response> {
  const url = new URL(runtime.endpoint);
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers, localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          // leave as text
        }
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve({ status: res.statusCode ?? 0, headers: h, body: parsed as any });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// ---- 1. a user's life ---------------------------------------------------------------

describe('an Owner creates users who log in with a password', () => {
  let alice: { username: string; password: string };

  it('creates a contributor user, shown without any password material', async () => {
    const password = newPassword();
    const created = await api.request('POST', '/v1/users', {
      token: a.token,
      body: { username: 'alice', password, displayName: 'Alice Liddell', roles: ['contributor'], groups: [] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers.get('location')).toBe('/v1/users/alice');
    expect(created.body).toMatchObject({
      username: 'alice',
      displayName: 'Alice Liddell',
      roles: ['contributor'],
      groups: [],
      status: 'active',
      mfa: 'off',
      locked: false,
      rev: 1,
      createdBy: `client:${a.clientId}`,
    });
    alice = { username: 'alice', password };
    const listed = await api.request('GET', '/v1/users', { token: a.token });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((u: { username: string }) => u.username)).toContain('alice');
    const got = await api.request('GET', '/v1/users/alice', { token: a.token });
    expect(got.body).toMatchObject({ username: 'alice', roles: ['contributor'] });
    for (const body of [created.body, listed.body, got.body]) {
      const text = JSON.stringify(body);
      expect(text).not.toContain(password);
      expect(text).not.toMatch(/passwordHash|secretHash|scrypt/i);
    }
  });

  it('logs the user in and lets the contributor read and write secrets, but not purge or manage identities', async () => {
    const tokens = await login(a.tenantId, alice.username, alice.password);
    expect(tokens).toMatchObject({ access_token: expect.any(String), refresh_token: expect.stringMatching(/^crt_/), token_type: 'Bearer' });
    const token = tokens.access_token;

    const written = await api.request('PUT', '/v1/secrets/app/by-alice', { token, body: { data: { v: 1 } } });
    expect(written.status).toBe(201);
    expect(written.body.createdBy).toBe('user:alice');
    expect((await api.request('GET', '/v1/secrets/app/by-alice', { token })).body.data).toEqual({ v: 1 });
    expect((await api.request('PUT', '/v1/secrets/app/by-alice', { token, body: { data: { v: 2 } } })).status).toBe(200);
    expect((await api.request('GET', '/v1/secrets?prefix=app/', { token })).status).toBe(200);
    expect((await api.request('DELETE', '/v1/secrets/app/by-alice', { token })).status).toBe(204);
    expectProblem(await api.request('DELETE', '/v1/metadata/app/by-alice', { token }), 403, 'Only Owners and Admins can purge secrets.');
    expectProblem(await api.request('GET', '/v1/users', { token }), 403, 'Only Owners and Admins can manage identities.');
    // A user reads their own record.
    expect((await api.request('GET', '/v1/users/alice', { token })).body).toMatchObject({ username: 'alice', roles: ['contributor'] });
  });

  it('lets a viewer user read and list but not write', async () => {
    await putSecret(a.token, 'app/for-viewer', { v: 'seen' });
    const vic = await createUser(a.token, 'vic', ['viewer']);
    const { access_token: token } = await login(a.tenantId, vic.username, vic.password);
    expect((await api.request('GET', '/v1/secrets/app/for-viewer', { token })).body.data).toEqual({ v: 'seen' });
    expect((await api.request('GET', '/v1/secrets?prefix=app/', { token })).status).toBe(200);
    expectProblem(await api.request('PUT', '/v1/secrets/app/for-viewer', { token, body: { data: { v: 'x' } } }), 403, "Your access does not allow 'update' on 'app/for-viewer'.");
    expectProblem(await api.request('DELETE', '/v1/secrets/app/for-viewer', { token }), 403);
    expect((await api.request('GET', '/v1/secrets/app/for-viewer', { token: a.token })).body.data).toEqual({ v: 'seen' });
  });

  it('answers GET /v1/whoami with type user, tenant, roles, authMethod password and exactly the policies that name the user', async () => {
    await putPolicy(a.token, 'alice-direct', { entries: [{ effect: 'allow', principals: ['user:alice'], paths: ['shared/**'], operations: ['read'] }] });
    await putPolicy(a.token, 'by-role', { entries: [{ effect: 'deny', principals: ['role:contributor'], paths: ['vault/**'], operations: ['delete'] }] });
    await putPolicy(a.token, 'viewers-only', { entries: [{ effect: 'allow', principals: ['role:viewer'], paths: ['docs/**'], operations: ['read'] }] });
    await putPolicy(a.token, 'mixed', {
      entries: [
        { effect: 'allow', principals: ['group:nobody-here'], paths: ['x/**'], operations: ['read'] },
        { effect: 'allow', principals: ['user:ali*'], paths: ['y/*'], operations: ['list'] },
      ],
    });
    const { access_token: token } = await login(a.tenantId, alice.username, alice.password);
    const who = await api.request('GET', '/v1/whoami', { token });
    expect(who.status).toBe(200);
    expect(who.body).toMatchObject({
      principal: { type: 'user', id: 'alice' },
      tenantId: a.tenantId,
      roles: ['contributor'],
      groups: [],
      authMethod: 'password',
      mfa: false,
      sessionId: expect.any(String),
      network: { cidrs: [], sourceIp: '127.0.0.1', allowed: true },
    });
    const policies = who.body.policies as { name: string; entries: { principals: string[] }[] }[];
    expect(policies.map((p) => p.name).sort()).toEqual(['alice-direct', 'by-role', 'mixed']);
    // Only the entries that name alice are shown.
    expect(policies.find((p) => p.name === 'mixed')!.entries).toEqual([{ effect: 'allow', principals: ['user:ali*'], paths: ['y/*'], operations: ['list'] }]);

    // The Owner client's view: its own type and method.
    const owner = await api.request('GET', '/v1/whoami', { token: a.token });
    expect(owner.body).toMatchObject({ principal: { type: 'client', id: a.clientId }, roles: ['owner'], authMethod: 'client_credentials' });
    expect(owner.body.policies).toEqual([]);
    for (const name of ['alice-direct', 'by-role', 'viewers-only', 'mixed']) expect((await api.request('DELETE', `/v1/policies/${name}`, { token: a.token })).status).toBe(204);
  });
});

// ---- 2. password failures and lockout ---------------------------------------------------

describe('password login failures', () => {
  it('answers unknown user, wrong password, unknown or malformed tenant with one identical generic 401', async () => {
    const user = await createUser(a.token, 'gwen', ['viewer']);
    const unknownTenant = `ten_${'a'.repeat(20)}`;
    const attempts = [
      passwordLogin(a.tenantId, 'nobody-here', user.password),
      passwordLogin(a.tenantId, user.username, `${user.password}x`),
      passwordLogin(unknownTenant, user.username, user.password),
      passwordLogin('not-a-tenant', user.username, user.password),
      passwordLogin(a.tenantId, 'GWEN', user.password),
    ];
    const bodies: Record<string, unknown>[] = [];
    for (const response of await Promise.all(attempts)) {
      expectProblem(response, 401, GENERIC);
      expect(JSON.stringify(response.body)).not.toContain(user.password);
      bodies.push(sansCorrelation(response.body));
    }
    for (const body of bodies) expect(body).toEqual(bodies[0]);
    // And the right password works.
    await login(a.tenantId, user.username, user.password);
  });

  it('records why a login failed in the platform trail, and a username only once it named a user', async () => {
    const user = await createUser(a.token, 'hana', ['viewer']);
    // A passphrase typed into the username field has the shape of a username.
    const typedIntoUsername = `correct.horse.${randomUUID().slice(0, 8)}`;
    const misplaced = await passwordLogin(a.tenantId, typedIntoUsername, 'whatever-it-was');
    const wrong = await passwordLogin(a.tenantId, user.username, `${user.password}x`);
    const trail = await api.request('GET', '/v1/audit?action=token.issue&outcome=denied&limit=1000', { token: await api.adminToken() });
    const eventOf = (response: Response) => trail.body.items.find((e: any) => e.correlationId === response.headers.get('x-correlation-id'));
    expect(eventOf(misplaced).details).toEqual({ grantType: 'password', tenant: a.tenantId, reason: 'unknown-user', error: 'unauthenticated' });
    expect(JSON.stringify(trail.body.items)).not.toContain(typedIntoUsername);
    expect(eventOf(wrong).details).toMatchObject({ grantType: 'password', tenant: a.tenantId, username: 'hana', reason: 'bad-password' });
  });

  it('locks the user after a burst of 8 wrong passwords sent at once, as after 5 in a row', async () => {
    const user = await createUser(a.token, 'bursty', ['viewer']);
    const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => passwordLogin(a.tenantId, user.username, `wrong-${i}-${user.password}`)));
    expect(burst.map((r) => r.status)).toEqual(burst.map(() => 401));
    expectProblem(await passwordLogin(a.tenantId, user.username, user.password), 401, GENERIC);
    expect((await api.request('GET', '/v1/users/bursty', { token: a.token })).body).toMatchObject({ locked: true });
  });

  it('locks the user after 5 wrong passwords (the right one is then refused too); an Owner reset lifts it and ends old tokens', async () => {
    const user = await createUser(a.token, 'locky', ['contributor']);
    const before = await login(a.tenantId, user.username, user.password);
    expect(await status(before.access_token)).toBe(200);

    for (let i = 0; i < 5; i++) expectProblem(await passwordLogin(a.tenantId, user.username, `wrong-password-${i}`), 401, GENERIC);
    const locked = await passwordLogin(a.tenantId, user.username, user.password);
    expectProblem(locked, 401, GENERIC);
    expect(JSON.stringify(locked.body)).not.toMatch(/lock/i);
    const record = await api.request('GET', '/v1/users/locky', { token: a.token });
    expect(record.body).toMatchObject({ locked: true, status: 'active' });

    const reset = newPassword();
    const put = await api.request('PUT', '/v1/users/locky/password', { token: a.token, body: { newPassword: reset } });
    expect(put.status, JSON.stringify(put.body)).toBe(204);
    expect((await api.request('GET', '/v1/users/locky', { token: a.token })).body).toMatchObject({ locked: false, rev: record.body.rev + 1, updatedBy: `client:${a.clientId}` });

    expectProblem(await passwordLogin(a.tenantId, user.username, user.password), 401, GENERIC);
    const after = await login(a.tenantId, user.username, reset);
    expect(await status(after.access_token)).toBe(200);

    // Tokens and sessions from before the reset are over (once the cached answer expires).
    await sleep(PAST_CACHE_MS);
    expect(await status(before.access_token)).toBe(401);
    expectProblem(await refresh(before.refresh_token), 401);
    expect(await status(after.access_token)).toBe(200);
  });

  it('lets a user change their own password only with the current one', async () => {
    const user = await createUser(a.token, 'selma', ['viewer']);
    const { access_token: token } = await login(a.tenantId, user.username, user.password);
    const next = newPassword();
    expectProblem(await api.request('PUT', '/v1/users/selma/password', { token, body: { newPassword: next } }), 400, 'Send your current password to change it.');
    expectProblem(await api.request('PUT', '/v1/users/selma/password', { token, body: { currentPassword: 'not-the-password', newPassword: next } }), 401, GENERIC);
    expectProblem(await passwordLogin(a.tenantId, user.username, next), 401, GENERIC);
    expect((await api.request('PUT', '/v1/users/selma/password', { token, body: { currentPassword: user.password, newPassword: next } })).status).toBe(204);
    await login(a.tenantId, user.username, next);
    expectProblem(await passwordLogin(a.tenantId, user.username, user.password), 401, GENERIC);
  });
});

// ---- 3. TOTP -------------------------------------------------------------------------

describe('TOTP', () => {
  it('enrols, confirms, then requires a fresh one-time code at every login and refuses a replayed one', async () => {
    const user = await createUser(a.token, 'tina', ['viewer']);
    const { access_token: token } = await login(a.tenantId, user.username, user.password);

    expectProblem(await api.request('POST', '/v1/users/tina/totp', { token: a.token }), 403, 'Only the user can enrol or confirm their own TOTP device.');
    const enrol = await api.request('POST', '/v1/users/tina/totp', { token });
    expect(enrol.status, JSON.stringify(enrol.body)).toBe(201);
    const secret: string = enrol.body.secret;
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    expect(enrol.body.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    expect(enrol.body.otpauthUri).toContain(`secret=${secret}`);
    const pending = await api.request('GET', '/v1/users/tina', { token: a.token });
    expect(pending.body.mfa).toBe('pending');
    expect(JSON.stringify(pending.body)).not.toContain(secret);
    // Not enforced until confirmed.
    await login(a.tenantId, user.username, user.password);

    const now = Math.floor(Date.now() / 1000);
    const code = (epoch: number) => generateSync({ secret, epoch });
    const window = new Set([code(now - 30), code(now), code(now + 30), code(now + 60)]);
    const wrong = ['000000', '111111', '222222', '333333', '444444'].find((c) => !window.has(c))!;
    const refused = await api.request('POST', '/v1/users/tina/totp/verify', { token, body: { otp: wrong } });
    expectProblem(refused, 400);
    expect(refused.body.errors).toEqual([{ field: 'otp', message: 'wrong code' }]);
    expect((await api.request('GET', '/v1/users/tina', { token: a.token })).body.mfa).toBe('pending');

    // Confirm with the current step; log in with the next (a step is never accepted twice).
    const confirm = await api.request('POST', '/v1/users/tina/totp/verify', { token, body: { otp: code(now) } });
    expect(confirm.status, JSON.stringify(confirm.body)).toBe(204);
    expect((await api.request('GET', '/v1/users/tina', { token: a.token })).body.mfa).toBe('enabled');

    expectProblem(await passwordLogin(a.tenantId, user.username, user.password), 401, /one-time code/);
    // A wrong password never learns that a code would be needed.
    expectProblem(await passwordLogin(a.tenantId, user.username, 'not-the-password'), 401, GENERIC);

    const otp = code(now + 30);
    const withOtp = await passwordLogin(a.tenantId, user.username, user.password, otp);
    expect(withOtp.status, JSON.stringify(withOtp.body)).toBe(200);
    const who = await api.request('GET', '/v1/whoami', { token: withOtp.body.access_token });
    expect(who.body).toMatchObject({ principal: { type: 'user', id: 'tina' }, authMethod: 'password', mfa: true });

    expectProblem(await passwordLogin(a.tenantId, user.username, user.password, otp), 401, GENERIC);
    // Enrolling again while enabled is refused.
    expect((await api.request('POST', '/v1/users/tina/totp', { token: withOtp.body.access_token })).status).toBe(409);
    // Confirming ended the sessions opened with the password alone (perhaps a stolen one).
    await sleep(PAST_CACHE_MS);
    expect(await status(token)).toBe(401);
    expect(await status(withOtp.body.access_token)).toBe(200);
  });
});

// ---- 4. refresh tokens ---------------------------------------------------------------

describe('refresh tokens', () => {
  it('rotates on every use; a replayed refresh token revokes the whole family, the newest token and its access tokens included', async () => {
    const user = await createUser(a.token, 'rita', ['viewer']);
    const first = await login(a.tenantId, user.username, user.password);
    const sessionId = (await api.request('GET', '/v1/whoami', { token: first.access_token })).body.sessionId;

    const second = await refresh(first.refresh_token);
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect(second.body.access_token).not.toBe(first.access_token);
    const who = await api.request('GET', '/v1/whoami', { token: second.body.access_token });
    expect(who.body).toMatchObject({ principal: { type: 'user', id: 'rita' }, authMethod: 'password', sessionId });

    const third = await refresh(second.body.refresh_token);
    expect(third.status).toBe(200);
    expect(await status(third.body.access_token)).toBe(200);

    // The replay hears the generic answer (a thief learns nothing); the trail names the reuse.
    const replay = await refresh(first.refresh_token);
    expectProblem(replay, 401, GENERIC);
    const trail = await api.request('GET', '/v1/audit?action=token.issue&outcome=denied&limit=1000', { token: await api.adminToken() });
    const replayEvent = trail.body.items.find((e: any) => e.correlationId === replay.headers.get('x-correlation-id'));
    expect(replayEvent).toMatchObject({ status: 401, details: { grantType: 'refresh_token', tenant: a.tenantId, sessionId, reason: 'refresh-reuse' } });
    expectProblem(await refresh(third.body.refresh_token), 401, GENERIC);
    expectProblem(await refresh(second.body.refresh_token), 401);
    await sleep(PAST_CACHE_MS);
    for (const token of [first.access_token, second.body.access_token, third.body.access_token]) expect(await status(token)).toBe(401);
    // A new login is a new family.
    const again = await login(a.tenantId, user.username, user.password);
    expect((await refresh(again.refresh_token)).status).toBe(200);
    expectProblem(await refresh('crt_garbage'), 401, GENERIC);
  });
});

// ---- 5. revocation within the authorizer cache ----------------------------------------

// Independent principals each; run concurrently so their waits for the cache overlap.
describe.concurrent(`revocation within the authorizer cache (TTL ${AUTHORIZER_CACHE_TTL_MS} ms)`, () => {
  it(`disabling a user ends its tokens: uncached at once, cached within ${AUTHORIZER_CACHE_TTL_MS} ms`, async () => {
    const user = await createUser(a.token, 'dana', ['contributor']);
    const cached = await login(a.tenantId, user.username, user.password);
    const uncached = await login(a.tenantId, user.username, user.password);
    expect(await status(cached.access_token)).toBe(200);

    const patch = await api.request('PATCH', '/v1/users/dana', { token: a.token, body: { status: 'disabled' } });
    expect(patch.status).toBe(200);
    expect(patch.body.status).toBe('disabled');
    expect(await status(uncached.access_token)).toBe(401);
    expect([200, 401]).toContain(await status(cached.access_token));
    await sleep(PAST_CACHE_MS);
    expect(await status(cached.access_token)).toBe(401);
    expectProblem(await passwordLogin(a.tenantId, user.username, user.password), 401, GENERIC);
    expectProblem(await refresh(cached.refresh_token), 401);

    // Enabled again: a new login works, the old tokens stay dead.
    expect((await api.request('PATCH', '/v1/users/dana', { token: a.token, body: { status: 'active' } })).status).toBe(200);
    const fresh = await login(a.tenantId, user.username, user.password);
    expect(await status(fresh.access_token)).toBe(200);
    expect(await status(uncached.access_token)).toBe(401);
  });

  it(`deleting a client ends its tokens within ${AUTHORIZER_CACHE_TTL_MS} ms and its secret at once`, async () => {
    const client = await createClient(a.token, 'ci-deleted', ['contributor']);
    const token = await api.token(client.clientId, client.clientSecret);
    expect(await status(token)).toBe(200);
    expect((await api.request('DELETE', `/v1/clients/${client.clientId}`, { token: a.token })).status).toBe(204);
    expect([200, 401]).toContain(await status(token));
    expectProblem(
      await api.request('POST', '/v1/token', { body: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret } }),
      401,
      GENERIC,
    );
    await sleep(PAST_CACHE_MS);
    expect(await status(token)).toBe(401);
    expectProblem(await api.request('GET', `/v1/clients/${client.clientId}`, { token: a.token }), 404);
  });

  it(`rotating a client secret ends the old secret at once and its tokens within ${AUTHORIZER_CACHE_TTL_MS} ms`, async () => {
    const client = await createClient(a.token, 'ci-rotated', ['viewer']);
    const token = await api.token(client.clientId, client.clientSecret);
    expect(await status(token)).toBe(200);
    const rotated = await api.request('POST', `/v1/clients/${client.clientId}/secret`, { token: a.token });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ clientId: client.clientId, clientSecret: expect.stringMatching(/^cs_/) });
    expect(rotated.body.clientSecret).not.toBe(client.clientSecret);
    expect(JSON.stringify(rotated.body)).not.toContain(client.clientSecret);
    expect([200, 401]).toContain(await status(token));
    await expect(api.token(client.clientId, client.clientSecret)).rejects.toThrow(/401/);
    const fresh = await api.token(client.clientId, rotated.body.clientSecret);
    await sleep(PAST_CACHE_MS);
    expect(await status(token)).toBe(401);
    expect(await status(fresh)).toBe(200);
  });

  it(`logout ends the session's access and refresh tokens within ${AUTHORIZER_CACHE_TTL_MS} ms, and only that session`, async () => {
    const user = await createUser(a.token, 'lou', ['viewer']);
    const session = await login(a.tenantId, user.username, user.password);
    const other = await login(a.tenantId, user.username, user.password);
    expect(await status(session.access_token)).toBe(200);
    expect(await status(session.access_token, 'POST', '/v1/logout')).toBe(204);
    expectProblem(await refresh(session.refresh_token), 401);
    const client = await createClient(a.token, 'ci-logout', ['viewer']);
    const clientToken = await api.token(client.clientId, client.clientSecret);
    expect(await status(clientToken, 'POST', '/v1/logout')).toBe(204);
    await sleep(PAST_CACHE_MS);
    expect(await status(session.access_token)).toBe(401);
    expect(await status(clientToken)).toBe(401);
    expect(await status(other.access_token)).toBe(200);
    expect((await refresh(other.refresh_token)).status).toBe(200);
  });

  it('a deleted user recreated under the same name does not revive the old account\'s tokens or sessions', async () => {
    const old = await createUser(a.token, 'zed', ['admin']);
    const stale = await login(a.tenantId, old.username, old.password);
    expect(await status(stale.access_token)).toBe(200);
    expect((await api.request('DELETE', '/v1/users/zed', { token: a.token })).status).toBe(204);
    await sleep(PAST_CACHE_MS);
    expect(await status(stale.access_token)).toBe(401);

    // Someone new gets the name (and a different password).
    await createUser(a.token, 'zed', ['viewer']);
    const access = await api.request('GET', '/v1/whoami', { token: stale.access_token });
    const revived = await refresh(stale.refresh_token);
    const revivedWho = revived.status === 200 ? (await api.request('GET', '/v1/whoami', { token: revived.body.access_token })).body : null;
    expect({
      oldAccessToken: access.status,
      oldAccessTokenAs: access.status === 200 ? { id: access.body.principal.id, roles: access.body.roles } : null,
      oldRefreshToken: revived.status,
      refreshedAs: revivedWho ? { id: revivedWho.principal.id, roles: revivedWho.roles } : null,
    }).toEqual({ oldAccessToken: 401, oldAccessTokenAs: null, oldRefreshToken: 401, refreshedAs: null });
  });
});

// ---- 6. escalation --------------------------------------------------------------------

describe('nobody hands out more than they hold (CloudTruth rule)', () => {
  let carl: { username: string; password: string };
  let carlToken: string;
  let adamToken: string;
  let olga: { username: string; password: string };

  beforeAll(async () => {
    carl = await createUser(a.token, 'carl', ['contributor']);
    carlToken = (await login(a.tenantId, carl.username, carl.password)).access_token;
    const adam = await createUser(a.token, 'adam', ['admin']);
    adamToken = (await login(a.tenantId, adam.username, adam.password)).access_token;
    olga = await createUser(a.token, 'olga', ['owner'], { displayName: 'Olga Owner' });
  });

  const users = async () => (await api.request('GET', '/v1/users?limit=1000', { token: a.token })).body.items as { username: string }[];
  const clients = async () => (await api.request('GET', '/v1/clients?limit=1000', { token: a.token })).body.items as { clientId: string }[];

  it('a Contributor cannot promote itself or create users or clients', async () => {
    const self = (await api.request('GET', '/v1/users/carl', { token: carlToken })).body;
    const [usersBefore, clientsBefore] = [await users(), await clients()];
    expectProblem(await api.request('PATCH', '/v1/users/carl', { token: carlToken, body: { roles: ['admin'] } }), 403);
    expectProblem(await api.request('PATCH', '/v1/users/carl', { token: carlToken, body: { roles: ['contributor'], displayName: 'Carl' } }), 403);
    expectProblem(await api.request('POST', '/v1/users', { token: carlToken, body: { username: 'carl-two', password: newPassword(), roles: ['viewer'] } }), 403);
    expectProblem(await api.request('POST', '/v1/clients', { token: carlToken, body: { name: 'carl-bot', roles: ['contributor'] } }), 403);
    expectProblem(await api.request('PUT', '/v1/groups/carls', { token: carlToken, body: { roles: ['viewer'] } }), 403);
    expect((await api.request('GET', '/v1/users/carl', { token: carlToken })).body).toEqual(self);
    expect(await users()).toEqual(usersBefore);
    expect(await clients()).toEqual(clientsBefore);
    expectProblem(await api.request('GET', '/v1/groups/carls', { token: a.token }), 404);
  });

  it('an Admin cannot create an Owner, promote anyone (itself included) to Owner, or put a group with the Owner role', async () => {
    const [usersBefore, clientsBefore] = [await users(), await clients()];
    const adamBefore = (await api.request('GET', '/v1/users/adam', { token: a.token })).body;
    const carlBefore = (await api.request('GET', '/v1/users/carl', { token: a.token })).body;
    expectProblem(await api.request('POST', '/v1/users', { token: adamToken, body: { username: 'owner-by-admin', password: newPassword(), roles: ['owner'] } }), 403, "You cannot grant the role 'owner': it is above your own.");
    expectProblem(await api.request('POST', '/v1/clients', { token: adamToken, body: { name: 'owner-bot', roles: ['owner'] } }), 403, "You cannot grant the role 'owner': it is above your own.");
    expectProblem(await api.request('PATCH', '/v1/users/adam', { token: adamToken, body: { roles: ['owner'] } }), 403);
    expectProblem(await api.request('PATCH', '/v1/users/carl', { token: adamToken, body: { roles: ['owner'] } }), 403);
    const group = await api.request('PUT', '/v1/groups/owners', { token: adamToken, body: { roles: ['owner'] } });
    expectProblem(group, 400);
    expect(group.body.errors).toEqual([{ field: 'roles', message: 'owner not allowed' }]);
    expectProblem(await api.request('GET', '/v1/groups/owners', { token: a.token }), 404);
    expect(await users()).toEqual(usersBefore);
    expect(await clients()).toEqual(clientsBefore);
    expect((await api.request('GET', '/v1/users/adam', { token: a.token })).body).toEqual(adamBefore);
    expect((await api.request('GET', '/v1/users/carl', { token: a.token })).body).toEqual(carlBefore);
    // What an Admin may do: hand out Admin and below.
    const ok = await api.request('PUT', '/v1/groups/ops', { token: adamToken, body: { roles: ['admin'] } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  });

  it('an Admin cannot change, disable, delete, reset or rotate an Owner (user or client)', async () => {
    const olgaBefore = (await api.request('GET', '/v1/users/olga', { token: a.token })).body;
    const ownerClientBefore = (await api.request('GET', `/v1/clients/${a.clientId}`, { token: a.token })).body;
    const refusals: [string, string, unknown][] = [
      ['PATCH', '/v1/users/olga', { status: 'disabled' }],
      ['PATCH', '/v1/users/olga', { roles: ['viewer'] }],
      ['PATCH', '/v1/users/olga', { displayName: 'Demoted' }],
      ['DELETE', '/v1/users/olga', undefined],
      ['PUT', '/v1/users/olga/password', { newPassword: newPassword() }],
      ['DELETE', '/v1/users/olga/totp', undefined],
      ['PATCH', `/v1/clients/${a.clientId}`, { status: 'disabled' }],
      ['PATCH', `/v1/clients/${a.clientId}`, { roles: ['admin'] }],
      ['DELETE', `/v1/clients/${a.clientId}`, undefined],
      ['POST', `/v1/clients/${a.clientId}/secret`, undefined],
    ];
    for (const [method, path, body] of refusals) {
      const response = await api.request(method, path, { token: adamToken, ...(body === undefined ? {} : { body }) });
      expect(`${method} ${path} → ${response.status}`).toBe(`${method} ${path} → 403`);
      expectProblem(response, 403);
    }
    expect((await api.request('GET', '/v1/users/olga', { token: a.token })).body).toEqual(olgaBefore);
    expect((await api.request('GET', `/v1/clients/${a.clientId}`, { token: a.token })).body).toEqual(ownerClientBefore);
    await login(a.tenantId, olga.username, olga.password);
    expect(await status(a.token)).toBe(200);
  });

  it('a Viewer cannot write a policy', async () => {
    const vera = await createUser(a.token, 'vera', ['viewer']);
    const { access_token: token } = await login(a.tenantId, vera.username, vera.password);
    const body = { entries: [{ effect: 'allow', principals: ['user:vera'], paths: ['app/**'], operations: ['read'] }] };
    expectProblem(await api.request('PUT', '/v1/policies/vera-reads', { token, body }), 403, "You do not hold 'grant' on 'app/**'.");
    expectProblem(await api.request('GET', '/v1/policies/vera-reads', { token: a.token }), 404);
  });

  it("an Admin denied on 'prod/**' cannot write a policy that reaches into 'prod/**', and writes elsewhere still work", async () => {
    await putPolicy(a.token, 'adam-no-prod', { entries: [{ effect: 'deny', principals: ['user:adam'], paths: ['prod/**'], operations: [...ALL_OPS] }] });
    const policiesBefore = (await api.request('GET', '/v1/policies?limit=1000', { token: a.token })).body.items;
    for (const paths of [['prod/**'], ['prod/db'], ['**'], ['*/db'], ['dev/**', 'prod/*']]) {
      const response = await api.request('PUT', '/v1/policies/carl-prod', {
        token: adamToken,
        body: { entries: [{ effect: 'allow', principals: ['user:carl'], paths, operations: ['read'] }] },
      });
      expect(`${paths.join(',')} → ${response.status}`).toBe(`${paths.join(',')} → 403`);
    }
    // Nor replace or delete the deny itself.
    expectProblem(await api.request('DELETE', '/v1/policies/adam-no-prod', { token: adamToken }), 403);
    expectProblem(
      await api.request('PUT', '/v1/policies/adam-no-prod', { token: adamToken, body: { entries: [{ effect: 'deny', principals: ['user:nobody'], paths: ['dev/x'], operations: ['read'] }] } }),
      403,
    );
    expect((await api.request('GET', '/v1/policies?limit=1000', { token: a.token })).body.items).toEqual(policiesBefore);
    const dev = await api.request('PUT', '/v1/policies/carl-dev', {
      token: adamToken,
      body: { entries: [{ effect: 'allow', principals: ['user:carl'], paths: ['dev/**'], operations: ['read'] }] },
    });
    expect(dev.status, JSON.stringify(dev.body)).toBe(201);
    // The deny holds on the secrets themselves.
    await putSecret(a.token, 'prod/db');
    expectProblem(await api.request('GET', '/v1/secrets/prod/db', { token: adamToken }), 403, "Your access does not allow 'read' on 'prod/db'.");
    for (const name of ['adam-no-prod', 'carl-dev']) expect((await api.request('DELETE', `/v1/policies/${name}`, { token: a.token })).status).toBe(204);
  });

  it('an Admin whose read on prod/** an Owner denied cannot lift that deny itself (removing a deny hands out what it denied)', async () => {
    const adele = await createUser(a.token, 'adele', ['admin']);
    const { access_token: token } = await login(a.tenantId, adele.username, adele.password);
    await putSecret(a.token, 'prod/adele-probe', { v: 'prod-only' });
    await putPolicy(a.token, 'adele-no-prod-read', { entries: [{ effect: 'deny', principals: ['user:adele'], paths: ['prod/**'], operations: ['read'] }] });
    const before = (await api.request('GET', '/v1/policies/adele-no-prod-read', { token: a.token })).body;
    expectProblem(await api.request('GET', '/v1/secrets/prod/adele-probe', { token }), 403);

    const removed = await api.request('DELETE', '/v1/policies/adele-no-prod-read', { token });
    const replaced = await api.request('PUT', '/v1/policies/adele-no-prod-read', {
      token,
      body: { entries: [{ effect: 'deny', principals: ['user:nobody'], paths: ['prod/**'], operations: ['read'] }] },
    });
    const read = await api.request('GET', '/v1/secrets/prod/adele-probe', { token });
    const after = await api.request('GET', '/v1/policies/adele-no-prod-read', { token: a.token });
    // Clean up before asserting, so a failure here leaves the tenant as it was.
    await api.request('DELETE', '/v1/policies/adele-no-prod-read', { token: a.token });
    expect({ removed: removed.status, replaced: replaced.status, read: read.status, readValue: read.body?.data ?? null }).toEqual({ removed: 403, replaced: 403, read: 403, readValue: null });
    expect(after.body).toEqual(before);
  });
});

// ---- 7. the last Owner -----------------------------------------------------------------

describe('the last Owner', () => {
  it('cannot be deleted, demoted or disabled while it is the only Owner; after a second Owner exists, it can go', async () => {
    const t = await api.onboard('last-owner');
    const before = (await api.request('GET', `/v1/clients/${t.clientId}`, { token: t.token })).body;
    expect(before).toMatchObject({ roles: ['owner'], status: 'active' });
    for (const [method, body] of [
      ['DELETE', undefined],
      ['PATCH', { roles: ['admin'] }],
      ['PATCH', { status: 'disabled' }],
    ] as const) {
      const response = await api.request(method, `/v1/clients/${t.clientId}`, { token: t.token, ...(body ? { body } : {}) });
      expectProblem(response, 409, 'This would leave the tenant without an Owner; make someone else an Owner first.');
    }
    expect((await api.request('GET', `/v1/clients/${t.clientId}`, { token: t.token })).body).toEqual(before);

    const second = await createUser(t.token, 'second-owner', ['owner']);
    expect((await api.request('DELETE', `/v1/clients/${t.clientId}`, { token: t.token })).status).toBe(204);
    const { access_token: ownerToken } = await login(t.tenantId, second.username, second.password);
    expect((await api.request('GET', '/v1/whoami', { token: ownerToken })).body).toMatchObject({ principal: { type: 'user', id: 'second-owner' }, roles: ['owner'] });
    expectProblem(await api.request('GET', `/v1/clients/${t.clientId}`, { token: ownerToken }), 404);
    // Now the user is the last Owner.
    expectProblem(await api.request('DELETE', '/v1/users/second-owner', { token: ownerToken }), 409, /without an Owner/);
    expectProblem(await api.request('PATCH', '/v1/users/second-owner', { token: ownerToken, body: { roles: ['admin'] } }), 409, /without an Owner/);
    expectProblem(await api.request('PATCH', '/v1/users/second-owner', { token: ownerToken, body: { status: 'disabled' } }), 409, /without an Owner/);
    // Unchanged by the refusals (its rev moved only with its own logins' bookkeeping).
    expect((await api.request('GET', '/v1/users/second-owner', { token: ownerToken })).body).toMatchObject({ roles: ['owner'], status: 'active', updatedAt: (await api.request('GET', '/v1/users/second-owner', { token: ownerToken })).body.createdAt });
  });
});

// ---- 8. policies on secrets -----------------------------------------------------------

describe('policies on secrets', () => {
  let p: Tenant;

  beforeAll(async () => {
    p = await api.onboard('policies');
    for (const path of ['secret/db', 'app/config', 'team/a', 'team/a/b', 'other/x', 'App/x', 'app/x']) await putSecret(p.token, path);
  });

  it('a deny wins over the Owner role on its paths and operations only; the Owner can still remove it', async () => {
    await putPolicy(p.token, 'no-owner-secrets', { entries: [{ effect: 'deny', principals: ['role:owner'], paths: ['secret/**'], operations: ['read'] }] });
    const denied = await api.request('GET', '/v1/secrets/secret/db', { token: p.token });
    expectProblem(denied, 403, "Your access does not allow 'read' on 'secret/db'.");
    expect(JSON.stringify(denied.body)).not.toContain('"v"');
    expect((await api.request('GET', '/v1/secrets/app/config', { token: p.token })).status).toBe(200);
    expect((await api.request('PUT', '/v1/secrets/secret/db', { token: p.token, body: { data: { v: 2 } } })).status).toBe(200);
    expect((await api.request('GET', '/v1/metadata/secret/db', { token: p.token })).status).toBe(200);
    expect((await api.request('DELETE', '/v1/policies/no-owner-secrets', { token: p.token })).status).toBe(204);
    expect((await api.request('GET', '/v1/secrets/secret/db', { token: p.token })).body.data).toEqual({ v: 2 });
  });

  it('denies everything by default to a principal with no roles', async () => {
    const nobody = await createClient(p.token, 'no-roles', []);
    const token = await api.token(nobody.clientId, nobody.clientSecret);
    const who = await api.request('GET', '/v1/whoami', { token });
    expect(who.body).toMatchObject({ principal: { type: 'client', id: nobody.clientId }, roles: [], policies: [] });
    for (const [method, path, body] of [
      ['GET', '/v1/secrets/app/config', undefined],
      ['GET', '/v1/metadata/app/config', undefined],
      ['PUT', '/v1/secrets/app/config', { data: { v: 'x' } }],
      ['POST', '/v1/secrets/app/new', { data: { v: 'x' } }],
      ['DELETE', '/v1/secrets/app/config', undefined],
      ['GET', '/v1/secrets', undefined],
      ['GET', '/v1/secrets?prefix=app/', undefined],
      ['GET', '/v1/users', undefined],
      ['GET', '/v1/clients', undefined],
      ['PUT', '/v1/policies/mine', { entries: [{ effect: 'allow', principals: ['*'], paths: ['**'], operations: ['read'] }] }],
    ] as const) {
      const response = await api.request(method, path, { token, ...(body ? { body } : {}) });
      expect(`${method} ${path} → ${response.status}`).toBe(`${method} ${path} → 403`);
    }
    expectProblem(await api.request('GET', '/v1/secrets/app/new', { token: p.token }), 404);
    expect((await api.request('GET', '/v1/secrets/app/config', { token: p.token })).body.data).toEqual({ v: 'app/config' });
  });

  it("an allow for client:<id> on 'team/*' read gives exactly that, and listings show only what is allowed", async () => {
    const reader = await createClient(p.token, 'team-reader', []);
    const token = await api.token(reader.clientId, reader.clientSecret);
    await putPolicy(p.token, 'team-read', { entries: [{ effect: 'allow', principals: [`client:${reader.clientId}`], paths: ['team/*'], operations: ['read'] }] });
    expect((await api.request('GET', '/v1/secrets/team/a', { token })).body.data).toEqual({ v: 'team/a' });
    expectProblem(await api.request('GET', '/v1/secrets/team/a/b', { token }), 403, "Your access does not allow 'read' on 'team/a/b'.");
    expectProblem(await api.request('GET', '/v1/secrets/other/x', { token }), 403);
    expectProblem(await api.request('GET', '/v1/secrets/team', { token }), 403);
    expectProblem(await api.request('PUT', '/v1/secrets/team/a', { token, body: { data: { v: 'x' } } }), 403);
    expectProblem(await api.request('GET', '/v1/secrets?prefix=team/', { token }), 403, "Your access does not allow 'list' on secrets.");

    await putPolicy(p.token, 'team-list', { entries: [{ effect: 'allow', principals: [`client:${reader.clientId}`], paths: ['team/*'], operations: ['list'] }] });
    const paths = async (query: string, t = token) => {
      const response = await api.request('GET', `/v1/secrets${query}`, { token: t });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return (response.body.items as { path: string }[]).map((i) => i.path).sort();
    };
    expect(await paths('?prefix=team/')).toEqual(['team/a']);
    expect(await paths('')).toEqual(['team/a']);
    expect(await paths('?prefix=team/', p.token)).toEqual(['team/a', 'team/a/b']);

    // A deny on listing hides paths from the Owner's listing too.
    await putPolicy(p.token, 'hide-other', { entries: [{ effect: 'deny', principals: ['role:owner'], paths: ['other/**'], operations: ['list'] }] });
    const ownerSees = await paths('', p.token);
    expect(ownerSees).toContain('app/config');
    expect(ownerSees).not.toContain('other/x');
    for (const name of ['team-read', 'team-list', 'hide-other']) expect((await api.request('DELETE', `/v1/policies/${name}`, { token: p.token })).status).toBe(204);
    expect(await paths('', p.token)).toContain('other/x');
  });

  it("matches '**' at any depth and patterns case-sensitively ('App/x' is not 'app/x')", async () => {
    const deep = await createClient(p.token, 'deep-reader', []);
    const deepToken = await api.token(deep.clientId, deep.clientSecret);
    await putPolicy(p.token, 'deep', { entries: [{ effect: 'allow', principals: [`client:${deep.clientId}`], paths: ['**'], operations: ['read'] }] });
    for (const path of ['team/a/b', 'other/x', 'App/x']) expect((await api.request('GET', `/v1/secrets/${path}`, { token: deepToken })).status).toBe(200);

    const caser = await createClient(p.token, 'case-reader', []);
    const caseToken = await api.token(caser.clientId, caser.clientSecret);
    await putPolicy(p.token, 'case', { entries: [{ effect: 'allow', principals: [`client:${caser.clientId}`], paths: ['App/x'], operations: ['read'] }] });
    expect((await api.request('GET', '/v1/secrets/App/x', { token: caseToken })).body.data).toEqual({ v: 'App/x' });
    expectProblem(await api.request('GET', '/v1/secrets/app/x', { token: caseToken }), 403);
    for (const name of ['deep', 'case']) expect((await api.request('DELETE', `/v1/policies/${name}`, { token: p.token })).status).toBe(204);
  });

  it('refuses invalid patterns, selectors and operations with 400 naming the field, and stores nothing', async () => {
    const entry = (over: Record<string, unknown>) => ({ entries: [{ effect: 'allow', principals: ['role:viewer'], paths: ['app/**'], operations: ['read'], ...over }] });
    const cases: [Record<string, unknown>, string, RegExp?][] = [
      [entry({ paths: ['app/'] }), 'body.entries.0.paths.0', /trailing '\/'/],
      [entry({ paths: ['/app'] }), 'body.entries.0.paths.0', /empty segment/],
      [entry({ paths: ['app//x'] }), 'body.entries.0.paths.0', /empty segment/],
      [entry({ paths: ['app/**x'] }), 'body.entries.0.paths.0', /'\*\*' must be a whole segment/],
      [entry({ paths: ['app/../x'] }), 'body.entries.0.paths.0'],
      [entry({ paths: [''] }), 'body.entries.0.paths.0'],
      [entry({ paths: ['app/x y'] }), 'body.entries.0.paths.0'],
      [entry({ paths: [] }), 'body.entries.0.paths'],
      [entry({ principals: ['alice'] }), 'body.entries.0.principals.0'],
      [entry({ principals: ['role:superuser'] }), 'body.entries.0.principals.0'],
      [entry({ operations: ['purge'] }), 'body.entries.0.operations.0'],
      [entry({ effect: 'maybe' }), 'body.entries.0.effect'],
      [{ entries: [] }, 'body.entries'],
      [{ ...entry({}), sourceCidrs: ['10.0.0.0/99'] }, 'body.sourceCidrs.0'],
    ];
    for (const [body, field, detail] of cases) {
      const response = await api.request('PUT', '/v1/policies/invalid', { token: p.token, body });
      expectProblem(response, 400, detail);
      expect(response.body.errors.map((e: { field: string }) => e.field), JSON.stringify(body)).toContain(field);
    }
    expectProblem(await api.request('GET', '/v1/policies/invalid', { token: p.token }), 404);
    for (const pattern of ['**', 'app/**/x', 'db-*/*', 'App/Mixed.Case_1']) {
      expect((await api.request('PUT', '/v1/policies/valid', { token: p.token, body: entry({ paths: [pattern] }) })).status).toBeLessThan(300);
    }
    expect((await api.request('DELETE', '/v1/policies/valid', { token: p.token })).status).toBe(204);
  });
});

// ---- 9. network -------------------------------------------------------------------------

describe('network safelists', () => {
  let n: Tenant;
  beforeAll(async () => {
    n = await api.onboard('network');
    await putSecret(n.token, 'net/x');
  });

  it('refuses a tenant safelist that would lock out the caller (409) and accepts one that includes it', async () => {
    expect((await api.request('GET', '/v1/network', { token: n.token })).body).toEqual({ cidrs: [], rev: 0 });
    expectProblem(await api.request('PUT', '/v1/network', { token: n.token, body: { cidrs: ['10.0.0.0/8'] } }), 409, /127\.0\.0\.1/);
    expect((await api.request('GET', '/v1/network', { token: n.token })).body).toEqual({ cidrs: [], rev: 0 });

    for (const [cidrs, field] of [
      [['not-a-cidr'], 'body.cidrs.0'],
      [['10.0.0.0/33'], 'body.cidrs.0'],
      [['127.0.0.0/8', '10.0.0.1'], 'body.cidrs.1'],
    ] as const) {
      const response = await api.request('PUT', '/v1/network', { token: n.token, body: { cidrs } });
      expectProblem(response, 400);
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }

    const put = await api.request('PUT', '/v1/network', { token: n.token, body: { cidrs: ['127.0.0.0/8', '::1/128'] } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toEqual({ cidrs: ['127.0.0.0/8', '::1/128'], rev: 1 });
    expect((await api.request('GET', '/v1/network', { token: n.token })).body).toEqual({ cidrs: ['127.0.0.0/8', '::1/128'], rev: 1 });
    expect((await api.request('GET', '/v1/secrets/net/x', { token: n.token })).status).toBe(200);
    expect((await api.request('GET', '/v1/whoami', { token: n.token })).body.network).toEqual({ cidrs: ['127.0.0.0/8', '::1/128'], sourceIp: '127.0.0.1', allowed: true });
  });

  it('an allow policy limited to 10.0.0.0/8 gives nothing from 127.0.0.1, while its deny entries apply from everywhere', async () => {
    const client = await createClient(n.token, 'net-reader', []);
    const token = await api.token(client.clientId, client.clientSecret);
    const allow = (sourceCidrs: string[]) => ({ sourceCidrs, entries: [{ effect: 'allow', principals: [`client:${client.clientId}`], paths: ['net/**'], operations: ['read'] }] });
    await putPolicy(n.token, 'net-read', allow(['10.0.0.0/8']));
    expectProblem(await api.request('GET', '/v1/secrets/net/x', { token }), 403, "Your access does not allow 'read' on 'net/x'.");
    const who = await api.request('GET', '/v1/whoami', { token });
    expect(who.body.policies).toEqual([{ name: 'net-read', sourceCidrs: ['10.0.0.0/8'], entries: allow([]).entries }]);
    // The same policy from a network the caller is in.
    await putPolicy(n.token, 'net-read', allow(['127.0.0.0/8']), 200);
    expect((await api.request('GET', '/v1/secrets/net/x', { token })).body.data).toEqual({ v: 'net/x' });

    await putPolicy(n.token, 'net-deny', { sourceCidrs: ['10.0.0.0/8'], entries: [{ effect: 'deny', principals: ['role:owner'], paths: ['net/**'], operations: ['read'] }] });
    expectProblem(await api.request('GET', '/v1/secrets/net/x', { token: n.token }), 403);
    for (const name of ['net-read', 'net-deny']) expect((await api.request('DELETE', `/v1/policies/${name}`, { token: n.token })).status).toBe(204);
    expect((await api.request('GET', '/v1/secrets/net/x', { token: n.token })).status).toBe(200);
  });

  it('a request from outside the tenant safelist (127.0.0.2 vs 127.0.0.1/32) reads nothing and cannot widen the safelist or mint principals', async () => {
    const put = await api.request('PUT', '/v1/network', { token: n.token, body: { cidrs: ['127.0.0.1/32'] } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const outside = '127.0.0.2';
    const read = await requestFrom(outside, 'GET', '/v1/secrets/net/x', { token: n.token });
    expectProblem(read, 403, 'Requests from your network are not allowed for this tenant.');
    expect((await requestFrom(outside, 'GET', '/v1/whoami', { token: n.token })).body.network).toMatchObject({ sourceIp: outside, allowed: false });

    const widen = await requestFrom(outside, 'PUT', '/v1/network', { token: n.token, body: { cidrs: ['127.0.0.0/8'] } });
    const mint = await requestFrom(outside, 'POST', '/v1/clients', { token: n.token, body: { name: 'from-outside', roles: ['owner'] } });
    const trail = await requestFrom(outside, 'GET', '/v1/audit', { token: n.token });
    const sink = await requestFrom(outside, 'PUT', '/v1/audit/sinks/exfil', { token: n.token, body: { target: { type: 'webhook', url: 'https://collector.example/ingest' } } });
    const network = (await api.request('GET', '/v1/network', { token: n.token })).body;
    const minted = ((await api.request('GET', '/v1/clients', { token: n.token })).body.items as { name: string }[]).filter((c) => c.name === 'from-outside');
    // Leave the tenant open again whatever happened.
    await api.request('PUT', '/v1/network', { token: n.token, body: { cidrs: [] } });
    expect({ widen: widen.status, mint: mint.status, trail: trail.status, sink: sink.status, cidrs: network.cidrs, minted: minted.length }).toEqual({
      widen: 403,
      mint: 403,
      trail: 403,
      sink: 403,
      cidrs: ['127.0.0.1/32'],
      minted: 0,
    });
  });
});

// ---- 10. tenants ----------------------------------------------------------------------

describe("tenant A's identities and B's never meet", () => {
  let bob: { username: string; password: string };
  let bClient: { clientId: string; clientSecret: string };
  let bImage: Record<string, unknown>;
  const annPassword = newPassword();

  // `rev` also moves with login bookkeeping (a counted failure on B's bob is B's own business).
  const withoutRev = (user: Record<string, unknown>) => ({ ...user, rev: undefined });
  const bState = async () => ({
    bob: withoutRev((await api.request('GET', '/v1/users/bob', { token: b.token })).body),
    client: (await api.request('GET', `/v1/clients/${bClient.clientId}`, { token: b.token })).body,
    policy: (await api.request('GET', '/v1/policies/b-policy', { token: b.token })).body,
    users: ((await api.request('GET', '/v1/users', { token: b.token })).body.items as Record<string, unknown>[]).map(withoutRev),
  });

  beforeAll(async () => {
    bob = await createUser(b.token, 'bob', ['contributor']);
    bClient = await createClient(b.token, 'b-ci', ['viewer']);
    await createUser(b.token, 'ann', ['viewer']);
    await putPolicy(b.token, 'b-policy', { entries: [{ effect: 'allow', principals: ['user:bob'], paths: ['b/**'], operations: ['read'] }] });
    bImage = await bState();
  });

  it("A's Owner gets 404 for B's users, clients and policies, whatever it tries, and B is unchanged", async () => {
    const calls: [string, string, unknown][] = [
      ['GET', '/v1/users/bob', undefined],
      ['PATCH', '/v1/users/bob', { status: 'disabled' }],
      ['DELETE', '/v1/users/bob', undefined],
      ['PUT', '/v1/users/bob/password', { newPassword: newPassword() }],
      ['DELETE', '/v1/users/bob/totp', undefined],
      ['GET', `/v1/clients/${bClient.clientId}`, undefined],
      ['PATCH', `/v1/clients/${bClient.clientId}`, { roles: ['admin'] }],
      ['DELETE', `/v1/clients/${bClient.clientId}`, undefined],
      ['POST', `/v1/clients/${bClient.clientId}/secret`, undefined],
      ['GET', `/v1/clients/${b.clientId}`, undefined],
      ['DELETE', `/v1/clients/${b.clientId}`, undefined],
      ['GET', '/v1/policies/b-policy', undefined],
      ['DELETE', '/v1/policies/b-policy', undefined],
    ];
    for (const [method, path, body] of calls) {
      const response = await api.request(method, path, { token: a.token, ...(body === undefined ? {} : { body }) });
      expect(`${method} ${path} → ${response.status}`).toBe(`${method} ${path} → 404`);
      expectProblem(response, 404);
    }
    const aUsers = (await api.request('GET', '/v1/users?limit=1000', { token: a.token })).body.items.map((u: { username: string }) => u.username);
    expect(aUsers).not.toContain('bob');
    const aClients = (await api.request('GET', '/v1/clients?limit=1000', { token: a.token })).body.items.map((c: { clientId: string }) => c.clientId);
    expect(aClients).not.toContain(bClient.clientId);
    expect(aClients.every((id: string) => id.startsWith(`${a.tenantId}.`))).toBe(true);

    // A writes a policy of the same name: its own, B's is untouched.
    await putPolicy(a.token, 'b-policy', { entries: [{ effect: 'deny', principals: ['*'], paths: ['b/**'], operations: ['read'] }] });
    expect((await api.request('DELETE', '/v1/policies/b-policy', { token: a.token })).status).toBe(204);
    expect(await bState()).toEqual(bImage);
    // B's people still work.
    await login(b.tenantId, bob.username, bob.password);
    await api.token(bClient.clientId, bClient.clientSecret);
  });

  it("refuses a password login that names the wrong tenant for the user", async () => {
    expectProblem(await passwordLogin(a.tenantId, bob.username, bob.password), 401, GENERIC);
    const annA = await api.request('POST', '/v1/users', { token: a.token, body: { username: 'ann', password: annPassword, roles: ['viewer'] } });
    expect(annA.status).toBe(201);
    // A's ann, with A's password, at B.
    expectProblem(await passwordLogin(b.tenantId, 'ann', annPassword), 401, GENERIC);
    const aLogin = await login(a.tenantId, 'ann', annPassword);
    expect((await api.request('GET', '/v1/whoami', { token: aLogin.access_token })).body.tenantId).toBe(a.tenantId);
    expect(await bState()).toEqual(bImage);
  });

  it("A's refresh token, re-addressed to B, is refused", async () => {
    const aLogin = await login(a.tenantId, 'ann', annPassword);
    const forged = aLogin.refresh_token.replace(a.tenantId, b.tenantId);
    expect(forged).not.toBe(aLogin.refresh_token);
    expectProblem(await refresh(forged), 401, GENERIC);
    expect((await refresh(aLogin.refresh_token)).status).toBe(200);
  });
});

// ---- 11. validation -------------------------------------------------------------------

describe('validation', () => {
  const planted = 'PLANTED-pw-0123456789';

  it('refuses bad user bodies with 400 problem+json naming the field and never echoing the password', async () => {
    // `locked` is derived from the clock (a lock from an earlier test may expire meanwhile), not stored.
    const stored = (items: { locked: boolean }[]) => items.map(({ locked: _locked, ...user }) => user);
    const usersBefore = stored((await api.request('GET', '/v1/users?limit=1000', { token: a.token })).body.items);
    const cases: [Record<string, unknown>, string, string | RegExp | undefined][] = [
      [{ username: 'valid-name', roles: ['viewer'] }, 'body.password', undefined],
      [{ password: planted, roles: ['viewer'] }, 'body.username', undefined],
      [{ username: 'Bad Name!', password: planted, roles: ['viewer'] }, 'body.username', undefined],
      [{ username: 'valid-name', password: planted, roles: ['superuser'] }, 'body.roles.0', undefined],
      [{ username: 'valid-name', password: planted, roles: 'viewer' }, 'body.roles', undefined],
      [{ username: 'valid-name', password: planted, roles: ['viewer'], isOwner: true }, 'body', /Unrecognized key/],
      [{ username: 'valid-name', password: planted, roles: ['viewer'], groups: ['Bad Group'] }, 'body.groups.0', undefined],
      [{ username: 'valid-name', password: 'short-pw', roles: ['viewer'] }, 'body.password', 'The password must be at least 12 characters.'],
      [{ username: 'valid-name', password: `x-VALID-NAME-${planted}`, roles: ['viewer'] }, 'body.password', 'The password must not contain the username.'],
      [{ username: 'valid-name', password: planted, roles: ['viewer'], groups: ['ghosts'] }, 'groups', "No group 'ghosts'."],
    ];
    for (const [body, field, detail] of cases) {
      const response = await api.request('POST', '/v1/users', { token: a.token, body });
      expectProblem(response, 400, detail);
      expect(response.body.errors.map((e: { field: string }) => e.field), JSON.stringify(body)).toContain(field);
      const text = JSON.stringify(response.body);
      expect(text).not.toContain(planted);
      expect(text).not.toContain('short-pw');
    }
    expectProblem(await api.request('GET', '/v1/users/valid-name', { token: a.token }), 404);
    expect(stored((await api.request('GET', '/v1/users?limit=1000', { token: a.token })).body.items)).toEqual(usersBefore);
  });

  it('refuses bad PATCH, password, client and group bodies with 400 naming the field', async () => {
    const cases: [string, string, unknown, string][] = [
      ['PATCH', '/v1/users/alice', {}, 'body'],
      ['PATCH', '/v1/users/alice', { status: 'banned' }, 'body.status'],
      ['PATCH', '/v1/users/alice', { roles: ['root'] }, 'body.roles.0'],
      ['PATCH', '/v1/users/alice', { groups: ['ghosts'] }, 'groups'],
      ['PATCH', '/v1/users/alice', { password: planted }, 'body'],
      ['PUT', '/v1/users/alice/password', { newPassword: 'short' }, 'body.newPassword'],
      ['PUT', '/v1/users/alice/password', { newPassword: planted, extra: planted }, 'body'],
      ['PUT', '/v1/users/alice/password', {}, 'body.newPassword'],
      ['POST', '/v1/clients', { roles: ['viewer'] }, 'body.name'],
      ['POST', '/v1/clients', { name: 'ok', roles: ['viewer'], groups: ['ghosts'] }, 'groups'],
      ['POST', '/v1/clients', { name: 'ok', roles: ['viewer'], clientSecret: planted }, 'body'],
      ['PUT', '/v1/groups/Bad_Name', { roles: ['viewer'] }, 'params.name'],
      ['PUT', '/v1/groups/good', { roles: ['wizard'] }, 'body.roles.0'],
      ['GET', '/v1/users/Not Valid', undefined, 'params.name'],
      ['GET', '/v1/clients/not-a-client-id', undefined, 'params.clientId'],
    ];
    const aliceBefore = (await api.request('GET', '/v1/users/alice', { token: a.token })).body;
    for (const [method, path, body, field] of cases) {
      const response = await api.request(method, path, { token: a.token, ...(body === undefined ? {} : { body }) });
      expect(`${method} ${path} ${JSON.stringify(body)} → ${response.status}`).toBe(`${method} ${path} ${JSON.stringify(body)} → 400`);
      expectProblem(response, 400);
      expect(response.body.errors.map((e: { field: string }) => e.field), `${method} ${path} ${JSON.stringify(body)}`).toContain(field);
      expect(JSON.stringify(response.body)).not.toContain(planted);
    }
    // A user whose body names an unknown group is not created at all.
    expectProblem(await api.request('GET', '/v1/groups/good', { token: a.token }), 404);
    expect((await api.request('GET', '/v1/users/alice', { token: a.token })).body).toEqual(aliceBefore);
    const dup = await api.request('POST', '/v1/users', { token: a.token, body: { username: 'alice', password: planted, roles: ['viewer'] } });
    expectProblem(dup, 409, "'alice' already exists.");
    expect(JSON.stringify(dup.body)).not.toContain(planted);
  });

  it('refuses bad token requests with 400 naming the field, never echoing the password', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ grant_type: 'password', tenant: a.tenantId, password: planted }, 'username'],
      [{ grant_type: 'password', username: 'alice', password: planted }, 'tenant'],
      [{ grant_type: 'password', tenant: a.tenantId, username: 'alice' }, 'password'],
      [{ grant_type: 'password', tenant: a.tenantId, username: 'alice', password: planted, mfa: planted }, 'body'],
      [{ grant_type: 'magic', password: planted }, 'grant_type'],
      [{ grant_type: 'refresh_token' }, 'refresh_token'],
    ];
    for (const [body, field] of cases) {
      const response = await api.request('POST', '/v1/token', { body });
      expectProblem(response, 400);
      const fields = response.body.errors.map((e: { field: string }) => e.field) as string[];
      expect(fields.some((f) => f === field || f.endsWith(`.${field}`) || (field === 'body' && f.startsWith('body'))), `${JSON.stringify(fields)} for ${JSON.stringify(body)}`).toBe(true);
      expect(JSON.stringify(response.body)).not.toContain(planted);
    }
  });
});
