import type { Clock } from '../../ports/clock';
import type { IdentityRecordStore, LoginBookkeeping } from '../../ports/identity';
import type { Page, PageRequest } from '../../ports/page';
import type { ClientRecord } from '../../ports/tenant-repository';
import { hashSecret, newClientSecret, verifySecret } from '../credentials';
import { InvalidRequestError, UnauthenticatedError } from '../errors';
import { newClientId } from '../ids';
import type { Role } from '../principal';
import { addedGroups, empowers, lostRoles, ownerDelta, RecordKeeper } from './record-keeper';
import { asAdmin, isSelf, selfOrAdmin, type AdminRequest } from './requests';
import { assertMayManage } from './roles';
import { assertSourceNotThrottled, countSourceFailure } from './source-throttle';

export interface ClientAdminDeps {
  readonly records: IdentityRecordStore;
  /** A client rotating its own secret: failures count against its source, as at login. */
  readonly logins: LoginBookkeeping;
  readonly clock: Clock;
}

export interface ClientInput {
  readonly name: string;
  readonly description?: string | undefined;
  readonly roles: readonly Role[];
  readonly groups: readonly string[];
}

export interface ClientChanges {
  readonly description?: string | undefined;
  readonly roles?: readonly Role[] | undefined;
  readonly groups?: readonly string[] | undefined;
  readonly status?: 'active' | 'disabled' | undefined;
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

/** A client and the secret shown once, at creation and at each rotation. */
export type ClientWithSecret = ClientView & { clientSecret: string };

/**
 * A tenant's machine clients. Owners and Admins manage them; a client may read itself and
 * rotate its own secret. The grant bound applies as for users.
 */
export class ClientAdmin {
  private readonly keeper: RecordKeeper;

  constructor(private readonly deps: ClientAdminDeps) {
    this.keeper = new RecordKeeper(deps.records, deps.clock);
  }

  async list(req: AdminRequest, page: PageRequest): Promise<Page<ClientView>> {
    const actor = asAdmin(req);
    const result = await this.deps.records.list(actor.tenantId, 'client', page);
    return { ...result, items: result.items.map((c) => this.view(c)) };
  }

  async get(req: AdminRequest, clientId: string): Promise<ClientView> {
    const actor = selfOrAdmin(req, 'client', clientId);
    return this.view(await this.keeper.mustGet(actor.tenantId, 'client', clientId));
  }

  async create(req: AdminRequest, input: ClientInput): Promise<ClientWithSecret> {
    const actor = asAdmin(req);
    const clientId = newClientId(actor.tenantId);
    await this.keeper.assertMayEmpowerPrincipal(req, actor, { type: 'client', idPatterns: [clientId], roles: input.roles, groups: input.groups }, 'grant', input.groups);
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
      generation: this.keeper.nextGeneration(undefined),
      ...this.keeper.stamp(actor),
    };
    await this.deps.records.save(actor.tenantId, 'client', client, undefined, ownerDelta(undefined, client), req.audit?.pending(201, { clientId: client.clientId }));
    return { ...this.view(client), clientSecret };
  }

  async update(req: AdminRequest, clientId: string, changes: ClientChanges): Promise<ClientView> {
    const actor = asAdmin(req);
    const client = await this.keeper.mustGet(actor.tenantId, 'client', clientId);
    const groups = client.groups ?? [];
    assertMayManage(actor, client.roles);
    if (empowers(changes)) {
      const target = { type: 'client' as const, idPatterns: [clientId], roles: changes.roles ?? client.roles, groups: changes.groups ?? groups };
      await this.keeper.assertMayEmpowerPrincipal(req, actor, target, 'grant', addedGroups(groups, changes.groups));
    }
    const disabling = changes.status === 'disabled' && client.status !== 'disabled';
    const next: ClientRecord = {
      ...client,
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      roles: changes.roles ?? client.roles,
      ...(changes.groups !== undefined ? { groups: changes.groups } : {}),
      status: changes.status ?? client.status,
      // As for users: disabling, losing a role or joining a group ends the tokens minted before.
      generation: disabling || lostRoles(client.roles, changes.roles) || addedGroups(groups, changes.groups).length ? this.keeper.nextGeneration(client) : (client.generation ?? 1),
      ...this.keeper.bump(client, actor),
    };
    await this.deps.records.save(actor.tenantId, 'client', next, client.rev ?? 1, ownerDelta(client, next), req.audit?.pending(200, { clientId }));
    return this.view(next);
  }

  /**
   * A new secret, shown once; the old secret and every token minted with it stop working.
   * A client rotating its own secret proves it still holds the current one, so a stolen
   * access token cannot become a lasting credential.
   */
  async rotateSecret(req: AdminRequest, clientId: string, currentSecret?: string): Promise<ClientWithSecret> {
    const actor = selfOrAdmin(req, 'client', clientId);
    const client = await this.keeper.mustGet(actor.tenantId, 'client', clientId);
    if (isSelf(req.principal, 'client', clientId)) {
      if (currentSecret === undefined) throw new InvalidRequestError('Send your current secret to rotate it.', [{ field: 'body.currentSecret', message: 'required' }]);
      await this.checkOwnSecret(client, currentSecret, req.sourceIp);
    } else {
      // The new secret hands the actor the client's access: it must hold all of it itself.
      assertMayManage(actor, client.roles);
      await this.keeper.assertMayEmpowerPrincipal(req, actor, { type: 'client', idPatterns: [clientId], roles: client.roles, groups: client.groups ?? [] }, 'takeover');
    }
    const clientSecret = newClientSecret();
    const { lockedUntil: _lock, ...rest } = client;
    const next: ClientRecord = {
      ...rest,
      secretHash: await hashSecret(clientSecret),
      generation: this.keeper.nextGeneration(client),
      failedAttempts: 0,
      ...this.keeper.bump(client, actor),
    };
    await this.deps.records.save(actor.tenantId, 'client', next, client.rev ?? 1, 0, req.audit?.pending(200, { clientId }));
    return { ...this.view(next), clientSecret };
  }

  async remove(req: AdminRequest, clientId: string): Promise<void> {
    const actor = asAdmin(req);
    const client = await this.keeper.mustGet(actor.tenantId, 'client', clientId);
    assertMayManage(actor, client.roles);
    await this.deps.records.remove(actor.tenantId, 'client', clientId, client.rev ?? 1, ownerDelta(client, undefined), req.audit?.pending(204, { clientId }));
  }

  /** A client's own secret, checked for a rotation; failures count against the source, as at login. */
  private async checkOwnSecret(client: ClientRecord, secret: string, sourceIp: string): Promise<void> {
    const now = this.keeper.now();
    await assertSourceNotThrottled(this.deps.logins, sourceIp, now);
    if (!(await verifySecret(secret, client.secretHash))) {
      await countSourceFailure(this.deps.logins, sourceIp, now);
      throw new UnauthenticatedError();
    }
  }

  private view(c: ClientRecord): ClientView {
    return {
      clientId: c.clientId,
      name: c.name,
      ...(c.description ? { description: c.description } : {}),
      roles: c.roles,
      groups: c.groups ?? [],
      status: c.status,
      // Clients no longer lock (failures are throttled per source); kept for the API's shape.
      locked: false,
      rev: c.rev ?? 1,
      createdAt: c.createdAt,
      createdBy: c.createdBy,
      ...(c.updatedAt ? { updatedAt: c.updatedAt, updatedBy: c.updatedBy } : {}),
    };
  }
}
