import { randomUUID } from 'node:crypto';
import { actorOf, chainOf, outcomeOf, printable, type AuditActor, type AuditDraft, type AuditEvent } from '../core/audit';
import type { Principal } from '../core/principal';
import type { MutationAudit, PendingAudit } from '../ports/audit-log';
import type { IdempotencyClaim } from '../ports/idempotency';

export interface RequestFacts {
  readonly action: string;
  readonly correlationId: string;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly region: string;
  readonly time: string;
}

type Details = Record<string, string | number | boolean>;

/**
 * The audit event of one request, filled in as the request goes: who (once verified), on
 * what, and how it ended. A mutation hands `pending()` to the store so its event commits
 * with the change; every other request's event is appended by the HTTP layer before the
 * response leaves.
 */
export class RequestAudit implements MutationAudit {
  private actor: AuditActor;
  private tenantId: string | null;
  private resource: string | null = null;
  private readonly details: Details = {};
  private recordedEvent: AuditEvent | undefined;
  private idempotency: IdempotencyClaim | undefined;

  constructor(private readonly facts: RequestFacts, principal?: Principal, private readonly signal?: AbortSignal) {
    this.actor = actorOf(principal);
    this.tenantId = principal?.kind === 'tenant' ? principal.tenantId : null;
  }

  /** The caller proved who it is during this request (token issuance). */
  identify(principal: Principal): void {
    this.actor = actorOf(principal);
    this.tenantId = principal.kind === 'tenant' ? principal.tenantId : null;
  }

  /** What the request acted on; control characters are dropped and the length capped. */
  about(resource: string): void {
    this.resource = printable(resource);
  }

  /** The Idempotency-Key this request holds: its change, if any, commits the claim. */
  holdIdempotencyKey(claim: IdempotencyClaim): void {
    this.idempotency = claim;
  }

  note(details: Details): void {
    Object.assign(this.details, details);
  }

  pending(status: number, details: Details = {}): PendingAudit {
    this.note(details);
    return {
      draft: this.draft(status),
      recorded: (event) => (this.recordedEvent = event),
      ...(this.signal ? { signal: this.signal } : {}),
      ...(this.idempotency ? { idempotency: this.idempotency } : {}),
    };
  }

  /** The event committed with the change it describes. */
  get recorded(): AuditEvent | undefined {
    return this.recordedEvent;
  }

  draft(status: number, errorCode?: string): AuditDraft {
    return {
      id: randomUUID(),
      chain: chainOf(this.tenantId),
      time: this.facts.time,
      tenantId: this.tenantId,
      actor: this.actor,
      action: this.facts.action,
      resource: this.resource,
      outcome: outcomeOf(status),
      status,
      sourceIp: this.facts.sourceIp,
      userAgent: printable(this.facts.userAgent),
      correlationId: this.facts.correlationId,
      region: this.facts.region,
      details: errorCode === undefined ? { ...this.details } : { ...this.details, error: errorCode },
    };
  }
}
