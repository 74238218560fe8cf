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
const { RateLimitedError, UnauthenticatedError } = await import('../../lambdas/core/errors');
const { CLIENT_ID } = await import('../../lambdas/core/ids');
const { TokenIssuer } = await import('../../lambdas/core/tokens');
const { SOURCE_THROTTLE } = await import('../../lambdas/core/identity/source-throttle');
const { FakeTokenSigner, InMemoryClientRepository, ManualClock, TENANT_A, TENANT_B } = await import('./support/fakes');
const { InMemoryIdentityStore } = await import('./support/identity-store');
type ClientRecord = import('../../lambdas/ports/tenant-repository').ClientRecord;

const ACTIVE = `${TENANT_A}.cli_${'active'.repeat(4).slice(0, 20)}`;
const DISABLED = `${TENANT_A}.cli_${'disabled'.repeat(3).slice(0, 20)}`;
const PLATFORM = `platform.cli_${'platform'.repeat(3).slice(0, 20)}`;
const UNKNOWN = `${TENANT_A}.cli_${'unknown'.repeat(3).slice(0, 20)}`;
const SECRET = 'cs_correct-horse-battery-staple';
const GENERIC = 'The credentials are missing, invalid or expired.';
const IP = '203.0.113.7';

let hash: string;
let clients: InstanceType<typeof InMemoryClientRepository>;
let signer: InstanceType<typeof FakeTokenSigner>;
let identities: InstanceType<typeof InMemoryIdentityStore>;
let clock: InstanceType<typeof ManualClock>;
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
  clock = new ManualClock();
  identities = new InMemoryIdentityStore(clients);
  auth = new Authentication({ clients, records: identities, logins: identities, sessions: identities, clock, tokens: new TokenIssuer(signer, clock, { issuer: 'https://iss', audience: 'aud' }) });
  clients.calls.get = 0;
  scryptCalls.count = 0;
});

