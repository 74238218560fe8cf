import type { AuditSinkStore } from '../ports/audit-archive';
import type { AuditReader, AuditQueryRequest, MutationAudit } from '../ports/audit-log';
import type { Clock } from '../ports/clock';
import type { Page } from '../ports/page';
import { PLATFORM_CHAIN, type AuditEvent } from './audit';
import type { AuditSink, SinkTarget } from '../ports/audit-archive';
import { MAX_SINKS_PER_TENANT, validateSinkTarget } from './audit-sinks';
import { ConflictError } from './errors';
import { authorizeAuditAdmin, authorizeAuditRead } from './policy';
import type { Principal, TenantPrincipal } from './principal';
import { describePrincipal } from './principal';

export interface AuditTrailDeps {
  readonly reader: AuditReader;
  readonly sinks: AuditSinkStore;
  readonly clock: Clock;
  /** Local collectors on 127.0.0.1 (the local runtime); never in a deployed stage. */
  readonly allowLoopbackSinks: boolean;
}

/** Reading the trail, and where it is forwarded: a caller sees exactly its own chain. */
export class AuditTrail {
  constructor(private readonly deps: AuditTrailDeps) {}

  async query(principal: Principal, request: AuditQueryRequest): Promise<Page<AuditEvent>> {
    authorizeAuditRead(principal);
    return this.deps.reader.query(principal.kind === 'tenant' ? principal.tenantId : PLATFORM_CHAIN, request);
  }

  async listSinks(principal: TenantPrincipal): Promise<AuditSink[]> {
    const { tenantId } = authorizeAuditAdmin(principal);
    return this.deps.sinks.list(tenantId);
  }

  async putSink(principal: TenantPrincipal, name: string, target: SinkTarget, audit?: MutationAudit): Promise<AuditSink> {
    const { tenantId } = authorizeAuditAdmin(principal);
    const checked = validateSinkTarget(target, { allowLoopback: this.deps.allowLoopbackSinks });
    const existing = await this.deps.sinks.list(tenantId);
    if (!existing.some((s) => s.name === name) && existing.length >= MAX_SINKS_PER_TENANT) {
      throw new ConflictError(`A tenant has at most ${MAX_SINKS_PER_TENANT} audit sinks; delete one first.`);
    }
    const at = new Date(this.deps.clock.now()).toISOString();
    return this.deps.sinks.put(
      { tenantId, name, target: checked, createdAt: at, createdBy: describePrincipal(principal) },
      audit?.pending(200, { sink: name, type: checked.type }),
    );
  }

  async deleteSink(principal: TenantPrincipal, name: string, audit?: MutationAudit): Promise<void> {
    const { tenantId } = authorizeAuditAdmin(principal);
    await this.deps.sinks.delete(tenantId, name, audit?.pending(204, { sink: name }));
  }
}
