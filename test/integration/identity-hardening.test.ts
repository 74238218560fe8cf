import { randomUUID } from 'node:crypto';
import { generateSync } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOURCE_THROTTLE } from '../../lambdas/core/identity/source-throttle';
import { expectProblem, rawRequest } from '../support/probe';
import { startTestRuntime, type Client } from '../support/runtime';

// The rules a security review of the identity change asked for, end to end: what an Admin
// cannot do to Owners or hand out past its own denies, what a stolen session token cannot
// strip, and which external tokens and bindings are refused.
let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;
let t: Awaited<ReturnType<Client['onboard']>>;

const password = () => `Pw-${randomUUID()}`;
const passwordLogin = (username: string, pw: string, otp?: string) =>
  api.request('POST', '/v1/token', { body: { grant_type: 'password', tenant: t.tenantId, username, password: pw, ...(otp ? { otp } : {}) } });
async function user(username: string, roles: string[]): Promise<{ pw: string; token: string }> {
  const pw = password();
  const created = await api.request('POST', '/v1/users', { token: t.token, body: { username, password: pw, roles } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const login = await passwordLogin(username, pw);
  expect(login.status).toBe(200);
  return { pw, token: login.body.access_token };
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = runtime.client;
  t = await api.onboard('hardening');
});
afterAll(async () => {
  await runtime?.stop();
});

describe('Admins and Owners', () => {
  it('lets only Owners change the network safelist, so an Admin cannot fence the Owners out', async () => {
    const admin = await user('net-admin', ['admin']);
    expectProblem(await api.request('PUT', '/v1/network', { token: admin.token, body: { cidrs: ['127.0.0.1/32'] } }), 403, 'Only Owners can change the network safelist.');
    expect((await api.request('GET', '/v1/network', { token: t.token })).body.cidrs).toEqual([]);
    expect((await api.request('PUT', '/v1/network', { token: t.token, body: { cidrs: ['127.0.0.0/8', '::1/128'] } })).status).toBe(200);
    expect((await api.request('PUT', '/v1/network', { token: t.token, body: { cidrs: [] } })).status).toBe(200);
  });

  it("bounds what an Admin hands out by the Admin's own denies: no role or group that includes a denied operation", async () => {
    const admin = await user('fenced-admin', ['admin']);
    const deny = await api.request('PUT', '/v1/policies/no-admin-prod-read', {
      token: t.token,
      body: { entries: [{ effect: 'deny', principals: ['user:fenced-admin'], paths: ['prod/**'], operations: ['read'] }] },
    });
    expect(deny.status).toBe(201);
    expect((await api.request('PUT', '/v1/groups/readers', { token: t.token, body: { roles: ['viewer'] } })).status).toBe(201);
    const sock = { username: 'sock', password: password(), roles: ['viewer'] };
    expectProblem(await api.request('POST', '/v1/users', { token: admin.token, body: sock }), 403, /includes 'read' everywhere/);
    expectProblem(await api.request('POST', '/v1/users', { token: admin.token, body: { ...sock, roles: [], groups: ['readers'] } }), 403, /includes 'read' everywhere/);
    expectProblem(await api.request('POST', '/v1/clients', { token: admin.token, body: { name: 'sock', roles: ['contributor'] } }), 403);
    expectProblem(await api.request('PUT', '/v1/iam-bindings/sock', { token: admin.token, body: { arnPattern: 'arn:aws:iam::123456789012:user/sock', roles: ['viewer'] } }), 403);
    expectProblem(await api.request('GET', '/v1/users/sock', { token: t.token }), 404);
    // The Owner, who holds read everywhere, still can.
    expect((await api.request('POST', '/v1/users', { token: t.token, body: sock })).status).toBe(201);
  });
});

describe('brute force of a client secret', () => {
  it('answers wrong guesses with one generic 401, then throttles their address with 429 — and never locks the client', async () => {
    const created = await api.request('POST', '/v1/clients', { token: t.token, body: { name: 'ci', roles: ['viewer'] } });
    expect(created.status).toBe(201);
    const { clientId, clientSecret } = created.body;
    // The guesser sends from 127.0.0.3; the client itself from 127.0.0.1.
    const guess = (secret: string, from = '127.0.0.3') =>
      rawRequest(runtime.endpoint, 'POST', '/v1/token', {
        from,
        body: JSON.stringify({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }),
        headers: { 'content-type': 'application/json' },
      });
    const details = new Set<string>();
    for (let i = 0; i < SOURCE_THROTTLE.failures; i++) {
      const response = await guess(`cs_guess_${i}_${randomUUID()}`);
      expectProblem(response, 401);
      details.add(response.body.detail);
    }
    expect([...details]).toEqual(['The credentials are missing, invalid or expired.']);
    // Past the limit the address is refused before any check, even with the right secret.
    const throttled = await guess(clientSecret);
    expectProblem(throttled, 429, /^Too many failed client logins from your address; retry in \d+ s\.$/);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    // The client, calling from its own address, is not locked out.
    expect((await guess(clientSecret, '127.0.0.1')).status).toBe(200);
    expect((await api.request('GET', `/v1/clients/${clientId}`, { token: t.token })).body).toMatchObject({ locked: false, status: 'active' });
  });
});

describe('a stolen session token', () => {
  it('cannot guess the current password without limit: failures lock the user', async () => {
    const victim = await user('victim', ['viewer']);
    for (let i = 0; i < 5; i++) {
      expectProblem(await api.request('PUT', '/v1/users/victim/password', { token: victim.token, body: { currentPassword: `guess-${i}-xxxxxxxx`, newPassword: password() } }), 401);
    }
    expect((await api.request('GET', '/v1/users/victim', { token: t.token })).body.locked).toBe(true);
    // Locked: even the right current password is refused now.
    expectProblem(await api.request('PUT', '/v1/users/victim/password', { token: victim.token, body: { currentPassword: victim.pw, newPassword: password() } }), 401);
  });

  it('cannot strip TOTP unless its session proved the second factor', async () => {
    const mfa = await user('mfa-user', ['viewer']);
    const enrol = await api.request('POST', '/v1/users/mfa-user/totp', { token: mfa.token });
    expect(enrol.status).toBe(201);
    const now = () => Math.floor(Date.now() / 1000);
    expect((await api.request('POST', '/v1/users/mfa-user/totp/verify', { token: mfa.token, body: { otp: generateSync({ secret: enrol.body.secret, epoch: now() }) } })).status).toBe(204);
    // The password-only token from before enrolment is what a thief would hold.
    expectProblem(await api.request('DELETE', '/v1/users/mfa-user/totp', { token: mfa.token }), 403, /one-time code/);
    // A login with the next step's code (the current one was spent confirming) may.
    const next = generateSync({ secret: enrol.body.secret, epoch: now() + 30 });
    const withOtp = await passwordLogin('mfa-user', mfa.pw, next);
    expect(withOtp.status, JSON.stringify(withOtp.body)).toBe(200);
    expect((await api.request('DELETE', '/v1/users/mfa-user/totp', { token: withOtp.body.access_token })).status).toBe(204);
    expect((await api.request('GET', '/v1/users/mfa-user', { token: t.token })).body.mfa).toBe('off');
  });
});

describe('trusted issuers and IAM bindings', () => {
  const github = { issuer: 'https://token.actions.githubusercontent.com', jwksUri: 'https://token.actions.githubusercontent.com/.well-known/jwks', audiences: ['coffer'] };

  it.each([
    ['only wildcards', { sub: '*' }],
    ['a wildcard in every identifying claim (every repository on GitHub)', { sub: 'repo:*' }],
    ['only claims every token of the issuer shares', { aud: 'coffer', iss: 'https://token.actions.githubusercontent.com' }],
  ])("refuses a binding whose claims are %s (it would admit the issuer's every token), storing nothing", async (_why, claims) => {
    const put = await api.request('PUT', '/v1/issuers/lax', { token: t.token, body: { ...github, bindings: [{ claims, roles: ['viewer'] }] } });
    expectProblem(put, 400);
    expect(put.body.errors.map((e: { field: string }) => e.field).join(' ')).toContain('bindings');
    expectProblem(await api.request('GET', '/v1/issuers/lax', { token: t.token }), 404);
  });

  it('accepts a binding that names who exactly, with patterns beside it', async () => {
    const put = await api.request('PUT', '/v1/issuers/org', { token: t.token, body: { ...github, bindings: [{ claims: { repository_owner: 'acme', ref: 'refs/heads/*' }, roles: ['viewer'] }] } });
    expect(put.status, JSON.stringify(put.body)).toBe(201);
  });

  it.each(['arn:aws:iam::*:role/ci', 'arn:*:iam::123456789012:role/ci', 'arn:aws:iam::12345:role/ci'])('refuses the IAM binding pattern %s (any account or a malformed one) with a 400', async (arnPattern) => {
    const put = await api.request('PUT', '/v1/iam-bindings/lax', { token: t.token, body: { arnPattern, roles: ['viewer'] } });
    expectProblem(put, 400);
    expectProblem(await api.request('GET', '/v1/iam-bindings/lax', { token: t.token }), 404);
  });

  it.each(['not a url', 'https://', 'https://exa mple.com/jwks'])('answers a jwksUri of %j with a 400 naming the field, not a 500', async (jwksUri) => {
    const put = await api.request('PUT', '/v1/issuers/bad-uri', { token: t.token, body: { ...github, jwksUri, bindings: [{ claims: { repository: 'acme/app' }, roles: ['viewer'] }] } });
    expectProblem(put, 400);
    expect(put.body.errors.map((e: { field: string }) => e.field)).toContain('body.jwksUri');
  });
});