describe('Authentication.clientCredentials', () => {
  it('issues a tenant token for an active client with the right secret', async () => {
    const { principal, token } = await auth.clientCredentials(ACTIVE, SECRET, IP);
    expect(token.token_type).toBe('Bearer');
    expect(token).not.toHaveProperty('refresh_token');
    expect(payloadOf(token.access_token)).toMatchObject({
      sub: ACTIVE,
      tid: TENANT_A,
      ptype: 'client',
      roles: ['contributor'],
      grp: [],
      amr: ['client_secret'],
      src: `client:${ACTIVE}`,
      gen: 1,
    });
    expect(principal).toEqual({ kind: 'tenant', tenantId: TENANT_A, type: 'client', id: ACTIVE, roles: ['contributor'], groups: [], authMethod: 'client_credentials' });
    expect(clients.calls.get).toBe(1);
    expect(scryptCalls.count).toBe(1);
    // A clean login writes nothing: it reads the source's failures, alongside the client.
    expect(identities.calls.countSourceFailure + identities.calls.recordSuccess).toBe(0);
    expect(identities.calls.sourceFailures).toBe(1);
  });

  it('issues a platform token, with no tenant, for a platform client', async () => {
    const { principal, token } = await auth.clientCredentials(PLATFORM, SECRET, IP);
    const payload = payloadOf(token.access_token);
    expect(payload).toMatchObject({ sub: PLATFORM, ptype: 'platform', roles: [], amr: ['client_secret'], src: `client:${PLATFORM}`, gen: 1 });
    expect(payload).not.toHaveProperty('tid');
    expect(principal).toEqual({ kind: 'platform', type: 'platform', id: PLATFORM, authMethod: 'client_credentials' });
  });

  it('finds a client only under the scope its id names: the same suffix under another tenant is unknown', async () => {
    const spoofed = ACTIVE.replace(TENANT_A, TENANT_B);
    await expect(auth.clientCredentials(spoofed, SECRET, IP)).rejects.toThrow(GENERIC);
    await clients.put(record(TENANT_B, spoofed, { roles: ['viewer'] }), true);
    expect(payloadOf((await auth.clientCredentials(spoofed, SECRET, IP)).token.access_token)).toMatchObject({ tid: TENANT_B, roles: ['viewer'] });
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
    const error = await auth.clientCredentials(clientId, secret, IP).then(
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
        auth.clientCredentials(ACTIVE, 'cs_wrong', IP),
        auth.clientCredentials(DISABLED, SECRET, IP),
        auth.clientCredentials(UNKNOWN, SECRET, IP),
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

describe('Authentication.clientCredentials: failures throttle the source, never lock the client', () => {
  const wrong = (client = ACTIVE, ip = IP) => auth.clientCredentials(client, 'cs_wrong', ip).catch((e: Error) => e);

  it('lets the right secret in after any number of wrong ones from elsewhere: nobody can lock a client out', async () => {
    for (let i = 0; i < SOURCE_THROTTLE.failures * 2; i++) await wrong(ACTIVE, `198.51.100.${i}`);
    await expect(auth.clientCredentials(ACTIVE, SECRET, IP)).resolves.toMatchObject({ principal: { id: ACTIVE } });
    expect(clients.clients.get(`${TENANT_A}#${ACTIVE}`)).not.toHaveProperty('failedAttempts');
  });

  it(`answers a source 429 after ${SOURCE_THROTTLE.failures} failures in its minute, whatever client it names, until the minute ends`, async () => {
    clock.set(Date.parse('2026-01-01T00:00:10.000Z'));
    for (let i = 0; i < SOURCE_THROTTLE.failures; i++) expect(await wrong(i % 2 ? ACTIVE : UNKNOWN)).toBeInstanceOf(UnauthenticatedError);
    scryptCalls.count = 0;
    const throttled = await auth.clientCredentials(ACTIVE, SECRET, IP).catch((e: Error) => e);
    expect(throttled).toBeInstanceOf(RateLimitedError);
    expect((throttled as InstanceType<typeof RateLimitedError>).retryAfterSeconds).toBe(50);
    expect(scryptCalls.count).toBe(0); // refused before any hash
    expect(signer.signed).toHaveLength(0);
    // Another address is untouched; the next minute starts afresh.
    await expect(auth.clientCredentials(ACTIVE, SECRET, '203.0.113.8')).resolves.toMatchObject({ principal: { id: ACTIVE } });
    clock.advance(50_000);
    await expect(auth.clientCredentials(ACTIVE, SECRET, IP)).resolves.toMatchObject({ principal: { id: ACTIVE } });
  });

  it('does the same work for an unknown, a wrong, a disabled and a platform client: one read each, one hash, one count', async () => {
    for (const client of [UNKNOWN, ACTIVE, DISABLED, PLATFORM]) {
      identities.resetCalls();
      clients.calls.get = 0;
      scryptCalls.count = 0;
      expect(await wrong(client)).toBeInstanceOf(UnauthenticatedError);
      expect({ client, reads: clients.calls.get, hashes: scryptCalls.count, calls: identities.calls }).toMatchObject({
        client,
        reads: 1,
        hashes: 1,
        calls: { sourceFailures: 1, countSourceFailure: 1, recordSuccess: 0 },
      });
    }
    // A disabled client with the right secret is a failure like any other.
    identities.resetCalls();
    await expect(auth.clientCredentials(DISABLED, SECRET, IP)).rejects.toThrow(GENERIC);
    expect(identities.calls.countSourceFailure).toBe(1);
  });

  it("stamps the client's generation and adds its groups' roles", async () => {
    const GROUPED = `${TENANT_A}.cli_${'grouped'.repeat(3).slice(0, 20)}`;
    await clients.put(record(TENANT_A, GROUPED, { roles: ['viewer'], groups: ['ops', 'ghost'], generation: 3 }), true);
    identities.seed(TENANT_A, 'group', {
      tenantId: TENANT_A,
      name: 'ops',
      roles: ['admin'],
      rev: 1,
      createdAt: '2025-01-01T00:00:00.000Z',
      createdBy: 'test',
      updatedAt: '2025-01-01T00:00:00.000Z',
      updatedBy: 'test',
    });
    const { principal, token } = await auth.clientCredentials(GROUPED, SECRET, IP);
    expect(principal).toMatchObject({ roles: ['admin', 'viewer'], groups: ['ops'] });
    expect(payloadOf(token.access_token)).toMatchObject({ roles: ['admin', 'viewer'], grp: ['ops'], gen: 3, src: `client:${GROUPED}` });
    expect(identities.calls.groups).toBe(1);
  });
});
