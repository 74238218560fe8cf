// Builders of identity records and a wired-up Authentication over in-memory fakes, shared
// by the tests in test/unit/identity/.
import { randomBytes } from 'node:crypto';
import { Authentication, type AuthenticationDeps } from '../../../lambdas/core/authentication';
import { hashSecret } from '../../../lambdas/core/credentials';
import { TotpSeeds } from '../../../lambdas/core/identity/totp';
import type { Role } from '../../../lambdas/core/principal';
import { TokenIssuer } from '../../../lambdas/core/tokens';
import type { GroupRecord, IamBindingRecord, IssuerRecord, Stamped, UserRecord } from '../../../lambdas/ports/identity';
import { FakeTokenSigner, InMemoryClientRepository, ManualClock, StaticDataKeys } from './fakes';
import { InMemoryIdentityStore } from './identity-store';

export const GENERIC = 'The credentials are missing, invalid or expired.';
export const PASSWORD = 'correct horse battery staple';

export const stamp = (rev = 1): Stamped => ({
  rev,
  createdAt: '2025-01-01T00:00:00.000Z',
  createdBy: 'user:root',
  updatedAt: '2025-01-01T00:00:00.000Z',
  updatedBy: 'user:root',
});

let cachedHash: Promise<string> | undefined;
/** scrypt of PASSWORD, computed once per file. */
export const passwordHash = (): Promise<string> => (cachedHash ??= hashSecret(PASSWORD));

export function userRecord(tenantId: string, username: string, hash: string, extra: Partial<UserRecord> = {}): UserRecord {
  return { ...stamp(), tenantId, username, passwordHash: hash, roles: ['contributor'], groups: [], status: 'active', generation: 1, ...extra };
}

export function groupRecord(tenantId: string, name: string, roles: readonly Role[]): GroupRecord {
  return { ...stamp(), tenantId, name, roles };
}

export function iamBinding(tenantId: string, name: string, arnPattern: string, roles: readonly Role[], extra: Partial<IamBindingRecord> = {}): IamBindingRecord {
  return { ...stamp(), tenantId, name, arnPattern, roles, status: 'active', generation: 1, ...extra };
}

export function issuerRecord(tenantId: string, name: string, issuer: string, bindings: IssuerRecord['bindings'], extra: Partial<IssuerRecord> = {}): IssuerRecord {
  return {
    ...stamp(),
    tenantId,
    name,
    issuer,
    jwksUri: `${issuer}/.well-known/jwks`,
    audiences: ['coffer'],
    bindings,
    status: 'active',
    generation: 1,
    ...extra,
  };
}

export const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

/** Authentication over fresh fakes; TOTP seeds sealed under one fixed 32-byte data key. */
export function harness(now = Date.parse('2026-11-24T12:00:00.000Z'), extra: Partial<AuthenticationDeps> = {}) {
  const clock = new ManualClock(now);
  const clients = new InMemoryClientRepository();
  const identities = new InMemoryIdentityStore(clients);
  const signer = new FakeTokenSigner();
  const dataKeys = new StaticDataKeys(new Map([[1, Uint8Array.from(randomBytes(32))]]));
  const totp = new TotpSeeds(() => dataKeys);
  const tokens = new TokenIssuer(signer, clock, { issuer: 'https://auth.coffer.test', audience: 'coffer-api' });
  const auth = new Authentication({ clients, records: identities, logins: identities, sessions: identities, tokens, clock, totp, ...extra });
  return { clock, clients, identities, signer, dataKeys, totp, tokens, auth };
}
