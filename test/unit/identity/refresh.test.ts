import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UnauthenticatedError } from '../../../lambdas/core/errors';
import { parseRefreshToken, REFRESH_WINDOW_MS, refreshTokenHash, SESSION_MAX_MS } from '../../../lambdas/core/identity/refresh-tokens';
import type { SessionRecord, UserRecord } from '../../../lambdas/ports/identity';
import { TENANT_A, TENANT_B } from '../support/fakes';
import { GENERIC, groupRecord, harness, PASSWORD, passwordHash, payloadOf, userRecord } from '../support/identity-fixtures';

const NOW = Date.parse('2026-11-24T12:00:00.000Z');
const HOUR = 3600_000;

let hash: string;
let h: ReturnType<typeof harness>;
let first: string;
let sid: string;

const alice = (): UserRecord => h.identities.peek(TENANT_A, 'user', 'alice')!;
const session = (): SessionRecord => h.identities.peekSession(TENANT_A, sid) as SessionRecord;

async function refusal(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  expect(outcome, 'expected a refusal').toBeDefined();
  expect(outcome).toBeInstanceOf(UnauthenticatedError);
  return outcome!;
}

beforeAll(async () => {
  hash = await passwordHash();
});

beforeEach(async () => {
  h = harness(NOW);
  h.identities.seed(TENANT_A, 'user', userRecord(TENANT_A, 'alice', hash, { roles: ['viewer'], generation: 2 }));
  const { token } = await h.auth.password({ tenant: TENANT_A, username: 'alice', password: PASSWORD });
  first = token.refresh_token!;
  sid = parseRefreshToken(first)!.sessionId;
  h.identities.resetCalls();
  h.signer.signed.length = 0;
});

