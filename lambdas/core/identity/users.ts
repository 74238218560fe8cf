import type { Clock } from '../../ports/clock';
import type { IdentityRecordStore, LoginBookkeeping, UserRecord } from '../../ports/identity';
import type { Page, PageRequest } from '../../ports/page';
import { hashSecret, verifySecret } from '../credentials';
import { ConflictError, ForbiddenError, InvalidRequestError, NotFoundError, UnauthenticatedError } from '../errors';
import type { Role, TenantPrincipal } from '../principal';
import { claimPasswordAttempt, failPasswordAttempt } from './attempts';
import { isLocked } from './lockout';
import { addedGroups, empowers, lostRoles, ownerDelta, RecordKeeper } from './record-keeper';
import { asAdmin, isSelf, selfOrAdmin, type AdminRequest } from './requests';
import { assertMayManage } from './roles';
import { acceptedStep, newTotpSecret, otpauthUri, type TotpSeeds } from './totp';

export interface UserAdminDeps {
  readonly records: IdentityRecordStore;
  /** A user changing their own password: attempts are claimed and counted as at login. */
  readonly logins: LoginBookkeeping;
  readonly clock: Clock;
  readonly totp: TotpSeeds;
}

export interface UserInput {
  readonly username: string;
  readonly password: string;
  readonly displayName?: string | undefined;
  readonly roles: readonly Role[];
  readonly groups: readonly string[];
}

export interface UserChanges {
  readonly displayName?: string | undefined;
  readonly roles?: readonly Role[] | undefined;
  readonly groups?: readonly string[] | undefined;
  readonly status?: 'active' | 'disabled' | undefined;
}

export interface PasswordChange {
  readonly currentPassword?: string | undefined;
  readonly newPassword: string;
}

export interface UserView {
  readonly username: string;
  readonly displayName?: string;
  readonly roles: readonly Role[];
  readonly groups: readonly string[];
  readonly status: 'active' | 'disabled';
  readonly mfa: 'off' | 'pending' | 'enabled';
  readonly locked: boolean;
  readonly rev: number;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

/**
 * A tenant's users, their passwords and TOTP devices. Owners and Admins manage users; a
 * user changes their own password and device. Nobody hands out more than they hold, nobody
 * acts on someone who holds more, and the last Owner cannot go.
 */
export class UserAdmin {
  private readonly keeper: RecordKeeper;

  constructor(private readonly deps: UserAdminDeps) {
    this.keeper = new RecordKeeper(deps.records, deps.clock);
  }

  async list(req: AdminRequest, page: PageRequest): Promise<Page<UserView>> {
    const actor = asAdmin(req);
    const result = await this.deps.records.list(actor.tenantId, 'user', page);
    return { ...result, items: result.items.map((u) => this.view(u)) };
  }

  async get(req: AdminRequest, username: string): Promise<UserView> {
    const actor = selfOrAdmin(req, 'user', username);
    return this.view(await this.keeper.mustGet(actor.tenantId, 'user', username));
  }

  async create(req: AdminRequest, input: UserInput): Promise<UserView> {
    const actor = asAdmin(req);
    await this.keeper.assertMayEmpowerPrincipal(req, actor, { type: 'user', idPatterns: [input.username], roles: input.roles, groups: input.groups }, 'grant', input.groups);
    assertPasswordAcceptable(input.password, input.username);
    const user: UserRecord = {
      tenantId: actor.tenantId,
      username: input.username,
      ...(input.displayName ? { displayName: input.displayName } : {}),
      passwordHash: await hashSecret(input.password),
      roles: input.roles,
      groups: input.groups,
      status: 'active',
      generation: this.keeper.nextGeneration(undefined),
      ...this.keeper.stamp(actor),
    };
    await this.deps.records.save(actor.tenantId, 'user', user, undefined, ownerDelta(undefined, user), req.audit?.pending(201, { username: user.username }));
    return this.view(user);
  }

