import type { MutationAudit } from '../../ports/audit-log';
import type { Clock } from '../../ports/clock';
import type {
  ClaimBinding,
  GroupRecord,
  IamBindingRecord,
  IdentityKind,
  IdentityRecords,
  IdentityStore,
  IssuerRecord,
  OwnerDelta,
  PolicyRecord,
  UserRecord,
} from '../../ports/identity';
import type { Page, PageRequest } from '../../ports/page';
import type { ClientRecord } from '../../ports/tenant-repository';
import { AccessEvaluator, ROLE_OPERATIONS, selectorMatches, type AccessEntry, type AccessPolicy, type AccessRules, type PrincipalShape } from '../access/policy';
import { Safelist } from '../access/network';
import { hashSecret, newClientSecret, verifySecret } from '../credentials';
import { ConflictError, ForbiddenError, InvalidRequestError, NotFoundError, UnauthenticatedError } from '../errors';
import { newClientId } from '../ids';
import { authorizeIdentityAdmin } from '../policy';
import { describePrincipal, type Principal, type Role, type TenantPrincipal, type TenantPrincipalType } from '../principal';
import { MAX_IAM_BINDINGS, MAX_ISSUERS, MAX_POLICIES } from './names';
import { assertMayAssign, assertMayManage, effectiveRoles } from './roles';
import { acceptedStep, newTotpSecret, otpauthUri, type TotpSeeds } from './totp';
import { isLocked } from './lockout';
import { claimPasswordAttempt, failClientSecret, failPasswordAttempt } from './attempts';
import { wildcardsOverlap } from '../wildcard';

export interface IdentityAdminDeps {
  readonly store: IdentityStore;
  readonly clock: Clock;
  readonly totp: TotpSeeds;
}

/**
 * The caller and this request: who acts, from where, the event the change commits with, and
 * the tenant's access rules as this request read them (the access gate's read, shared).
 * Routes reach the core only after the gate admitted the caller: a tenant principal from
 * inside its tenant's network safelist, except whoami and logout (any verified principal).
 */
export interface CallerRequest<P extends Principal> {
  readonly principal: P;
  readonly sourceIp: string;
  readonly audit?: MutationAudit;
  readonly rules: () => Promise<AccessRules>;
}
export type AdminRequest = CallerRequest<TenantPrincipal>;

export interface UserInput {
  readonly username: string;
  readonly password: string;
  readonly displayName?: string;
  readonly roles: readonly Role[];
  readonly groups: readonly string[];
}

export interface UserChanges {
  readonly displayName?: string;
  readonly roles?: readonly Role[];
  readonly groups?: readonly string[];
  readonly status?: 'active' | 'disabled';
}

export interface ClientInput {
  readonly name: string;
  readonly description?: string;
  readonly roles: readonly Role[];
  readonly groups: readonly string[];
}

export type ClientChanges = Partial<Pick<ClientRecord, 'description' | 'roles' | 'groups' | 'status'>>;

export type GroupInput = Pick<GroupRecord, 'description' | 'roles'>;
export type PolicyInput = Omit<AccessPolicy, 'name'>;
export type IssuerInput = Pick<IssuerRecord, 'issuer' | 'jwksUri' | 'audiences' | 'bindings' | 'status'>;
export type IamBindingInput = Pick<IamBindingRecord, 'arnPattern' | 'roles' | 'groups' | 'status'>;

const directOwner = (r: { roles: readonly Role[]; status: string } | undefined) => (r && r.status === 'active' && r.roles.includes('owner') ? 1 : 0);
const ownerDelta = (before: Parameters<typeof directOwner>[0], after: Parameters<typeof directOwner>[0]) => (directOwner(after) - directOwner(before)) as OwnerDelta;

/**
 * Users, clients, groups, policies, trusted issuers, IAM bindings and the network
 * safelist of one tenant — always the caller's own. Owners and Admins manage identities;
 * policies are managed by whoever holds `grant` on their paths. Nobody hands out more than
 * they hold, nobody acts on someone who holds more, and the last Owner cannot go.
 */
export class IdentityAdmin {
  constructor(private readonly deps: IdentityAdminDeps) {}

  // ---- users -------------------------------------------------------------------------

  async listUsers(req: AdminRequest, page: PageRequest): Promise<Page<UserView>> {
    const actor = await this.admin(req);
    const result = await this.deps.store.list(actor.tenantId, 'user', page);
    return { ...result, items: result.items.map((u) => this.userView(u)) };
  }

  async getUser(req: AdminRequest, username: string): Promise<UserView> {
    const actor = await this.selfOrAdmin(req, 'user', username);
    return this.userView(await this.mustGet(actor.tenantId, 'user', username));
  }