describe('Authentication.refresh: rotation', () => {
  it('answers a new access token and a new refresh token for the same session', async () => {
    h.clock.advance(HOUR);
    const { principal, token } = await h.auth.refresh(first);
    expect(token.refresh_token).toMatch(/^crt_ten_[a-z2-7]{20}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(token.refresh_token).not.toBe(first);
    expect(parseRefreshToken(token.refresh_token!)).toEqual({ tenantId: TENANT_A, sessionId: sid });
    expect(payloadOf(token.access_token)).toMatchObject({
      sub: 'alice',
      tid: TENANT_A,
      ptype: 'user',
      roles: ['viewer'],
      amr: ['pwd'],
      sid,
      src: 'user:alice',
      gen: 2,
      iat: Math.floor((NOW + HOUR) / 1000),
    });
    expect(principal).toMatchObject({ id: 'alice', sessionId: sid, mfa: false, authMethod: 'password' });
    expect(h.signer.signed).toHaveLength(1);
  });

  it('spends the presented token and slides the window 48 h from now', async () => {
    h.clock.advance(HOUR);
    const { token } = await h.auth.refresh(first);
    expect(session()).toMatchObject({
      currentHash: refreshTokenHash(token.refresh_token!),
      spent: [refreshTokenHash(first)],
      refreshExpiresAt: NOW + HOUR + REFRESH_WINDOW_MS,
      absoluteExpiresAt: NOW + SESSION_MAX_MS,
      revoked: false,
    });
    expect(h.identities.calls.rotateSession).toBe(1);
  });

  it('keeps rotating: each new token works once', async () => {
    let current = first;
    const seen = new Set([first]);
    for (let i = 0; i < 5; i++) {
      h.clock.advance(HOUR);
      current = (await h.auth.refresh(current)).token.refresh_token!;
      seen.add(current);
    }
    expect(seen.size).toBe(6);
    expect(session().spent).toHaveLength(5);
  });

  it('picks up role changes made since the login (roles come from the user record)', async () => {
    h.identities.seed(TENANT_A, 'user', { ...alice(), roles: ['admin'], groups: ['ops'] });
    h.identities.seed(TENANT_A, 'group', groupRecord(TENANT_A, 'ops', ['contributor']));
    const { token } = await h.auth.refresh(first);
    expect(payloadOf(token.access_token)).toMatchObject({ roles: ['admin', 'contributor'], grp: ['ops'] });
  });

  it('never slides past the session’s absolute end, and refuses after it', async () => {
    let current = first;
    // Refresh every 47 h: 15 refreshes reach 705 h of the 720 h maximum.
    for (let i = 0; i < 15; i++) {
      h.clock.advance(47 * HOUR);
      current = (await h.auth.refresh(current)).token.refresh_token!;
    }
    expect(session().refreshExpiresAt).toBe(NOW + SESSION_MAX_MS);
    h.clock.set(NOW + SESSION_MAX_MS - 1);
    current = (await h.auth.refresh(current)).token.refresh_token!;
    h.clock.set(NOW + SESSION_MAX_MS);
    expect((await refusal(h.auth.refresh(current))).message).toBe(GENERIC);
  });
});

describe('Authentication.refresh: replay', () => {
  it('refuses a spent token and revokes the whole session, so the newest token fails too', async () => {
    const second = (await h.auth.refresh(first)).token.refresh_token!;
    const error = await refusal(h.auth.refresh(first));
    // The thief hears the generic answer; only the trail says a copy was caught.
    expect(error.message).toBe(GENERIC);
    expect(error).toMatchObject({ auditReason: 'refresh-reuse' });
    expect(session().revoked).toBe(true);
    expect(h.identities.calls.revokeSession).toBe(1);
    expect((await refusal(h.auth.refresh(second))).message).toBe(GENERIC);
    // Revoked before any rotation: the thief's copy never turned into a new token.
    expect(h.identities.calls.rotateSession).toBe(1);
  });

  it('revokes on the replay of any spent token in the family, not just the last one', async () => {
    const second = (await h.auth.refresh(first)).token.refresh_token!;
    const third = (await h.auth.refresh(second)).token.refresh_token!;
    expect(await refusal(h.auth.refresh(first))).toMatchObject({ message: GENERIC, auditReason: 'refresh-reuse' });
    await refusal(h.auth.refresh(third));
  });

  it('revokes when two uses of the same token race (the loser saw it current)', async () => {
    const [a, b] = await Promise.allSettled([h.auth.refresh(first), h.auth.refresh(first)]);
    expect([a.status, b.status].sort()).toEqual(['fulfilled', 'rejected']);
    const winner = (a.status === 'fulfilled' ? a : (b as PromiseFulfilledResult<Awaited<ReturnType<typeof h.auth.refresh>>>)).value;
    expect(session().revoked).toBe(true);
    await refusal(h.auth.refresh(winner.token.refresh_token!));
  });

  it('does not revoke the session for a forged token that was never issued', async () => {
    const forged = `${first.slice(0, first.lastIndexOf('.') + 1)}${'A'.repeat(43)}`;
    expect(parseRefreshToken(forged)).toEqual({ tenantId: TENANT_A, sessionId: sid });
    expect((await refusal(h.auth.refresh(forged))).message).toBe(GENERIC);
    expect(session().revoked).toBe(false);
    expect(h.identities.calls.revokeSession).toBe(0);
    await expect(h.auth.refresh(first)).resolves.toMatchObject({ principal: { id: 'alice' } });
  });

  it('refuses every token of a session revoked by logout', async () => {
    await h.identities.revokeSession(TENANT_A, sid, session().absoluteExpiresAt);
    expect((await refusal(h.auth.refresh(first))).message).toBe(GENERIC);
  });
});

describe('Authentication.refresh: expiry and revocation by the user record', () => {
  it('accepts the token until just before 48 h of inactivity', async () => {
    h.clock.advance(REFRESH_WINDOW_MS - 1);
    await expect(h.auth.refresh(first)).resolves.toMatchObject({ principal: { id: 'alice' } });
  });

  it('refuses it after 48 h and 1 ms', async () => {
    h.clock.advance(REFRESH_WINDOW_MS + 1);
    expect((await refusal(h.auth.refresh(first))).message).toBe(GENERIC);
    expect(h.identities.calls.rotateSession).toBe(0);
    expect(h.signer.signed).toHaveLength(0);
  });

  it('refuses it once the password changed (user generation bumped)', async () => {
    h.identities.seed(TENANT_A, 'user', { ...alice(), generation: 3 });
    expect((await refusal(h.auth.refresh(first))).message).toBe(GENERIC);
    expect(h.identities.calls.rotateSession).toBe(0);
  });

  it('refuses it once the user is disabled', async () => {
    h.identities.seed(TENANT_A, 'user', { ...alice(), status: 'disabled' });
    await refusal(h.auth.refresh(first));
  });

  it('refuses it once the user is deleted', async () => {
    await h.identities.remove(TENANT_A, 'user', 'alice', alice().rev, 0);
    await refusal(h.auth.refresh(first));
  });
});

describe('Authentication.refresh: malformed tokens', () => {
  const other = () => first.replace(TENANT_A, TENANT_B);

  it.each([
    ['an empty string', () => ''],
    ['garbage', () => 'garbage'],
    ['a client secret', () => `cs_${'a'.repeat(43)}`],
    ['a token without its prefix', () => first.slice(4)],
    ['a token with an extra segment', () => `${first}.x`],
    ['a truncated token', () => first.slice(0, -1)],
    ['a token with a bad tenant id', () => first.replace(TENANT_A, 'ten_AAAAAAAAAAAAAAAAAAAA')],
    ['a token with whitespace', () => ` ${first}`],
  ])('refuses %s without reading the store', async (_name, token) => {
    expect((await refusal(h.auth.refresh(token()))).message).toBe(GENERIC);
    expect(h.identities.calls.getSession).toBe(0);
  });

  it('refuses a token moved to another tenant (no such session there)', async () => {
    expect((await refusal(h.auth.refresh(other()))).message).toBe(GENERIC);
    expect(h.identities.calls.getSession).toBe(1);
  });

  it('refuses a well-formed token for an unknown session', async () => {
    const unknown = first.replace(`.${sid}.`, `.${'b'.repeat(22)}.`);
    expect((await refusal(h.auth.refresh(unknown))).message).toBe(GENERIC);
    expect(h.identities.calls.revokeSession).toBe(0);
  });
});