  async update(req: AdminRequest, username: string, changes: UserChanges): Promise<UserView> {
    const actor = asAdmin(req);
    const user = await this.keeper.mustGet(actor.tenantId, 'user', username);
    assertMayManage(actor, user.roles);
    if (empowers(changes)) {
      const target = { type: 'user' as const, idPatterns: [username], roles: changes.roles ?? user.roles, groups: changes.groups ?? user.groups };
      await this.keeper.assertMayEmpowerPrincipal(req, actor, target, 'grant', addedGroups(user.groups, changes.groups));
    }
    const disabling = changes.status === 'disabled' && user.status !== 'disabled';
    const next: UserRecord = {
      ...user,
      ...(changes.displayName !== undefined ? { displayName: changes.displayName } : {}),
      roles: changes.roles ?? user.roles,
      groups: changes.groups ?? user.groups,
      status: changes.status ?? user.status,
      // Disabling ends every token and session at once; so do losing a role and joining a
      // group (whose denies must bind at once, not at the next login).
      generation: disabling || lostRoles(user.roles, changes.roles) || addedGroups(user.groups, changes.groups).length ? this.keeper.nextGeneration(user) : user.generation,
      ...this.keeper.bump(user, actor),
    };
    await this.deps.records.save(actor.tenantId, 'user', next, user.rev, ownerDelta(user, next), req.audit?.pending(200, { username }));
    return this.view(next);
  }

  async remove(req: AdminRequest, username: string): Promise<void> {
    const actor = asAdmin(req);
    const user = await this.keeper.mustGet(actor.tenantId, 'user', username);
    assertMayManage(actor, user.roles);
    await this.deps.records.remove(actor.tenantId, 'user', username, user.rev, ownerDelta(user, undefined), req.audit?.pending(204, { username }));
  }

  /**
   * A user changes their own password (the current one is required) or an Owner/Admin
   * resets someone's. Either way every token and session of the user ends, and a lockout
   * is lifted.
   */
  async setPassword(req: AdminRequest, username: string, input: PasswordChange): Promise<void> {
    const self = isSelf(req.principal, 'user', username);
    const actor = self ? req.principal : asAdmin(req);
    let user = await this.keeper.mustGet(actor.tenantId, 'user', username);
    // Before any attempt is counted: a refused new password must not cost a try.
    assertPasswordAcceptable(input.newPassword, username, 'body.newPassword');
    if (self) {
      if (input.currentPassword === undefined) throw new InvalidRequestError('Send your current password to change it.', [{ field: 'currentPassword', message: 'required' }]);
      await this.checkOwnPassword(user, input.currentPassword);
      user = await this.keeper.mustGet(actor.tenantId, 'user', username); // the claimed attempt moved its rev
    } else {
      // A reset hands the actor the user's access: it must hold all of it itself.
      assertMayManage(actor, user.roles);
      await this.keeper.assertMayEmpowerPrincipal(req, actor, { type: 'user', idPatterns: [username], roles: user.roles, groups: user.groups }, 'takeover');
    }
    const { lockedUntil: _lock, ...rest } = user;
    const next: UserRecord = {
      ...rest,
      passwordHash: await hashSecret(input.newPassword),
      generation: this.keeper.nextGeneration(user),
      failedAttempts: 0,
      ...this.keeper.bump(user, actor),
    };
    await this.deps.records.save(actor.tenantId, 'user', next, user.rev, 0, req.audit?.pending(204, { username, reset: !self }));
  }

  /** Starts TOTP enrolment for yourself: the seed is shown once, sealed at rest. */
  async enrolTotp(req: AdminRequest, username: string, tenantName: string): Promise<{ secret: string; otpauthUri: string }> {
    const actor = selfOnly(req, username);
    const user = await this.keeper.mustGet(actor.tenantId, 'user', username);
    if (user.totp?.status === 'enabled') throw new ConflictError('TOTP is already enabled; disable it first to enrol a new device.');
    const secret = newTotpSecret();
    const next: UserRecord = {
      ...user,
      totp: { status: 'pending', sealedSecret: await this.deps.totp.seal(actor.tenantId, username, secret), lastStep: 0 },
      ...this.keeper.bump(user, actor),
    };
    await this.deps.records.save(actor.tenantId, 'user', next, user.rev, 0, req.audit?.pending(201, { username }));
    return { secret, otpauthUri: otpauthUri(tenantName, username, secret) };
  }