  async createUser(req: AdminRequest, input: UserInput): Promise<UserView> {
    const actor = await this.admin(req);
    await this.assertMayEmpowerPrincipal(actor, 'user', [input.username], input.roles, input.groups, req, 'grant', input.groups);
    assertPasswordAcceptable(input.password, input.username);
    const stamp = this.stamp(actor);
    const user: UserRecord = {
      tenantId: actor.tenantId,
      username: input.username,
      ...(input.displayName ? { displayName: input.displayName } : {}),
      passwordHash: await hashSecret(input.password),
      roles: input.roles,
      groups: input.groups,
      status: 'active',
      generation: this.nextGeneration(undefined),
      ...stamp,
    };
    await this.deps.store.save(actor.tenantId, 'user', user, undefined, ownerDelta(undefined, user), req.audit?.pending(201, { username: user.username }));
    return this.userView(user);
  }

  async updateUser(req: AdminRequest, username: string, changes: UserChanges): Promise<UserView> {
    const actor = await this.admin(req);
    const user = await this.mustGet(actor.tenantId, 'user', username);
    assertMayManage(actor, user.roles);
    if (empowers(changes)) {
      const { roles = user.roles, groups = user.groups } = changes;
      await this.assertMayEmpowerPrincipal(actor, 'user', [username], roles, groups, req, 'grant', addedGroups(user.groups, changes.groups));
    }
    const disabling = changes.status === 'disabled' && user.status !== 'disabled';
    const next: UserRecord = {
      ...user,
      ...changes,
      // Disabling ends every token and session at once; so do losing a role and joining a
      // group (whose denies must bind at once, not at the next login).
      generation: disabling || lostRoles(user.roles, changes.roles) || addedGroups(user.groups, changes.groups).length ? this.nextGeneration(user) : user.generation,
      ...this.bump(user, actor),
    };
    await this.deps.store.save(actor.tenantId, 'user', next, user.rev, ownerDelta(user, next), req.audit?.pending(200, { username }));
    return this.userView(next);
  }

  async deleteUser(req: AdminRequest, username: string): Promise<void> {
    const actor = await this.admin(req);
    const user = await this.mustGet(actor.tenantId, 'user', username);
    assertMayManage(actor, user.roles);
    await this.deps.store.remove(actor.tenantId, 'user', username, user.rev, ownerDelta(user, undefined), req.audit?.pending(204, { username }));
  }

  /**
   * A user changes their own password (the current one is required) or an Owner/Admin
   * resets someone's. Either way every token and session of the user ends, and a lockout
   * is lifted.
   */
  async setPassword(req: AdminRequest, username: string, input: { currentPassword?: string; newPassword: string }): Promise<void> {
    const self = isSelf(req.principal, 'user', username);
    const actor = self ? req.principal : await this.admin(req);
    let user = await this.mustGet(actor.tenantId, 'user', username);
    // Before any attempt is counted: a refused new password must not cost a try.
    assertPasswordAcceptable(input.newPassword, username, 'body.newPassword');
    if (self) {
      if (input.currentPassword === undefined) throw new InvalidRequestError('Send your current password to change it.', [{ field: 'currentPassword', message: 'required' }]);
      await this.checkOwnPassword(user, input.currentPassword);
      user = await this.mustGet(actor.tenantId, 'user', username); // the claimed attempt moved its rev
    } else {
      // A reset hands the actor the user's access: it must hold all of it itself.
      assertMayManage(actor, user.roles);
      await this.assertMayEmpowerPrincipal(actor, 'user', [username], user.roles, user.groups, req, 'takeover');
    }
    const { lockedUntil: _lock, ...rest } = user;
    const next: UserRecord = {
      ...rest,
      passwordHash: await hashSecret(input.newPassword),
      generation: this.nextGeneration(user),
      failedAttempts: 0,
      ...this.bump(user, actor),
    };
    await this.deps.store.save(actor.tenantId, 'user', next, user.rev, 0, req.audit?.pending(204, { username, reset: !self }));
  }

  /** Starts TOTP enrolment for yourself: the seed is shown once, sealed at rest. */
  async enrolTotp(req: AdminRequest, username: string, tenantName: string): Promise<{ secret: string; otpauthUri: string }> {
    const actor = await this.selfOnly(req, username);
    const user = await this.mustGet(actor.tenantId, 'user', username);
    if (user.totp?.status === 'enabled') throw new ConflictError('TOTP is already enabled; disable it first to enrol a new device.');
    const secret = newTotpSecret();
    const next: UserRecord = {
      ...user,
      totp: { status: 'pending', sealedSecret: await this.deps.totp.seal(actor.tenantId, username, secret), lastStep: 0 },
      ...this.bump(user, actor),
    };
    await this.deps.store.save(actor.tenantId, 'user', next, user.rev, 0, req.audit?.pending(201, { username }));
    return { secret, otpauthUri: otpauthUri(tenantName, username, secret) };
  }

