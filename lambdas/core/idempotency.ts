import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { IdempotencyKeyInUseError, IdempotencyKeyReusedError, InternalError, InvalidRequestError } from './errors';
import type { Principal } from './principal';

// The rules of the Idempotency-Key header (draft-ietf-httpapi-idempotency-key-header):
// a write sent again with the same key and the same request answers the first answer and
// writes nothing; with another request it is refused. Pure: the store is a port, and the
// HTTP layer (lambdas/http/idempotency.ts) drives these rules around a route.

/** A stored answer is kept, and a key stays taken, this long after the first request. */
export const IDEMPOTENCY_RETENTION_HOURS = 24;
/**
 * Visible ASCII, 16–255 characters: long enough to hold a UUID's randomness, which matters
 * because the stored answer is sealed under a key derived from it (see `sealAnswer`).
 */
const KEY_PATTERN = /^[\x21-\x7e]{16,255}$/;

/** One key of one principal, as the store knows it: never the key itself. */
export interface IdempotencyRef {
  /** SHA-256 of the principal and the key: the record's name. */
  readonly id: string;
  /** Seals the stored answer; derived from the key, so only its holder can open a replay. */
  readonly answerKey: Buffer;
}

/** What makes two requests "the same": method, path, query, If-Match and the body's bytes. */
export interface RequestShape {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly ifMatch?: string;
  readonly body: string;
}

export type IdempotencyState = 'running' | 'committed' | 'answered';

/** A key's record: who holds it, for what request, and how it ended. */
export interface IdempotencyRecord {
  readonly fingerprint: string;
  readonly state: IdempotencyState;
  /** The request holding the key (its claim id). */
  readonly owner: string;
  /** A running claim older than this was cut off before committing: another request may take it. */
  readonly lockedUntil: number;
  /** The first answer's status, once its change committed. */
  readonly status?: number;
  /** The first answer, sealed (state `answered`). */
  readonly answer?: string;
  readonly correlationId: string;
}

/** The answer a replay sends again. */
export interface StoredAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

export function parseIdempotencyKey(raw: string): string {
  if (!KEY_PATTERN.test(raw)) {
    throw new InvalidRequestError('Invalid Idempotency-Key: use 16–255 visible ASCII characters, such as a random UUID.', [
      { field: 'headers.idempotency-key', message: 'not 16–255 visible ASCII characters' },
    ]);
  }
  return raw;
}

/** Keys are per principal: one caller can neither replay nor block another's. */
export function idempotencyRef(principal: Principal, key: string): IdempotencyRef {
  const scope = principal.kind === 'tenant' ? `${principal.tenantId}\n${principal.type}:${principal.id}` : `platform\n${principal.id}`;
  const id = createHash('sha256').update(`coffer-idempotency-v1\n${scope}\n${key}`).digest('base64url');
  const answerKey = Buffer.from(hkdfSync('sha256', key, scope, 'coffer-idempotency-answer-v1', 32));
  return { id, answerKey };
}

export function fingerprintOf(request: RequestShape): string {
  const query = Object.entries(request.query).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256')
    .update(JSON.stringify([request.method, request.path, query, request.ifMatch ?? null]))
    .update('\n')
    .update(request.body)
    .digest('base64url');
}

/** The 409 for a key whose first request is still running. */
export const keyInUse = () => new IdempotencyKeyInUseError('The first request with this Idempotency-Key is still running; retry shortly.');

/** What a request that found its key already taken gets: the first answer, or a refusal. */
export function onExisting(record: IdempotencyRecord, fingerprint: string, now: number): 'replay' | 'take-over' {
  if (record.fingerprint !== fingerprint) {
    throw new IdempotencyKeyReusedError(
      `This Idempotency-Key was used for another request (method, path or body) in the last ${IDEMPOTENCY_RETENTION_HOURS} h; use a new key for a new request.`,
    );
  }
  if (record.state === 'answered') return 'replay';
  // Committed, answer not yet stored: the first request is storing it now, unless its time is up.
  if (record.lockedUntil > now) throw keyInUse();
  return record.state === 'committed' ? 'replay' : 'take-over';
}

/** AES-256-GCM under the key-derived answer key, bound to the record's id. */
export function sealAnswer(ref: IdempotencyRef, answer: StoredAnswer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', ref.answerKey, iv);
  cipher.setAAD(Buffer.from(ref.id, 'utf8'));
  const body = Buffer.concat([cipher.update(JSON.stringify(answer), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

export function openAnswer(ref: IdempotencyRef, sealed: string): StoredAnswer {
  const blob = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', ref.answerKey, blob.subarray(0, 12));
  decipher.setAAD(Buffer.from(ref.id, 'utf8'));
  decipher.setAuthTag(blob.subarray(12, 28));
  try {
    return JSON.parse(Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]).toString('utf8')) as StoredAnswer;
  } catch (cause) {
    throw new InternalError('stored idempotent answer failed authentication', { cause });
  }
}

/**
 * The replay of a change that committed while its own answer was lost (the request was cut
 * off, or the answer could not be stored): the status it committed with, and what is known.
 */
export function committedWithoutAnswer(record: IdempotencyRecord): StoredAnswer {
  const status = record.status ?? 200;
  // A 204 carries no body; Idempotent-Replayed says enough.
  if (status === 204) return { status, headers: {} };
  return {
    status,
    headers: {},
    body: {
      applied: true,
      detail: 'An earlier request with this Idempotency-Key applied this change; its full answer was not kept. Read the resource for its state.',
      correlationId: record.correlationId,
    },
  };
}
