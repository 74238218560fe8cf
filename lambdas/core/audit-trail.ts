import type { AuditReader, AuditQueryRequest } from '../ports/audit-log';
import type { Page } from '../ports/secret-repository';
import { PLATFORM_CHAIN, type AuditEvent } from './audit';
import { authorizeAuditRead } from './policy';
import type { Principal } from './principal';

/** Reading the trail: a caller sees exactly its own chain (its tenant's, or the platform's). */
export class AuditTrail {
  constructor(private readonly reader: AuditReader) {}

  async query(principal: Principal, request: AuditQueryRequest): Promise<Page<AuditEvent>> {
    authorizeAuditRead(principal);
    return this.reader.query(principal.kind === 'tenant' ? principal.tenantId : PLATFORM_CHAIN, request);
  }
}