  /** Confirms enrolment with a code from the device; from then on every login needs one. */
  async confirmTotp(req: AdminRequest, username: string, code: string): Promise<void> {
    const actor = await this.selfOnly(req, username);
    const user = await this.mustGet(actor.tenantId, 'user', username);
    if (user.totp?.status !== 'pending') throw new ConflictError('There is no pending TOTP enrolment; start one first.');
    const secret = await this.deps.totp.open(actor.tenantId, username, user.totp.sealedSecret);
    const step = acceptedStep(secret, code, this.deps.clock.now(), user.totp.lastStep);
    if (step === undefined) throw new InvalidRequestError('The code does not match; check the device clock and try the next code.', [{ field: 'otp', message: 'wrong code' }]);
    // Sessions opened before the second factor (perhaps with a stolen password) end here.
    const next: UserRecord = { ...user, totp: { ...user.totp, status: 'enabled', lastStep: step }, generation: this.nextGeneration(user), ...this.bump(user, actor) };
    await this.deps.store.save(actor.tenantId, 'user', next, user.rev, 0, req.audit?.pending(204, { username }));
  }

  /** Yourself, or an Owner/Admin for a user who lost the device. */
  async disableTotp(req: AdminRequest, username: string): Promise<void> {
    const actor = await this.selfOrAdmin(req, 'user', username);
    const user = await this.mustGet(actor.tenantId, 'user', username);
    if (!isSelf(req.principal, 'user', username)) {
      assertMayManage(actor, user.roles);
      await this.assertMayEmpowerPrincipal(actor, 'user', [username], user.roles, user.groups, req, 'takeover');
    }
    // Yourself: only from a session that proved the second factor, so a token stolen from
    // a password-only login cannot strip it.
    else if (user.totp?.status === 'enabled' && req.principal.mfa !== true) {
      throw new ForbiddenError('Log in with your one-time code to disable TOTP (or ask an Owner or Admin).');
    }
    if (!user.totp) throw new NotFoundError(`User '${username}' has no TOTP device.`);
    const { totp: _totp, ...rest } = user;
    await this.deps.store.save(actor.tenantId, 'user', { ...rest, ...this.bump(user, actor) }, user.rev, 0, req.audit?.pending(204, { username }));
  }

  // ---- clients -----------------------------------------------------------------------

  async listClients(req: AdminRequest, page: PageRequest): Promise<Page<ClientView>> {
    const actor = await this.admin(req);
    const result = await this.deps.store.list(actor.tenantId, 'client', page);
    return { ...result, items: result.items.map((c) => this.clientView(c)) };
  }

  async getClient(req: AdminRequest, clientId: string): Promise<ClientView> {
    const actor = await this.selfOrAdmin(req, 'client', clientId);
    return this.clientView(await this.mustGet(actor.tenantId, 'client', clientId));
  }

  async createClient(req: AdminRequest, input: ClientInput): Promise<ClientView & { clientSecret: string }> {
    const actor = await this.admin(req);
    const clientId = newClientId(actor.tenantId);
    await this.assertMayEmpowerPrincipal(actor, 'client', [clientId], input.roles, input.groups, req, 'grant', input.groups);
    const clientSecret = newClientSecret();
    const client: ClientRecord = {
      scope: actor.tenantId,
      clientId,
      name: input.name,
      ...(input.description ? { description: input.description } : {}),
      secretHash: await hashSecret(clientSecret),
      roles: input.roles,
      groups: input.groups,
      status: 'active',
      generation: this.nextGeneration(undefined),
      ...this.stamp(actor),
    };
    await this.deps.store.save(actor.tenantId, 'client', client, undefined, ownerDelta(undefined, client), req.audit?.pending(201, { clientId: client.clientId }));
    return { ...this.clientView(client), clientSecret };
  }

  async updateClient(req: AdminRequest, clientId: string, changes: ClientChanges): Promise<ClientView> {
    const actor = await this.admin(req);
    const client = await this.mustGet(actor.tenantId, 'client', clientId);
    assertMayManage(actor, client.roles);
    if (empowers(changes)) {
      const { roles = client.roles, groups = client.groups ?? [] } = changes;
      await this.assertMayEmpowerPrincipal(actor, 'client', [clientId], roles, groups, req, 'grant', addedGroups(client.groups ?? [], changes.groups));
    }
    const disabling = changes.status === 'disabled' && client.status !== 'disabled';
    const next: ClientRecord = {
      ...client,
      ...changes,
      generation:
        disabling || lostRoles(client.roles, changes.roles) || addedGroups(client.groups ?? [], changes.groups).length ? this.nextGeneration(client) : (client.generation ?? 1),
      ...this.bump(client, actor),
    };
    await this.deps.store.save(actor.tenantId, 'client', next, client.rev ?? 1, ownerDelta(client, next), req.audit?.pending(200, { clientId }));
    return this.clientView(next);
  }

