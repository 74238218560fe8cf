import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { createHmac, generateKeyPairSync, randomUUID, sign as signWith, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedCallerIdentityRequest, type AwsCredentials } from '../../bin/login/aws-iam-request';
import { expectProblem } from '../support/probe';
import { startTestRuntime, type Client } from '../support/runtime';

// The two ways in that lean on someone else's identity: AWS IAM (a signed
// sts:GetCallerIdentity, answered by moto's STS) and external OIDC tokens (signed here,
// their JWKS served from 127.0.0.1), end to end through the local runtime.
let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;
let a: Awaited<ReturnType<Client['onboard']>>;
let b: Awaited<ReturnType<Client['onboard']>>;

const GENERIC = 'The credentials are missing, invalid or expired.';
const token = (body: Record<string, unknown>) => api.request('POST', '/v1/token', { body });

async function iamUser(name: string): Promise<AwsCredentials> {
  const iam = new IAMClient({ region: 'us-east-1', endpoint: runtime.aws.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await iam.send(new CreateUserCommand({ UserName: name }));
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  iam.destroy();
  return { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = runtime.client;
  [a, b] = [await api.onboard('iam-a'), await api.onboard('iam-b')];
});
afterAll(async () => {
  await runtime?.stop();
});

describe('grant_type=aws_iam', () => {
  let deployer: AwsCredentials;
  let stranger: AwsCredentials;
  const sign = (credentials: AwsCredentials, options: { tenant?: string; stsEndpoint?: string; now?: Date } = {}) =>
    signedCallerIdentityRequest({ credentials, tenant: options.tenant ?? a.tenantId, stsEndpoint: options.stsEndpoint ?? `${runtime.aws.endpoint}/`, ...(options.now ? { now: options.now } : {}) });

  beforeAll(async () => {
    deployer = await iamUser(`ci-deployer-${randomUUID().slice(0, 8)}`);
    stranger = await iamUser(`stranger-${randomUUID().slice(0, 8)}`);
    const put = await api.request('PUT', '/v1/iam-bindings/ci', {
      token: a.token,
      body: { arnPattern: 'arn:aws:iam::123456789012:user/ci-*', roles: ['contributor'] },
    });
    expect(put.status).toBe(201);
  });

  it('logs in a bound IAM user end to end: STS names the ARN, the binding gives the role', async () => {
    const login = await token({ grant_type: 'aws_iam', tenant: a.tenantId, request: await sign(deployer) });
    expect(login.status).toBe(200);
    expect(login.body.refresh_token).toBeUndefined();
    const who = await api.request('GET', '/v1/whoami', { token: login.body.access_token });
    expect(who.body).toMatchObject({ principal: { type: 'iam' }, tenantId: a.tenantId, roles: ['contributor'], authMethod: 'aws_iam' });
    expect(who.body.principal.id).toMatch(/^arn:aws:iam::123456789012:user\/ci-deployer-/);
    const write = await api.request('PUT', '/v1/secrets/ci/deploy-key', { token: login.body.access_token, body: { data: { k: 'v' } } });
    expect(write.status).toBe(201);
    expect(write.body.createdBy).toBe(`iam:${who.body.principal.id}`);
  });

  it('accepts the signed request as top-level method/url/headers/body too', async () => {
    const signed = await sign(deployer, { now: new Date(Date.now() - 4_000) });
    expect((await token({ grant_type: 'aws_iam', tenant: a.tenantId, ...signed })).status).toBe(200);
  });

  it('names the missing or wrong field of a malformed aws_iam grant (400), in either shape', async () => {
    const missing = await token({ grant_type: 'aws_iam', tenant: a.tenantId });
    expectProblem(missing, 400);
    expect(missing.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.request']);
    const { headers: _h, ...noHeaders } = await sign(deployer);
    const flat = await token({ grant_type: 'aws_iam', tenant: a.tenantId, ...noHeaders });
    expectProblem(flat, 400);
    expect(flat.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.headers']);
  });

  it('refuses a replay of the same signed request', async () => {
    // Signed for a second no other test uses: two signings in one second are identical.
    const signed = await sign(deployer, { now: new Date(Date.now() - 7_000) });
    expect((await token({ grant_type: 'aws_iam', tenant: a.tenantId, request: signed })).status).toBe(200);
    expectProblem(await token({ grant_type: 'aws_iam', tenant: a.tenantId, request: signed }), 401, GENERIC);
  });

  it('refuses a request signed more than 15 minutes ago, or for later', async () => {
    expectProblem(await token({ grant_type: 'aws_iam', tenant: a.tenantId, request: await sign(deployer, { now: new Date(Date.now() - 16 * 60_000) }) }), 401, GENERIC);
    expectProblem(await token({ grant_type: 'aws_iam', tenant: a.tenantId, request: await sign(deployer, { now: new Date(Date.now() + 16 * 60_000) }) }), 401, GENERIC);
  });

  it('refuses a request signed for another host, and never forwards it there', async () => {
    let contacted = false;
    const trap = createServer((_req, res) => {
      contacted = true;
      res.end('<Arn>arn:aws:iam::123456789012:user/ci-evil</Arn>');
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    const port = (trap.address() as AddressInfo).port;
    try {
      for (const endpoint of [`http://127.0.0.1:${port}/`, 'https://sts.amazonaws.com.evil.example/', 'https://evil.example/']) {
        expectProblem(await token({ grant_type: 'aws_iam', tenant: a.tenantId, request: await sign(deployer, { stsEndpoint: endpoint }) }), 401, GENERIC);
      }
      expect(contacted).toBe(false);
    } finally {
      trap.close();
    }
  });

  it("refuses a request signed for tenant A presented to tenant B, and one whose tenant header was edited", async () => {
    expectProblem(await token({ grant_type: 'aws_iam', tenant: b.tenantId, request: await sign(deployer) }), 401, GENERIC);
    const signed = await sign(deployer);
    const edited = { ...signed, headers: { ...signed.headers, 'x-coffer-tenant': b.tenantId } };
    // Coffer's own check passes (the header matches B) but STS refuses the broken signature;
    // moto does not check signatures, so here the binding lookup in B refuses it.
    expectProblem(await token({ grant_type: 'aws_iam', tenant: b.tenantId, request: edited }), 401, GENERIC);
  });

  it('refuses an IAM identity no binding names', async () => {
    expectProblem(await token({ grant_type: 'aws_iam', tenant: a.tenantId, request: await sign(stranger) }), 401, GENERIC);
  });

  it('stops admitting anyone once the binding is disabled', async () => {
    const put = await api.request('PUT', '/v1/iam-bindings/ci', { token: a.token, body: { arnPattern: 'arn:aws:iam::123456789012:user/ci-*', roles: ['contributor'], status: 'disabled' } });
    expect(put.status).toBe(200);
    expectProblem(await token({ grant_type: 'aws_iam', tenant: a.tenantId, request: await sign(deployer) }), 401, GENERIC);
    await api.request('PUT', '/v1/iam-bindings/ci', { token: a.token, body: { arnPattern: 'arn:aws:iam::123456789012:user/ci-*', roles: ['contributor'] } });
  });
});

describe('grant_type=jwt (external OIDC tokens)', () => {
  const ISS = 'https://token.actions.githubusercontent.example';
  let jwks: Server;
  let key: { privateKey: KeyObject; publicKey: KeyObject };
  let otherKey: { privateKey: KeyObject; publicKey: KeyObject };
  const KID = 'gh-1';

  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  function jwt(claims: Record<string, unknown>, options: { header?: Record<string, unknown>; privateKey?: KeyObject } = {}) {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'ES256', typ: 'JWT', kid: KID, ...options.header };
    const payload = { iss: ISS, aud: 'coffer', sub: 'repo:acme/app:ref:refs/heads/main', iat: now, nbf: now, exp: now + 300, repository: 'acme/app', repository_owner: 'acme', ref: 'refs/heads/main', ...claims };
    const input = `${b64(header)}.${b64(payload)}`;
    const signature = signWith('sha256', Buffer.from(input), { key: options.privateKey ?? key.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  }
  const login = (assertion: string, extra: Record<string, unknown> = {}) => token({ grant_type: 'jwt', tenant: a.tenantId, assertion, ...extra });

  beforeAll(async () => {
    key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = { ...key.publicKey.export({ format: 'jwk' }), kid: KID, alg: 'ES256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const put = await api.request('PUT', '/v1/issuers/github', {
      token: a.token,
      body: {
        issuer: ISS,
        jwksUri: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`,
        audiences: ['coffer'],
        bindings: [
          { claims: { repository: 'acme/app', ref: 'refs/heads/main' }, roles: ['contributor'] },
          // Org-wide: the owner matched exactly, the repository by pattern.
          { claims: { repository_owner: 'acme', repository: 'acme/*' }, roles: ['viewer'] },
        ],
      },
    });
    expect(put.status).toBe(201);
  });
  afterAll(() => {
    jwks?.close();
  });

  it('logs in a GitHub Actions run of the main branch with the bound roles', async () => {
    const response = await login(jwt({}));
    expect(response.status).toBe(200);
    const who = await api.request('GET', '/v1/whoami', { token: response.body.access_token });
    expect(who.body).toMatchObject({
      principal: { type: 'federated', id: 'github:repo:acme/app:ref:refs/heads/main' },
      roles: ['contributor', 'viewer'],
      authMethod: 'jwt',
    });
  });

  it('narrows to a requested role, and refuses a role the claims do not earn', async () => {
    const viewer = await login(jwt({}), { role: 'viewer' });
    expect((await api.request('GET', '/v1/whoami', { token: viewer.body.access_token })).body.roles).toEqual(['viewer']);
    const branch = jwt({ ref: 'refs/heads/feature', sub: 'repo:acme/app:ref:refs/heads/feature' });
    expect((await api.request('GET', '/v1/whoami', { token: (await login(branch)).body.access_token })).body.roles).toEqual(['viewer']);
    expectProblem(await login(branch, { role: 'contributor' }), 401, GENERIC);
    expectProblem(await login(jwt({ repository: 'evil/app' })), 401, GENERIC);
  });

  it.each([
    ["alg 'none'", () => `${b64({ alg: 'none', typ: 'JWT', kid: KID })}.${b64({ iss: ISS, aud: 'coffer', sub: 's', exp: Math.floor(Date.now() / 1000) + 60, repository: 'acme/app', ref: 'refs/heads/main' })}.`],
    ['HS256 keyed with the public key', () => {
      const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: KID })}.${b64({ iss: ISS, aud: 'coffer', sub: 's', exp: Math.floor(Date.now() / 1000) + 60, repository: 'acme/app', ref: 'refs/heads/main' })}`;
      const secret = key.publicKey.export({ format: 'pem', type: 'spki' });
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    }],
    ['an unknown kid', () => jwt({}, { header: { kid: 'nope' } })],
    ['a key the issuer never published', () => jwt({}, { privateKey: otherKey.privateKey })],
    ['an expired token', () => jwt({ exp: Math.floor(Date.now() / 1000) - 120 })],
    ['a token not valid yet', () => jwt({ nbf: Math.floor(Date.now() / 1000) + 600 })],
    ['another issuer', () => jwt({ iss: 'https://evil.example' })],
    ['another audience', () => jwt({ aud: 'someone-else' })],
    ['a token without exp (aws-jwt-verify alone would accept it)', () => jwt({ exp: undefined })],
    ['a token that lives longer than a day', () => jwt({ exp: Math.floor(Date.now() / 1000) + 2 * 86_400 })],
  ])('refuses %s with the generic 401', async (_name, make) => {
    expectProblem(await login(make()), 401, GENERIC);
  });

  it("refuses tenant A's issuer in tenant B", async () => {
    expectProblem(await token({ grant_type: 'jwt', tenant: b.tenantId, assertion: jwt({}) }), 401, GENERIC);
  });

  it('refuses a JWKS URL on a private address and plain http beyond loopback', async () => {
    for (const jwksUri of ['http://10.0.0.1/jwks', 'https://169.254.169.254/jwks', 'http://example.com/jwks']) {
      const put = await api.request('PUT', '/v1/issuers/bad', { token: a.token, body: { issuer: ISS, jwksUri, audiences: ['coffer'], bindings: [{ claims: { repository: 'x' }, roles: ['viewer'] }] } });
      expectProblem(put, 400);
    }
  });
});
