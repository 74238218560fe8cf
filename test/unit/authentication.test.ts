import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// Count scrypt runs: every failure must cost the same work as a success.
const scryptCalls = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  const scrypt = ((...args: Parameters<typeof actual.scrypt>) => {
    scryptCalls.count++;
    return (actual.scrypt as (...a: unknown[]) => void)(...args);
  }) as typeof actual.scrypt;
  return { ...actual, default: { ...actual, scrypt }, scrypt };
});

const { Authentication } = await import('../../lambdas/core/authentication');
const { hashSecret } = await import('../../lambdas/core/credentials');
const { UnauthenticatedError } = await import('../../lambdas/core/errors');
const { CLIENT_ID } = await import('../../lambdas/core/ids');
const { TokenIssuer } = await import('../../lambdas/core/tokens');
const { FakeTokenSigner, InMemoryClientRepository, ManualClock, TENANT_A, TENANT_B } = await import('./support/fakes');
type ClientRecord = import('../../lambdas/ports/tenant-repository').ClientRecord;

const ACTIVE = `${TENANT_A}.cli_${'active'.repeat(4).slice(0, 20)}`;
const DISABLED = `${TENANT_A}.cli_${'disabled'.repeat(3).slice(0, 20)}`;
const PLATFORM = `platform.cli_${'platform'.repeat(3).slice(0, 20)}`;
const UNKNOWN = `${TENANT_A}.cli_${'unknown'.repeat(3).slice(0, 20)}`;
const SECRET = 'cs_correct-horse-battery-staple';
const GENERIC = 'The credentials are missing, invalid or expired.';

let hash: string;
let clients: InstanceType<typeof InMemoryClientRepository>;
let signer: InstanceType<typeof FakeTokenSigner>;
let auth: InstanceType<typeof Authentication>;

const record = (scope: string, clientId: string, extra: Partial<ClientRecord> = {}): ClientRecord => ({
  scope,
  clientId,
  name: clientId,
  secretHash: hash,
  roles: ['contributor'],
  status: 'active',
  createdAt: '2025-01-01T00:00:00.000Z',
  createdBy: 'platform:test',
  ...extra,
});

const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

beforeAll(async () => {
  hash = await hashSecret(SECRET);
});

beforeEach(async () => {
  clients = new InMemoryClientRepository();
  await clients.put(record(TENANT_A, ACTIVE), true);
  await clients.put(record(TENANT_A, DISABLED, { status: 'disabled' }), true);
  await clients.put(record('platform', PLATFORM, { roles: [] }), true);
  signer = new FakeTokenSigner();
  auth = new Authentication(clients, new TokenIssuer(signer, new ManualClock(), { issuer: 'https://iss', audience: 'aud' }));
  clients.calls.get = 0;
  scryptCalls.count = 0;
});

describe('Authentication.clientCredentials', () => {
  it('issues a tenant token for an active client with the right secret', async () => {
    const response = await auth.clientCredentials(ACTIVE, SECRET);
    expect(response.token_type).toBe('Bearer');
    expect(payloadOf(response.access_token)).toMatchObject({ sub: ACTIVE, tid: TENANT_A, ptype: 'client', roles: ['contributor'] });
    expect(clients.calls.get).toBe(1);
    expect(scryptCalls.count).toBe(1);
  });

  it('issues a platform token, with no tenant, for a platform client', async () => {
    const payload = payloadOf((await auth.clientCredentials(PLATFORM, SECRET)).access_token);
    expect(payload).toMatchObject({ sub: PLATFORM, ptype: 'platform', roles: [] });
    expect(payload).not.toHaveProperty('tid');
  });

  it('finds a client only under the scope its id names: the same suffix under another tenant is unknown', async () => {
    const spoofed = ACTIVE.replace(TENANT_A, TENANT_B);
    await expect(auth.clientCredentials(spoofed, SECRET)).rejects.toThrow(GENERIC);
    await clients.put(record(TENANT_B, spoofed, { roles: ['viewer'] }), true);
    expect(payloadOf((await auth.clientCredentials(spoofed, SECRET)).access_token)).toMatchObject({ tid: TENANT_B, roles: ['viewer'] });
  });

  it('uses well-formed client ids in these tests', () => {
    for (const id of [ACTIVE, DISABLED, PLATFORM, UNKNOWN]) expect(id).toMatch(CLIENT_ID);
  });

  it.each([
    ['a wrong secret', ACTIVE, 'cs_wrong'],
    ['an empty secret', ACTIVE, ''],
    ['a disabled client with the right secret', DISABLED, SECRET],
    ['a disabled client with a wrong secret', DISABLED, 'cs_wrong'],
    ['an unknown client of a real tenant', UNKNOWN, SECRET],
    ['an unknown tenant', ACTIVE.replace(TENANT_A, 'ten_cccccccccccccccccccc'), SECRET],
    ['a malformed client id', 'not-a-client-id', SECRET],
    ['an empty client id', '', SECRET],
  ])('refuses %s with the one generic 401, after one scrypt and no token', async (_name, clientId, secret) => {
    const error = await auth.clientCredentials(clientId, secret).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect((error as InstanceType<typeof UnauthenticatedError>).code).toBe('unauthenticated');
    expect((error as Error).message).toBe(GENERIC);
    expect(scryptCalls.count).toBe(1);
    expect(signer.signed).toHaveLength(0);
  });

  it('gives a disabled client, an unknown client and a wrong secret indistinguishable errors', async () => {
    const seen = await Promise.all(
      [
        auth.clientCredentials(ACTIVE, 'cs_wrong'),
        auth.clientCredentials(DISABLED, SECRET),
        auth.clientCredentials(UNKNOWN, SECRET),
      ].map((p) =>
        p.then(
          () => 'resolved',
          (e: InstanceType<typeof UnauthenticatedError>) => JSON.stringify({ name: e.name, code: e.code, detail: e.detail, message: e.message }),
        ),
      ),
    );
    expect(new Set(seen).size).toBe(1);
    expect(seen[0]).toBe(JSON.stringify({ name: 'UnauthenticatedError', code: 'unauthenticated', detail: GENERIC, message: GENERIC }));
  });
});