  /**
   * A new secret, shown once; the old secret and every token minted with it stop working.
   * A client rotating its own secret proves it still holds the current one, so a stolen
   * access token cannot become a lasting credential.
   */
  async rotateClientSecret(req: AdminRequest, clientId: string, currentSecret?: string): Promise<ClientView & { clientSecret: string }> {
    const actor = await this.selfOrAdmin(req, 'client', clientId);
    const client = await this.mustGet(actor.tenantId, 'client', clientId);
    if (isSelf(req.principal, 'client', clientId)) {
      if (currentSecret === undefined) throw new InvalidRequestError('Send your current secret to rotate it.', [{ field: 'body.currentSecret', message: 'required' }]);
      await this.checkOwnClientSecret(client, currentSecret);
    } else {
      // The new secret hands the actor the client's access: it must hold all of it itself.
      assertMayManage(actor, client.roles);
      await this.assertMayEmpowerPrincipal(actor, 'client', [clientId], client.roles, client.groups ?? [], req, 'takeover');
    }
    const clientSecret = newClientSecret();
    const { lockedUntil: _lock, ...rest } = client;
    const next: ClientRecord = {
      ...rest,
      secretHash: await hashSecret(clientSecret),
      generation: this.nextGeneration(client),
      failedAttempts: 0,
      ...this.bump(client, actor),
    };
    await this.deps.store.save(actor.tenantId, 'client', next, client.rev ?? 1, 0, req.audit?.pending(200, { clientId }));
    return { ...this.clientView(next), clientSecret };
  }

  async deleteClient(req: AdminRequest, clientId: string): Promise<void> {
    const actor = await this.admin(req);
    const client = await this.mustGet(actor.tenantId, 'client', clientId);
    assertMayManage(actor, client.roles);
    await this.deps.store.remove(actor.tenantId, 'client', clientId, client.rev ?? 1, ownerDelta(client, undefined), req.audit?.pending(204, { clientId }));
  }

  // ---- groups, issuers, IAM bindings: named records carrying roles --------------------

  async list<K extends 'group' | 'issuer' | 'iam-binding' | 'policy'>(req: AdminRequest, kind: K, page: PageRequest): Promise<Page<IdentityRecords[K]>> {
    const actor = kind === 'policy' ? await this.policyReader(req) : await this.admin(req);
    return this.deps.store.list(actor.tenantId, kind, page);
  }

  async get<K extends 'group' | 'issuer' | 'iam-binding' | 'policy'>(req: AdminRequest, kind: K, name: string): Promise<IdentityRecords[K]> {
    const actor = kind === 'policy' ? await this.policyReader(req) : await this.admin(req);
    return this.mustGet(actor.tenantId, kind, name);
  }

  async putGroup(req: AdminRequest, name: string, input: GroupInput): Promise<{ record: GroupRecord; created: boolean }> {
    const actor = await this.admin(req);
    assertNoOwnerRole(input.roles, 'A group');
    // Its members get its roles and whatever policies allow `group:<name>` (a recreated
    // group inherits both, and any memberships left from before).
    const evaluator = await this.evaluator(req);
    this.assertMayEmpower(actor, evaluator, [{ idPatterns: [], roles: input.roles, groups: [name] }], req.sourceIp, 'grant');
    return this.putNamed(req, actor, 'group', name, (base) => ({ ...base, name, ...clean(input) }), (old) => {
      assertMayManage(actor, old.roles);
      // A role the group loses takes its members out of the denies aimed at that role.
      const lost = old.roles.filter((role) => !input.roles.includes(role));
      this.assertMayLiftDenies(actor, evaluator, lost.map((role) => `role:${role}`), req.sourceIp);
    });
  }

  async putIssuer(req: AdminRequest, name: string, input: IssuerInput): Promise<{ record: IssuerRecord; created: boolean }> {
    const actor = await this.admin(req);
    assertNoOwnerRole(input.bindings.flatMap((b: ClaimBinding) => b.roles), 'A trusted issuer');
    // Each binding mints principals `federated:<issuer name>:<sub>`, for any sub it admits.
    const named = input.bindings.flatMap((b) => b.groups ?? []);
    const groups = await this.groupsNamed(actor, named, named);
    const shapes = input.bindings.map((b) => shapeOf('federated', [`${name}:*`], b.roles, b.groups ?? [], groups));
    this.assertMayEmpower(actor, await this.evaluator(req), shapes, req.sourceIp, 'grant');
    return this.putNamed(req, actor, 'issuer', name, (base, old) => ({ ...base, name, ...clean(input), generation: this.nextGeneration(old) }), (old) =>
      assertMayManage(actor, old.bindings.flatMap((b) => b.roles)), MAX_ISSUERS);
  }

  async putIamBinding(req: AdminRequest, name: string, input: IamBindingInput): Promise<{ record: IamBindingRecord; created: boolean }> {
    const actor = await this.admin(req);
    assertNoOwnerRole(input.roles, 'An IAM binding');
    await this.assertMayEmpowerPrincipal(actor, 'iam', iamIdPatterns(input.arnPattern), input.roles, input.groups ?? [], req, 'grant', input.groups ?? []);
    return this.putNamed(req, actor, 'iam-binding', name, (base, old) => ({ ...base, name, ...clean(input), generation: this.nextGeneration(old) }), (old) =>
      assertMayManage(actor, old.roles), MAX_IAM_BINDINGS);
  }

