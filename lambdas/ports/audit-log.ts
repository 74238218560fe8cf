import type { AuditDraft, AuditEvent, AuditOutcome } from '../core/audit';
import type { IdempotencyClaim } from './idempotency';
import type { Page } from './page';

/**
 * A mutation's audit event, handed to the store that commits the change so both land in
 * one transaction; the store reports the event it recorded.
 */
export interface PendingAudit {
  readonly draft: AuditDraft;
  recorded(event: AuditEvent): void;
  /** Aborted when the request has run out of time: the store starts no write after it. */
  readonly signal?: AbortSignal;
  /** The request's Idempotency-Key, marked committed in the change's own transaction. */
  readonly idempotency?: IdempotencyClaim;
}

/** The primary, fail-closed record of every request. */
export interface AuditLog {
  /**
   * Durably appends one event to its chain; throws DependencyUnavailableError('audit') if it
   * cannot. `withinMs`: give up after that long, waiting behind no other append (a request
   * cut off at its deadline has only its reserve left to record that).
   */
  append(draft: AuditDraft, options?: { readonly withinMs?: number }): Promise<AuditEvent>;
}

export interface AuditFilter {
  readonly from?: string;
  readonly to?: string;
  readonly principal?: string;
  readonly path?: string;
  readonly action?: string;
  readonly outcome?: AuditOutcome;
}

export interface AuditQueryRequest extends AuditFilter {
  readonly limit: number;
  readonly cursor?: string;
}

/** One chain's events, oldest first. */
export interface AuditReader {
  query(chain: string, request: AuditQueryRequest): Promise<Page<AuditEvent>>;
}

/** How a core operation asks for its event to be committed with its change. */
export interface MutationAudit {
  pending(status: number, details?: Record<string, string | number | boolean>): PendingAudit;
}
