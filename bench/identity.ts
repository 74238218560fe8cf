import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { createPublicKey, generateKeyPairSync, sign as signWith, verify as verifyWith } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { generateSync } from 'otplib';
import { startLocalRuntime } from '../bin/local/runtime';
import { signedCallerIdentityRequest } from '../bin/login/aws-iam-request';
import { clientFor } from '../test/support/runtime';
import { awsCallCounts, resetAwsCallCounts } from '../lambdas/adapters/call-counter';

// `npm run bench:identity`: what identity costs.
//  1. The authorizer per request with a warm JWKS (µs): signature check alone, and the
//     full check (signature + the one BatchGetItem revocation read), against a bare
//     node:crypto ES256 verify and a bare GetItem measured in the same run.
//  2. Logins per second on the local runtime, per method, against bare GetItems/s.
//  3. AWS calls per login, counted by the SDK middleware (goal: one kms:Sign).
const N = Number(process.env.BENCH_LOGINS ?? 25);
const VERIFY_N = Number(process.env.BENCH_VERIFY ?? 2000);

const runtime = await startLocalRuntime({ port: 0, logLevel: 'SILENT', shipIntervalMs: 3_600_000 });
const jwksServer = createServer();
try {
  const api = clientFor(runtime);
  const { tenantId, token: ownerToken, clientId, clientSecret } = await api.onboard('bench-identity');
  const dynamo = new DynamoDBClient({ region: runtime.aws.region, endpoint: runtime.aws.dynamodbEndpoint });
  const getItem = new GetItemCommand({ TableName: runtime.resources.table, Key: { pk: { S: `T#${tenantId}#META` }, sk: { S: 'TENANT' } }, ConsistentRead: true });
  const must = async (p: Promise<{ status: number; body: any }>, status = 200) => {
    const r = await p;
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  };

  // ---- set-up: a user, a TOTP user, an IAM binding, a trusted issuer
  const password = 'correct horse battery staple';
  await must(api.request('POST', '/v1/users', { token: ownerToken, body: { username: 'alice', password, roles: ['viewer'] } }), 201);
  await must(api.request('POST', '/v1/users', { token: ownerToken, body: { username: 'bob', password, roles: ['viewer'] } }), 201);
  const bob = await must(api.request('POST', '/v1/token', { body: { grant_type: 'password', tenant: tenantId, username: 'bob', password } }));
  const { secret: totpSecret } = await must(api.request('POST', '/v1/users/bob/totp', { token: bob.access_token }), 201);
  const now = () => Math.floor(Date.now() / 1000);
  await must(api.request('POST', '/v1/users/bob/totp/verify', { token: bob.access_token, body: { otp: generateSync({ secret: totpSecret, epoch: now() }) } }), 204);

  const iam = new IAMClient({ region: 'us-east-1', endpoint: runtime.aws.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await iam.send(new CreateUserCommand({ UserName: 'ci-bench' }));
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'ci-bench' }));
  const credentials = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
  await must(api.request('PUT', '/v1/iam-bindings/ci', { token: ownerToken, body: { arnPattern: 'arn:aws:iam::123456789012:user/ci-*', roles: ['viewer'] } }), 201);

  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...key.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' };
  jwksServer.on('request', (_req, res) => res.end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const ISS = 'https://issuer.bench.example';
  await must(api.request('PUT', '/v1/issuers/bench', {
    token: ownerToken,
    body: { issuer: ISS, jwksUri: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`, audiences: ['coffer'], bindings: [{ claims: { repository_owner: 'acme', repository: 'acme/*' }, roles: ['viewer'] }] },
  }), 201);
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const assertion = () => {
    const input = `${b64({ alg: 'ES256', kid: 'k1' })}.${b64({ iss: ISS, aud: 'coffer', sub: 'repo:acme/app', iat: now(), exp: now() + 300, repository: 'acme/app', repository_owner: 'acme' })}`;
    return `${input}.${signWith('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };

  // ---- logins per second, per method
  let refresh = (await must(api.request('POST', '/v1/token', { body: { grant_type: 'password', tenant: tenantId, username: 'alice', password } }))).refresh_token as string;
  let iamSecond = 0;
  // The enrolment just spent this step's code: the first timed login waits for the next.
  let lastTotpStep = Math.floor(now() / 30);
  const methods: [string, () => Promise<unknown>][] = [
    ['client_credentials', () => must(api.request('POST', '/v1/token', { body: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret } }))],
    ['password', () => must(api.request('POST', '/v1/token', { body: { grant_type: 'password', tenant: tenantId, username: 'alice', password } }))],
    ['refresh_token', async () => {
      refresh = (await must(api.request('POST', '/v1/token', { body: { grant_type: 'refresh_token', refresh_token: refresh } }))).refresh_token;
    }],
    ['aws_iam', async () => {
      // Each signed request is single-use; sign for distinct seconds so none is a replay.
      const signed = await signedCallerIdentityRequest({ credentials, tenant: tenantId, stsEndpoint: `${runtime.aws.endpoint}/`, now: new Date(Date.now() - 600_000 + 1000 * iamSecond++) });
      return must(api.request('POST', '/v1/token', { body: { grant_type: 'aws_iam', tenant: tenantId, request: signed } }));
    }],
    ['jwt', () => must(api.request('POST', '/v1/token', { body: { grant_type: 'jwt', tenant: tenantId, assertion: assertion() } }))],
  ];
  const rate = async (fn: () => Promise<unknown>, n: number) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) await fn();
    return n / ((performance.now() - t) / 1000);
  };
  for (const [, fn] of methods) await fn(); // warm every path once
  const bare = await rate(() => dynamo.send(getItem), N * 4);
  const rows: Record<string, Record<string, string | number>> = { 'bare DynamoDB GetItem (baseline)': { 'per second': bare.toFixed(0), ratio: '1.00×' } };
  for (const [name, fn] of methods) {
    const perSecond = await rate(fn, N);
    rows[name] = { 'per second': perSecond.toFixed(1), ratio: `${(perSecond / bare).toFixed(3)}×` };
    process.stderr.write(`\r${name} done      `);
  }
  // TOTP codes are single-use per 30 s step: one login per step, so it is timed once.
  const totpLogin = async () => {
    while (Math.floor(now() / 30) <= lastTotpStep) await new Promise((r) => setTimeout(r, 250));
    lastTotpStep = Math.floor(now() / 30);
    return must(api.request('POST', '/v1/token', { body: { grant_type: 'password', tenant: tenantId, username: 'bob', password, otp: generateSync({ secret: totpSecret, epoch: now() }) } }));
  };
  process.stderr.write('\n');
  console.log(`\nLogins on the local runtime, ${N} sequential each (scrypt N=2^14 for secrets and passwords)`);
  console.table(rows);

  // ---- AWS calls per login
  const count = async (operation: string, op: () => Promise<unknown>) => {
    resetAwsCallCounts();
    await op();
    const counts = awsCallCounts();
    const sum = (prefix: string) => Object.entries(counts).filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0);
    return { operation, KMS: sum('kms:'), DynamoDB: sum('dynamodb:'), calls: Object.entries(counts).sort().map(([k, v]) => `${k}×${v}`).join(' ') };
  };
  const calls = [];
  for (const [name, fn] of methods) calls.push(await count(name, fn).catch((error) => { throw new Error(`${name}: ${error.message}`); }));
  calls.push(await count('password + TOTP (first in this container: + Decrypt of the data key)', totpLogin));
  calls.push(await count('a request with a fresh token (authorizer check)', async () => {
    const fresh = await must(api.request('POST', '/v1/token', { body: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret } }));
    resetAwsCallCounts();
    await must(api.request('GET', '/v1/whoami', { token: fresh.access_token }));
  }));
  console.log('\nAWS calls per login (token function, plus the audit event of the request)');
  console.table(calls);

  // ---- authorizer cost with a warm JWKS
  const { handler } = await import('../lambdas/handlers/authorizer');
  const { AccessTokenVerifier } = await import('../lambdas/adapters/jwt/access-token-verifier');
  const { KmsTokenSigner } = await import('../lambdas/adapters/kms/token-signer');
  const { KMSClient } = await import('@aws-sdk/client-kms');
  const kms = new KMSClient({ region: runtime.aws.region, endpoint: runtime.aws.endpoint });
  const signer = new KmsTokenSigner(kms, runtime.resources.signingKeyAlias);
  const verifier = new AccessTokenVerifier(() => signer.publicJwks(), { issuer: process.env.COFFER_ISSUER!, audience: 'coffer' });
  const accessToken = (await must(api.request('POST', '/v1/token', { body: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret } }))).access_token as string;
  const [h, p, s] = accessToken.split('.');
  const publicKey = createPublicKey({ key: (await signer.publicJwks())[0] as never, format: 'jwk' });
  const event = {
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:us-east-1:123456789012:api/v1/GET/v1/whoami',
    headers: { Authorization: `Bearer ${accessToken}` },
    requestContext: { requestId: 'bench', identity: { sourceIp: '127.0.0.1' } },
  } as unknown as APIGatewayRequestAuthorizerEvent;
  const micros = async (fn: () => unknown, n: number) => {
    for (let i = 0; i < Math.min(200, n); i++) await fn();
    const t = performance.now();
    for (let i = 0; i < n; i++) await fn();
    return ((performance.now() - t) * 1000) / n;
  };
  const bareVerify = await micros(() => verifyWith('sha256', Buffer.from(`${h}.${p}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s!, 'base64url')), VERIFY_N);
  const tokenVerify = await micros(() => verifier.verify(accessToken), VERIFY_N);
  const bareGet = await micros(() => dynamo.send(getItem), 200);
  const fullCheck = await micros(() => handler(event), 200);
  const us = (x: number) => `${x.toFixed(0)} µs`;
  console.log('\nAuthorizer cost per uncached request, warm JWKS');
  console.table({
    'node:crypto ES256 verify (baseline)': { time: us(bareVerify), ratio: '1.00×' },
    'Coffer token verification (aws-jwt-verify + claims)': { time: us(tokenVerify), ratio: `${(tokenVerify / bareVerify).toFixed(2)}×` },
    'bare DynamoDB GetItem on DynamoDB Local (baseline)': { time: us(bareGet), ratio: '1.00×' },
    'full authorizer (verify + BatchGetItem re-check)': { time: us(fullCheck), ratio: `${(fullCheck / bareGet).toFixed(2)}× GetItem` },
  });
  console.log('API Gateway caches each token\'s decision for 5 minutes, so most requests skip the authorizer entirely.');
  kms.destroy();
  iam.destroy();
  dynamo.destroy();
} finally {
  jwksServer.close();
  await runtime.stop();
}
