import type { IdempotencyRecord } from '../core/idempotency';

/** A request's hold on an Idempotency-Key: the change's transaction marks it committed. */
export interface IdempotencyClaim {
  /** The key holder's tenant (null: the platform), which places the record. */
  readonly tenantId: string | null;
  /** The record's id (IdempotencyRef.id). */
  readonly id: string;
  /** This request's claim id: only the holder may commit, answer or release. */
  readonly owner: string;
}

export interface NewClaim {
  readonly fingerprint: string;
  readonly owner: string;
  readonly correlationId: string;
  readonly lockedUntil: number;
  /** Epoch seconds: the store forgets the record after it. */
  readonly expiresAt: number;
}

/** Idempotency-Key records: one per principal and key, forgotten after a day. */
export interface IdempotencyStore {
  /**
   * Takes the key for a new request: free, or held by a running claim older than its lock
   * (`takeOver`). Returns undefined when taken, else the record that holds it.
   */
  claim(at: Omit<IdempotencyClaim, 'owner'>, claim: NewClaim, takeOver?: { readonly owner: string }): Promise<IdempotencyRecord | undefined>;
  /** Stores the first answer (sealed), once its change committed. */
  answer(claim: IdempotencyClaim, status: number, sealed: string): Promise<void>;
  /** Gives the key up: the request changed nothing, so a retry must run for real. */
  release(claim: IdempotencyClaim): Promise<void>;
}
