import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CallerIdentityService } from '../../../lambdas/core/authentication';
import { UnauthenticatedError } from '../../../lambdas/core/errors';
import { checkSignedCallerIdentity, MAX_SIGNATURE_AGE_MS, roleArnOf, type SignedStsRequest } from '../../../lambdas/core/identity/aws-iam';
import { TENANT_A, TENANT_B } from '../support/fakes';
import { GENERIC, groupRecord, harness, iamBinding, payloadOf } from '../support/identity-fixtures';

const NOW = Date.parse('2026-11-24T12:00:00.000Z');
const MINUTE = 60_000;
const BODY = 'Action=GetCallerIdentity&Version=2011-06-15';
const SIGNED_HEADERS = 'content-type;host;x-amz-date;x-coffer-tenant';

const amzDate = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
const authorization = (signature: string, signedHeaders = SIGNED_HEADERS, scope = '20261124/us-east-1/sts/aws4_request') =>
  `AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE12345678/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;

/** A request as a caller would sign it for TENANT_A at NOW (the signature itself is STS's to check). */
function signed(overrides: { url?: string; method?: string; body?: string; headers?: Record<string, string | undefined>; signature?: string } = {}): SignedStsRequest {
  const signature = overrides.signature ?? randomBytes(32).toString('hex');
  const url = overrides.url ?? 'https://sts.amazonaws.com/';
  const headers: Record<string, string | undefined> = {
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    host: URL.canParse(url) ? new URL(url).host : 'sts.amazonaws.com',
    'x-amz-date': amzDate(NOW),
    'x-coffer-tenant': TENANT_A,
    authorization: authorization(signature),
    ...overrides.headers,
  };
  return {
    method: overrides.method ?? 'POST',
    url,
    body: overrides.body ?? BODY,
    headers: Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined)),
  };
}

const check = (request: SignedStsRequest, options: { tenantId?: string; now?: number; extraHosts?: string[] } = {}) =>
  checkSignedCallerIdentity(request, { tenantId: TENANT_A, now: NOW, extraHosts: [], ...options });

describe('checkSignedCallerIdentity: accepted requests', () => {
  it('accepts a signed GetCallerIdentity to the global endpoint and returns its signature', () => {
    const signature = 'ab'.repeat(32);
    expect(check(signed({ signature }))).toBe(signature);
  });

  it.each([['https://sts.eu-west-1.amazonaws.com/'], ['https://sts.us-gov-west-1.amazonaws.com/'], ['https://sts.cn-north-1.amazonaws.com.cn/'], ['https://sts.amazonaws.com']])(
    'accepts the STS endpoint %s',
    (url) => {
      expect(check(signed({ url }))).toMatch(/^[0-9a-f]{64}$/);
    },
  );

  it('reads header names case-insensitively and the method in any case', () => {
    const request = signed();
    const upper = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.replace(/(^|-)([a-z])/g, (m) => m.toUpperCase()), v]));
    expect(upper).toHaveProperty('X-Coffer-Tenant', TENANT_A);
    expect(check({ ...request, method: 'post', headers: upper })).toBe(/Signature=([0-9a-f]{64})/.exec(request.headers.authorization!)![1]);
  });

  it('accepts a signature exactly 15 minutes old or ahead', () => {
    expect(MAX_SIGNATURE_AGE_MS).toBe(15 * MINUTE);
    expect(() => check(signed(), { now: NOW + 15 * MINUTE })).not.toThrow();
    expect(() => check(signed(), { now: NOW - 15 * MINUTE })).not.toThrow();
  });

  it('accepts the body parameters in either order', () => {
    expect(() => check(signed({ body: 'Version=2011-06-15&Action=GetCallerIdentity' }))).not.toThrow();
  });

  it('allows an extra host, over http, only when configured', () => {
    const local = signed({ url: 'http://127.0.0.1:5000/' });
    expect(() => check(local)).toThrow(UnauthenticatedError);
    expect(check(local, { extraHosts: ['127.0.0.1:5000'] })).toMatch(/^[0-9a-f]{64}$/);
    expect(() => check(signed({ url: 'http://127.0.0.1:5001/' }), { extraHosts: ['127.0.0.1:5000'] })).toThrow(UnauthenticatedError);
    expect(() => check(signed({ url: 'ftp://127.0.0.1:5000/' }), { extraHosts: ['127.0.0.1:5000'] })).toThrow(UnauthenticatedError);
    expect(() => check(signed({ url: 'http://127.0.0.1:5000/?Action=AssumeRole' }), { extraHosts: ['127.0.0.1:5000'] })).toThrow(UnauthenticatedError);
  });
});

describe('checkSignedCallerIdentity: refusals', () => {
  const otherTenantHeaders = { 'x-coffer-tenant': TENANT_B };
  const cases: [string, () => SignedStsRequest, { now?: number }?][] = [
    ['another host', () => signed({ url: 'https://evil.example.com/' })],
    ['an STS-looking host under another domain', () => signed({ url: 'https://sts.amazonaws.com.evil.com/' })],
    ['a host ending like STS', () => signed({ url: 'https://evilsts.amazonaws.com/' })],
    ['another AWS service', () => signed({ url: 'https://iam.amazonaws.com/' })],
    ['plain http to STS', () => signed({ url: 'http://sts.amazonaws.com/' })],
    ['a port', () => signed({ url: 'https://sts.amazonaws.com:8443/' })],
    ['a query string', () => signed({ url: 'https://sts.amazonaws.com/?Action=GetCallerIdentity' })],
    ['a path', () => signed({ url: 'https://sts.amazonaws.com/x' })],
    ['user info in the URL', () => signed({ url: 'https://user:pw@sts.amazonaws.com/' })],
    ['a URL that does not parse', () => signed({ url: 'not a url' })],
    ['a host header naming another host', () => signed({ headers: { host: 'evil.example.com' } })],
    ['GET', () => signed({ method: 'GET' })],
    ['PUT', () => signed({ method: 'PUT' })],
    ['another action', () => signed({ body: 'Action=AssumeRole&Version=2011-06-15' })],
    ['another version', () => signed({ body: 'Action=GetCallerIdentity&Version=2012-01-01' })],
    ['an extra body parameter', () => signed({ body: `${BODY}&RoleArn=x` })],
    ['a repeated action', () => signed({ body: `${BODY}&Action=GetCallerIdentity` })],
    ['an empty body', () => signed({ body: '' })],
    ['a tenant header that is not signed', () => signed({ headers: { authorization: authorization('c'.repeat(64), 'content-type;host;x-amz-date') } })],
    ['host not signed', () => signed({ headers: { authorization: authorization('c'.repeat(64), 'x-amz-date;x-coffer-tenant') } })],
    ['x-amz-date not signed', () => signed({ headers: { authorization: authorization('c'.repeat(64), 'host;x-coffer-tenant') } })],
    ['a tenant header for another tenant', () => signed({ headers: otherTenantHeaders })],
    ['no tenant header', () => signed({ headers: { 'x-coffer-tenant': undefined } })],
    ['a date 16 minutes old', () => signed(), { now: NOW + 16 * MINUTE }],
    ['a date 16 minutes in the future', () => signed(), { now: NOW - 16 * MINUTE }],
    ['a malformed date', () => signed({ headers: { 'x-amz-date': '2026-11-24T12:00:00Z' } })],
    ['no date', () => signed({ headers: { 'x-amz-date': undefined } })],
    ['no authorization', () => signed({ headers: { authorization: undefined } })],
    ['another signing algorithm', () => signed({ headers: { authorization: authorization('c'.repeat(64)).replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256') } })],
    ['a short signature', () => signed({ headers: { authorization: authorization('c'.repeat(63)) } })],
    ['an upper-case signature', () => signed({ headers: { authorization: authorization('C'.repeat(64)) } })],
    ['garbage in the authorization', () => signed({ headers: { authorization: 'Bearer abc' } })],
    ['a credential scope for another service', () => signed({ headers: { authorization: authorization('c'.repeat(64), SIGNED_HEADERS, '20261124/us-east-1/iam/aws4_request') } })],
    ['a credential scope for s3', () => signed({ headers: { authorization: authorization('c'.repeat(64), SIGNED_HEADERS, '20261124/us-east-1/s3/aws4_request') } })],
    ['a line break in a signed header (header injection)', () => signed({ headers: { 'content-type': 'text/plain\r\nx-evil: 1' } })],
    ['a NUL in a signed header', () => signed({ headers: { 'content-type': 'text/plain\u0000' } })],
    ['a signed transfer-encoding (request smuggling)', () => signed({ headers: { 'transfer-encoding': 'chunked', authorization: authorization('c'.repeat(64), `${SIGNED_HEADERS};transfer-encoding`) } })],
    ['a signed connection header', () => signed({ headers: { connection: 'close', authorization: authorization('c'.repeat(64), `connection;${SIGNED_HEADERS}`) } })],
    ['a signed proxy header', () => signed({ headers: { 'proxy-authorization': 'x', authorization: authorization('c'.repeat(64), `${SIGNED_HEADERS};proxy-authorization`) } })],
  ];

  it.each(cases)('refuses %s', (_name, request, options) => {
    let error: unknown;
    try {
      check(request(), options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect((error as Error).message).toBe(GENERIC);
  });

  it('refuses a request signed for this tenant when used for another', () => {
    expect(() => check(signed(), { tenantId: TENANT_B })).toThrow(UnauthenticatedError);
  });
});

describe('roleArnOf', () => {
  it.each([
    ['arn:aws:sts::123456789012:assumed-role/Deploy/ci-run-1', 'arn:aws:iam::123456789012:role/Deploy'],
    ['arn:aws-cn:sts::123456789012:assumed-role/Deploy/s', 'arn:aws-cn:iam::123456789012:role/Deploy'],
    ['arn:aws-us-gov:sts::123456789012:assumed-role/A.B-c_d/botocore-session-1', 'arn:aws-us-gov:iam::123456789012:role/A.B-c_d'],
    ['arn:aws:iam::123456789012:user/bob', undefined],
    ['arn:aws:iam::123456789012:role/Deploy', undefined],
    ['arn:aws:sts::12345678901:assumed-role/Deploy/s', undefined],
    ['arn:aws:sts::123456789012:assumed-role/Deploy', undefined],
    ['arn:aws:sts::123456789012:assumed-role/Deploy/s/extra', undefined],
    ['arn:aws:sts::123456789012:federated-user/bob', undefined],
    ['', undefined],
  ])('%s → %s', (arn, role) => {
    expect(roleArnOf(arn)).toBe(role);
  });
});

class FakeSts implements CallerIdentityService {
  readonly requests: SignedStsRequest[] = [];
  constructor(public arn: string) {}
  async callerArn(request: SignedStsRequest): Promise<string> {
    this.requests.push(request);
    return this.arn;
  }
}

describe('Authentication.awsIam', () => {
  const ACCOUNT = '123456789012';
  const DEPLOY_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/Deploy/ci-run-1`;
  let sts: FakeSts;
  let h: ReturnType<typeof harness>;

  beforeEach(() => {
    sts = new FakeSts(DEPLOY_SESSION);
    h = harness(NOW, { sts });
    h.identities.seed(TENANT_A, 'iam-binding', iamBinding(TENANT_A, 'any-role', `arn:aws:iam::${ACCOUNT}:role/*`, ['viewer']));
    h.identities.seed(TENANT_A, 'iam-binding', iamBinding(TENANT_A, 'deploy', `arn:aws:iam::${ACCOUNT}:role/Deploy`, ['contributor'], { generation: 3 }));
    h.identities.seed(
      TENANT_A,
      'iam-binding',
      iamBinding(TENANT_A, 'deploy-ci', `arn:aws:sts::${ACCOUNT}:assumed-role/Deploy/ci-*`, ['owner'], { status: 'disabled' }),
    );
    h.identities.resetCalls();
  });

  const login = (request = signed(), tenant = TENANT_A) => h.auth.awsIam({ tenant, request });

  it("logs an assumed role in through its role's binding, the most specific one", async () => {
    const { principal, token } = await login();
    expect(principal).toEqual({ kind: 'tenant', tenantId: TENANT_A, type: 'iam', id: DEPLOY_SESSION, roles: ['contributor'], groups: [], authMethod: 'aws_iam' });
    expect(payloadOf(token.access_token)).toMatchObject({
      sub: DEPLOY_SESSION,
      ptype: 'iam',
      tid: TENANT_A,
      roles: ['contributor'],
      amr: ['aws_iam'],
      src: 'iam-binding:deploy',
      gen: 3,
    });
    expect(token).not.toHaveProperty('refresh_token');
    expect(sts.requests).toHaveLength(1);
  });

  it('falls back to the broader binding for another role', async () => {
    sts.arn = `arn:aws:sts::${ACCOUNT}:assumed-role/Reader/laptop`;
    const { principal, token } = await login();
    expect(principal.kind === 'tenant' && principal.roles).toEqual(['viewer']);
    expect(payloadOf(token.access_token).src).toBe('iam-binding:any-role');
  });

  it('ignores a disabled binding even when it is the most specific; uses it once enabled', async () => {
    expect(payloadOf((await login()).token.access_token).src).toBe('iam-binding:deploy');
    h.identities.seed(TENANT_A, 'iam-binding', { ...h.identities.peek(TENANT_A, 'iam-binding', 'deploy-ci')!, status: 'active' });
    const { principal, token } = await login();
    expect(payloadOf(token.access_token).src).toBe('iam-binding:deploy-ci');
    expect(principal.kind === 'tenant' && principal.roles).toEqual(['owner']);
  });

  it('matches an IAM user by its own ARN', async () => {
    sts.arn = `arn:aws:iam::${ACCOUNT}:user/bob`;
    h.identities.seed(TENANT_A, 'iam-binding', iamBinding(TENANT_A, 'bob', `arn:aws:iam::${ACCOUNT}:user/bob`, ['admin']));
    expect((await login()).principal).toMatchObject({ id: sts.arn, roles: ['admin'] });
  });

  it("adds the binding's groups' roles", async () => {
    h.identities.seed(TENANT_A, 'group', groupRecord(TENANT_A, 'deployers', ['admin']));
    h.identities.seed(TENANT_A, 'iam-binding', { ...h.identities.peek(TENANT_A, 'iam-binding', 'deploy')!, groups: ['deployers'] });
    const { principal, token } = await login();
    expect(principal).toMatchObject({ roles: ['admin', 'contributor'], groups: ['deployers'] });
    expect(payloadOf(token.access_token).grp).toEqual(['deployers']);
  });

  it('refuses a caller no binding matches', async () => {
    sts.arn = 'arn:aws:iam::999999999999:user/mallory';
    const error = await login().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect((error as Error).message).toBe(GENERIC);
    expect(h.signer.signed).toHaveLength(0);
  });

  it("refuses another tenant's caller: the bindings are per tenant", async () => {
    const request = signed({ headers: { 'x-coffer-tenant': TENANT_B } });
    await expect(login(request, TENANT_B)).rejects.toThrow(GENERIC);
    expect(sts.requests).toHaveLength(1);
  });

  it('refuses a replay of the same signed request (STS answers first, so unsigned junk writes no nonce)', async () => {
    const request = signed();
    await login(request);
    await expect(login(request)).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(sts.requests).toHaveLength(2);
    expect(h.identities.calls.claimNonce).toBe(2);
    const signature = /Signature=([0-9a-f]{64})/.exec(request.headers.authorization!)![1];
    expect(h.identities.nonces.get(`${TENANT_A}|iam:${signature}`)).toBe(NOW + 20 * MINUTE);
  });

  it('refuses a request signed for another tenant before claiming a nonce or calling STS', async () => {
    await expect(login(signed({ headers: { 'x-coffer-tenant': TENANT_B } }))).rejects.toThrow(GENERIC);
    expect(sts.requests).toHaveLength(0);
    expect(h.identities.calls.claimNonce).toBe(0);
  });

  it('refuses a stale request before calling STS', async () => {
    h.clock.advance(16 * MINUTE);
    await expect(login()).rejects.toThrow(GENERIC);
    expect(sts.requests).toHaveLength(0);
  });

  it('refuses a malformed tenant and works only with an STS client configured', async () => {
    await expect(login(signed(), 'ten_bad')).rejects.toThrow(GENERIC);
    const bare = harness(NOW);
    bare.identities.seed(TENANT_A, 'iam-binding', iamBinding(TENANT_A, 'deploy', `arn:aws:iam::${ACCOUNT}:role/Deploy`, ['contributor']));
    await expect(bare.auth.awsIam({ tenant: TENANT_A, request: signed() })).rejects.toThrow(GENERIC);
    expect(sts.requests).toHaveLength(0);
  });

  it('forwards STS refusals as the generic 401', async () => {
    sts.callerArn = async () => {
      throw new UnauthenticatedError();
    };
    await expect(login()).rejects.toThrow(GENERIC);
  });
});