  /** Confirms enrolment with a code from the device; from then on every login needs one. */
  async confirmTotp(req: AdminRequest, username: string, code: string): Promise<void> {
    const actor = selfOnly(req, username);
    const user = await this.keeper.mustGet(actor.tenantId, 'user', username);
    if (user.totp?.status !== 'pending') throw new ConflictError('There is no pending TOTP enrolment; start one first.');
    const secret = await this.deps.totp.open(actor.tenantId, username, user.totp.sealedSecret);
    const step = acceptedStep(secret, code, this.keeper.now(), user.totp.lastStep);
    if (step === undefined) throw new InvalidRequestError('The code does not match; check the device clock and try the next code.', [{ field: 'otp', message: 'wrong code' }]);
    // Sessions opened before the second factor (perhaps with a stolen password) end here.
    const next: UserRecord = { ...user, totp: { ...user.totp, status: 'enabled', lastStep: step }, generation: this.keeper.nextGeneration(user), ...this.keeper.bump(user, actor) };
    await this.deps.records.save(actor.tenantId, 'user', next, user.rev, 0, req.audit?.pending(204, { username }));
  }

  /** Yourself, or an Owner/Admin for a user who lost the device. */
  async disableTotp(req: AdminRequest, username: string): Promise<void> {
    const actor = selfOrAdmin(req, 'user', username);
    const user = await this.keeper.mustGet(actor.tenantId, 'user', username);
    if (!isSelf(req.principal, 'user', username)) {
      assertMayManage(actor, user.roles);
      await this.keeper.assertMayEmpowerPrincipal(req, actor, { type: 'user', idPatterns: [username], roles: user.roles, groups: user.groups }, 'takeover');
    }
    // Yourself: only from a session that proved the second factor, so a token stolen from
    // a password-only login cannot strip it.
    else if (user.totp?.status === 'enabled' && req.principal.mfa !== true) {
      throw new ForbiddenError('Log in with your one-time code to disable TOTP (or ask an Owner or Admin).');
    }
    if (!user.totp) throw new NotFoundError(`User '${username}' has no TOTP device.`);
    const { totp: _totp, ...rest } = user;
    await this.deps.records.save(actor.tenantId, 'user', { ...rest, ...this.keeper.bump(user, actor) }, user.rev, 0, req.audit?.pending(204, { username }));
  }

  /** A user's own password, checked for a change: attempts are claimed first, as at login. */
  private async checkOwnPassword(user: UserRecord, password: string): Promise<void> {
    const now = this.keeper.now();
    const attempt = await claimPasswordAttempt(this.deps.logins, user, now);
    // A stolen token must not become an unlimited password oracle: failures lock here too.
    const matches = await verifySecret(password, attempt === undefined ? undefined : user.passwordHash);
    if (attempt === undefined || !matches) {
      if (attempt !== undefined) await failPasswordAttempt(this.deps.logins, user, attempt, now);
      throw new UnauthenticatedError();
    }
    // The right password ends the streak, as a login does, even if the change then fails.
    await this.deps.logins.recordSuccess(user.tenantId, 'user', user.username);
  }

  private view(u: UserRecord): UserView {
    return {
      username: u.username,
      ...(u.displayName ? { displayName: u.displayName } : {}),
      roles: u.roles,
      groups: u.groups,
      status: u.status,
      mfa: u.totp?.status ?? 'off',
      locked: isLocked(u, this.keeper.now()),
      rev: u.rev,
      createdAt: u.createdAt,
      createdBy: u.createdBy,
      updatedAt: u.updatedAt,
      updatedBy: u.updatedBy,
    };
  }
}

function selfOnly(req: AdminRequest, username: string): TenantPrincipal {
  if (!isSelf(req.principal, 'user', username)) throw new ForbiddenError('Only the user can enrol or confirm their own TOTP device.');
  return req.principal;
}

export function assertPasswordAcceptable(password: string, username: string, field = 'body.password'): void {
  if (password.length < 12) throw new InvalidRequestError('The password must be at least 12 characters.', [{ field, message: 'too short' }]);
  if (password.toLowerCase().includes(username.toLowerCase())) throw new InvalidRequestError('The password must not contain the username.', [{ field, message: 'contains username' }]);
}
