import { generateSync } from 'otplib';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MfaRequiredError } from '../../../lambdas/core/authentication';
import { UnauthenticatedError } from '../../../lambdas/core/errors';
import { LOCKOUT } from '../../../lambdas/core/identity/lockout';
import { REFRESH_WINDOW_MS, refreshTokenHash, SESSION_MAX_MS } from '../../../lambdas/core/identity/refresh-tokens';
import { acceptedStep, newTotpSecret, TOTP_PERIOD_SECONDS } from '../../../lambdas/core/identity/totp';
import type { UserRecord } from '../../../lambdas/ports/identity';
import { TENANT_A, TENANT_B } from '../support/fakes';
import { GENERIC, groupRecord, harness, PASSWORD, passwordHash, payloadOf, userRecord } from '../support/identity-fixtures';

// 12:00:10 UTC: mid-way through a 30 s TOTP step.
const NOW = Date.parse('2026-11-24T12:00:10.000Z');
const REFRESH_TOKEN = /^crt_(ten_[a-z2-7]{20})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

let hash: string;
let h: ReturnType<typeof harness>;

const login = (password = PASSWORD, extra: { tenant?: string; username?: string; otp?: string } = {}) =>
  h.auth.password({ tenant: TENANT_A, username: 'alice', password, ...extra });

/** The error a promise rejects with (fails the test if it resolves). */
async function refusal(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  expect(outcome, 'expected a refusal').toBeDefined();
  return outcome!;
}

const alice = (): UserRecord => h.identities.peek(TENANT_A, 'user', 'alice')!;

beforeAll(async () => {
  hash = await passwordHash();
});

beforeEach(() => {
  h = harness(NOW);
  h.identities.seed(TENANT_A, 'user', userRecord(TENANT_A, 'alice', hash, { roles: ['viewer'], groups: ['ops'], generation: 4 }));
  h.identities.seed(TENANT_A, 'group', groupRecord(TENANT_A, 'ops', ['contributor']));
  h.identities.resetCalls();
});

describe('Authentication.password: the right password', () => {
  it('answers an access token and a crt_ refresh token naming the tenant and the session', async () => {
    const { principal, token } = await login();
    expect(token.token_type).toBe('Bearer');
    expect(token.expires_in).toBe(3600);
    const match = REFRESH_TOKEN.exec(token.refresh_token ?? '');
    expect(match).not.toBeNull();
    expect(match![1]).toBe(TENANT_A);

    const claims = payloadOf(token.access_token);
    expect(claims).toMatchObject({
      sub: 'alice',
      tid: TENANT_A,
      ptype: 'user',
      roles: ['contributor', 'viewer'],
      grp: ['ops'],
      amr: ['pwd'],
      src: 'user:alice',
      gen: 4,
      sid: match![2],
    });
    expect(principal).toEqual({
      kind: 'tenant',
      tenantId: TENANT_A,
      type: 'user',
      id: 'alice',
      roles: ['contributor', 'viewer'],
      groups: ['ops'],
      authMethod: 'password',
      mfa: false,
      sessionId: match![2],
    });
  });

  it('opens a session holding only the hash of the refresh token, 48 h sliding within 30 days', async () => {
    const { token } = await login();
    const sid = REFRESH_TOKEN.exec(token.refresh_token!)![2]!;
    expect(h.identities.peekSession(TENANT_A, sid)).toEqual({
      tenantId: TENANT_A,
      sessionId: sid,
      username: 'alice',
      currentHash: refreshTokenHash(token.refresh_token!),
      spent: [],
      generation: 4,
      mfa: false,
      createdAt: NOW,
      refreshExpiresAt: NOW + REFRESH_WINDOW_MS,
      absoluteExpiresAt: NOW + SESSION_MAX_MS,
      revoked: false,
    });
    expect(REFRESH_WINDOW_MS).toBe(48 * 3600_000);
    expect(JSON.stringify(h.identities.peekSession(TENANT_A, sid))).not.toContain(token.refresh_token!.split('.')[2]);
  });

  it('gives each login its own session and refresh token', async () => {
    const a = await login();
    const b = await login();
    expect(a.token.refresh_token).not.toBe(b.token.refresh_token);
    expect(payloadOf(a.token.access_token).sid).not.toBe(payloadOf(b.token.access_token).sid);
    expect(h.identities.calls.createSession).toBe(2);
  });

  it('claims the attempt before checking the password, and clears the streak on success', async () => {
    await login();
    expect(h.identities.calls).toMatchObject({ get: 1, reserveAttempt: 1, countSourceFailure: 0, lockUser: 0, recordSuccess: 1, createSession: 1, groups: 1 });
    expect(alice().failedAttempts).toBe(0);
  });
});

