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
const { LOCKOUT } = await import('../../lambdas/core/identity/lockout');
const { FakeTokenSigner, InMemoryClientRepository, ManualClock, TENANT_A, TENANT_B } = await import('./support/fakes');
const { InMemoryIdentityStore } = await import('./support/identity-store');
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
    const { principal, token } = await auth.clientCredentials(ACTIVE, SECRET);
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
    // A clean login touches no lockout bookkeeping.
    expect(identities.calls.recordFailure + identities.calls.recordSuccess).toBe(0);
  });

  it('issues a platform token, with no tenant, for a platform client', async () => {
    const { principal, token } = await auth.clientCredentials(PLATFORM, SECRET);
    const payload = payloadOf(token.access_token);
    expect(payload).toMatchObject({ sub: PLATFORM, ptype: 'platform', roles: [], amr: ['client_secret'], src: `client:${PLATFORM}`, gen: 1 });
    expect(payload).not.toHaveProperty('tid');
    expect(principal).toEqual({ kind: 'platform', type: 'platform', id: PLATFORM, authMethod: 'client_credentials' });
  });

  it('finds a client only under the scope its id names: the same suffix under another tenant is unknown', async () => {
    const spoofed = ACTIVE.replace(TENANT_A, TENANT_B);
    await expect(auth.clientCredentials(spoofed, SECRET)).rejects.toThrow(GENERIC);
    await clients.put(record(TENANT_B, spoofed, { roles: ['viewer'] }), true);
    expect(payloadOf((await auth.clientCredentials(spoofed, SECRET)).token.access_token)).toMatchObject({ tid: TENANT_B, roles: ['viewer'] });
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

describe('Authentication.clientCredentials: lockout and token facts', () => {
  const failures = () => clients.clients.get(`${TENANT_A}#${ACTIVE}`)!.failedAttempts;
  const lockedUntil = () => clients.clients.get(`${TENANT_A}#${ACTIVE}`)!.lockedUntil;

  it('counts wrong secrets of a tenant client and locks it at the tenth, for one minute', async () => {
    expect(LOCKOUT.client.threshold).toBe(10);
    for (let i = 1; i < 10; i++) {
      await expect(auth.clientCredentials(ACTIVE, 'cs_wrong')).rejects.toThrow(GENERIC);
      expect(failures()).toBe(i);
      expect(lockedUntil()).toBeUndefined();
    }
    await expect(auth.clientCredentials(ACTIVE, 'cs_wrong')).rejects.toThrow(GENERIC);
    expect(failures()).toBe(10);
    expect(lockedUntil()).toBe(clock.now() + 60_000);
  });

  it('refuses even the right secret while locked, without counting it, and lets it in once the lock expires', async () => {
    for (let i = 0; i < 10; i++) await auth.clientCredentials(ACTIVE, 'cs_wrong').catch(() => undefined);
    identities.resetCalls();
    scryptCalls.count = 0;
    await expect(auth.clientCredentials(ACTIVE, SECRET)).rejects.toThrow(GENERIC);
    expect(scryptCalls.count).toBe(1);
    expect(identities.calls.recordFailure).toBe(0);
    expect(failures()).toBe(10);
    expect(signer.signed).toHaveLength(0);

    clock.advance(60_000);
    await expect(auth.clientCredentials(ACTIVE, SECRET)).resolves.toMatchObject({ principal: { id: ACTIVE } });
    expect(identities.calls.recordSuccess).toBe(1);
    expect(failures()).toBe(0);
    expect(lockedUntil()).toBeUndefined();
  });

  it('counts nothing for unknown clients, platform clients or a disabled client with the right secret', async () => {
    await auth.clientCredentials(UNKNOWN, SECRET).catch(() => undefined);
    await auth.clientCredentials(PLATFORM, 'cs_wrong').catch(() => undefined);
    await auth.clientCredentials(DISABLED, SECRET).catch(() => undefined);
    expect(identities.calls.recordFailure).toBe(0);
    await auth.clientCredentials(DISABLED, 'cs_wrong').catch(() => undefined);
    expect(identities.calls.recordFailure).toBe(1);
    expect(clients.clients.get(`${TENANT_A}#${DISABLED}`)!.failedAttempts).toBe(1);
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
    const { principal, token } = await auth.clientCredentials(GROUPED, SECRET);
    expect(principal).toMatchObject({ roles: ['admin', 'viewer'], groups: ['ops'] });
    expect(payloadOf(token.access_token)).toMatchObject({ roles: ['admin', 'viewer'], grp: ['ops'], gen: 3, src: `client:${GROUPED}` });
    expect(identities.calls.groups).toBe(1);
  });
});