  /**
   * Policies: whoever holds `grant` on every path a policy names may write it, and an
   * allow entry may only hand out operations the writer holds on those paths. Owners may
   * always edit policies, so no policy can lock the Owners out.
   */
  async putPolicy(req: AdminRequest, name: string, input: PolicyInput): Promise<{ record: PolicyRecord; created: boolean }> {
    const actor = req.principal;
    const evaluator = await this.evaluator(req);
    this.assertMayGrant(actor, evaluator, input.entries, req.sourceIp);
    return this.putNamed(req, actor, 'policy', name, (base) => ({ ...base, name, ...clean(input) }), (old) =>
      this.assertMayGrant(actor, evaluator, old.entries, req.sourceIp, 'replacing'), MAX_POLICIES);
  }

  async remove(req: AdminRequest, kind: 'group' | 'issuer' | 'iam-binding' | 'policy', name: string): Promise<void> {
    const actor = kind === 'policy' ? await this.policyReader(req) : await this.admin(req);
    const record = await this.mustGet(actor.tenantId, kind, name);
    if (kind === 'policy') {
      const evaluator = await this.evaluator(req);
      this.assertMayGrant(actor, evaluator, (record as PolicyRecord).entries, req.sourceIp, 'replacing');
    } else {
      assertMayManage(actor, rolesOf(record as GroupRecord | IssuerRecord | IamBindingRecord));
      // Deleting a group lifts from its members the denies aimed at it and at its roles.
      if (kind === 'group') {
        const selectors = [`group:${name}`, ...(record as GroupRecord).roles.map((role) => `role:${role}`)];
        this.assertMayLiftDenies(actor, await this.evaluator(req), selectors, req.sourceIp);
      }
    }
    await this.deps.store.remove(actor.tenantId, kind, name, record.rev, 0, req.audit?.pending(204, { name }));
  }

  // ---- network -----------------------------------------------------------------------

  async getNetwork(req: AdminRequest): Promise<{ cidrs: readonly string[]; rev: number }> {
    const actor = await this.admin(req);
    const network = await this.deps.store.getNetwork(actor.tenantId);
    return { cidrs: network?.cidrs ?? [], rev: network?.rev ?? 0 };
  }

  /** The tenant-wide safelist; refused if it would shut out the caller making the change. */
  async putNetwork(req: AdminRequest, cidrs: readonly string[]): Promise<{ cidrs: readonly string[]; rev: number }> {
    const actor = await this.admin(req);
    // An Admin could otherwise fence the Owners out of their own tenant.
    if (!actor.roles.includes('owner')) throw new ForbiddenError('Only Owners can change the network safelist.');
    if (cidrs.length && !new Safelist(cidrs).allows(req.sourceIp)) {
      throw new ConflictError(`The safelist does not include your own address (${req.sourceIp}); you would lock yourself out.`);
    }
    const current = await this.deps.store.getNetwork(actor.tenantId);
    const now = new Date(this.deps.clock.now()).toISOString();
    const record = { tenantId: actor.tenantId, cidrs, rev: (current?.rev ?? 0) + 1, updatedAt: now, updatedBy: describePrincipal(actor) };
    await this.deps.store.saveNetwork(record, current?.rev, req.audit?.pending(200, { cidrs: cidrs.length }));
    return { cidrs, rev: record.rev };
  }

  // ---- self --------------------------------------------------------------------------

  async whoami(req: CallerRequest<Principal>): Promise<WhoAmI> {
    const p = req.principal;
    if (p.kind === 'platform') return { principal: { type: 'platform', id: p.id }, tenantId: null, roles: [], groups: [], authMethod: p.authMethod ?? null, mfa: false, policies: [], network: { cidrs: [], sourceIp: req.sourceIp, allowed: true } };
    const rules: AccessRules = await req.rules();
    const evaluator = new AccessEvaluator(rules);
    return {
      principal: { type: p.type, id: p.id },
      tenantId: p.tenantId,
      roles: p.roles,
      groups: p.groups ?? [],
      authMethod: p.authMethod ?? null,
      mfa: p.mfa === true,
      ...(p.sessionId ? { sessionId: p.sessionId } : {}),
      policies: evaluator.policiesFor(p).map((policy) => ({
        name: policy.name,
        ...(policy.sourceCidrs?.length ? { sourceCidrs: policy.sourceCidrs } : {}),
        entries: policy.entries.filter((e) => e.principals.some((selector) => selectorMatches(selector, p))),
      })),
      network: { cidrs: rules.tenantCidrs, sourceIp: req.sourceIp, allowed: evaluator.insideTenantNetwork(req.sourceIp) },
    };
  }

  /** Ends the caller's session: its tokens stop at the authorizer's next check. */
  async logout(req: CallerRequest<Principal>, tokenExpiresAt: number): Promise<void> {
    const p = req.principal;
    if (!p.sessionId) throw new InvalidRequestError('This token has no session to end.');
    await this.deps.store.revokeSession(p.kind === 'tenant' ? p.tenantId : 'platform', p.sessionId, tokenExpiresAt);
  }

