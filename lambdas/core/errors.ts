// One error tree for the whole domain. Each leaf is a fact with a stable code; the HTTP
// layer maps codes to statuses in one table (lambdas/http/problem-json.ts).

export type ErrorCode =
  | 'invalid-request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'contended'
  | 'version-conflict'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'method-not-allowed'
  | 'rate-limited'
  | 'dependency-unavailable'
  | 'deadline-exceeded'
  | 'idempotency-key-reused'
  | 'idempotency-key-in-use'
  | 'internal';

export abstract class CofferError extends Error {
  abstract readonly code: ErrorCode;
  /** Safe to show to the caller: never contains a secret value or internals. */
  readonly detail: string;
  constructor(detail: string, options?: { cause?: unknown }) {
    super(detail, options);
    this.detail = detail;
    this.name = new.target.name;
  }
}

export interface FieldIssue {
  readonly field: string;
  readonly message: string;
}

export class InvalidRequestError extends CofferError {
  readonly code = 'invalid-request';
  constructor(detail: string, readonly issues: readonly FieldIssue[] = []) {
    super(detail);
  }
}

/** Bad or missing credentials. One generic message, never which part was wrong. */
/** Why a login was refused: recorded in the trail, never told to the caller. */
export type LoginRefusal = 'unknown-user' | 'locked' | 'bad-password' | 'disabled' | 'otp-required' | 'bad-otp' | 'refresh-reuse' | 'refresh-race';

export class UnauthenticatedError extends CofferError {
  readonly code = 'unauthenticated';
  /**
   * Why, for the audit trail only: the caller always gets the generic detail, so a thief
   * learns nothing from the answer (e.g. that a stolen refresh token had been valid).
   */
  constructor(
    detail = 'The credentials are missing, invalid or expired.',
    readonly auditReason?: LoginRefusal,
  ) {
    super(detail);
  }
}

export class ForbiddenError extends CofferError {
  readonly code = 'forbidden';
}

/** Missing, deleted, or another tenant's: the caller cannot tell which. */
export class NotFoundError extends CofferError {
  readonly code = 'not-found';
}

export class ConflictError extends CofferError {
  readonly code = 'conflict';
}

/** Too many writers on one item at once: nothing was written, and a retry soon may succeed. */
export class ContendedError extends CofferError {
  readonly code = 'contended';
}

export class VersionConflictError extends CofferError {
  readonly code = 'version-conflict';
  constructor(readonly expected: number, readonly actual: number | undefined) {
    super(
      actual === undefined
        ? `No secret exists at this path; If-Match expected version ${expected}.`
        : `The secret is at version ${actual}, not ${expected}.`,
    );
  }
}

export class PayloadTooLargeError extends CofferError {
  readonly code = 'payload-too-large';
}

export class UnsupportedMediaTypeError extends CofferError {
  readonly code = 'unsupported-media-type';
}

export class MethodNotAllowedError extends CofferError {
  readonly code = 'method-not-allowed';
  constructor(detail: string, readonly allowed: readonly string[] = []) {
    super(detail);
  }
}

export class RateLimitedError extends CofferError {
  readonly code = 'rate-limited';
  constructor(detail: string, readonly retryAfterSeconds: number) {
    super(detail);
  }
}

/** The 404 for a path no route serves, from API Gateway or a function alike: it never echoes the path. */
export const NO_SUCH_ROUTE = 'No such route.';

/** What a 503 for an unavailable dependency asks the client to wait before retrying. */
export const RETRY_AFTER_SECONDS = 1;

/** KMS, DynamoDB or S3 could not do its part; the request changed nothing. */
export class DependencyUnavailableError extends CofferError {
  readonly code = 'dependency-unavailable';
  /** `detail` replaces "nothing was changed" where a request had already written something. */
  constructor(readonly dependency: 'dynamodb' | 'kms' | 's3' | 'sts' | 'audit', options?: { cause?: unknown; detail?: string }) {
    super(
      options?.detail ??
        (dependency === 'audit'
          ? 'The audit trail cannot record this request, so it was not carried out; nothing was changed. Retry later.'
          : `A storage or key service (${dependency}) is unavailable; nothing was changed. Retry later.`),
      options,
    );
  }
}

/**
 * The request ran out of time while a change may have been in flight: unlike every other
 * 503, it cannot promise that nothing was changed.
 */
export class DeadlineExceededError extends CofferError {
  readonly code = 'deadline-exceeded';
  constructor() {
    super(
      'The request ran out of time. Its change may have been applied: read the resource before retrying, or retry with the same Idempotency-Key.',
    );
  }
}

/** An Idempotency-Key sent again with another request (method, path or body). */
export class IdempotencyKeyReusedError extends CofferError {
  readonly code = 'idempotency-key-reused';
}

/** An Idempotency-Key whose first request is still running. */
export class IdempotencyKeyInUseError extends CofferError {
  readonly code = 'idempotency-key-in-use';
}

/** A broken invariant: our bug, never the caller's. */
export class InternalError extends CofferError {
  readonly code = 'internal';
}

/** Someone else wrote the same secret between our read and our write. */
export class WriteConflictError extends ConflictError {}
