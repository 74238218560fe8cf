import type { MutationAudit } from '../ports/audit-log';
import type { Clock } from '../ports/clock';
import type { TenantKeyService } from '../ports/key-service';
import type { Page, PageRequest } from '../ports/page';
import type { ClientRecord, ClientRepository, Plan, TenantRecord, TenantRepository } from '../ports/tenant-repository';
import { hashSecret, newClientSecret } from './credentials';
import { NotFoundError } from './errors';
import { newClientId, newTenantId } from './ids';
import type { PlatformPrincipal } from './principal';
import { describePrincipal } from './principal';

export interface OnboardedTenant {
  readonly tenant: TenantRecord;
  /** Shown once: only its hash is stored. */
  readonly owner: { readonly clientId: string; readonly clientSecret: string };
}

export interface TenantsDeps {
  readonly tenants: TenantRepository;
  readonly clients: ClientRepository;
  readonly keys: TenantKeyService;
  readonly clock: Clock;
}

export class Tenants {
  constructor(private readonly deps: TenantsDeps) {}

  /** Creates the tenant's KMS keys, its first data key and an Owner API client. */
  async onboard(principal: PlatformPrincipal, input: { name: string; plan?: Plan }, audit?: MutationAudit): Promise<OnboardedTenant> {
    const tenantId = newTenantId();
    const at = new Date(this.deps.clock.now()).toISOString();
    const by = describePrincipal(principal);
    const keys = await this.deps.keys.createTenantKeys(tenantId);
    try {
      const dataKey = await this.deps.keys.generateDataKey(tenantId, keys);
      Buffer.from(dataKey.plaintext.buffer, dataKey.plaintext.byteOffset, dataKey.plaintext.byteLength).fill(0);
      const clientSecret = newClientSecret();
      const owner: ClientRecord = {
        scope: tenantId,
        clientId: newClientId(tenantId),
        name: 'owner',
        secretHash: await hashSecret(clientSecret),
        roles: ['owner'],
        groups: [],
        status: 'active',
        generation: 1,
        rev: 1,
        createdAt: at,
        createdBy: by,
        updatedAt: at,
        updatedBy: by,
      };
      const tenant: TenantRecord = {
        tenantId,
        name: input.name,
        plan: input.plan ?? 'free',
        status: 'active',
        createdAt: at,
        createdBy: by,
        keys,
        currentKeyVersion: 1,
      };
      // The platform's event names the new tenant and its Owner client, never the secret.
      const pending = audit?.pending(201, { tenantId, ownerClientId: owner.clientId });
      await this.deps.tenants.createTenant(tenant, { tenantId, keyVersion: 1, createdAt: at, wrapped: dataKey.wrapped }, owner, pending);
      return { tenant, owner: { clientId: owner.clientId, clientSecret } };
    } catch (error) {
      // The tenant was never created: its keys must not outlive the attempt. If even this
      // fails, the keys stay tagged coffer:tenant with an id no tenant record has.
      await this.deps.keys.discardTenantKeys(tenantId, keys).catch(() => undefined);
      throw error;
    }
  }

  async get(principal: PlatformPrincipal, tenantId: string): Promise<TenantRecord> {
    const tenant = await this.deps.tenants.getTenant(tenantId);
    if (!tenant) throw new NotFoundError(`No tenant '${tenantId}'.`);
    return tenant;
  }

  async list(principal: PlatformPrincipal, page: PageRequest): Promise<Page<TenantRecord>> {
    return this.deps.tenants.listTenants(page);
  }

  /** Idempotent: makes sure a platform admin client with this id and secret exists. */
  async ensurePlatformAdmin(clientId: string, clientSecret: string): Promise<void> {
    const existing = await this.deps.clients.get('platform', clientId);
    if (existing) return;
    await this.deps.clients.put(
      {
        scope: 'platform',
        clientId,
        name: 'platform-admin',
        secretHash: await hashSecret(clientSecret),
        roles: [],
        status: 'active',
        createdAt: new Date(this.deps.clock.now()).toISOString(),
        createdBy: 'bootstrap',
      },
      true,
    );
  }
}
