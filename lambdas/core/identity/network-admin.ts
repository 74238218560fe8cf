import type { Clock } from '../../ports/clock';
import type { NetworkStore } from '../../ports/identity';
import { Safelist } from '../access/network';
import { ConflictError, ForbiddenError } from '../errors';
import { describePrincipal } from '../principal';
import { asAdmin, type AdminRequest } from './requests';

export interface NetworkView {
  readonly cidrs: readonly string[];
  readonly rev: number;
}

/** The tenant-wide network safelist: Owners and Admins read it, only Owners change it. */
export class NetworkAdmin {
  constructor(private readonly deps: { readonly network: NetworkStore; readonly clock: Clock }) {}

  async get(req: AdminRequest): Promise<NetworkView> {
    const actor = asAdmin(req);
    const network = await this.deps.network.getNetwork(actor.tenantId);
    return { cidrs: network?.cidrs ?? [], rev: network?.rev ?? 0 };
  }

  /** Refused if it would shut out the caller making the change. */
  async put(req: AdminRequest, cidrs: readonly string[]): Promise<NetworkView> {
    const actor = asAdmin(req);
    // An Admin could otherwise fence the Owners out of their own tenant.
    if (!actor.roles.includes('owner')) throw new ForbiddenError('Only Owners can change the network safelist.');
    if (cidrs.length && !new Safelist(cidrs).allows(req.sourceIp)) {
      throw new ConflictError(`The safelist does not include your own address (${req.sourceIp}); you would lock yourself out.`);
    }
    const current = await this.deps.network.getNetwork(actor.tenantId);
    const now = new Date(this.deps.clock.now()).toISOString();
    const record = { tenantId: actor.tenantId, cidrs, rev: (current?.rev ?? 0) + 1, updatedAt: now, updatedBy: describePrincipal(actor) };
    await this.deps.network.saveNetwork(record, current?.rev, req.audit?.pending(200, { cidrs: cidrs.length }));
    return { cidrs, rev: record.rev };
  }
}
