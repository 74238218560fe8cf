import type { PendingAudit } from './audit-log';
import type { Role } from '../core/principal';
import type { Page, PageRequest } from './page';

export const PLANS = ['free', 'team', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];

/** A region's copy of something wrapped under that region's tenant KMS key. */
export interface RegionalWrap {
  readonly keyArn: string;
  readonly ciphertext: Uint8Array;
}

export interface TenantRecord {
  readonly tenantId: string;
  readonly name: string;
  readonly plan: Plan;
  readonly status: 'active';
  readonly createdAt: string;
  readonly createdBy: string;
  /** The tenant's KMS key in each region. */
  readonly keys: Readonly<Record<string, string>>;
  readonly currentKeyVersion: number;
}

/** A tenant data key, wrapped once per region so the standby never calls the primary. */
export interface DataKeyRecord {
  readonly tenantId: string;
  readonly keyVersion: number;
  readonly createdAt: string;
  readonly wrapped: Readonly<Record<string, RegionalWrap>>;
}

/** 'platform' for the operators of Coffer, else the tenant id. */
export type CredentialScope = string;

export interface ClientRecord {
  readonly scope: CredentialScope;
  readonly clientId: string;
  readonly name: string;
  readonly description?: string;
  readonly secretHash: string;
  readonly roles: readonly Role[];
  readonly groups?: readonly string[];
  readonly status: 'active' | 'disabled';
  /** Bumped on disable and secret rotation: tokens minted before stop working. */
  readonly generation?: number;
  readonly rev?: number;
  readonly failedAttempts?: number;
  /** Epoch ms. */
  readonly lockedUntil?: number;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly updatedAt?: string;
  readonly updatedBy?: string;
}

export interface TenantRepository {
  /** Tenant, first data key and Owner client in one atomic step; ConflictError if present. */
  createTenant(tenant: TenantRecord, dataKey: DataKeyRecord, owner: ClientRecord, audit?: PendingAudit): Promise<void>;
  getTenant(tenantId: string): Promise<TenantRecord | undefined>;
  listTenants(page: PageRequest): Promise<Page<TenantRecord>>;
  getDataKey(tenantId: string, keyVersion: number): Promise<DataKeyRecord | undefined>;
}

export interface ClientRepository {
  get(scope: CredentialScope, clientId: string): Promise<ClientRecord | undefined>;
  /** Creates or replaces; `mustBeNew` refuses to overwrite (ConflictError). */
  put(client: ClientRecord, mustBeNew: boolean): Promise<void>;
}

/** The platform's own API clients (its operators' credentials), managed from the shell. */
export interface PlatformClientStore {
  getPlatformClient(clientId: string): Promise<ClientRecord | undefined>;
  listPlatformClients(): Promise<ClientRecord[]>;
  /**
   * Writes `client` and its audit event in one transaction: new (ConflictError if its id
   * exists) when `expectedRev` is absent, else only over revision `expectedRev`
   * (WriteConflictError when it changed meanwhile).
   */
  savePlatformClient(client: ClientRecord, expectedRev: number | undefined, audit: PendingAudit): Promise<void>;
}
