import { randomUUID } from 'node:crypto';
import {
  committedWithoutAnswer,
  fingerprintOf,
  IDEMPOTENCY_RETENTION_HOURS,
  idempotencyRef,
  keyInUse,
  onExisting,
  openAnswer,
  parseIdempotencyKey,
  sealAnswer,
  type IdempotencyRef,
  type RequestShape,
  type StoredAnswer,
} from '../core/idempotency';
import { InvalidRequestError } from '../core/errors';
import type { Principal } from '../core/principal';
import type { IdempotencyClaim, IdempotencyStore } from '../ports/idempotency';
import { logger } from './logger';
import type { RequestAudit } from './request-audit';

/** The methods that change something, and so take an Idempotency-Key. */
export const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Past the function's deadline, so a claim is never taken over while its change may still land. */
const LOCK_MARGIN_MS = 60_000;
/** Only these of a stored answer's headers are sent again; the rest belong to each response. */
const REPLAYED_HEADERS = ['Location', 'ETag'] as const;

export interface IdempotentRequest {
  readonly store: IdempotencyStore;
  readonly principal: Principal | undefined;
  /** The header's raw value. */
  readonly key: string;
  readonly shape: RequestShape;
  readonly audit: RequestAudit;
  readonly correlationId: string;
  /** How long this request may still run (the function's remaining time). */
  readonly remainingMs: number;
}

export interface Result {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** A request holding its key: it ends by storing its answer or giving the key up. */
export interface HeldKey {
  /** The route answered. `committed`: its change (and the claim) committed with its event. */
  answered(result: Result, committed: boolean): Promise<void>;
  /** The route failed: the key is given up, unless its change committed before the failure. */
  failed(): Promise<void>;
}

export type Begun = { readonly replay: Result } | { readonly held: HeldKey };

/**
 * Takes the request's key, or answers from the first request that took it: the stored
 * answer again (`Idempotent-Replayed: true`), 422 for another request under the same key,
 * 409 while the first one still runs.
 */
export async function beginIdempotent(request: IdempotentRequest): Promise<Begun> {
  const { principal, store, audit } = request;
  if (!principal) {
    throw new InvalidRequestError('Idempotency-Key is for authenticated writes; a token request is safe to repeat (each answer is a new token).', [
      { field: 'headers.idempotency-key', message: 'not accepted on this route' },
    ]);
  }
  const ref = idempotencyRef(principal, parseIdempotencyKey(request.key));
  const at = { tenantId: principal.kind === 'tenant' ? principal.tenantId : null, id: ref.id };
  const fingerprint = fingerprintOf(request.shape);
  const now = Date.now();
  const claim: IdempotencyClaim = { ...at, owner: randomUUID() };
  const fresh = {
    fingerprint,
    owner: claim.owner,
    correlationId: request.correlationId,
    lockedUntil: now + request.remainingMs + LOCK_MARGIN_MS,
    expiresAt: Math.floor(now / 1000) + IDEMPOTENCY_RETENTION_HOURS * 3600,
  };
  let existing = await store.claim(at, fresh);
  if (existing && onExisting(existing, fingerprint, now) === 'take-over') {
    // The first request was cut off before its change committed: this one runs it instead.
    existing = await store.claim(at, fresh, { owner: existing.owner });
    // Another retry took it over first: that one runs the change now.
    if (existing && onExisting(existing, fingerprint, now) === 'take-over') throw keyInUse();
  }
  if (existing) {
    audit.note({ idempotentReplay: true, firstCorrelationId: existing.correlationId });
    return { replay: replayOf(existing.answer === undefined ? committedWithoutAnswer(existing) : openAnswer(ref, existing.answer)) };
  }
  audit.holdIdempotencyKey(claim);
  return { held: holding(store, claim, ref) };
}

function holding(store: IdempotencyStore, claim: IdempotencyClaim, ref: IdempotencyRef): HeldKey {
  // Neither write is the caller's answer: a failure leaves the record as it is (committed
  // without an answer, or running until its lock ends) and is logged, not thrown.
  const quietly = async (what: string, write: () => Promise<void>) => {
    try {
      await write();
    } catch (error) {
      logger.warn('idempotency record not updated', { what, error: error as Error });
    }
  };
  return {
    async answered(result, committed) {
      if (!committed) return quietly('release', () => store.release(claim)); // a refusal: nothing to replay
      const stored: StoredAnswer = { status: result.status, headers: replayedHeaders(result.headers), ...(result.body === undefined ? {} : { body: result.body }) };
      return quietly('answer', () => store.answer(claim, result.status, sealAnswer(ref, stored)));
    },
    // Always safe: the release only deletes a claim still running, and a change commits only
    // while its claim is running, so a late commit fails instead of landing unrecorded.
    failed: () => quietly('release', () => store.release(claim)),
  };
}

function replayedHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) if (headers?.[name] !== undefined) kept[name] = headers[name];
  return kept;
}

function replayOf(answer: StoredAnswer): Result {
  return { status: answer.status, headers: { ...answer.headers, 'Idempotent-Replayed': 'true' }, ...(answer.body === undefined ? {} : { body: answer.body }) };
}
