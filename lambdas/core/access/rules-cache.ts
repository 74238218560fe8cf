import type { Clock } from '../../ports/clock';
import type { AccessRules } from './policy';

/**
 * A tenant's policies and safelist, reused by a warm container for a few seconds so a
 * read costs no extra DynamoDB call each time. A policy change (a new deny included)
 * applies within that TTL; 0 reads them on every request.
 */
export class AccessRulesCache {
  private readonly entries = new Map<string, { rules: Promise<AccessRules>; at: number }>();

  constructor(private readonly load: (tenantId: string) => Promise<AccessRules>, private readonly ttlMs: number, private readonly clock: Clock) {}

  get(tenantId: string): Promise<AccessRules> {
    const now = this.clock.now();
    const cached = this.entries.get(tenantId);
    if (cached && now - cached.at < this.ttlMs) return cached.rules;
    const rules = this.load(tenantId);
    if (this.ttlMs > 0) {
      if (this.entries.size >= 1000) this.entries.clear();
      this.entries.set(tenantId, { rules, at: now });
      // A failed read is never served from the cache.
      rules.catch(() => this.entries.get(tenantId)?.rules === rules && this.entries.delete(tenantId));
    }
    return rules;
  }
}