  // ---- helpers -----------------------------------------------------------------------

  private async putNamed<K extends 'group' | 'issuer' | 'iam-binding' | 'policy'>(
    req: AdminRequest,
    actor: TenantPrincipal,
    kind: K,
    name: string,
    build: (base: { tenantId: string } & ReturnType<IdentityAdmin['stamp']>, old: IdentityRecords[K] | undefined) => IdentityRecords[K],
    mayReplace: (old: IdentityRecords[K]) => void | Promise<void>,
    cap?: number,
  ): Promise<{ record: IdentityRecords[K]; created: boolean }> {
    const old = await this.deps.store.get(actor.tenantId, kind, name);
    if (old) await mayReplace(old);
    else if (cap !== undefined && (await this.deps.store.all(actor.tenantId, kind)).length >= cap) {
      throw new ConflictError(`A tenant can have at most ${cap} of these; delete one first.`);
    }
    const base = old
      ? { tenantId: actor.tenantId, ...this.bump(old as never, actor), createdAt: old.createdAt, createdBy: old.createdBy }
      : { tenantId: actor.tenantId, ...this.stamp(actor) };
    const record = build(base as never, old);
    await this.deps.store.save(actor.tenantId, kind, record, old?.rev, 0, req.audit?.pending(old ? 200 : 201, { name }));
    return { record, created: !old };
  }

  /**
   * Writing entries hands out what their allows grant; replacing or removing entries hands
   * back what their denies took away. Either way the writer must hold it. Owners may
   * always rewrite policies (nothing can lock the Owners out), but grant only what they hold.
   */
  private assertMayGrant(actor: TenantPrincipal, evaluator: AccessEvaluator, entries: readonly AccessEntry[], sourceIp: string, mode: 'writing' | 'replacing' = 'writing'): void {
    const owner = actor.roles.includes('owner');
    for (const entry of entries) {
      for (const pattern of entry.paths) {
        if (!owner && !evaluator.holds(actor, 'grant', pattern, sourceIp)) {
          throw new ForbiddenError(`You do not hold 'grant' on '${pattern}'.`);
        }
        if (mode !== 'writing' || entry.effect !== 'allow') continue;
        for (const operation of entry.operations) {
          if (!evaluator.holds(actor, operation, pattern, sourceIp)) {
            throw new ForbiddenError(`You cannot grant '${operation}' on '${pattern}': you do not hold it there yourself.`);
          }
        }
      }
    }
    if (mode === 'replacing') this.assertMayLift(actor, evaluator, entries, sourceIp);
  }

  /** The tenant's policies and safelist, read once per request and shared by its checks. */
  private async evaluator(req: AdminRequest): Promise<AccessEvaluator> {
    return new AccessEvaluator(await req.rules());
  }

  /**
   * The named groups that exist. Those in `mustExist` (the ones a change adds) must; a
   * stale membership of a deleted group just counts for nothing.
   */
  private async groupsNamed(actor: TenantPrincipal, names: readonly string[], mustExist: readonly string[]): Promise<GroupRecord[]> {
    const unique = [...new Set(names)];
    const groups = unique.length ? await this.deps.store.groups(actor.tenantId, unique) : [];
    const missing = mustExist.filter((n) => !groups.some((g) => g.name === n));
    if (missing.length) throw new InvalidRequestError(`No group '${missing[0]}'.`, [{ field: 'groups', message: 'unknown group' }]);
    return groups;
  }

  /** assertMayEmpower for one principal a change creates, edits or hands over. */
  private async assertMayEmpowerPrincipal(
    actor: TenantPrincipal,
    type: TenantPrincipalType,
    idPatterns: readonly string[],
    roles: readonly Role[],
    groupNames: readonly string[],
    req: AdminRequest,
    purpose: 'grant' | 'takeover',
    mustExist: readonly string[] = [],
  ): Promise<void> {
    const groups = await this.groupsNamed(actor, groupNames, mustExist);
    this.assertMayEmpower(actor, await this.evaluator(req), [shapeOf(type, idPatterns, roles, groupNames, groups)], req.sourceIp, purpose);
  }

  /**
   * Nobody hands out more than they hold (CloudTruth's rule), whether by creating or
   * editing a principal (`grant`) or by resetting its credential (`takeover`): no role above
   * the actor's, and nothing the principal could be allowed — by its roles or by any allow
   * entry that may name it — that the actor does not hold itself.
   */
  private assertMayEmpower(actor: TenantPrincipal, evaluator: AccessEvaluator, shapes: readonly PrincipalShape[], sourceIp: string, purpose: 'grant' | 'takeover'): void {
    for (const shape of shapes) {
      if (purpose === 'grant') assertMayAssign(actor, shape.roles);
      const unheld = evaluator.firstUnheld(actor, shape, sourceIp);
      if (!unheld) continue;
      const { operation, path, policy } = unheld;
      if (purpose === 'takeover') {
        throw new ForbiddenError(`You cannot reset the credentials of a principal that may '${operation}' on '${path}': you do not hold it there yourself.`);
      }
      if (policy === undefined) throw new ForbiddenError(`You cannot grant a role that includes '${operation}' everywhere: a policy limits your own '${operation}'.`);
      throw new ForbiddenError(`You cannot give this principal '${operation}' on '${path}' (policy '${policy}'): you do not hold it there yourself.`);
    }
  }

