import { verify as verifySignature } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccessTokenVerifier } from '../../lambdas/adapters/jwt/access-token-verifier';
import { ACCESS_TOKEN_TTL_SECONDS, TokenIssuer, type LoginFacts } from '../../lambdas/core/tokens';
import { FakeTokenSigner, ManualClock, platformAdmin, TENANT_A, tenantPrincipal } from './support/fakes';

const settings = { issuer: 'https://auth.coffer.test', audience: 'coffer-api' };
const NOW_MS = Date.parse('2025-01-01T00:00:00.750Z');
const NOW_S = Math.floor(NOW_MS / 1000);

function decode(token: string) {
  const [h, p, s] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h!, 'base64url').toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as Record<string, unknown>,
    signingInput: `${h}.${p}`,
    signature: Buffer.from(s!, 'base64url'),
  };
}

const CLIENT_FACTS: LoginFacts = { source: { kind: 'client', name: 'cli_tester' }, generation: 1, amr: ['client_secret'] };

function issuer(clock = new ManualClock(NOW_MS)) {
  const signer = new FakeTokenSigner('kid-42');
  return { signer, tokens: new TokenIssuer(signer, clock, settings) };
}

describe('TokenIssuer', () => {
  it('answers an OAuth token response with a 1 h Bearer token and no refresh token', async () => {
    const { tokens } = issuer();
    const response = await tokens.issue(tenantPrincipal(TENANT_A, ['viewer']), CLIENT_FACTS);
    expect(ACCESS_TOKEN_TTL_SECONDS).toBe(3600);
    expect(Object.keys(response).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    expect(response.token_type).toBe('Bearer');
    expect(response.expires_in).toBe(3600);
    expect(response.access_token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('puts ES256, JWT and the signer’s kid in the header', async () => {
    const { tokens } = issuer();
    const { header } = decode((await tokens.issue(tenantPrincipal(TENANT_A), CLIENT_FACTS)).access_token);
    expect(header).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'kid-42' });
  });

  it('issues exactly the tenant claims: iss, aud, sub, iat, nbf, exp = iat + 3600, jti, tid, ptype, roles, grp, amr, sid, src, gen', async () => {
    const { tokens } = issuer();
    const principal = tenantPrincipal(TENANT_A, ['contributor', 'viewer'], `${TENANT_A}.cli_abcdefghijklmnopqrst`);
    const { payload } = decode((await tokens.issue(principal, CLIENT_FACTS)).access_token);
    expect(payload).toEqual({
      iss: 'https://auth.coffer.test',
      aud: 'coffer-api',
      sub: `${TENANT_A}.cli_abcdefghijklmnopqrst`,
      iat: NOW_S,
      nbf: NOW_S,
      exp: NOW_S + 3600,
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      tid: TENANT_A,
      ptype: 'client',
      roles: ['contributor', 'viewer'],
      grp: [],
      amr: ['client_secret'],
      sid: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      src: 'client:cli_tester',
      gen: 1,
    });
  });

  it('takes amr, src, gen and the session id from the login facts, and groups from the principal', async () => {
    const { tokens } = issuer();
    const principal = { ...tenantPrincipal(TENANT_A, ['admin'], 'alice'), type: 'user' as const, groups: ['ops'] };
    const { payload } = decode(
      (await tokens.issue(principal, { source: { kind: 'user', name: 'alice' }, generation: 7, amr: ['pwd', 'otp'], sessionId: 'sess-1' })).access_token,
    );
    expect(payload).toMatchObject({ sub: 'alice', ptype: 'user', roles: ['admin'], grp: ['ops'], amr: ['pwd', 'otp'], sid: 'sess-1', src: 'user:alice', gen: 7 });
  });

  it("falls back to the principal's session id, else a fresh one per token", async () => {
    const { tokens } = issuer();
    const withSession = { ...tenantPrincipal(TENANT_A), sessionId: 'sess-2' };
    expect(decode((await tokens.issue(withSession, CLIENT_FACTS)).access_token).payload.sid).toBe('sess-2');
    const a = decode((await tokens.issue(tenantPrincipal(TENANT_A), CLIENT_FACTS)).access_token).payload.sid;
    const b = decode((await tokens.issue(tenantPrincipal(TENANT_A), CLIENT_FACTS)).access_token).payload.sid;
    expect(a).not.toBe(b);
  });

  it('gives a user principal ptype user', async () => {
    const { tokens } = issuer();
    const { payload } = decode((await tokens.issue({ ...tenantPrincipal(TENANT_A), type: 'user' }, CLIENT_FACTS)).access_token);
    expect(payload.ptype).toBe('user');
  });

  it('gives the platform principal no tenant and no roles', async () => {
    const { tokens } = issuer();
    const { payload } = decode((await tokens.issue(platformAdmin, CLIENT_FACTS)).access_token);
    expect(payload).toEqual({
      iss: 'https://auth.coffer.test',
      aud: 'coffer-api',
      sub: platformAdmin.id,
      iat: NOW_S,
      nbf: NOW_S,
      exp: NOW_S + 3600,
      jti: expect.any(String),
      ptype: 'platform',
      roles: [],
      grp: [],
      amr: ['client_secret'],
      sid: expect.any(String),
      src: 'client:cli_tester',
      gen: 1,
    });
    expect(Object.keys(payload)).not.toContain('tid');
  });

  it('takes the time from the clock, in whole seconds', async () => {
    const clock = new ManualClock(NOW_MS);
    const { tokens } = issuer(clock);
    clock.advance(10_500);
    const { payload } = decode((await tokens.issue(tenantPrincipal(TENANT_A), CLIENT_FACTS)).access_token);
    expect(payload.iat).toBe(NOW_S + 11);
    expect(payload.exp).toBe(NOW_S + 11 + 3600);
  });

  it('gives every token a unique jti', async () => {
    const { tokens } = issuer();
    const jtis = new Set<unknown>();
    for (let i = 0; i < 200; i++) jtis.add(decode((await tokens.issue(tenantPrincipal(TENANT_A), CLIENT_FACTS)).access_token).payload.jti);
    expect(jtis.size).toBe(200);
  });

  it('signs exactly header.payload once, with a 64-byte r‖s signature that verifies', async () => {
    const { tokens, signer } = issuer();
    const token = (await tokens.issue(tenantPrincipal(TENANT_A), CLIENT_FACTS)).access_token;
    const { signingInput, signature } = decode(token);
    expect(signer.signed).toHaveLength(1);
    expect(Buffer.from(signer.signed[0]!).toString('ascii')).toBe(signingInput);
    expect(signature).toHaveLength(64);
    expect(verifySignature('sha256', Buffer.from(signingInput), { key: signer.publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
  });

  it('issues tokens that Coffer’s own verifier accepts, and that fail once tampered with', async () => {
    const { tokens, signer } = issuer(new ManualClock(Date.now()));
    const verifier = new AccessTokenVerifier(() => signer.publicJwks(), settings);
    const principal = tenantPrincipal(TENANT_A, ['admin'], `${TENANT_A}.cli_abcdefghijklmnopqrst`);
    const token = (await tokens.issue(principal, { ...CLIENT_FACTS, sessionId: 'sess-9', generation: 4 })).access_token;
    expect(await verifier.verify(token)).toEqual({
      principal: { ...principal, groups: [], authMethod: 'client_credentials', mfa: false, sessionId: 'sess-9' },
      source: { kind: 'client', name: 'cli_tester' },
      generation: 4,
      sessionId: 'sess-9',
    });
    expect((await verifier.verify((await tokens.issue(platformAdmin, CLIENT_FACTS)).access_token)).principal).toEqual({
      ...platformAdmin,
      authMethod: 'client_credentials',
      sessionId: expect.any(String),
    });

    const [h, p, s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...decode(token).payload, roles: ['owner'] })).toString('base64url');
    await expect(verifier.verify(`${h}.${forged}.${s}`)).rejects.toThrow('The credentials are missing, invalid or expired.');
    expect(p).not.toBe(forged);
  });
});

describe('AccessTokenVerifier: the lifetime of a token signed with the real key', () => {
  const signer = new FakeTokenSigner('kid-42');
  const verifier = new AccessTokenVerifier(() => signer.publicJwks(), settings);
  const now = () => Math.floor(Date.now() / 1000);

  /** A token with Coffer's claims and the given registered times, signed with the real key. */
  async function signed(times: { iat?: number; nbf?: number; exp?: number }): Promise<string> {
    const header = { alg: 'ES256', typ: 'JWT', kid: 'kid-42' };
    const payload = {
      iss: settings.issuer,
      aud: settings.audience,
      sub: `${TENANT_A}.cli_abcdefghijklmnopqrst`,
      jti: 'j',
      tid: TENANT_A,
      ptype: 'client',
      roles: ['viewer'],
      grp: [],
      amr: ['client_secret'],
      sid: 'sess-1',
      src: 'client:cli_tester',
      gen: 1,
      ...times,
    };
    const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    return `${input}.${Buffer.from(await signer.sign(Buffer.from(input, 'ascii'))).toString('base64url')}`;
  }
  const refused = 'The credentials are missing, invalid or expired.';

  it('accepts a token that lives exactly the access-token TTL, issued up to a minute ahead of this clock', async () => {
    await expect(verifier.verify(await signed({ iat: now(), exp: now() + ACCESS_TOKEN_TTL_SECONDS }))).resolves.toMatchObject({ generation: 1 });
    await expect(verifier.verify(await signed({ iat: now() + 50, exp: now() + 50 + ACCESS_TOKEN_TTL_SECONDS }))).resolves.toMatchObject({ generation: 1 });
  });

  it('refuses a token without exp, or without iat', async () => {
    await expect(verifier.verify(await signed({ iat: now() }))).rejects.toThrow(refused);
    await expect(verifier.verify(await signed({ exp: now() + 600 }))).rejects.toThrow(refused);
  });

  it('refuses a token that would live longer than the TTL: ten years, or the TTL and one second', async () => {
    await expect(verifier.verify(await signed({ iat: now(), exp: now() + 10 * 365 * 86400 }))).rejects.toThrow(refused);
    await expect(verifier.verify(await signed({ iat: now(), exp: now() + ACCESS_TOKEN_TTL_SECONDS + 1 }))).rejects.toThrow(refused);
  });

  it('refuses a token issued in the future beyond a minute of clock skew', async () => {
    await expect(verifier.verify(await signed({ iat: now() + 120, exp: now() + 120 + 600 }))).rejects.toThrow(refused);
  });

  it('refuses times that are not whole numbers of seconds', async () => {
    await expect(verifier.verify(await signed({ iat: now() + 0.5, exp: now() + 600 }))).rejects.toThrow(refused);
  });
});