describe('Authentication.password: refusals', () => {
  it('refuses a wrong password with the generic 401, counting the failure', async () => {
    const error = await refusal(login('wrong password!'));
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(error).not.toBeInstanceOf(MfaRequiredError);
    expect(error.message).toBe(GENERIC);
    expect(alice().failedAttempts).toBe(1);
    expect(alice().lockedUntil).toBeUndefined();
    expect(h.signer.signed).toHaveLength(0);
    expect(h.identities.calls.createSession).toBe(0);
  });

  it('gives a wrong password, an unknown user and an unknown tenant the same error', async () => {
    const seen = await Promise.all(
      [login('wrong password!'), login(PASSWORD, { username: 'mallory' }), login(PASSWORD, { tenant: TENANT_B })].map(async (p) => {
        const e = (await refusal(p)) as UnauthenticatedError;
        return JSON.stringify({ name: e.name, code: e.code, detail: e.detail, message: e.message });
      }),
    );
    expect(new Set(seen).size).toBe(1);
    expect(seen[0]).toBe(JSON.stringify({ name: 'UnauthenticatedError', code: 'unauthenticated', detail: GENERIC, message: GENERIC }));
  });

  it('spends on an unknown user the same conditional write a known one costs, and says why only to the trail', async () => {
    const unknown = (await refusal(login(PASSWORD, { username: 'mallory' }))) as UnauthenticatedError;
    expect(h.identities.calls).toMatchObject({ get: 1, reserveAttempt: 0, decoyAttempt: 1 });
    h.identities.resetCalls();
    const wrong = (await refusal(login('wrong password!'))) as UnauthenticatedError;
    expect(h.identities.calls).toMatchObject({ get: 1, reserveAttempt: 1, decoyAttempt: 0 });
    expect([unknown.auditReason, wrong.auditReason]).toEqual(['unknown-user', 'bad-password']);
    expect([unknown.message, wrong.message]).toEqual([GENERIC, GENERIC]);
  });

  it('spends the decoy write on a locked user too, so a lock does not reveal the name by timing', async () => {
    h.identities.seed(TENANT_A, 'user', { ...alice(), lockedUntil: NOW + 60_000 });
    h.identities.resetCalls();
    const locked = (await refusal(login())) as UnauthenticatedError;
    expect(h.identities.calls).toMatchObject({ get: 1, reserveAttempt: 0, decoyAttempt: 1 });
    expect(locked).toMatchObject({ message: GENERIC, auditReason: 'locked' });
  });

  it('refuses a disabled user even with the right password, opening no session', async () => {
    h.identities.seed(TENANT_A, 'user', { ...alice(), status: 'disabled' });
    const error = await refusal(login());
    expect(error.message).toBe(GENERIC);
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(error).toMatchObject({ auditReason: 'disabled' });
    expect(h.identities.calls.createSession).toBe(0);
    expect(h.signer.signed).toHaveLength(0);
  });

  it.each([
    ['an upper-case tenant', { tenant: TENANT_A.toUpperCase() }],
    ['a tenant id of the wrong shape', { tenant: 'ten_short' }],
    ['an empty tenant', { tenant: '' }],
    ['an upper-case username', { username: 'Alice' }],
    ['a username with a slash', { username: 'alice/../bob' }],
    ['a username starting with a dot', { username: '.alice' }],
    ['an empty username', { username: '' }],
    ['a 65-character username', { username: 'a'.repeat(65) }],
  ])('refuses %s without reading any user', async (_name, input) => {
    const error = await refusal(login(PASSWORD, input));
    expect(error.message).toBe(GENERIC);
    expect(h.identities.calls.get).toBe(0);
    expect(h.identities.calls.countSourceFailure).toBe(0);
  });
});

