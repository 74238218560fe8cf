import type { Clock } from '../ports/clock';
import type { TenantDataKeys } from '../ports/data-keys';
import type { TenantKeyService } from '../ports/key-service';
import type { TenantRepository } from '../ports/tenant-repository';
import { DataKeyCache } from './data-key-cache';
import { InternalError, NotFoundError } from './errors';

// Resolves a tenant's data keys: memory first, then DynamoDB + one KMS Decrypt per key
// version per container per TTL. Concurrent misses for the same key share one unwrap.
export class DataKeyRing {
  private readonly cache: DataKeyCache;
  private readonly currentVersion = new Map<string, { keyVersion: number; expiresAt: number }>();
  private readonly inflight = new Map<string, Promise<Uint8Array>>();

  constructor(
    private readonly tenants: TenantRepository,
    private readonly keys: TenantKeyService,
    private readonly clock: Clock,
    private readonly ttlMs = 5 * 60_000,
  ) {
    this.cache = new DataKeyCache(clock, ttlMs);
  }

  forTenant(tenantId: string): TenantDataKeys {
    return {
      current: async () => {
        const keyVersion = await this.currentKeyVersion(tenantId);
        return { keyVersion, key: await this.get(tenantId, keyVersion) };
      },
      get: (keyVersion) => this.get(tenantId, keyVersion),
    };
  }

  clear(): void {
    this.cache.clear();
    this.currentVersion.clear();
  }

  private async currentKeyVersion(tenantId: string): Promise<number> {
    const cached = this.currentVersion.get(tenantId);
    if (cached && cached.expiresAt > this.clock.now()) return cached.keyVersion;
    const tenant = await this.tenants.getTenant(tenantId);
    if (!tenant) throw new NotFoundError('Tenant not found.');
    this.currentVersion.set(tenantId, { keyVersion: tenant.currentKeyVersion, expiresAt: this.clock.now() + this.ttlMs });
    return tenant.currentKeyVersion;
  }

  /**
   * Every caller gets its own copy (and zeroes it when done): the cache zeroes its buffer on
   * eviction, which may happen while another request is still sealing with the key.
   */
  private async get(tenantId: string, keyVersion: number): Promise<Uint8Array> {
    const hit = this.cache.get(tenantId, keyVersion);
    if (hit) return Uint8Array.from(hit);
    const id = `${tenantId}#${keyVersion}`;
    let pending = this.inflight.get(id);
    if (!pending) {
      pending = this.unwrap(tenantId, keyVersion).finally(() => this.inflight.delete(id));
      this.inflight.set(id, pending);
    }
    return Uint8Array.from(await pending);
  }

  private async unwrap(tenantId: string, keyVersion: number): Promise<Uint8Array> {
    const record = await this.tenants.getDataKey(tenantId, keyVersion);
    if (!record) throw new InternalError(`data key ${keyVersion} of tenant is missing`);
    const plaintext = await this.keys.unwrapDataKey(tenantId, record.wrapped);
    // The cache owns its copy; the in-flight callers copy from this one, which it never zeroes.
    this.cache.put(tenantId, keyVersion, Uint8Array.from(plaintext));
    return plaintext;
  }
}