  /** Taking away what deny entries name (a group, a role) lifts those denies. */
  private assertMayLiftDenies(actor: TenantPrincipal, evaluator: AccessEvaluator, selectors: readonly string[], sourceIp: string): void {
    if (selectors.length === 0) return;
    for (const policy of evaluator.rules.policies) {
      this.assertMayLift(actor, evaluator, policy.entries.filter((e) => e.principals.some((p) => selectors.includes(p))), sourceIp, policy.name);
    }
  }

  /**
   * Removing deny entries hands back what they took away: the actor must hold it. Owners
   * may always rewrite policies anyway (nothing can lock the Owners out).
   */
  private assertMayLift(actor: TenantPrincipal, evaluator: AccessEvaluator, entries: readonly AccessEntry[], sourceIp: string, policy?: string): void {
    if (actor.roles.includes('owner')) return;
    for (const entry of entries) {
      if (entry.effect !== 'deny') continue;
      for (const path of entry.paths) {
        for (const operation of entry.operations) {
          if (!evaluator.holds(actor, operation, path, sourceIp)) {
            const from = policy === undefined ? '' : ` (policy '${policy}')`;
            throw new ForbiddenError(`You cannot lift a deny of '${operation}' on '${path}'${from}: you do not hold it there yourself.`);
          }
        }
      }
    }
  }

  /** A user's own password, checked for a change: attempts are claimed first, as at login. */
  private async checkOwnPassword(user: UserRecord, password: string): Promise<void> {
    const now = this.deps.clock.now();
    const attempt = await claimPasswordAttempt(this.deps.store, user, now);
    // A stolen token must not become an unlimited password oracle: failures lock here too.
    const matches = await verifySecret(password, attempt === undefined ? undefined : user.passwordHash);
    if (attempt === undefined || !matches) {
      if (attempt !== undefined) await failPasswordAttempt(this.deps.store, user, attempt, now);
      throw new UnauthenticatedError();
    }
    // The right password ends the streak, as a login does, even if the change then fails.
    await this.deps.store.recordSuccess(user.tenantId, 'user', user.username);
  }

  /** A client's own secret, checked for a rotation; failures count as at login. */
  private async checkOwnClientSecret(client: ClientRecord, secret: string): Promise<void> {
    const now = this.deps.clock.now();
    const locked = isLocked(client, now);
    const matches = await verifySecret(secret, client.secretHash);
    if (locked || !matches) {
      if (!locked) await failClientSecret(this.deps.store, client, now);
      throw new UnauthenticatedError();
    }
  }

  private async mustGet<K extends IdentityKind>(tenantId: string, kind: K, name: string): Promise<IdentityRecords[K]> {
    const record = await this.deps.store.get(tenantId, kind, name);
    if (!record) throw new NotFoundError(`No ${kind} '${name}'.`);
    return record;
  }

  private async selfOrAdmin(req: AdminRequest, kind: 'user' | 'client', id: string): Promise<TenantPrincipal> {
    return isSelf(req.principal, kind, id) ? req.principal : this.admin(req);
  }

  private async selfOnly(req: AdminRequest, username: string): Promise<TenantPrincipal> {
    if (!isSelf(req.principal, 'user', username)) throw new ForbiddenError('Only the user can enrol or confirm their own TOTP device.');
    return req.principal;
  }

  /** An Owner or Admin (the gate already kept out other kinds and other networks). */
  private async admin(req: AdminRequest): Promise<TenantPrincipal> {
    return authorizeIdentityAdmin(req.principal);
  }

  /**
   * Policies name principals and paths: Owners, Admins and whoever may grant somewhere
   * read them; nobody else learns who may do what.
   */
  private async policyReader(req: AdminRequest): Promise<TenantPrincipal> {
    const actor = req.principal;
    if (actor.roles.includes('owner') || actor.roles.includes('admin')) return actor;
    const evaluator = await this.evaluator(req);
    if (!evaluator.mayAnywhere(actor, 'grant', req.sourceIp)) throw new ForbiddenError('Only Owners, Admins and holders of grant can read policies.');
    return actor;
  }

  /** Generations only grow, across deletes too: a recreated name never revives old tokens. */
  private nextGeneration(old: { generation?: number } | undefined): number {
    return Math.max((old?.generation ?? 0) + 1, this.deps.clock.now());
  }

  private stamp(actor: TenantPrincipal) {
    const at = new Date(this.deps.clock.now()).toISOString();
    const by = describePrincipal(actor);
    return { rev: 1, createdAt: at, createdBy: by, updatedAt: at, updatedBy: by };
  }

