import type { Clock } from '../ports/clock';

// Plain tenant data keys live in memory for a short TTL so a warm read makes no KMS call.
// Bounded in size; evicted keys are zeroed so a heap dump holds as few as possible.
export class DataKeyCache {
  private readonly entries = new Map<string, { key: Buffer; expiresAt: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = 5 * 60_000,
    private readonly maxEntries = 1_000,
  ) {}

  get(tenantId: string, keyVersion: number): Buffer | undefined {
    const id = `${tenantId}#${keyVersion}`;
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.clock.now()) {
      this.evict(id);
      return undefined;
    }
    return entry.key;
  }

  put(tenantId: string, keyVersion: number, key: Uint8Array): void {
    const id = `${tenantId}#${keyVersion}`;
    this.evict(id);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.evict(oldest);
    }
    this.entries.set(id, { key: Buffer.from(key), expiresAt: this.clock.now() + this.ttlMs });
  }

  clear(): void {
    for (const id of [...this.entries.keys()]) this.evict(id);
  }

  private evict(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.key.fill(0);
    this.entries.delete(id);
  }
}