describe('Authentication.password: lockout', () => {
  it('locks after five failures: the sixth attempt fails even with the right password', async () => {
    expect(LOCKOUT.user.threshold).toBe(5);
    for (let i = 1; i <= 4; i++) {
      await refusal(login(`wrong-${i}`));
      expect(alice().lockedUntil).toBeUndefined();
    }
    await refusal(login('wrong-5'));
    expect(alice().failedAttempts).toBe(5);
    expect(alice().lockedUntil).toBe(NOW + 60_000);

    h.identities.resetCalls();
    const error = await refusal(login());
    expect(error.message).toBe(GENERIC);
    expect(error).toBeInstanceOf(UnauthenticatedError);
    // A locked attempt is not counted again (the lock does not grow from its own refusals).
    expect(h.identities.calls.countSourceFailure).toBe(0);
    expect(alice().failedAttempts).toBe(5);
    expect(h.signer.signed).toHaveLength(0);
  });

  it('lets the right password in once the lock has expired, and resets the count', async () => {
    for (let i = 1; i <= 5; i++) await refusal(login(`wrong-${i}`));
    h.clock.advance(59_999);
    await refusal(login());
    h.clock.advance(1);
    const { principal } = await login();
    expect(principal.id).toBe('alice');
    expect(alice().failedAttempts).toBe(0);
    expect(alice().lockedUntil).toBeUndefined();
  });

  it('doubles the lock for each failure past the threshold', async () => {
    for (let i = 1; i <= 5; i++) await refusal(login(`wrong-${i}`));
    h.clock.advance(60_000);
    await refusal(login('wrong-6'));
    expect(alice().lockedUntil).toBe(h.clock.now() + 120_000);
    h.clock.advance(120_000);
    await refusal(login('wrong-7'));
    expect(alice().lockedUntil).toBe(h.clock.now() + 240_000);
  });

  it('caps the lock at fifteen minutes', async () => {
    h.identities.seed(TENANT_A, 'user', { ...alice(), failedAttempts: 40, lockedUntil: NOW - 1 });
    await refusal(login('wrong'));
    expect(alice().lockedUntil).toBe(NOW + 15 * 60_000);
  });

  it('lets exactly one attempt through when a lock expires, re-arming the next lock first', async () => {
    h.identities.seed(TENANT_A, 'user', { ...alice(), failedAttempts: 5, lockedUntil: NOW - 1 });
    const results = await Promise.allSettled([login(), login(), login()]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(alice().failedAttempts).toBe(0);
    expect(alice().lockedUntil).toBeUndefined();
  });

  it('repairs a streak left at the threshold without a lock (a lost lock write): locks, and refuses unchecked', async () => {
    h.identities.seed(TENANT_A, 'user', { ...alice(), failedAttempts: 5 });
    await refusal(login());
    expect(alice().lockedUntil ?? 0).toBeGreaterThan(NOW);
  });

  it('forgets earlier failures after a success', async () => {
    for (let i = 1; i <= 4; i++) await refusal(login(`wrong-${i}`));
    await login();
    expect(alice().failedAttempts).toBe(0);
    expect(h.identities.calls.recordSuccess).toBe(1);
    for (let i = 1; i <= 4; i++) await refusal(login(`wrong-again-${i}`));
    expect(alice().lockedUntil).toBeUndefined();
    await expect(login()).resolves.toMatchObject({ principal: { id: 'alice' } });
  });

  // Attempts are claimed before the password is checked: a burst gets the threshold's
  // worth of checks, like a sequence, and the right password inside it is no better off.
  it('checks only five of ten guesses that arrive at once, and is locked after them', async () => {
    const results = await Promise.allSettled([...Array.from({ length: 9 }, (_, i) => login(`wrong-${i}`)), login()]);
    expect(alice().failedAttempts).toBeLessThanOrEqual(5);
    expect(h.identities.calls.reserveAttempt).toBe(10);
    if (results.every((r) => r.status === 'rejected')) expect(alice().lockedUntil ?? 0).toBeGreaterThan(NOW);
  });
});

describe('Authentication.password: TOTP', () => {
  let secret: string;
  const epoch = () => Math.floor(h.clock.now() / 1000);
  const codeAt = (seconds: number) => generateSync({ secret, epoch: seconds });
  const stepAt = (seconds: number) => Math.floor(seconds / TOTP_PERIOD_SECONDS);
  /** A six-digit code that is valid for none of the steps accepted now. */
  const wrongCode = () => {
    const valid = new Set([-1, 0, 1].map((d) => codeAt(epoch() + d * TOTP_PERIOD_SECONDS)));
    let n = 0;
    while (valid.has(String(n).padStart(6, '0'))) n++;
    return String(n).padStart(6, '0');
  };

  beforeEach(async () => {
    secret = newTotpSecret();
    const sealedSecret = await h.totp.seal(TENANT_A, 'alice', secret);
    h.identities.seed(TENANT_A, 'user', { ...alice(), totp: { status: 'enabled', sealedSecret, lastStep: 0 } });
    h.identities.resetCalls();
  });

  it('keeps the seed sealed in the user record, never in clear', () => {
    const stored = JSON.stringify(alice());
    expect(stored).not.toContain(secret);
    expect(alice().totp!.sealedSecret).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it('answers mfa_required after the right password when no code is sent, counting no failure', async () => {
    const error = await refusal(login());
    expect(error).toBeInstanceOf(MfaRequiredError);
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(error.message).toBe('A one-time code (otp) is required for this user.');
    expect(h.identities.calls.countSourceFailure).toBe(0);
    expect(h.identities.calls.createSession).toBe(0);
  });

  it('does not reveal that a code is needed when the password is wrong', async () => {
    const error = await refusal(login('wrong password!'));
    expect(error).not.toBeInstanceOf(MfaRequiredError);
    expect(error.message).toBe(GENERIC);
  });

  it('accepts the current code: amr pwd+otp, an mfa session, and the step claimed', async () => {
    const { principal, token } = await login(PASSWORD, { otp: codeAt(epoch()) });
    expect(payloadOf(token.access_token).amr).toEqual(['pwd', 'otp']);
    expect(principal).toMatchObject({ mfa: true, authMethod: 'password' });
    const sid = REFRESH_TOKEN.exec(token.refresh_token!)![2]!;
    expect(h.identities.peekSession(TENANT_A, sid)).toMatchObject({ mfa: true });
    expect(alice().totp!.lastStep).toBe(stepAt(epoch()));
    expect(h.identities.calls.claimOtpStep).toBe(1);
  });

  it('accepts a code from the step before (clock drift)', async () => {
    const { token } = await login(PASSWORD, { otp: codeAt(epoch() - TOTP_PERIOD_SECONDS) });
    expect(payloadOf(token.access_token).amr).toEqual(['pwd', 'otp']);
    expect(alice().totp!.lastStep).toBe(stepAt(epoch()) - 1);
  });

  it('refuses a wrong code with the generic 401 and counts it as a failure', async () => {
    const error = await refusal(login(PASSWORD, { otp: wrongCode() }));
    expect(error).not.toBeInstanceOf(MfaRequiredError);
    expect(error.message).toBe(GENERIC);
    expect(alice().failedAttempts).toBe(1);
    expect(h.identities.calls.createSession).toBe(0);
  });

  it.each([['12345'], ['1234567'], ['12345a'], [''], [' 123456']])('refuses the malformed code %j as a failure', async (otp) => {
    const error = await refusal(login(PASSWORD, { otp }));
    expect(error.message).toBe(GENERIC);
    expect(alice().failedAttempts).toBe(1);
  });

  it('refuses a code from three steps ago', async () => {
    await refusal(login(PASSWORD, { otp: codeAt(epoch() - 3 * TOTP_PERIOD_SECONDS) }));
    expect(alice().failedAttempts).toBe(1);
  });

  it('refuses the same code a second time in its window, as a failure', async () => {
    const code = codeAt(epoch());
    await login(PASSWORD, { otp: code });
    h.clock.advance(5_000);
    const error = await refusal(login(PASSWORD, { otp: code }));
    expect(error.message).toBe(GENERIC);
    expect(alice().failedAttempts).toBe(1);
    expect(h.identities.calls.createSession).toBe(1);
  });

  it('refuses an older (still in tolerance) code once a newer step was used', async () => {
    await login(PASSWORD, { otp: codeAt(epoch()) });
    await refusal(login(PASSWORD, { otp: codeAt(epoch() - TOTP_PERIOD_SECONDS) }));
    expect(alice().failedAttempts).toBe(1);
  });

  it('accepts the next step’s code after the window moved on', async () => {
    await login(PASSWORD, { otp: codeAt(epoch()) });
    h.clock.advance(TOTP_PERIOD_SECONDS * 1000);
    await expect(login(PASSWORD, { otp: codeAt(epoch()) })).resolves.toMatchObject({ principal: { mfa: true } });
    expect(alice().totp!.lastStep).toBe(stepAt(epoch()));
  });

  it('refuses a code whose step another login claimed after this one read the user', async () => {
    const code = codeAt(epoch());
    const realGet = h.identities.get.bind(h.identities);
    h.identities.get = (async (...args: Parameters<typeof realGet>) => {
      const read = await realGet(...args);
      expect(await h.identities.claimOtpStep(TENANT_A, 'alice', stepAt(epoch()))).toBe(true); // the concurrent login
      return read;
    }) as typeof h.identities.get;
    const error = await refusal(login(PASSWORD, { otp: code }));
    expect(error.message).toBe(GENERIC);
    expect(h.identities.calls.claimOtpStep).toBe(2);
    expect(alice().failedAttempts).toBe(1);
    expect(h.identities.calls.createSession).toBe(0);
  });

  it('locks the user after five wrong codes: then even the right password and code fail', async () => {
    for (let i = 0; i < 5; i++) await refusal(login(PASSWORD, { otp: wrongCode() }));
    expect(alice().lockedUntil).toBe(NOW + 60_000);
    await refusal(login(PASSWORD, { otp: codeAt(epoch()) }));
    expect(alice().totp!.lastStep).toBe(0);
  });

  it('asks for no code while enrolment is pending', async () => {
    h.identities.seed(TENANT_A, 'user', { ...alice(), totp: { ...alice().totp!, status: 'pending' } });
    const { token, principal } = await login();
    expect(payloadOf(token.access_token).amr).toEqual(['pwd']);
    expect(principal).toMatchObject({ mfa: false });
  });
});

describe('acceptedStep', () => {
  const secret = newTotpSecret();
  const nowMs = NOW;
  const step = Math.floor(NOW / 1000 / TOTP_PERIOD_SECONDS);
  const code = (deltaSteps: number) => generateSync({ secret, epoch: Math.floor(NOW / 1000) + deltaSteps * TOTP_PERIOD_SECONDS });

  it('names the step a valid code belongs to, one step of drift either side', () => {
    expect(acceptedStep(secret, code(0), nowMs, 0)).toBe(step);
    expect(acceptedStep(secret, code(-1), nowMs, 0)).toBe(step - 1);
    expect(acceptedStep(secret, code(1), nowMs, 0)).toBe(step + 1);
  });

  it('refuses a step not newer than the last one used', () => {
    expect(acceptedStep(secret, code(0), nowMs, step)).toBeUndefined();
    expect(acceptedStep(secret, code(-1), nowMs, step - 1)).toBeUndefined();
    expect(acceptedStep(secret, code(0), nowMs, step - 1)).toBe(step);
  });

  it('refuses codes two steps away and anything but six digits', () => {
    const near = new Set([code(-1), code(0), code(1)]);
    if (!near.has(code(2))) expect(acceptedStep(secret, code(2), nowMs, 0)).toBeUndefined();
    if (!near.has(code(-2))) expect(acceptedStep(secret, code(-2), nowMs, 0)).toBeUndefined();
    expect(acceptedStep(secret, `${code(0)}0`, nowMs, 0)).toBeUndefined();
    expect(acceptedStep(secret, code(0).slice(1), nowMs, 0)).toBeUndefined();
  });
});