  private bump(record: { rev?: number }, actor: TenantPrincipal) {
    return { rev: (record.rev ?? 1) + 1, updatedAt: new Date(this.deps.clock.now()).toISOString(), updatedBy: describePrincipal(actor) };
  }

  private userView(u: UserRecord): UserView {
    const now = this.deps.clock.now();
    return {
      username: u.username,
      ...(u.displayName ? { displayName: u.displayName } : {}),
      roles: u.roles,
      groups: u.groups,
      status: u.status,
      mfa: u.totp?.status ?? 'off',
      locked: isLocked(u, now),
      rev: u.rev,
      createdAt: u.createdAt,
      createdBy: u.createdBy,
      updatedAt: u.updatedAt,
      updatedBy: u.updatedBy,
    };
  }

  private clientView(c: ClientRecord): ClientView {
    return {
      clientId: c.clientId,
      name: c.name,
      ...(c.description ? { description: c.description } : {}),
      roles: c.roles,
      groups: c.groups ?? [],
      status: c.status,
      locked: isLocked(c, this.deps.clock.now()),
      rev: c.rev ?? 1,
      createdAt: c.createdAt,
      createdBy: c.createdBy,
      ...(c.updatedAt ? { updatedAt: c.updatedAt, updatedBy: c.updatedBy } : {}),
    };
  }
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

export interface ClientView {
  readonly clientId: string;
  readonly name: string;
  readonly description?: string;
  readonly roles: readonly Role[];
  readonly groups: readonly string[];
  readonly status: 'active' | 'disabled';
  readonly locked: boolean;
  readonly rev: number;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly updatedAt?: string;
  readonly updatedBy?: string | undefined;
}

export interface WhoAmI {
  readonly principal: { readonly type: string; readonly id: string };
  readonly tenantId: string | null;
  readonly roles: readonly Role[];
  readonly groups: readonly string[];
  readonly authMethod: string | null;
  readonly mfa: boolean;
  readonly sessionId?: string;
  readonly policies: readonly { name: string; sourceCidrs?: readonly string[]; entries: readonly AccessEntry[] }[];
  readonly network: { readonly cidrs: readonly string[]; readonly sourceIp: string; readonly allowed: boolean };
}

function isSelf(principal: Principal, kind: 'user' | 'client', id: string): boolean {
  return principal.kind === 'tenant' && principal.type === kind && principal.id === id;
}

function lostRoles(before: readonly Role[], after: readonly Role[] | undefined): boolean {
  return after !== undefined && before.some((role) => !after.includes(role));
}

/** A principal as the grant bound sees it: its own roles and those of the groups that exist. */
function shapeOf(type: TenantPrincipalType, idPatterns: readonly string[], roles: readonly Role[], groupNames: readonly string[], groups: readonly GroupRecord[]): PrincipalShape {
  const mine = groups.filter((g) => groupNames.includes(g.name));
  return { type, idPatterns, roles: effectiveRoles(roles, mine), groups: mine.map((g) => g.name) };
}

/** Changes that can give a principal more than it has: roles, groups, re-enabling. */
function empowers(changes: { roles?: unknown; groups?: unknown; status?: string }): boolean {
  return changes.roles !== undefined || changes.groups !== undefined || changes.status === 'active';
}

function addedGroups(before: readonly string[], after: readonly string[] | undefined): string[] {
  return after === undefined ? [] : after.filter((g) => !before.includes(g));
}

/**
 * The principal ids an IAM binding may mint: ARNs its pattern matches, and the sessions of
 * roles it matches (`arn:…:sts::<account>:assumed-role/<role>/<session>`, as roleArnOf maps them).
 */
function iamIdPatterns(arnPattern: string): string[] {
  const [, partition, service, , account, ...rest] = arnPattern.split(':');
  const resource = rest.join(':');
  if (service === 'sts' || !wildcardsOverlap(resource, 'role/*')) return [arnPattern];
  const role = resource.startsWith('role/') ? resource.slice('role/'.length) : '*';
  return [arnPattern, `arn:${partition}:sts::${account}:assumed-role/${role}/*`];
}

function rolesOf(record: GroupRecord | IssuerRecord | IamBindingRecord): Role[] {
  return 'bindings' in record ? record.bindings.flatMap((b) => b.roles) : [...record.roles];
}


function assertNoOwnerRole(roles: readonly Role[], what: string): void {
  if (roles.includes('owner')) throw new InvalidRequestError(`${what} cannot carry the Owner role: Owners are users or clients, counted so the last one cannot go.`, [{ field: 'roles', message: 'owner not allowed' }]);
}

export function assertPasswordAcceptable(password: string, username: string, field = 'body.password'): void {
  if (password.length < 12) throw new InvalidRequestError('The password must be at least 12 characters.', [{ field, message: 'too short' }]);
  if (password.toLowerCase().includes(username.toLowerCase())) throw new InvalidRequestError('The password must not contain the username.', [{ field, message: 'contains username' }]);
}

/** Drops keys whose value is undefined, so optional fields are absent rather than null. */
function clean<T extends object>(input: T): T {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as T;
}
