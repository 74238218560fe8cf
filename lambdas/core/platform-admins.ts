import type { MutationAudit } from '../ports/audit-log';
import type { Clock } from '../ports/clock';
import type { ClientRecord, PlatformClientStore } from '../ports/tenant-repository';
import { hashSecret, newClientSecret } from './credentials';
import { NotFoundError } from './errors';
import { newClientId } from './ids';
import { describePrincipal, type PlatformPrincipal } from './principal';

// The platform admins' API clients, managed by an operator holding AWS credentials for the
// table (`npm run platform-admin`): how a freshly deployed stage gets its first admin, and
// how an admin's credentials are added or withdrawn without any admin token. Every change is
// recorded on the platform chain in the same transaction, naming the operator's AWS identity.

/** What a listing shows of a platform client: never its secret hash. */
export type PlatformAdminView = Omit<ClientRecord, 'secretHash' | 'failedAttempts' | 'lockedUntil'>;

export interface CreatedPlatformAdmin {
  readonly admin: PlatformAdminView;
  /** Shown once: only its hash is stored. */
  readonly clientSecret: string;
}

export class PlatformAdmins {
  constructor(private readonly deps: { readonly clients: PlatformClientStore; readonly clock: Clock }) {}

  async create(operator: PlatformPrincipal, name: string, audit: MutationAudit): Promise<CreatedPlatformAdmin> {
    const at = new Date(this.deps.clock.now()).toISOString();
    const by = describePrincipal(operator);
    const clientSecret = newClientSecret();
    const client: ClientRecord = {
      scope: 'platform',
      clientId: newClientId('platform'),
      name,
      secretHash: await hashSecret(clientSecret),
      roles: [],
      status: 'active',
      generation: 1,
      rev: 1,
      createdAt: at,
      createdBy: by,
      updatedAt: at,
      updatedBy: by,
    };
    await this.deps.clients.savePlatformClient(client, undefined, audit.pending(201, { clientId: client.clientId, name }));
    return { admin: view(client), clientSecret };
  }

  async list(): Promise<PlatformAdminView[]> {
    const clients = await this.deps.clients.listPlatformClients();
    return clients.map(view).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /**
   * Withdraws an admin's credentials: its secret stops working, and so does every token it
   * was issued (the generation moves on; the authorizer re-reads the record on each check).
   */
  async disable(operator: PlatformPrincipal, clientId: string, audit: MutationAudit): Promise<{ admin: PlatformAdminView; changed: boolean }> {
    const client = await this.deps.clients.getPlatformClient(clientId);
    if (!client) throw new NotFoundError(`No platform admin client '${clientId}'.`);
    if (client.status === 'disabled') return { admin: view(client), changed: false };
    const at = new Date(this.deps.clock.now()).toISOString();
    const next: ClientRecord = {
      ...client,
      status: 'disabled',
      generation: (client.generation ?? 1) + 1,
      rev: (client.rev ?? 1) + 1,
      updatedAt: at,
      updatedBy: describePrincipal(operator),
    };
    await this.deps.clients.savePlatformClient(next, client.rev ?? 1, audit.pending(200, { clientId }));
    return { admin: view(next), changed: true };
  }
}

function view(client: ClientRecord): PlatformAdminView {
  const { secretHash: _hash, failedAttempts: _failed, lockedUntil: _locked, ...shown } = client;
  return shown;
}
